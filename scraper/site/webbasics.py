"""robots.txt and sitemap.xml (sitemaps.org 0.9): every page in both languages with its
hreflang alternates and, for model pages, lastmod. Past `PER_FILE` URLs, sitemap.xml becomes
a sitemap index of sitemaps/<n>.xml files. Pages are listed in path order, so a change touches
one file and the others keep their bytes (not rewritten)."""

from __future__ import annotations

from collections.abc import Iterator

from .feeds import text
from .paths import HTML_LANG, LANGS, localized
from .summary import Summary

PER_FILE = 50_000  # URLs per sitemap file, the protocol's limit
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
XHTML = 'xmlns:xhtml="http://www.w3.org/1999/xhtml"'


def _url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _entries(ranked: list[Summary], listed: list[str], base_url: str) -> list[tuple[str, str]]:
    """(path, <url> element) of every page in every language, in path order. Page paths are
    safe by construction (paths.SAFE_PATH: nothing XML would read); the base URL is escaped
    once."""
    base = text(base_url.rstrip("/") + "/") if base_url else ""
    dated = {s.page: s.updated or s.created for s in ranked}
    found = []
    for page in sorted({*listed, *dated}):
        alternates = "".join(
            f'<xhtml:link rel="alternate" hreflang="{HTML_LANG[lang]}" '
            f'href="{base}{localized(page, lang)}"/>'
            for lang in LANGS
        )
        day = dated.get(page)
        lastmod = f"<lastmod>{text(day)}</lastmod>" if day else ""
        for lang in LANGS:
            here = localized(page, lang)
            found.append((here, f"<url><loc>{base}{here}</loc>{lastmod}{alternates}</url>"))
    return found


def sitemap(
    ranked: list[Summary], listed: list[str], base_url: str, per_file: int = PER_FILE
) -> Iterator[tuple[str, bytes]]:
    """sitemap.xml, and sitemaps/<n>.xml when there are more than `per_file` URLs. Without a
    base_url the URLs are relative to the site root (set `[site] base_url` for crawlers)."""
    entries = _entries(ranked, listed, base_url)
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<urlset {NS} {XHTML}>\n'
    if len(entries) <= per_file:
        body = "\n".join(e for _, e in entries)
        yield "sitemap.xml", (head + body + "\n</urlset>\n").encode("utf-8")
        return
    files = []
    for n, start in enumerate(range(0, len(entries), per_file), 1):
        part = entries[start : start + per_file]
        path = f"sitemaps/{n}.xml"
        files.append(path)
        body = "\n".join(e for _, e in part)
        yield path, (head + body + "\n</urlset>\n").encode("utf-8")
    index = "\n".join(f"<sitemap><loc>{text(_url(base_url, p))}</loc></sitemap>" for p in files)
    yield (
        "sitemap.xml",
        (
            f'<?xml version="1.0" encoding="utf-8"?>\n<sitemapindex {NS}>\n{index}\n'
            "</sitemapindex>\n"
        ).encode(),
    )


def robots(base_url: str) -> bytes:
    """Everything may be crawled; the sitemap is named when its absolute URL is known (the
    Sitemap line must be absolute)."""
    lines = ["User-agent: *", "Allow: /"]
    if base_url:
        lines += ["", f"Sitemap: {base_url.rstrip('/')}/sitemap.xml"]
    return ("\n".join(lines) + "\n").encode("utf-8")
