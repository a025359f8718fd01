"""Which Atom feeds a page links with <link rel="alternate">: the site's own, and those of the
source or type the page lists (feeds.py writes them)."""

from __future__ import annotations

from .paths import feed, localized

FEED_SCOPES = ("source", "type")  # kinds of index that have feeds of their own


def links(kind: str, key: str, root: str, lang: str) -> list[tuple[str, str]]:
    """(label name in labels.toml, relative href) of the feeds for a page of `kind`/`key`."""
    found = [
        ("feed_new", root + localized(feed("all", "", "new"), lang)),
        ("feed_updated", root + localized(feed("all", "", "updated"), lang)),
    ]
    if kind in FEED_SCOPES:
        found = [
            ("feed_new_here", root + localized(feed(kind, key, "new"), lang)),
            ("feed_updated_here", root + localized(feed(kind, key, "updated"), lang)),
            *found,
        ]
    return found
