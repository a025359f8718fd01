"""Text converted to Markdown that reads as plain text: only what would change the rendering is
escaped, and emphasis is written the way CommonMark will read it."""

from __future__ import annotations

import re
from typing import Any


def emphasis(text: str, parent_tags: Any, marker: str, tag: str) -> str:
    """`*text*` where CommonMark reads it as emphasis (its inner ends are neither space nor
    punctuation), else the HTML element: `**完全是构图。**对` would print its asterisks."""
    import markdownify

    if "_noformat" in parent_tags:
        return text
    prefix, suffix, inner = markdownify.chomp(text)
    if not inner:
        return ""
    if _plain_edge(inner[0]) and _plain_edge(inner[-1]):
        return f"{prefix}{marker}{inner}{marker}{suffix}"
    return f"{prefix}<{tag}>{inner}</{tag}>{suffix}"


def _plain_edge(char: str) -> bool:
    import unicodedata

    return not char.isspace() and unicodedata.category(char)[0] not in "PS"


_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE_START = re.compile(r"^( {0,3})(#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|=+\s*$|-+\s*$)")
_ORDERED = re.compile(r"^( {0,3}[0-9]{1,9})([.)])(?=\s|$)")


def plain_text(text: str) -> str:
    """Text as Markdown that renders as this very text, escaping only what would change the
    rendering: `k_euler_a`, `DPM++`, `~40`, `modelVersionId=42086` and a `-` mid-line stay as
    they are; backticks, emphasis that could open, a `<` that could open a tag, an entity,
    brackets that could make a link, `~~` and block markers at the start are escaped."""
    links = "](" in text or "][" in text or "]:" in text
    tildes = text.count("~") >= 2
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i < last else " "
        if ch == "\\":
            live = after in _ASCII_PUNCT
        elif ch == "`":
            live = True
        elif ch == "*":
            live = not (before.isspace() and after.isspace())
        elif ch == "_":
            live = not (before.isalnum() and after.isalnum())  # intraword: never emphasis
        elif ch == "<":
            live = after.isascii() and (after.isalpha() or after in "/!?")
        elif ch == "&":
            live = _ENTITY.match(text, i) is not None
        elif ch in "[]":
            live = links
        elif ch == "~":
            live = tildes
        else:
            live = False
        out.append("\\" + ch if live else ch)
    escaped = "".join(out)
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)
    return _ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)
