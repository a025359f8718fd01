"""JSON on the hot paths: orjson (about 2x faster to read, 7x to write here), stdlib as fallback."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

MAX_DEPTH = 256  # deeper values are cut by loads_lenient (orjson stops at 1024, json at ~1000)
DAMAGE = "\ufffd"  # what a lenient read puts where the answer was damaged
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def loads(data: bytes | str) -> Any:
    """Parse JSON; NaN and Infinity, which orjson refuses, still parse as Python's json does."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def loads_lenient(data: bytes) -> tuple[Any, str | None]:
    """(value, what was damaged or None): invalid UTF-8 is replaced by U+FFFD and values nested
    deeper than MAX_DEPTH by a U+FFFD string, so one bad item does not lose a whole page.
    ValueError when it is not JSON at all."""
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError:
        pass
    notes = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        notes.append("invalid UTF-8 replaced")
    capped = cap_depth(text)
    if capped is not text:
        notes.append(f"values nested deeper than {MAX_DEPTH} levels cut")
    try:
        value = orjson.loads(capped)
    except orjson.JSONDecodeError:
        try:
            value = json.loads(capped)  # NaN, Infinity
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    return value, "; ".join(notes) or None


def cap_depth(text: str, limit: int = MAX_DEPTH) -> str:
    """The text with every array or object deeper than `limit` replaced by a U+FFFD string;
    the same object when nothing is that deep."""
    depth = 0
    cut_from = -1
    pieces: list[str] = []
    kept = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth == limit + 1 and cut_from < 0:
                cut_from = match.start()
        else:
            if depth == limit + 1 and cut_from >= 0:
                pieces += [text[kept:cut_from], f'"{DAMAGE}too deep"']
                kept, cut_from = match.end(), -1
            depth -= 1
    if not pieces:
        return text
    pieces.append(text[kept:])
    return "".join(pieces)


def dumps(value: Any) -> str:
    """Compact UTF-8 JSON text; stdlib for what orjson cannot encode (integers over 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON as bytes, for hashing."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()


def dumps_safe(value: Any) -> str:
    """JSON text that can always be stored: lone surrogates escaped, anything that cannot be
    encoded at all (too deep, not JSON) kept as its repr, cut to 100,000 characters."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        pass
    try:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return json.dumps({"unstorable": repr(value)[:100_000]}, ensure_ascii=True)
