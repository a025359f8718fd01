"""Atom feeds (RFC 4287) of new and updated models: site-wide, per source and per type, in each
language, the newest `ENTRIES` each. Written every build but from the summaries alone and with
no clock in them (a feed's <updated> is its newest entry's), so an unchanged feed keeps its
bytes and is not rewritten.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence
from xml.sax.saxutils import escape, quoteattr

from . import pages, paths
from .browse import Groups, label
from .feedlinks import FEED_SCOPES
from .paths import LANGS, localized
from .summary import Summary

ENTRIES = 50
EPOCH = "1970-01-01"
# Characters XML 1.0 does not allow, even escaped: scraped names may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _stamp(day: str | None) -> str:
    return f"{day or EPOCH}T00:00:00Z"


def _entry_id(s: Summary) -> str:
    """Stable whatever the base URL (RFC 4151 tag URI)."""
    return f"tag:scraper,2024:{s.page}"


def build(ranked: list[Summary], groups: Groups, base_url: str) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every feed."""
    scopes: list[tuple[str, str, Sequence[int]]] = [("all", "", range(len(ranked)))]
    for kind in FEED_SCOPES:
        scopes += [(kind, key, ranks) for key, (_, ranks) in groups[kind].items()]
    for scope, key, ranks in scopes:
        for name, field in (("new", "created"), ("updated", "updated")):
            picked = heapq.nlargest(
                ENTRIES,
                ranks,
                key=lambda r, field=field: (getattr(ranked[r], field) or "", -r),
            )
            models = [ranked[r] for r in picked]
            for lang in LANGS:
                path = localized(paths.feed(scope, key, name), lang)
                yield path, _feed(path, scope, key, name, field, models, lang, base_url)


def _feed(
    path: str,
    scope: str,
    key: str,
    name: str,
    field: str,
    models: list[Summary],
    lang: str,
    base_url: str,
) -> bytes:
    S = pages.site_labels(lang)  # noqa: N806
    names = pages.names(lang)
    root = f"{base_url.rstrip('/')}/" if base_url else paths.root_of(path)
    title = S[f"feed_{name}"]
    if scope != "all":
        title = f"{title} · {label(scope, key, key, lang)}"
    updated = max((s.updated or s.created or EPOCH for s in models), default=EPOCH)
    home = localized("index.html", lang)
    if scope != "all":
        home = localized(paths.group_page(scope, key), lang)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{paths.HTML_LANG[lang]}">',
        f"<id>tag:scraper,2024:{text(path)}</id>",
        f"<title>{text(title)} · {text(S.site)}</title>",
        f"<updated>{_stamp(updated)}</updated>",
        f'<link rel="self" type="application/atom+xml" href={attr(root + path)}/>',
        f'<link rel="alternate" type="text/html" href={attr(root + home)}/>',
        f"<author><name>{text(S.site)}</name></author>",
        "<generator>scraper</generator>",
    ]
    for s in models:
        published = s.created or s.updated
        facts = [names["type"].get(s.kind, s.kind), *(names["base"].get(f, f) for f in s.families)]
        if s.creator:
            facts.append(s.creator)
        summary = " · ".join([*(f for f in facts if f), *s.tags[:8]])
        out += [
            "<entry>",
            f"<id>{_entry_id(s)}</id>",
            f"<title>{text(s.name)}</title>",
            f"<updated>{_stamp(s.updated or published)}</updated>",
            f"<published>{_stamp(published)}</published>",
            f'<link rel="alternate" type="text/html" href={attr(root + localized(s.page, lang))}/>',
        ]
        if s.creator:
            out.append(f"<author><name>{text(s.creator)}</name></author>")
        out.append(f"<category term={attr(s.kind)} label={attr(names['type'].get(s.kind, ''))}/>")
        out += [f"<summary>{text(summary)}</summary>", "</entry>"]
    out.append("</feed>\n")
    return "\n".join(out).encode("utf-8")
