"""A record as table rows: the columns each table is written with, and each row's JSON text.

Each object of a payload is stored once: a nesting source's model row holds the model without
its versions, a version row the version without its files and images, each file its own row,
and a version's images one packed array; a source stored whole keeps its payload in the model
row only. Rows are tuples in the order of COLUMNS: pages of them go to executemany.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import jsonio
from ..records import MODEL_STATS, Model, Version
from . import codec, fulltext
from .schema import PRIMARY_KEYS

_dumps = jsonio.dumps

# fmt: off
COLUMNS: dict[str, tuple[str, ...]] = {
    "models": (
        "source", "id", "name", "type", "nsfw", "nsfw_level", "creator", "mode", "license",
        "url", "downloads", "likes", "stats", "stats_hash", "stats_at", "version_count",
        "created_at", "updated_at", "raw", "raw_size", "content_hash", "first_seen_at",
        "changed_at",
        "deleted_at", "tags", "description",
    ),
    "versions": (
        "source", "id", "model_id", "position", "name", "base_model", "created_at",
        "updated_at", "published_at", "downloads", "likes", "stats", "trained_words",
        "download_url", "removed_at", "raw", "images_raw", "images_size",
    ),
    "files": (
        "source", "model_id", "version_id", "position", "id", "name", "kind", "size_kb",
        "format", "precision", "size_type", "is_primary", "sha256", "download_url",
        "pickle_scan", "virus_scan", "raw",
    ),
    "images": (
        "source", "model_id", "version_id", "position", "id", "url", "nsfw_level", "width",
        "height", "kind",
    ),
    "tags": ("source", "model_id", "position", "tag"),
    "creators": ("source", "username", "image"),
    "stats_history": (
        "source", "model_id", "version_id", "taken_at", "run_id", *MODEL_STATS,
    ),
}
# fmt: on


def upsert_sql(table: str) -> str:
    columns = COLUMNS[table]
    pk = PRIMARY_KEYS[table]
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
    return (
        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
    )


class Texts:
    """The JSON text of each row of one model, made only when a row is written, with any
    configured token blanked (scrub) before it is packed."""

    def __init__(
        self,
        m: Model,
        nest: tuple[str, str, str] | None,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        self.nest = nest
        self.m = m
        self.scrub = scrub

    def _text(self, value: Any) -> str:
        text = jsonio.dumps(value)
        return self.scrub(text) if self.scrub else text

    def model(self) -> str:
        if self.nest is None:
            return self._text(self.m.raw)
        key = self.nest[0]
        return self._text({k: v for k, v in self.m.raw.items() if k != key})

    def version(self, v: Version) -> str:
        if self.nest is None:
            return self._text(v.raw)
        children = self.nest[1:]
        return self._text({k: x for k, x in v.raw.items() if k not in children})

    def file(self, raw: dict[str, Any]) -> str | None:
        return None if self.nest is None else self._text(raw)

    def images(self, v: Version) -> tuple[str | bytes | None, int | None]:
        if self.nest is None:
            return None, None
        return codec.pack(self._text([i.raw for i in v.images]))


def model_row(m: Model, raw: str, stats: str, stamp: str, body: str, first_seen: str) -> tuple:
    s = m.stats
    searched = fulltext.columns(m)
    packed, size = codec.pack(raw)
    return (
        m.source, m.id, m.name, m.type, None if m.nsfw is None else int(m.nsfw), m.nsfw_level,
        m.creator, m.mode, m.license, m.url, s.get("downloads"), s.get("likes"), _dumps(s),
        stats, stamp, len(m.versions), m.created_at, m.updated_at, packed, size, body,
        first_seen, stamp, None, searched["tags"], searched["description"],
    )  # fmt: skip


def version_rows(m: Model, texts: Texts) -> list[tuple]:
    rows = []
    for position, v in enumerate(m.versions):
        images, size = texts.images(v)
        rows.append((
            m.source, v.id, m.id, position, v.name, v.base_model, v.created_at, v.updated_at,
            v.published_at, v.stats.get("downloads"), v.stats.get("likes"), _dumps(v.stats),
            _dumps(v.trained_words), v.download_url, None, texts.version(v), images, size,
        ))  # fmt: skip
    return rows


def file_rows(m: Model, texts: Texts) -> list[tuple]:
    return [
        (
            m.source,
            m.id,
            v.id,
            j,
            f.id,
            f.name,
            f.kind,
            f.size_kb,
            f.format,
            f.precision,
            f.size_type,
            int(f.primary),
            f.sha256,
            f.url,
            f.pickle_scan,
            f.virus_scan,
            texts.file(f.raw),
        )  # fmt: skip
        for v in m.versions
        for j, f in enumerate(v.files)
    ]


def image_rows(m: Model) -> list[tuple]:
    return [
        (m.source, m.id, v.id, j, i.id, i.url, i.nsfw_level, i.width, i.height, i.kind)
        for v in m.versions
        for j, i in enumerate(v.images)
    ]


def stats_rows(m: Model, stamp: str, run_id: int | None) -> list[tuple]:
    """The counters of the model (version_id '') and of each version, as taken now."""
    rows = [(m.source, m.id, "", stamp, run_id, *(m.stats.get(k) for k in MODEL_STATS))]
    rows += [
        (m.source, m.id, v.id, stamp, run_id, *(v.stats.get(k) for k in MODEL_STATS))
        for v in m.versions
    ]
    return rows
