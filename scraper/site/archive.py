"""`[site] deleted = "archive"`: models deleted upstream keep their pages (with a "removed"
badge) and are listed on one archive index, newest removal first, in each language."""

from __future__ import annotations

from collections.abc import Iterator

from ..cards import words
from .pages import render_page, site_labels
from .paths import LANGS, localized
from .summary import Summary

PATH = "archive.html"


def pages(gone: list[Summary], removed: dict[str, str]) -> Iterator[tuple[str, str, None]]:
    """The archive index in each language: (path, html, None) as indexes.site_pages yields."""
    ordered = sorted(gone, key=lambda s: (removed.get(s.key, ""), s.key), reverse=True)
    for lang in LANGS:
        rows = [
            {
                "s": s,
                "removed": words.date_text(removed.get(s.key), lang),
                "iso": removed.get(s.key),
            }
            for s in ordered
        ]
        title = site_labels(lang).archive_title
        html = render_page("archive.html.j2", PATH, lang, title, rows=rows)
        yield localized(PATH, lang), html, None
