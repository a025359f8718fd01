"""How payloads become column values: packed JSON, and the content hash.

A model's payload (models.raw) and a version's image objects (one JSON array, versions.images_raw)
are compressed with zlib beside their size: the layout of the sqlite3 shell's
`sqlar_uncompress(data, size)`, so the `models_json` and `version_images` views read as JSON in
`sqlite3` as it is, and in Python once `register()` has added the same function. A value that
would not shrink stays text; SCRAPER_COMPRESS=0 stores text only.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import zlib
from typing import Any

from .. import jsonio

try:  # zlib-ng writes the same zlib streams three times as fast (stdlib zlib reads them)
    from zlib_ng.zlib_ng import compress as _compress
except ImportError:  # pragma: no cover - a platform with no wheel
    from zlib import compress as _compress

SMALL = 128  # bytes: below this, compressing saves nothing worth a call


def pack(text: str) -> tuple[str | bytes, int]:
    """(value, size): zlib bytes when that is smaller, else the text; size is its UTF-8 length."""
    data = text.encode()
    if len(data) > SMALL and os.environ.get("SCRAPER_COMPRESS", "1") != "0":
        packed = _compress(data, 1)
        if len(packed) < len(data):
            return packed, len(data)
    return text, len(data)


def unpack_bytes(value: bytes | None, size: int | None) -> bytes | None:
    """What pack() was given, as UTF-8 bytes, from the value read as bytes (CAST AS BLOB):
    plain text has its own size, a packed value never does."""
    if value is None or size is None or size == len(value):
        return value
    return zlib.decompress(value)


def sqlar_uncompress(value: Any, size: Any) -> Any:
    """The sqlite3 shell's function of that name: data as it is when size is its length."""
    if value is None or isinstance(value, str) or not size or size == len(value):
        return value
    return zlib.decompress(value)


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("sqlar_uncompress", 2, sqlar_uncompress, deterministic=True)


def content_digest(raw: Any, nesting: tuple[str, str, str] | None, volatile: frozenset[str]) -> str:
    """Of a payload less its counters: a fresh answer and the stored copy (children put back at
    the end of their parents by the reader) hash alike, with one serialisation of the payload
    and no row text made."""
    text = jsonio.dumps_bytes(_canonical(raw, nesting, volatile))
    return hashlib.sha256(text).hexdigest()[:32]


def _canonical(raw: Any, nesting: tuple[str, str, str] | None, volatile: frozenset[str]) -> Any:
    """The payload with each nested child list beside its parent rather than inside it (where
    it sits differs between an answer and a stored copy) and without the counters' keys."""
    if not isinstance(raw, dict):
        return raw
    if nesting is None:  # stored whole: only the counters, one level down, are cut
        return {k: _cut(v, volatile) for k, v in raw.items() if k not in volatile}
    key, files, images = nesting
    versions = raw.get(key) or []
    if not isinstance(versions, list):
        return raw
    return [
        {k: v for k, v in raw.items() if k != key and k not in volatile},
        [
            [
                {k: x for k, x in v.items() if k not in (files, images) and k not in volatile},
                v.get(files) or [],
                v.get(images) or [],
            ]
            if isinstance(v, dict)
            else v
            for v in versions
        ],
    ]


def _cut(value: Any, volatile: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in volatile}
    return value


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
