"""The pages built from every model's summary, not from one model: the index pages (per source,
type, base model and tag, paged), the directories of those, the home page, the guide, the
search index and the assets.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from markupsafe import Markup

from ..cards.render import labels
from . import browse, feedlinks, feeds, guide, pages, paths, rowcache, search, taxonomy, webbasics
from .paging import PAGE_SIZE, Paging, pager_numbers
from .paths import ALL, KINDS, LANGS, localized
from .summary import Summary

DIRECTORY_SIZE = 300  # groups per page of a directory (all tags, ...)
HOME_ROWS = 10
HOME_GROUPS = 30


Groups = browse.Groups
Made = tuple[str, bytes | str | None, str | None]  # path, content, hash of what it is made of


def site_pages(
    summaries: list[Summary],
    postings_per_shard: int = search.POSTINGS_PER_SHARD,
    reusable: dict[str, str] | None = None,
    facts: dict[str, Any] | None = None,
    base_url: str = "",
    paging: dict[str, Any] | None = None,
    rows: rowcache.Folder | None = None,
) -> Iterator[Made]:
    """Every page that is not a model page, the search index, the browse JSON, feeds and the
    sitemap: (path, content, inputs). An index page whose inputs hash is in `reusable` comes
    with content None: the page on disk is still right. `paging`: the last build's page
    boundaries, updated in place with this build's. `rows`: where the rendered rows are kept
    between builds."""
    taxonomy.assign_families(summaries)
    ranked = search.rank(summaries)
    groups = browse.groups_of(ranked)
    live = {guide.lookup_key(s.source, s.ref): s for s in ranked}
    listed: list[str] = []  # the pages of the sitemap (Chinese paths)
    counted: dict[tuple[str, str], browse.Counts] = {}  # facet counts, for both languages
    cut = Paging(ranked, paging if paging is not None else {})
    digests = [  # of each row's summary: an index page is made of its rows' summaries
        hashlib.blake2b(orjson.dumps(s.to_row()), digest_size=16).digest() for s in ranked
    ]
    for lang in LANGS:
        kept = rows.load(lang) if rows else rowcache.Rows()
        made = _index_pages(ranked, groups, lang, reusable or {}, counted, cut, digests, kept)
        for path, body, made_of in made:
            if lang == "zh":
                listed.append(path)
            yield path, body, made_of
        if rows:
            rows.save(lang, kept, digests)
        del kept
        for path, body in _directory_pages(groups, lang):
            if lang == "zh":
                listed.append(path)
            yield path, body, None
        yield localized("index.html", lang), _home(ranked, groups, lang), None
        yield localized("guide.html", lang), _guide(live, facts or {}, lang), None
        yield localized("search.html", lang), _search_page(lang), None
        yield localized("404.html", lang), _not_found(lang), None
    listed += ["index.html", "guide.html", "search.html"]
    if paging is not None:
        paging.clear()
        paging.update(cut.kept)
    # The browse JSON, search index, feeds and sitemap are made of the summaries in rank order
    # and the index pages: when those are the last build's, so are these files.
    made_of = hashlib.blake2b(b"".join(digests), digest_size=16)
    made_of.update(orjson.dumps([postings_per_shard, cut.kept], option=orjson.OPT_SORT_KEYS))
    inputs = made_of.hexdigest()
    same = [path for path, h in (reusable or {}).items() if h == inputs]
    if same:
        yield from ((path, None, inputs) for path in same)
    else:
        for path, body in _made_of_all(ranked, groups, listed, postings_per_shard, base_url):
            yield path, body, inputs
    yield "robots.txt", webbasics.robots(base_url), None
    folder = pages.templates_dir()
    for name in pages.ASSETS:
        yield f"assets/{name}", (folder / name).read_bytes(), None


def _made_of_all(
    ranked: list[Summary], groups: Groups, listed: list[str], per_shard: int, base_url: str
) -> Iterator[tuple[str, bytes]]:
    yield from browse.index_files(ranked, groups)
    yield "search/names.json", browse.names_json()
    yield from search.build(ranked, per_shard)
    yield from feeds.build(ranked, groups, base_url)
    yield from webbasics.sitemap(ranked, listed, base_url)


def _index_pages(
    ranked: list[Summary],
    groups: Groups,
    lang: str,
    reusable: dict[str, str],
    counted: dict[tuple[str, str], browse.Counts],
    cut: Paging,
    digests: list[bytes],
    rows: rowcache.Rows,
) -> Iterator[Made]:
    env = pages.environment()
    S = pages.site_labels(lang)  # noqa: N806
    macros = env.get_template("_macros.html.j2").module
    row, filters, pager = macros.model_row, macros.filters, macros.pager  # type: ignore[attr-defined]
    names = pages.names(lang)
    # Every index page sits at the same depth, so a model's row is the same on all of them.
    base = paths.root_of(paths.group_page("source", "x"))
    root = paths.root_of(localized(paths.group_page("source", "x"), lang))  # mirrored pictures
    for kind in (*KINDS, ALL):
        for key, (raw, ranks) in groups[kind].items():
            shown = browse.label(kind, key, raw, lang)
            parts = cut.pages(kind, key, ranks)
            count = len(parts)
            if (kind, key) not in counted:
                counted[(kind, key)] = browse.facet_counts(ranked, ranks)
            facets = browse.facets(counted[(kind, key)], lang)
            selects = [
                (k, S[f"kind_{k}"], facets[k]) for k in ("type", "base", "source") if k != kind
            ]
            frame = None  # made for the first page of this index that is rendered
            same_on_every_page = hashlib.blake2b(
                f"{shown}|{count}|{len(ranks)}|{selects!r}|".encode(), digest_size=16
            )
            href_of = _sibling(base, kind, key)
            for number, part in enumerate(parts, 1):
                here = localized(paths.group_page(kind, key, number), lang)
                made_of = same_on_every_page.copy()
                made_of.update(f"{here}|".encode())
                made_of.update(b"".join([digests[r] for r in part]))
                inputs = made_of.hexdigest()
                if reusable.get(here) == inputs:
                    yield here, None, inputs
                    continue
                html_rows = []
                for r in part:
                    html = rows.get(digests[r])
                    if html is None:
                        html = str(row(ranked[r], base, S, names, root)).encode()
                        rows.put(digests[r], html)
                    html_rows.append(html)
                if frame is None:
                    frame = _frame(kind, key, lang, shown, len(ranks), filters(selects, S))
                links = str(pager(href_of, number, pager_numbers(number, count), count, S))
                yield here, frame.page(number, links, html_rows), inputs


# Stand-ins for what differs between the pages of one index, filled in per page: random, so no
# scraped name can hold one.
_TOKEN = secrets.token_hex(8)
_NUMBER, _PAGER, _ROWS = (f"{c}{_TOKEN}" for c in "npr")


@dataclass
class Frame:
    """An index's page with stand-ins for its number, pager and rows: the layout is rendered
    once per index, not once per page (a 1% rebuild at 100,000 models renders 25,000 pages
    of about 2,000 indexes)."""

    head: bytes
    tail: bytes

    def page(self, number: int, pager: str, rows: list[bytes]) -> bytes:
        n, links = str(number).encode(), pager.encode()
        head = self.head.replace(_NUMBER.encode(), n).replace(_PAGER.encode(), links)
        tail = self.tail.replace(_NUMBER.encode(), n).replace(_PAGER.encode(), links)
        return head + b"\n".join(rows) + tail


def _frame(kind: str, key: str, lang: str, shown: str, total: int, filters: Any) -> Frame:
    html = _render(kind, key, lang, shown, total, filters, _NUMBER, Markup(_PAGER), _ROWS)
    head, _, tail = html.encode().partition(_ROWS.encode())
    return Frame(head, tail)


def _render(
    kind: str,
    key: str,
    lang: str,
    shown: str,
    total: int,
    filters: Any,
    number: int | str,
    links: Markup,
    rows: str,
) -> str:
    """One page of an index, whole (its `rows` rendered and escaped already)."""
    S = pages.site_labels(lang)  # noqa: N806
    L = labels(lang)  # noqa: N806
    path = paths.group_page(kind, key, number)  # type: ignore[arg-type]
    heading = shown if kind == ALL else f"{S[f'kind_{kind}']}{L.colon}{shown}"
    ctx = pages.context(path, lang, heading)
    ctx["meta"] = pages.meta(
        S.models_count.format(n=f"{total:,}") + f" · {heading}",
        feeds=feedlinks.links(kind, key, ctx["root"], lang),
    )
    return (
        pages.environment()
        .get_template("list.html.j2")
        .render(
            ctx,
            kind=kind,
            kind_label=S[_plural(kind)],
            heading=heading,
            total=total,
            rows=Markup(rows),
            number=number,
            links=links,
            index_json=paths.group_json(kind, key),
            page_size=PAGE_SIZE,
            filters=filters,
        )
    )


def _plural(kind: str) -> str:
    return {"base": "bases", ALL: "all_models"}.get(kind, f"{kind}s")


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
                        (
                            browse.label(kind, key, raw, lang),
                            paths.group_page(kind, key),
                            len(ranks),
                        )
                        for key, (raw, ranks) in part
                    ],
                    number=number,
                    pages=count,
                    numbers=pager_numbers(number, count),
                    href_of=lambda n, base=base, kind=kind: base + paths.directory_page(kind, n),
                ),
            )


def _home(ranked: list[Summary], groups: Groups, lang: str) -> str:
    env = pages.environment()
    S = pages.site_labels(lang)  # noqa: N806
    ctx = pages.context("index.html", lang, S.home)
    ctx["meta"] = pages.meta(S.tagline, feeds=feedlinks.links("all", "", ctx["root"], lang))
    row = env.get_template("_macros.html.j2").module.model_row  # type: ignore[attr-defined]
    newest = sorted(ranked, key=lambda s: s.created or "", reverse=True)[:HOME_ROWS]
    names = pages.names(lang)

    def table(models: list[Summary]) -> Any:
        return Markup("\n".join(str(row(s, ctx["base"], S, names, ctx["root"])) for s in models))

    indexes = []
    for kind in ("type", "base", "task", "tag", "author"):
        listed = sorted(groups[kind].items(), key=lambda item: (-len(item[1][1]), item[0]))
        shown = [
            (browse.label(kind, key, raw, lang), paths.group_page(kind, key), len(ranks))
            for key, (raw, ranks) in listed[:HOME_GROUPS]
        ]
        if shown:
            indexes.append((kind, S[_plural(kind)], shown, len(listed)))
    sources = [(key, len(ranks)) for key, (_, ranks) in groups["source"].items()]
    return env.get_template("home.html.j2").render(
        ctx,
        all_models=paths.group_page(ALL, ALL),
        sources=sorted(sources),
        top_rows=table(ranked[:HOME_ROWS]),
        new_rows=table(newest),
        indexes=indexes,
    )


def _search_page(lang: str) -> str:
    """search.html: the results of ?q=, drawn by search.js (a note without script)."""
    S = pages.site_labels(lang)  # noqa: N806
    return pages.render_page("search.html.j2", "search.html", lang, S.search_results)


def _not_found(lang: str) -> str:
    """404.html: served by the host for any missing path, so its links start from the site
    root: base_url when set, else the host's root."""
    S = pages.site_labels(lang)  # noqa: N806
    ctx = pages.context("404.html", lang, S.not_found)
    root = pages.absolute("") if pages.absolute("x") != "x" else "/"
    ctx.update(root=root, base=root + ("en/" if lang == "en" else ""))
    ctx.update(self_href=root + localized("index.html", lang), canonical=root + "index.html")
    ctx["alt_href"] = root + localized("index.html", "zh" if lang == "en" else "en")
    return pages.environment().get_template("404.html.j2").render(ctx)


def _guide(live: dict[tuple[str, str], Summary], facts: dict[str, Any], lang: str) -> str:
    S = pages.site_labels(lang)  # noqa: N806
    L = labels(lang)  # noqa: N806
    ctx = pages.context("guide.html", lang, S.guide)
    groups = guide.joined(guide.collection(), live, facts, lang, L)
    return pages.environment().get_template(f"guide.{lang}.html.j2").render(ctx, groups=groups)
