"""The project's one allow-list HTML sanitizer (nh3, bindings to the Rust crate ammonia).

Scraped HTML (model descriptions, README fragments) is written by anyone: only formatting
tags survive, with no script, frame, form or style, no event handler, and http(s) URLs only,
also when a scheme is hidden behind entities or whitespace. Links get rel="nofollow noopener
noreferrer ugc". Why nh3: it is maintained, fast, and parses like a browser (html5ever);
bleach is deprecated upstream.
"""

from __future__ import annotations

import re

TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol li code pre a img em strong b i table thead tbody tr "  # noqa: SIM905
    "th td blockquote br hr".split()
)
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
}
URL_ATTRIBUTES = frozenset({"href", "src"})
# Removed with everything inside them (other tags not allowed lose only their markup).
CONTENT_TAGS = frozenset(
    "script style iframe object embed template noscript textarea title xmp svg math "  # noqa: SIM905
    "select noembed noframes".split()
)
LINK_REL = "nofollow noopener noreferrer ugc"
SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def clean_html(html: str) -> str:
    """HTML with only the allow-list left: formatting tags, http(s) links and images."""
    import nh3  # here: a command that never sanitizes (zh reference cards) does not load it

    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(CONTENT_TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def safe_url(url: str) -> str | None:
    """The URL when it is http or https (surrounding whitespace removed), else None:
    javascript:, data:, vbscript:, relative and scheme-less URLs are all refused."""
    if not isinstance(url, str):
        return None
    text = url.strip(" \t\n\r\f\v\x00")
    match = _SCHEME.match(text)
    if match is None or match.group(1).lower() not in SCHEMES:
        return None
    return text
