"""SQLite store: promoted columns for queries, raw JSON for fidelity, runs and crawl checkpoints."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .records import Model, RecordError

DEFAULT_DB = Path("output") / "models.db"


def default_path() -> Path:
    return Path(os.environ.get("SCRAPER_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Counts:
    """What one run did, stored in its runs row and printed as the summary."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.unchanged


@dataclass
class Checkpoint:
    """Where a crawl stands after a page; cursor None means the crawl is complete."""

    key: str
    source: str
    params: Any
    cursor: str | None
    pages: int
    models: int
    run_id: int


# fmt: off
SCHEMA: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "models": ({
        "source": str, "id": str, "name": str, "type": str, "nsfw": int, "nsfw_level": int,
        "creator": str, "mode": str, "license": str, "url": str, "downloads": int, "likes": int,
        "version_count": int, "created_at": str, "updated_at": str, "description": str,
        "content_hash": str, "first_seen_at": str, "changed_at": str, "deleted_at": str,
        "raw": str,
    }, ("source", "id")),
    "versions": ({
        "source": str, "id": str, "model_id": str, "position": int, "name": str,
        "base_model": str, "created_at": str, "updated_at": str, "published_at": str,
        "downloads": int, "likes": int, "trained_words": str, "download_url": str,
        "removed_at": str, "raw": str,
    }, ("source", "id")),
    "files": ({
        "source": str, "version_id": str, "position": int, "id": str, "name": str, "kind": str,
        "size_kb": float, "format": str, "precision": str, "size_type": str, "is_primary": int,
        "sha256": str, "download_url": str, "pickle_scan": str, "virus_scan": str, "raw": str,
    }, ("source", "version_id", "position")),
    "images": ({
        "source": str, "version_id": str, "position": int, "id": str, "url": str,
        "nsfw_level": int, "width": int, "height": int, "kind": str, "raw": str,
    }, ("source", "version_id", "position")),
    "tags": ({
        "source": str, "model_id": str, "position": int, "tag": str,
    }, ("source", "model_id", "position")),
    "creators": ({"source": str, "username": str, "image": str}, ("source", "username")),
    "runs": ({
        "id": int, "source": str, "command": str, "params": str, "started_at": str,
        "finished_at": str, "status": str, "requests": int, "bytes": int, "new": int,
        "updated": int, "unchanged": int, "deleted": int, "failed": int, "errors": str,
    }, ("id",)),
    "checkpoints": ({
        "key": str, "source": str, "params": str, "cursor": str, "pages": int, "models": int,
        "run_id": int, "updated_at": str,
    }, ("key",)),
    "quarantine": ({
        "source": str, "key": str, "error": str, "raw": str, "seen_at": str, "run_id": int,
    }, ("source", "key")),
}
# fmt: on

INDEXES = (
    ("versions", ("source", "model_id")),
    ("files", ("sha256",)),
    ("tags", ("tag",)),
)


class Store:
    """All writes of one page happen in one transaction, so a crash never leaves half a page."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self._ensure_schema()

    def close(self) -> None:
        self.db.close()

    def _ensure_schema(self) -> None:
        with self.db.atomic():
            existing = set(self.db.table_names())
            for name, (columns, pk) in SCHEMA.items():
                table = self.db.table(name)
                if name not in existing:
                    table.create(columns, pk=pk[0] if len(pk) == 1 else pk, not_null=set(pk))
                else:
                    missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
                    for column, kind in missing.items():
                        table.add_column(column, kind)
            for name, cols in INDEXES:
                self.db.table(name).create_index(cols, if_not_exists=True)

    # --- models ----------------------------------------------------------------------

    def save_models(
        self,
        models: list[Model],
        counts: Counts,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """Upsert models whose content changed (unchanged ones are not touched at all) and move
        the crawl's checkpoint in the same transaction."""
        if not models:
            if checkpoint:
                with self.db.atomic():
                    self._set_checkpoint(checkpoint)
            return
        source = models[0].source
        texts = {m.id: _dumps(m.raw) for m in models}
        hashes = {
            k: hashlib.blake2b(t.encode(), digest_size=16).hexdigest() for k, t in texts.items()
        }
        known = self._known(source, list(texts))
        stamp = now()
        with self.db.atomic():
            for model in models:
                digest = hashes[model.id]
                previous = known.get(model.id)
                if previous is not None and previous[0] == digest and previous[1] is None:
                    counts.unchanged += 1
                    continue
                self._write_model(model, texts[model.id], digest, stamp, previous)
                if previous is None:
                    counts.new += 1
                else:
                    counts.updated += 1
            if checkpoint:
                self._set_checkpoint(checkpoint)

    def _known(self, source: str, ids: list[str]) -> dict[str, tuple[str, str | None, str]]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, content_hash, deleted_at, first_seen_at FROM models "
            f"WHERE source = ? AND id IN ({marks})",
            [source, *ids],
        ).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def _write_model(
        self,
        m: Model,
        raw_text: str,
        digest: str,
        stamp: str,
        previous: tuple[str, str | None, str] | None,
    ) -> None:
        src = m.source
        self.db.table("models").upsert(
            {
                "source": src,
                "id": m.id,
                "name": m.name,
                "type": m.type,
                "nsfw": None if m.nsfw is None else int(m.nsfw),
                "nsfw_level": m.nsfw_level,
                "creator": m.creator,
                "mode": m.mode,
                "license": m.license,
                "url": m.url,
                "downloads": m.stats.get("downloads"),
                "likes": m.stats.get("likes"),
                "version_count": len(m.versions),
                "created_at": m.created_at,
                "updated_at": m.updated_at,
                "description": m.description,
                "content_hash": digest,
                "first_seen_at": previous[2] if previous else stamp,
                "changed_at": stamp,
                "deleted_at": None,
                "raw": raw_text,
            },
            pk=("source", "id"),
        )
        version_ids = [v.id for v in m.versions]
        marks = ",".join("?" * len(version_ids))
        # A version that vanished (unpublished, taken down) is marked, never deleted.
        self.db.execute(
            f"UPDATE versions SET removed_at = ? WHERE source = ? AND model_id = ? "
            f"AND removed_at IS NULL AND id NOT IN ({marks})",
            [stamp, src, m.id, *version_ids],
        )
        if version_ids:
            for table in ("files", "images"):
                self.db.execute(
                    f"DELETE FROM {table} WHERE source = ? AND version_id IN ({marks})",
                    [src, *version_ids],
                )
        self.db.execute("DELETE FROM tags WHERE source = ? AND model_id = ?", [src, m.id])
        self.db.table("versions").upsert_all(
            (
                {
                    "source": src,
                    "id": v.id,
                    "model_id": m.id,
                    "position": i,
                    "name": v.name,
                    "base_model": v.base_model,
                    "created_at": v.created_at,
                    "updated_at": v.updated_at,
                    "published_at": v.published_at,
                    "downloads": v.stats.get("downloads"),
                    "likes": v.stats.get("likes"),
                    "trained_words": _dumps(v.trained_words),
                    "download_url": v.download_url,
                    "removed_at": None,
                    "raw": _dumps(v.raw),
                }
                for i, v in enumerate(m.versions)
            ),
            pk=("source", "id"),
        )
        self.db.table("files").insert_all(
            (
                {
                    "source": src,
                    "version_id": v.id,
                    "position": i,
                    "id": f.id,
                    "name": f.name,
                    "kind": f.kind,
                    "size_kb": f.size_kb,
                    "format": f.format,
                    "precision": f.precision,
                    "size_type": f.size_type,
                    "is_primary": int(f.primary),
                    "sha256": f.sha256,
                    "download_url": f.url,
                    "pickle_scan": f.pickle_scan,
                    "virus_scan": f.virus_scan,
                    "raw": _dumps(f.raw),
                }
                for v in m.versions
                for i, f in enumerate(v.files)
            )
        )
        self.db.table("images").insert_all(
            (
                {
                    "source": src,
                    "version_id": v.id,
                    "position": i,
                    "id": img.id,
                    "url": img.url,
                    "nsfw_level": img.nsfw_level,
                    "width": img.width,
                    "height": img.height,
                    "kind": img.kind,
                    "raw": _dumps(img.raw),
                }
                for v in m.versions
                for i, img in enumerate(v.images)
            )
        )
        self.db.table("tags").insert_all(
            {"source": src, "model_id": m.id, "position": i, "tag": t} for i, t in enumerate(m.tags)
        )
        if m.creator:
            self.db.table("creators").upsert(
                {"source": src, "username": m.creator, "image": m.creator_image},
                pk=("source", "username"),
            )

    def mark_deleted(self, source: str, model_id: str) -> int:
        """A 404 marks the row gone (with when); the last good payload stays."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE models SET deleted_at = ? "
                "WHERE source = ? AND id = ? AND deleted_at IS NULL",
                [now(), source, model_id],
            )
            return cursor.rowcount

    def quarantine(self, source: str, key: str, error: str, raw: Any, run_id: int | None) -> None:
        """Keep a record we could not read, with why, so a parser fix can replay it."""
        with self.db.atomic():
            self.db.table("quarantine").upsert(
                {
                    "source": source,
                    "key": key,
                    "error": error,
                    "raw": _dumps(raw),
                    "seen_at": now(),
                    "run_id": run_id,
                },
                pk=("source", "key"),
            )

    def iter_raw(self, source: str | None = None) -> Iterator[tuple[str, str]]:
        """(source, raw JSON text) of every stored model, in id order."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        sql = f"SELECT source, raw FROM models {where} ORDER BY source, length(id), id"
        yield from self.db.execute(sql, args)

    def count(self, table: str, source: str | None = None) -> int:
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        return self.db.execute(f"SELECT count(*) FROM [{table}] {where}", args).fetchone()[0]

    # --- runs and checkpoints -------------------------------------------------------

    def start_run(self, source: str, command: str, params: Any) -> int:
        with self.db.atomic():
            table = self.db.table("runs")
            table.insert(
                {
                    "source": source,
                    "command": command,
                    "params": _dumps(params),
                    "started_at": now(),
                    "status": "running",
                }
            )
            return int(table.last_pk)

    def finish_run(
        self, run_id: int, status: str, counts: Counts, requests: int = 0, nbytes: int = 0
    ) -> None:
        with self.db.atomic():
            self.db.table("runs").update(
                run_id,
                {
                    "finished_at": now(),
                    "status": status,
                    "requests": requests,
                    "bytes": nbytes,
                    "new": counts.new,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "deleted": counts.deleted,
                    "failed": len(counts.failed),
                    "errors": _dumps(counts.failed[:1000]),
                },
            )

    def checkpoint(self, key: str) -> dict[str, Any] | None:
        rows = list(self.db.table("checkpoints").rows_where("key = ?", [key]))
        return rows[0] if rows else None

    def _set_checkpoint(self, c: Checkpoint) -> None:
        if c.cursor is None:
            self.db.execute("DELETE FROM checkpoints WHERE key = ?", [c.key])
            return
        self.db.table("checkpoints").upsert(
            {
                "key": c.key,
                "source": c.source,
                "params": _dumps(c.params),
                "cursor": c.cursor,
                "pages": c.pages,
                "models": c.models,
                "run_id": c.run_id,
                "updated_at": now(),
            },
            pk="key",
        )


def load_raw(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RecordError(f"stored raw JSON is unreadable: {exc}") from None
