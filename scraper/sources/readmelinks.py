"""Relative links and images of a hub README made absolute, as the hub's own model page shows
them, before anything sanitizes the text (an allow-list sanitizer drops a relative `src`).

Each hub says where a repo path goes (`Resolver(target, image) -> URL`); this module finds the
targets: markdown links, images and definitions, and `src`/`href` of HTML tags, outside code.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

Resolver = Callable[[str, bool], str]  # (relative target, is it an image?) -> absolute URL

# As in cards/markdown: a target never spans a quote or an angle bracket.
_INLINE = re.compile(
    r"""(\]\(\s*)(<[^<>\n"']*>|(?:[^\s()\\"'<>]|\\[^"'<>]|\((?:[^\s()\\"'<>]|\\[^"'<>])*\))+)"""
)
_DEFINITION = re.compile(r"""^( {0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*)(<[^<>\n"']*>|[^\s"'<>]+)""", re.M)
_TAG = re.compile(r"<(img|a|source|video|audio)\b([^<>]{0,4000})>", re.I)
_URL_ATTR = re.compile(r"""(\b(?:src|href|poster)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+)""", re.I)
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?:(?!\1).)+?(?<!`)\1(?!`)", re.S)
_MAY_HOLD_CODE = re.compile(r"```|~~~|^(?: {4}|\t)", re.M)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|bmp|avif)$", re.I)


def absolute(target: str) -> bool:
    """Whether a target needs no repo: a URL with a scheme, scheme-relative, or an anchor."""
    return target.startswith(("#", "//")) or bool(re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", target))


def split(target: str) -> tuple[str, str]:
    """(path, ?query#fragment) of a relative target."""
    cut = min((i for i in (target.find("?"), target.find("#")) if i >= 0), default=len(target))
    return target[:cut], target[cut:]


def in_repo(path: str) -> str:
    """A relative path normalised inside the repo: `./` and `..` resolved, never above it."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return posixpath.join(*parts) if parts else ""


def encoded(path: str, safe: str = "/") -> str:
    """A repo path percent-encoded once (a README may already have encoded it)."""
    return quote(unquote(path), safe=safe)


def resolve(text: str, resolver: Resolver) -> str:
    """The README with every relative target made absolute by `resolver`; code untouched."""
    if not text or ("](" not in text and "]:" not in text and "<" not in text):
        return text  # no link, image, definition or tag: nothing to resolve
    lines = text.split("\n")
    code = _code_lines(text, len(lines))
    out: list[str] = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and code[end] == code[start]:
            end += 1
        chunk = "\n".join(lines[start:end])
        out.append(chunk if code[start] else _outside_spans(chunk, resolver))
        start = end
    return "\n".join(out)


def _code_lines(text: str, count: int) -> list[bool]:
    """Which lines are code: fenced blocks (``` or ~~~, closed by a like fence at least as
    long) and indented blocks (4 spaces or a tab after a blank line). A line scan, not a full
    Markdown parse: a README is read once per parse, and a wrong guess only leaves a link as
    written or resolves one shown as code."""
    code = [False] * count
    if not _MAY_HOLD_CODE.search(text):
        return code
    fence: str | None = None
    previous_blank, indented = True, False
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if fence is not None:
            code[number] = True
            closing = _FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not line[closing.end() :].strip()
            ):
                fence = None
        elif opening := _FENCE.match(line):
            fence, code[number], indented = opening.group(1), True, False
        elif stripped and line.startswith(("    ", "\t")) and (previous_blank or indented):
            code[number] = indented = True
        elif stripped:
            indented = False
        previous_blank = not stripped
    return code


def _outside_spans(chunk: str, resolver: Resolver) -> str:
    if "]:" in chunk:  # definitions are whole lines: looked for before code spans split them
        chunk = _DEFINITION.sub(
            lambda m: m.group(1) + _fix(m.group(2), resolver, bool(_IMAGE_SUFFIX.search(m[2]))),
            chunk,
        )
    pieces, pos = [], 0
    for span in _CODE_SPAN.finditer(chunk):
        pieces.append(_targets(chunk[pos : span.start()], resolver))
        pieces.append(span.group())
        pos = span.end()
    pieces.append(_targets(chunk[pos:], resolver))
    return "".join(pieces)


def _targets(text: str, resolver: Resolver) -> str:
    if "](" in text:
        text = _INLINE.sub(lambda m: m.group(1) + _md(m, resolver), text)
    if "<" in text:
        text = _TAG.sub(lambda m: _tag(m, resolver), text)
    return text


def _md(match: re.Match[str], resolver: Resolver) -> str:
    return _fix(match.group(2), resolver, _is_image(match.string, match.start()))


def _is_image(text: str, close: int) -> bool:
    """Whether the `]` at `close` ends the text of an image (`![...]`): its `[` has a `!`."""
    depth = 0
    for index in range(close - 1, max(-1, close - 2000), -1):
        char = text[index]
        if index > 0 and text[index - 1] == "\\":
            continue
        if char == "]":
            depth += 1
        elif char == "[":
            if depth == 0:
                return index > 0 and text[index - 1] == "!"
            depth -= 1
    return False


def _fix(raw: str, resolver: Resolver, image: bool) -> str:
    bracketed = raw.startswith("<") and raw.endswith(">")
    target = raw[1:-1] if bracketed else raw
    if not target or absolute(target.strip()):
        return raw
    fixed = resolver(target.strip(), image)
    return f"<{fixed}>" if bracketed else fixed


def _tag(match: re.Match[str], resolver: Resolver) -> str:
    image = match.group(1).lower() != "a"

    def attr(m: re.Match[str]) -> str:
        value = m.group(2)
        quote_char = value[0] if value[:1] in ("'", '"') else ""
        inner = value[1:-1] if quote_char else value
        if not inner or absolute(inner.strip()):
            return m.group()
        fixed = resolver(inner.strip(), image).replace('"', "%22").replace("'", "%27")
        return f'{m.group(1)}"{fixed}"'

    return f"<{match.group(1)}{_URL_ATTR.sub(attr, match.group(2))}>"
