"""The project's one allow-list HTML sanitizer (nh3, i.e. ammonia) and URL check.

Scraped HTML (model descriptions, README bodies rendered from markdown) is written by
anyone; everything that reaches a page or a card goes through `clean_html`, every scraped URL
that becomes a link or an image goes through `safe_url`. Both are allow-lists: what is not
named here is dropped.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import nh3


# Formatting only: no script, iframe, object, embed, form, style, svg, math, details.
ALLOWED_TAGS = frozenset(
    {
        *("p", "div", "span", "br", "hr", "blockquote", "pre", "code", "kbd", "samp"),
        *("h1", "h2", "h3", "h4", "h5", "h6"),
        *("ul", "ol", "li", "dl", "dt", "dd"),
        *("a", "img"),
        *("em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark"),
        *("table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption"),
    }
)
# No event handlers, no style, no class or id (no clobbering of the page's own names).
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "align"},
    "td": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}
# Removed together with everything inside them (the text of a script is not content).
DROPPED_WITH_CONTENT = frozenset(
    {
        *("script", "style", "iframe", "frame", "frameset", "object", "embed", "applet"),
        *("form", "input", "button", "select", "textarea", "template", "noscript"),
        *("svg", "math", "title", "head", "meta", "link", "base"),
    }
)
URL_SCHEMES = frozenset({"http", "https"})
LINK_REL = "nofollow noopener noreferrer ugc"
# Added to every image, in this order (nh3's own option for this orders them by a per-process
# hash seed, and a page must come out byte for byte the same every time).
IMAGE_DEFAULTS = ' loading="lazy" decoding="async" referrerpolicy="no-referrer"'
# An image tag as nh3 writes it: lower-case names, every value in double quotes.
IMG_TAG = re.compile(r'<img((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*/?>')

# Characters that reorder or hide text in a single line: bidi embeddings and overrides
# (U+202A-U+202E), isolates (U+2066-U+2069), zero-width space, word joiner, BOM, Mongolian
# vowel separator. (Zero-width joiners stay: emoji sequences and scripts need them.)
INVISIBLE = "[\u200b\u2060\ufeff\u180e\u202a-\u202e\u2066-\u2069]"
_INVISIBLE = re.compile(INVISIBLE)


def visible(text: str) -> str:
    """A single-line text without the characters that reorder or hide it."""
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text


# WHATWG URL parsing drops tab and newline anywhere and C0 controls and spaces at the ends.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# Never in a real URL unencoded, and able to end an attribute or a link: percent-encoded.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
# The common case, decided without urlsplit: scheme, a plain host name, an optional port.
_PLAIN_HTTP = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]|$)", re.IGNORECASE)


@cache
def _cleaner() -> nh3.Cleaner:
    import nh3  # here: a command that never sanitizes (zh reference cards) does not load it

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",  # a relative or scheme-relative URL means nothing out of context
        link_rel=LINK_REL,
        strip_comments=True,
    )


def clean_html(html: str) -> str:
    """`html` with only formatting tags left: no scripts, frames, forms or styles, no event
    handlers, href and src only http(s) (entity- or whitespace-obfuscated schemes included),
    links marked rel="nofollow noopener noreferrer ugc", images lazy and without referrer."""
    if not html:
        return ""
    # In nh3's output a "<" that is not a tag is escaped: IMG_TAG finds real tags only.
    return IMG_TAG.sub(_image, _cleaner().clean(shallow(html)))


MAX_DEPTH = 48  # elements nested deeper are flattened to their text before the sanitizer
# Elements that never nest in themselves (their end tag is optional) or have no content:
# they do not deepen the tree the parser builds.
_FLAT = frozenset(
    {
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"),
        *("source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option"),
        *("thead", "tbody", "tfoot"),
    }
)
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")


def shallow(html: str, limit: int = MAX_DEPTH) -> str:
    """HTML whose elements nest at most `limit` deep: the tags of deeper ones are dropped
    (their text stays). One forward pass: an HTML parser's cost grows with the depth (the
    sanitizer took 76 s on "<div>" * 120000), and the Markdown converter recurses on it."""
    if html.count("<") <= limit:
        return html  # (the common case: it cannot nest deeper than it has tags)
    out: list[str] = []
    pos = depth = dropped = 0
    end = -1  # the ">" closing the tag at hand, found once per tag, scanning forward only
    for match in _TAG_START.finditer(html):
        start = match.start()
        if start < pos or match.group(2).lower() in _FLAT:
            continue
        if end < start:
            end = html.find(">", start)
            if end < 0:
                break
        if html[end - 1] == "/":
            continue  # <x/>: nothing inside
        closing = bool(match.group(1))
        if not closing and depth < limit:
            depth += 1
        elif closing and not dropped:
            depth = max(0, depth - 1)
        else:
            dropped += -1 if closing else 1
            out.append(html[pos:start])
            pos = end + 1
    out.append(html[pos:])
    return "".join(out)


MAX_TEXT = 1_000_000  # characters of one description or README put on a card or a page


def capped(text: str, note: str, limit: int = MAX_TEXT) -> str:
    """The text, cut at `limit` characters (at a line end when one is near) with `note` after
    it, so one huge record costs its share, not the run's memory; the database keeps it all."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", limit - 10_000, limit)
    return text[: cut if cut > 0 else limit] + note.format(shown=limit, total=len(text))


def _image(match: re.Match[str]) -> str:
    """An image without a (safe) source is dropped; the others load lazily, no referrer."""
    attributes = match[1]
    return f"<img{IMAGE_DEFAULTS}{attributes}>" if ' src="' in attributes else ""


def safe_url(url: object) -> str | None:
    """An absolute http(s) URL with a host, as a browser would read it, with every character
    that could end an attribute or a link percent-encoded; None for anything else
    (javascript:, data:, vbscript:, relative, scheme-relative, malformed)."""
    if not isinstance(url, str):
        return None
    text = _TAB_NEWLINE.sub("", url).strip(_C0_AND_SPACE)
    if not text:
        return None
    if _FORBIDDEN.search(text):
        text = _FORBIDDEN.sub(_percent, text)
    elif _PLAIN_HTTP.match(text):
        return text
    try:
        parts = urlsplit(text)
    except ValueError:  # an invalid IPv6 literal and the like
        return None
    if parts.scheme not in URL_SCHEMES or not parts.hostname:
        return None
    return text


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode())


# The allow-lists under the names the card cleaner (cardmd) reads them by.
TAGS = ALLOWED_TAGS
ATTRIBUTES = ALLOWED_ATTRIBUTES
URL_ATTRIBUTES = frozenset({"href", "src"})
CONTENT_TAGS = DROPPED_WITH_CONTENT
SCHEMES = URL_SCHEMES
