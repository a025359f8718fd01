"""JSON on the hot paths: orjson (about 2x faster to read, 7x to write here), stdlib as fallback."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """Parse JSON; NaN and Infinity, which orjson refuses, still parse as Python's json does."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


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
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
