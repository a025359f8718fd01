"""Markdown bodies in a card's details (READMEs, converted descriptions): no raw HTML but the
allow-list, no link that is not http(s), and headings below the card's own sections.

markdown-it (the CommonMark parser a static site would use) tells code blocks from the rest;
outside them every `<` is either part of an allowed tag rebuilt here from its parsed,
checked attributes or written as `&lt;`, so no partial or hidden tag can reach a browser.
Inside code spans only what could be live is escaped (`<bos>` and `<s>` stay).
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any
from urllib.parse import quote

from .. import sanitize
from . import escape, plaintext

SHIFT = 3  # the card's sections are ###: a README's # becomes ####
ALLOWED = sanitize.TAGS
_CONTENT = "|".join(sorted(sanitize.CONTENT_TAGS))
# The scan below only moves forward and finds each closer (-->, >, </script, a backtick run)
# with str.find, remembered until passed: hostile input (thousands of unclosed tags or
# comments) costs linear time, not quadratic. A tag longer than MAX_TAG or a code fence
# longer than MAX_FENCE backticks is taken as text, which is always the safe reading.
MAX_TAG = 4096
MAX_FENCE = 32
_START = re.compile(r"\\[!-/:-@\[-`{-~]|`+|<")
_TAG = re.compile(
    r"""<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)
      (?P<attrs>(?:\s+[^\s"'>/=\x00]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)
      \s*/?>""",
    re.S | re.X,
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>")
_DROP_OPEN = re.compile(rf"<({_CONTENT})\b", re.I)
_ATTR = re.compile(r"""([^\s"'>/=\x00]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# A target never spans a quote or an angle bracket, so rewriting one can never end or open an
# HTML attribute or tag (the text may be HTML whose attribute values hold "](").
_INLINE_LINK = re.compile(
    r"""((?<!\\)\]\(\s*)(<[^<>\n"']*>|(?:[^\s()\\"'<>]|\\[^"'<>]|\((?:[^\s()\\"'<>]|\\[^"'<>])*\))*)"""
)
_DEFINITION = re.compile(r"""^( {0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*)(<[^<>\n"']*>|[^\s"'<>]+)""", re.M)
_ATX = re.compile(
    r"^((?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?[ \t]{0,3})(#{1,6})(?=[ \t]|$)"
)
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?:(?!\1).)+?(?<!`)\1(?!`)", re.S)
_ANCHOR = re.compile(r"#[A-Za-z0-9_.:\-]{0,200}")
_PUNCT_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HTML_HEADING = re.compile(r"<(/?)h([1-6])\b", re.I)


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def clean_markdown(text: str, base: str | None = None, shift: int = SHIFT) -> str:
    """A markdown body made safe for a card: headings shifted down by `shift`, raw HTML
    reduced to the allow-list (Hub components such as <Gallery /> go), link and image targets
    http(s) only; `base` resolves relative targets (a repo's files), else they are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    code = [False] * len(lines)
    for token in _parser().parse(text):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("fence", "code_block"):
            code[start:end] = [True] * (end - start)
        elif token.type == "heading_open" and shift:
            _shift_heading(lines, start, end, token.markup, int(token.tag[1]), shift)
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and code[j] == code[i]:
            j += 1
        chunk = "\n".join(lines[i:j])
        out.append(chunk if code[i] else _clean_text(chunk, base, shift))
        i = j
    return "\n".join(out)


def _shift_heading(lines: list[str], start: int, end: int, markup: str, level: int, shift: int):
    hashes = "#" * min(6, level + shift)
    if markup.startswith("#"):
        lines[start] = _ATX.sub(lambda m: m.group(1) + hashes, lines[start], count=1)
        return
    # A setext heading (text underlined with === or ---): the same words as an ATX heading.
    words = " ".join(line.strip() for line in lines[start : end - 1])
    lines[start] = f"{hashes} {words}"
    for k in range(start + 1, end):
        lines[k] = ""


def _clean_text(chunk: str, base: str | None, shift: int) -> str:
    return check_links(_Scan(chunk).clean(base, shift), base)


def check_links(text: str, base: str | None = None) -> str:
    """Markdown link, image and definition targets: http(s) and #anchors kept (made safe to
    print), relative ones resolved against `base`, anything else dropped; code spans are text
    and left as they are."""
    if "]:" in text:
        text = _DEFINITION.sub(lambda m: m.group(1) + (_target(m.group(2), base) or "<>"), text)
    if "](" not in text:
        return text
    if "`" not in text:
        return _inline_links(text, base)
    pieces, pos = [], 0
    for span in _CODE_SPAN.finditer(text):
        pieces += [_inline_links(text[pos : span.start()], base), span.group()]
        pos = span.end()
    pieces.append(_inline_links(text[pos:], base))
    return "".join(pieces)


def _inline_links(text: str, base: str | None) -> str:
    if "](" not in text:
        return text
    return _INLINE_LINK.sub(lambda m: m.group(1) + _target(m.group(2), base), text)


class _Scan:
    """One forward pass over a chunk of markdown text (see MAX_TAG)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        self.found: dict[str, tuple[int, int]] = {}  # closer -> (searched from, hit or -1)

    def _cached(self, key: str, pos: int) -> int | None:
        known = self.found.get(key)
        if known is not None and known[0] <= pos and (known[1] < 0 or known[1] >= pos):
            return known[1]
        return None

    def find(self, closer: str, pos: int) -> int:
        """The next `closer` at or after pos (-1: none), each searched once per stretch."""
        hit = self._cached(closer, pos)
        if hit is None:
            hit = self.lower.find(closer, pos)
            self.found[closer] = (pos, hit)
        return hit

    def fence(self, run: str, pos: int) -> int:
        """Where the backtick run closing `run` starts (exactly as long), or -1."""
        key = f"`{len(run)}"
        hit = self._cached(key, pos)
        if hit is None:
            m = re.compile(rf"(?<!`){run}(?!`)").search(self.text, pos)
            hit = m.start() if m else -1
            self.found[key] = (pos, hit)
        return hit

    def tag_at(self, start: int) -> re.Match[str] | None:
        end = self.find(">", start)
        if end < 0 or end - start > MAX_TAG:
            return None
        return _TAG.fullmatch(self.text, start, end + 1)

    def clean(self, base: str | None, shift: int) -> str:
        text, out, pos = self.text, [], 0
        while (m := _START.search(text, pos)) is not None:
            start, token = m.start(), m.group()
            out.append(text[pos:start])
            pos = m.end()
            if token[0] == "\\":
                out.append(token)
            elif token[0] == "`":
                close = self.fence(token, pos) if len(token) <= MAX_FENCE else -1
                if close < 0:
                    out.append(token)
                else:
                    out.append(token + _code_span(text[pos:close]) + token)
                    pos = close + len(token)
            else:
                piece, pos = self._angle(start, base, shift)
                out.append(piece)
        out.append(text[pos:])
        return "".join(out)

    def _angle(self, start: int, base: str | None, shift: int) -> tuple[str, int]:
        """What a `<` at start becomes, and where the scan goes on."""
        text = self.text
        if text.startswith("<!--", start):
            close = self.find("-->", start + 4)
            return ("&lt;", start + 1) if close < 0 else ("", close + 3)
        dropped = _DROP_OPEN.match(text, start)
        if dropped and (opened := self.find(">", start)) >= 0:
            close = self.find(f"</{dropped.group(1).lower()}", opened)
            end = self.find(">", close) if close >= 0 else -1
            if end >= 0:
                return "", end + 1  # a script or style, and all inside it
        tag = self.tag_at(start)
        if tag is not None:
            name = tag.group("name").lower()
            return _tag(name, tag.group("close"), tag.group("attrs"), base, shift), tag.end()
        link = _AUTOLINK.match(text, start)
        if link is not None and link.end() - start <= MAX_TAG:
            target = escape.url(html.unescape(link.group(1)))
            if target:
                return f"<{target}>", link.end()
        if not _OPENS.match(text, start + 1):
            return "<", start + 1  # `a < b`: no tag, comment or autolink starts here
        return "&lt;", start + 1


def _code_span(span: str) -> str:
    """Inside code only what could be live is escaped (a code span shows an entity as it is
    written): a `<` that could open a tag, other than an inert one without attributes
    (`<bos>`, `<s>`, `<lora:name:0.8>` stay), on a span of one line without a `|` (which a
    table would split)."""
    if "<" not in span:
        return span
    one_cell = "\n" not in span and "|" not in span
    scan, out, pos = _Scan(span), [], 0
    while (start := span.find("<", pos)) >= 0:
        out.append(span[pos:start])
        tag = scan.tag_at(start)
        name = tag.group("name").lower() if tag else ""
        if tag and not tag.group("attrs") and (name in ALLOWED or name not in _KNOWN):
            out.append(tag.group())
            pos = tag.end()
        elif one_cell and (inert := _INERT_NAME.match(span, start)):
            if inert.group(1).lower().split(":")[0] in _KNOWN:
                out.append("&lt;")
                pos = start + 1
            else:
                out.append(inert.group())
                pos = inert.end()
        elif one_cell and not _OPENS.match(span, start + 1):
            out.append("<")
            pos = start + 1
        else:
            out.append("&lt;")
            pos = start + 1
    out.append(span[pos:])
    return "".join(out)


# What can follow a `<` that starts markup (a tag, a comment, a declaration, an autolink).
_OPENS = re.compile(r"[A-Za-z/!?]")
# An element without attributes whose name no browser knows (`<lora:name:0.8>`): inert text.
_INERT_NAME = re.compile(r"<([A-Za-z][^\s/<>\"'=`]{0,200})>")


_KNOWN = escape.KNOWN_ELEMENTS


def _tag(name: str, close: str, attrs: str, base: str | None, shift: int) -> str:
    """An allowed tag rebuilt from its checked attributes; any other tag is removed."""
    if name not in ALLOWED:
        return ""
    if name[0] == "h" and name[1:].isdigit():
        name = f"h{min(6, int(name[1:]) + shift)}"
    if close:
        return f"</{name}>"
    kept = []
    allowed = sanitize.ATTRIBUTES.get(name, set())
    for key, *values in _ATTR.findall(attrs):
        key = key.lower()
        if key not in allowed:
            continue
        value = html.unescape(next((v for v in values if v), ""))
        if key in sanitize.URL_ATTRIBUTES:
            value = _absolute(value, base)
            if not value:
                continue
        kept.append(f'{key}="{html.escape(value, quote=True)}"')
    if name == "a":
        kept.append(f'rel="{sanitize.LINK_REL}"')
    return f"<{' '.join([name, *kept])}>"


def _target(raw: str, base: str | None) -> str:
    """A markdown link target: http(s) (relative ones resolved against base), else ''."""
    inner = raw[1:-1] if raw.startswith("<") and raw.endswith(">") else raw
    return _absolute(html.unescape(_PUNCT_ESCAPE.sub(r"\1", inner)), base)


def _absolute(value: str, base: str | None) -> str:
    """An http(s) URL made safe for markdown and HTML, a relative one resolved, or ''."""
    value = value.strip()
    if _ANCHOR.fullmatch(value):
        return value  # a heading of the same text
    if sanitize.safe_url(value) is None:
        scheme_like = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value)
        if not base or not value or scheme_like or value.startswith(("//", "#", "\\")):
            return ""
        value = f"{base.rstrip('/')}/{quote(value.lstrip('./'), safe='/%?=&')}"
    return str(escape.url(value))


def shift_html_headings(text: str, shift: int = SHIFT) -> str:
    """<h1>..<h6> of sanitized HTML moved down by `shift` levels (at most h6)."""
    return _HTML_HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", text)


def html_to_markdown(description: str) -> str:
    """An HTML description as Markdown: sanitized with the allow-list before converting, its
    text escaped while converting, and checked as Markdown after (links, raw HTML, headings)."""
    clean = sanitize.clean_html(description)
    converted = _converter().convert(clean).strip()
    return clean_markdown(converted) + "\n"


@cache
def _converter() -> Any:
    import markdownify

    class Converter(markdownify.MarkdownConverter):
        """markdownify with link and image targets checked and their texts escaped."""

        def convert_a(self, el: Any, text: str, parent_tags: Any) -> str:
            target = _absolute(el.get("href") or "", None)
            if not target:
                return text
            title = el.get("title")
            if title:
                clean = escape.one_line(title).replace("\\", "\\\\").replace('"', '\\"')
                title = f' "{clean}"'
            return f"[{text.strip()}]({target}{title or ''})"

        def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
            target = _absolute(el.get("src") or "", None)
            alt = escape.link_text(el.get("alt") or "")
            return f"![{alt}]({target})" if target else alt

        def escape(self, text: str, parent_tags: Any) -> str:
            return plaintext.plain_text(text) if text else ""

        def convert_em(self, el: Any, text: str, parent_tags: Any) -> str:
            return plaintext.emphasis(text, parent_tags, "*", "em")

        def convert_strong(self, el: Any, text: str, parent_tags: Any) -> str:
            return plaintext.emphasis(text, parent_tags, "**", "strong")

        convert_i = convert_em
        convert_b = convert_strong

    return Converter(heading_style="ATX", bullets="-")
