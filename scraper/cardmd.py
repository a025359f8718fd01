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

from . import cardtext, sanitize

SHIFT = 3  # the card's sections are ###: a README's # becomes ####
ALLOWED = sanitize.TAGS
_CONTENT = "|".join(sorted(sanitize.CONTENT_TAGS))
_TOKENS = re.compile(
    r"""(?P<escape>\\[!-/:-@\[-`{-~])
    |(?P<code>(?<!`)(?P<fence>`+)(?!`).+?(?<!`)(?P=fence)(?!`))
    |(?P<comment><!--.*?-->)
    |(?P<dropped><(?P<dropname>"""
    + _CONTENT
    + r""")\b[^>]*>.*?</(?P=dropname)\s*>)
    |<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)
      (?P<attrs>(?:\s+[^\s"'>/=\x00]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)
      \s*(?P<self>/?)>
    |<(?P<autolink>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>
    |(?P<lt><)""",
    re.S | re.X | re.I,
)
_ATTR = re.compile(r"""([^\s"'>/=\x00]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# A target never spans a quote or an angle bracket, so rewriting one can never end or open an
# HTML attribute or tag (the text may be HTML whose attribute values hold "](").
_INLINE_LINK = re.compile(
    r"""(\]\(\s*)(<[^<>\n"']*>|(?:[^\s()\\"'<>]|\\[^"'<>]|\((?:[^\s()\\"'<>]|\\[^"'<>])*\))*)"""
)
_DEFINITION = re.compile(r"""^( {0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*)(<[^<>\n"']*>|[^\s"'<>]+)""", re.M)
_ATX = re.compile(
    r"^((?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?[ \t]{0,3})(#{1,6})(?=[ \t]|$)"
)
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
    return check_links(_TOKENS.sub(lambda m: _token(m, base, shift), chunk), base)


def check_links(text: str, base: str | None = None) -> str:
    """Markdown link, image and definition targets: http(s) kept (made safe to print),
    relative ones resolved against `base`, anything else dropped."""
    if "](" in text:
        text = _INLINE_LINK.sub(lambda m: m.group(1) + _target(m.group(2), base), text)
    if "]:" in text:
        text = _DEFINITION.sub(lambda m: m.group(1) + (_target(m.group(2), base) or "<>"), text)
    return text


def _token(m: re.Match[str], base: str | None, shift: int) -> str:
    if m.group("escape"):
        return m.group()
    if m.group("code"):
        fence = m.group("fence")
        return fence + _code_span(m.group()[len(fence) : -len(fence)]) + fence
    if m.group("comment") or m.group("dropped") or m.group("lt"):
        return "&lt;" if m.group("lt") else ""
    if m.group("autolink") is not None:
        target = cardtext.url(html.unescape(m.group("autolink")))
        return f"<{target}>" if target else "&lt;" + m.group()[1:]
    return _tag(m.group("name").lower(), m.group("close"), m.group("attrs"), base, shift)


def _code_span(span: str) -> str:
    """Inside code only what could be live is escaped: a `<` that opens anything but an inert
    unknown element, or an allowed tag, without attributes."""

    def defuse(m: re.Match[str]) -> str:
        name = (m.group("name") or "").lower()
        inert = name and not m.group("attrs") and (name in ALLOWED or name not in _KNOWN)
        return m.group() if inert else "&lt;" + m.group()[1:]

    return _TOKENS.sub(lambda m: defuse(m) if m.group("name") else _lt_only(m), span)


def _lt_only(m: re.Match[str]) -> str:
    found = m.group()
    if m.group("comment") or m.group("dropped") or m.group("autolink") is not None:
        return "&lt;" + found[1:]
    return found


_KNOWN = cardtext.KNOWN_ELEMENTS


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
    if sanitize.safe_url(value) is None:
        scheme_like = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value)
        if not base or not value or scheme_like or value.startswith(("//", "#", "\\")):
            return ""
        value = f"{base.rstrip('/')}/{quote(value.lstrip('./'), safe='/%?=&')}"
    return str(cardtext.url(value))


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
                clean = cardtext.one_line(title).replace("\\", "\\\\").replace('"', '\\"')
                title = f' "{clean}"'
            return f"[{text.strip()}]({target}{title or ''})"

        def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
            target = _absolute(el.get("src") or "", None)
            alt = cardtext.link_text(el.get("alt") or "")
            return f"![{alt}]({target})" if target else alt

    return Converter(heading_style="ATX", escape_misc=True, bullets="-")
