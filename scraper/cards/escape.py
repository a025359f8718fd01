"""Scraped values made safe for the place they take in a markdown card.

Every value the template prints goes through `finalize` (plain text) unless a filter has
already escaped it for its place (a code span, a link, a URL) and marked it `Safe`. So a new
field is escaped by default. Single-line fields lose control characters and line breaks,
so they cannot forge a line or a heading.

Two strengths: `strict` (every card but the 2023 reference format) escapes every markdown
and HTML character that could open a tag, a link or a table cell; the reference format
(its Chinese cards) must stay byte-exact, so there only what could be live is escaped: a
`<` that opens an HTML construct other than an inert unknown element without attributes
(`<MAGIFACTORY>` stays, `<script>` and `<img onerror>` do not), and `](` / `][` that would
make a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..sanitize import INVISIBLE, safe_url


class Safe(str):
    """Card text already escaped for its place; finalize() lets it through as it is."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> Safe:  # labels: "{n} versions"
        return Safe(str.format(self, *args, **kwargs))


# Controls and line breaks (a space each), and the invisible characters that reorder or hide
# text (bidi overrides U+202A-U+202E, isolates U+2066-U+2069, zero-width space, word joiner,
# BOM: removed), so "Author: \u202eadmin" cannot pass for another name.
_CONTROLS = re.compile(INVISIBLE + r"|[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Anything either strength would change: a value without it is printed as it is (fast path).
_ANY = re.compile(INVISIBLE + r"|[\x00-\x1f\x7f-\x9f\u2028\u2029\\`\[\]<>|&]")
_INVISIBLE_SET = frozenset(
    "\u200b\u2060\ufeff\u180e" + "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
)
_STRICT = re.compile(r"[\\`\[\]<>|]|&(?=#?[A-Za-z0-9]+;)")
_STRICT_MAP = {
    "\\": "\\\\",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "<": "&lt;",
    ">": "&gt;",
    "|": "\\|",
    "&": "&amp;",
}
# The reference format: only what could be live.
_LIVE = re.compile(r"<(?=[A-Za-z/!?])|\]\(|\]\[|&(?=#?[A-Za-z0-9]+;)")
_LINK_TEXT = re.compile(r"[\\`\[\]]|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")
_INERT = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)>")
_URL_UNSAFE = re.compile(r"[\x00-\x20\"'<>\\^`{|}()\x7f-\x9f\u2028\u2029]")
_PLAIN_URL = re.compile(r"https?://[^\x00-\x20\"'<>\\^`{|}()\x7f-\x9f\u2028\u2029]*")
_BACKTICKS = re.compile(r"`+")

# Elements that do something even without attributes (load, run, swallow text, change the
# parser's mode) or are known HTML: an attribute-less tag of any other name is inert.
KNOWN_ELEMENTS = frozenset(
    """a abbr address applet area article aside audio b base basefont bdi bdo bgsound big blink
    blockquote body br button canvas caption center cite code col colgroup data datalist dd del
    details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame
    frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins isindex
    kbd keygen label legend li link listing main map mark marquee math menu meta meter nav nobr
    noembed noframes noscript object ol optgroup option output p param picture plaintext portal
    pre progress q rp rt ruby s samp script search section select slot small source span strike
    strong style sub summary sup svg table tbody td template textarea tfoot th thead time title
    tr track tt u ul var video wbr xmp""".split()  # noqa: SIM905 (a word list)
)


def one_line(value: Any) -> str:
    """The value as one line: control characters and line breaks become spaces, bidi
    controls and zero-width characters go."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROLS.sub(_blank, text) if _CONTROLS.search(text) else text


def _blank(match: re.Match[str]) -> str:
    return "" if match.group() in _INVISIBLE_SET else " "


def text(value: Any, strict: bool = True) -> str:
    """Plain inline text (a heading, a list item)."""
    if isinstance(value, str) and not _ANY.search(value):
        return value
    line = one_line(value)
    if strict:
        return _STRICT.sub(_strict_char, line) if _STRICT.search(line) else line
    return _LIVE.sub(_defuse, line) if _LIVE.search(line) else line


def _strict_char(match: re.Match[str]) -> str:
    return _STRICT_MAP[match.group()[0]]


def _defuse(match: re.Match[str]) -> str:
    found = match.group()
    if found == "<":
        inert = _INERT.match(match.string, match.start())
        if inert and inert.group(1).lower() not in KNOWN_ELEMENTS:
            return "<"  # <MAGIFACTORY>: an unknown element without attributes does nothing
        return "&lt;"
    if found == "&":
        return "&amp;"
    return found[0] + "\\" + found[1]  # ]( and ][ no longer make a link


def link_text(value: Any) -> Safe:
    """The text between [ and ] of a link: no bracket, code span or tag can escape it.

    Balanced brackets stay as they are (CommonMark allows them in link text: a file named
    `a[b].safetensors` reads as it is); an unbalanced one, or a pair that would make a link
    of its own (`](`, `][`), is escaped."""
    line = one_line(value)
    if _LINK_TEXT.search(line):
        live = _live_brackets(line) if "[" in line or "]" in line else set()
        line = _LINK_TEXT.sub(lambda m: _link_char(m, live), line)
    return Safe(line)


def _live_brackets(line: str) -> set[int]:
    """Positions of the brackets to escape: unmatched ones, and both of a pair whose `]` is
    followed by `(` or `[` (a link or a reference inside the link text)."""
    escape: set[int] = set()
    opened: list[int] = []
    for index, char in enumerate(line):
        if char == "[":
            opened.append(index)
        elif char == "]":
            if not opened:
                escape.add(index)
                continue
            start = opened.pop()
            if line[index + 1 : index + 2] in ("(", "["):
                escape.update((start, index))
    return escape.union(opened)


def _link_char(match: re.Match[str], live: set[int]) -> str:
    found = match.group()
    if found in "[]" and match.start() not in live:
        return found
    return {"<": "&lt;", "&": "&amp;"}.get(found) or "\\" + found


def code(value: Any) -> Safe:
    """A code span: `value`, with a longer fence when the value holds backticks."""
    line = one_line(value)
    if "`" not in line:
        return Safe(f"`{line}`")
    fence = "`" * (max(len(run) for run in _BACKTICKS.findall(line)) + 1)
    return Safe(f"{fence} {line} {fence}")


def url(value: Any) -> Safe:
    """A URL for a link target, an src attribute or the text of a card: http(s) only (else
    nothing), and no character that could end the target or the attribute."""
    if not isinstance(value, str):
        return Safe("")
    if _PLAIN_URL.fullmatch(value):
        return Safe(value)  # the common case: nothing to check further or encode
    checked = safe_url(value)
    if checked is None:
        return Safe("")
    if _URL_UNSAFE.search(checked):
        checked = _URL_UNSAFE.sub(
            lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), checked
        )
    return Safe(checked)


def finalizer(strict: bool) -> Callable[[Any], Any]:
    """Jinja's finalize: every printed value not already Safe is escaped as plain text."""

    def finalize(value: Any) -> Any:
        kind = type(value)
        if kind is Safe or kind is int or kind is float:
            return value
        if value is None:
            return ""
        return text(value, strict)

    return finalize
