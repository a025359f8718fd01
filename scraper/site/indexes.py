"""The pages built from every model's summary, not from one model: the index pages (per source,
type, base model and tag, paged), the directories of those, the home page, the guide, the
search index and the assets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
from markupsafe import Markup

from ..cards.render import labels
from . import guide, output, pages, paths, search
from .paths import KINDS, LANGS, localized
from .summary import Summary

PAGE_SIZE = 100  # rows per index page
DIRECTORY_SIZE = 300  # groups per page of a directory (all tags, ...)
HOME_ROWS = 10
HOME_GROUPS = 30


Made = tuple[str, bytes | str | None, str | None]  # path, content, hash of what it is made of


def site_pages(
    summaries: list[Summary],
    postings_per_shard: int = search.POSTINGS_PER_SHARD,
    reusable: dict[str, str] | None = None,
    facts: dict[str, Any] | None = None,
) -> Iterator[Made]:
    """Every page that is not a model page, and the search index: (path, content, inputs).
    An index page whose inputs hash is in `reusable` comes with content None: the page on
    disk is still right."""
    ranked = search.rank(summaries)
    groups = _groups(ranked)
    live = {guide.lookup_key(s.source, s.ref): s for s in ranked}
    for lang in LANGS:
        yield from _index_pages(ranked, groups, lang, reusable or {})
        for path, body in _directory_pages(groups, lang):
            yield path, body, None
        yield localized("index.html", lang), _home(ranked, groups, lang), None
        yield localized("guide.html", lang), _guide(live, facts or {}, lang), None
    for path, body in search.build(ranked, postings_per_shard):
        yield path, body, None
    folder = pages.templates_dir()
    for name in pages.ASSETS:
        yield f"assets/{name}", (folder / name).read_bytes(), None


Groups = dict[str, dict[str, tuple[str, list[int]]]]  # kind -> key -> (label, ranks)


def _groups(ranked: list[Summary]) -> Groups:
    """Every source, type, base model and tag with its models, most downloaded first."""
    groups: Groups = {kind: {} for kind in KINDS}

    def add(kind: str, value: str | None, rank: int) -> None:
        if not value or not value.strip():
            return
        key = pages.group_key(value)
        entry = groups[kind].get(key)
        if entry is None:
            groups[kind][key] = entry = (value.strip(), [])
        if not entry[1] or entry[1][-1] != rank:
            entry[1].append(rank)

    for rank, s in enumerate(ranked):
        add("source", s.source, rank)
        add("type", s.type, rank)
        for b in s.bases:
            add("base", b, rank)
        for t in s.tags:
            add("tag", t, rank)
    return groups


def _label(kind: str, label: str, S: Any) -> str:  # noqa: N803
    return S[f"source_{label}"] if kind == "source" and f"source_{label}" in S else label


def _numbers(number: int, count: int) -> list[int]:
    """The page links a pager shows: first, last, and two either side of this one."""
    return sorted({1, count, *range(max(1, number - 2), min(count, number + 2) + 1)})


def _index_pages(
    ranked: list[Summary], groups: Groups, lang: str, reusable: dict[str, str]
) -> Iterator[Made]:
    env = pages.environment()
    S = pages.site_labels(lang)  # noqa: N806
    row = env.get_template("_macros.html.j2").module.model_row  # type: ignore[attr-defined]
    template = env.get_template("list.html.j2")
    # Every index page sits at the same depth, so a model's row is the same on all of them.
    base = paths.root_of(paths.group_page("source", "x"))
    root = paths.root_of(localized(paths.group_page("source", "x"), lang))  # mirrored pictures
    rows: list[str | None] = [None] * len(ranked)
    digests: list[bytes | None] = [None] * len(ranked)
    for kind in KINDS:
        kind_label = S[f"kind_{kind}"]
        for key, (label, ranks) in groups[kind].items():
            shown = _label(kind, label, S)
            count = -(-len(ranks) // PAGE_SIZE)
            for number in range(1, count + 1):
                path = paths.group_page(kind, key, number)
                here = localized(path, lang)
                part = ranks[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
                made_of = hashlib.blake2b(
                    f"{here}|{shown}|{count}|{len(ranks)}".encode(), digest_size=16
                )
                for r in part:
                    if digests[r] is None:
                        digests[r] = output.digest(orjson.dumps(ranked[r].to_row())).encode()
                    made_of.update(digests[r])  # type: ignore[arg-type]
                inputs = made_of.hexdigest()
                if reusable.get(here) == inputs:
                    yield here, None, inputs
                    continue
                html_rows = []
                for r in part:
                    if rows[r] is None:
                        rows[r] = str(row(ranked[r], base, S, root))
                    html_rows.append(rows[r])
                heading = f"{kind_label}{labels(lang).colon}{shown}"
                yield (
                    here,
                    template.render(
                        pages.context(path, lang, heading),
                        kind=kind,
                        kind_label=S[_plural(kind)],
                        heading=heading,
                        total=len(ranks),
                        rows=Markup("\n".join(html_rows)),  # rows rendered (escaped) by Jinja
                        number=number,
                        pages=count,
                        numbers=_numbers(number, count),
                        href_of=_sibling(base, kind, key),
                    ),
                    inputs,
                )


def _plural(kind: str) -> str:
    return {"source": "sources", "type": "types", "base": "bases", "tag": "tags"}[kind]


def _sibling(base: str, kind: str, key: str):
    return lambda n: base + paths.group_page(kind, key, n)


def _directory_pages(groups: Groups, lang: str) -> Iterator[tuple[str, str]]:
    S = pages.site_labels(lang)  # noqa: N806
    template = pages.environment().get_template("directory.html.j2")
    for kind in KINDS:
        listed = sorted(groups[kind].items(), key=lambda item: (-len(item[1][1]), item[0]))
        count = max(1, -(-len(listed) // DIRECTORY_SIZE))
        for number in range(1, count + 1):
            path = paths.directory_page(kind, number)
            ctx = pages.context(path, lang, S[_plural(kind)])
            base = ctx["base"]
            part = listed[(number - 1) * DIRECTORY_SIZE : number * DIRECTORY_SIZE]
            yield (
                localized(path, lang),
                template.render(
                    ctx,
                    heading=S[_plural(kind)],
                    groups=[
                        (_label(kind, label, S), paths.group_page(kind, key), len(ranks))
                        for key, (label, ranks) in part
                    ],
                    number=number,
                    pages=count,
                    numbers=_numbers(number, count),
                    href_of=lambda n, base=base, kind=kind: base + paths.directory_page(kind, n),
                ),
            )


def _home(ranked: list[Summary], groups: Groups, lang: str) -> str:
    env = pages.environment()
    S = pages.site_labels(lang)  # noqa: N806
    ctx = pages.context("index.html", lang, S.home)
    row = env.get_template("_macros.html.j2").module.model_row  # type: ignore[attr-defined]
    newest = sorted(ranked, key=lambda s: s.created or "", reverse=True)[:HOME_ROWS]

    def table(models: list[Summary]) -> Any:
        return Markup("\n".join(str(row(s, ctx["base"], S, ctx["root"])) for s in models))

    indexes = []
    for kind in ("type", "base", "tag"):
        listed = sorted(groups[kind].items(), key=lambda item: (-len(item[1][1]), item[0]))
        shown = [
            (label, paths.group_page(kind, key), len(ranks))
            for key, (label, ranks) in listed[:HOME_GROUPS]
        ]
        indexes.append((kind, S[_plural(kind)], shown, len(listed)))
    sources = [(key, len(ranks)) for key, (_, ranks) in groups["source"].items()]
    return env.get_template("home.html.j2").render(
        ctx,
        sources=sorted(sources),
        top_rows=table(ranked[:HOME_ROWS]),
        new_rows=table(newest),
        indexes=indexes,
    )


def _guide(live: dict[tuple[str, str], Summary], facts: dict[str, Any], lang: str) -> str:
    S = pages.site_labels(lang)  # noqa: N806
    L = labels(lang)  # noqa: N806
    ctx = pages.context("guide.html", lang, S.guide)
    groups = guide.joined(guide.collection(), live, facts, lang, L)
    return pages.environment().get_template(f"guide.{lang}.html.j2").render(ctx, groups=groups)
