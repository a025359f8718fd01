"""SQLite store: promoted columns for queries, raw JSON for fidelity, runs and crawl checkpoints."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import sqlite_utils

from .records import MODEL_STATS, File, Image, Model, RecordError, Version

DEFAULT_DB = Path("output") / "models.db"


def default_path() -> Path:
    return Path(os.environ.get("SCRAPER_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# Counters that move all the time: left out of the content hash, so a model whose only change
# is its download count is "refreshed", not "updated" (and an incremental crawl can stop).
VOLATILE = frozenset({"stats", "downloads", "likes", "trendingScore", "downloadsAllTime"})


def _without_stats(raw: Any) -> Any:
    """raw less its counters, at the top level and one list of objects down (versions)."""
    if not isinstance(raw, dict):
        return raw
    out = {}
    for key, value in raw.items():
        if key in VOLATILE:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = [
                {k: v for k, v in x.items() if k not in VOLATILE} if isinstance(x, dict) else x
                for x in value
            ]
        out[key] = value
    return out


@dataclass
class Counts:
    """What one run did, stored in its runs row and printed as the summary."""

    new: int = 0
    updated: int = 0
    refreshed: int = 0  # only the counters changed
    unchanged: int = 0
    deleted: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.refreshed + self.unchanged

    @property
    def changed(self) -> int:
        return self.new + self.updated

    def add(self, other: Counts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.refreshed += other.refreshed
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.failed += other.failed


@dataclass(slots=True)
class _Known:
    body: str | None
    stats: str | None
    deleted_at: str | None
    first_seen_at: str


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
        "stats": str, "stats_hash": str, "stats_at": str,
        "version_count": int, "created_at": str, "updated_at": str, "description": str,
        "content_hash": str, "first_seen_at": str, "changed_at": str, "deleted_at": str,
        "raw": str,
    }, ("source", "id")),
    "versions": ({
        "source": str, "id": str, "model_id": str, "position": int, "name": str,
        "base_model": str, "created_at": str, "updated_at": str, "published_at": str,
        "downloads": int, "likes": int, "stats": str, "trained_words": str,
        "download_url": str, "removed_at": str, "raw": str,
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
        "updated": int, "refreshed": int, "unchanged": int, "deleted": int, "failed": int,
        "seconds": float, "errors": str,
    }, ("id",)),
    "stats_history": ({
        "source": str, "model_id": str, "version_id": str, "taken_at": str, "run_id": int,
        "downloads": int, "favorites": int, "comments": int, "ratings": int, "rating": float,
        "likes": int, "dislikes": int, "tips": int,
    }, ("source", "model_id", "version_id", "taken_at")),
    "checks": ({"source": str, "model_id": str, "checked_at": str}, ("source", "model_id")),
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


class Busy(RuntimeError):
    """Another run holds the database's lock."""


class Store:
    """All writes of one page happen in one transaction, so a crash never leaves half a page."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._started = time.monotonic()
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self._ensure_schema()

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """One writing run per database: two syncs at full speed would share no budget.

        An OS file lock, so a killed run leaves no stale lock behind.
        """
        lock = filelock.FileLock(f"{self.path}.lock")
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise Busy(
                f"another scraper run is writing {self.path}; wait for it to finish "
                "or give this run its own --db"
            ) from None
        try:
            yield
        finally:
            lock.release()

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
        run_id: int | None = None,
    ) -> Counts:
        """Write what changed and move the crawl's checkpoint, all in one transaction.

        A model whose content is the same but whose counters moved gets only its stats (and
        raw) refreshed; one identical to the stored copy is not written at all. Returns what
        this call did (also added to `counts`).
        """
        page = Counts()
        if models:
            source = models[0].source
            known = self._known(source, [m.id for m in models])
            stamp = now()
            with self.db.atomic():
                for model in models:
                    self._save_one(model, known.get(model.id), stamp, run_id, page)
                self._mark_checked(source, [m.id for m in models], stamp)
                if checkpoint:
                    self._set_checkpoint(checkpoint)
        elif checkpoint:
            with self.db.atomic():
                self._set_checkpoint(checkpoint)
        counts.add(page)
        return page

    def _save_one(
        self, m: Model, previous: _Known | None, stamp: str, run_id: int | None, page: Counts
    ) -> None:
        raw_text = _dumps(m.raw)
        body = _digest(_dumps(_without_stats(m.raw)))
        stats_text = _dumps([m.stats, {v.id: v.stats for v in m.versions}])
        stats = _digest(stats_text)
        if previous and previous.body == body and previous.deleted_at is None:
            if previous.stats == stats:
                page.unchanged += 1
                return
            self._write_stats(m, raw_text, stats, stamp)
            page.refreshed += 1
        else:
            first_seen = previous.first_seen_at if previous else stamp
            self._write_model(m, raw_text, body, stats, stamp, first_seen)
            if previous:
                page.updated += 1
            else:
                page.new += 1
        self._snapshot(m, stamp, run_id)

    def _known(self, source: str, ids: list[str]) -> dict[str, _Known]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, content_hash, stats_hash, deleted_at, first_seen_at FROM models "
            f"WHERE source = ? AND id IN ({marks})",
            [source, *ids],
        ).fetchall()
        return {r[0]: _Known(*r[1:]) for r in rows}

    def _write_model(
        self, m: Model, raw_text: str, body: str, stats: str, stamp: str, first_seen: str
    ) -> None:
        src = m.source
        row = _model_row(m, raw_text, stats, stamp)
        row.update(content_hash=body, first_seen_at=first_seen, changed_at=stamp, deleted_at=None)
        self.db.table("models").upsert(row, pk=("source", "id"))
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
            (_version_row(m, i, v) for i, v in enumerate(m.versions)), pk=("source", "id")
        )
        self.db.table("files").insert_all(
            _file_row(src, v.id, i, f) for v in m.versions for i, f in enumerate(v.files)
        )
        self.db.table("images").insert_all(
            _image_row(src, v.id, i, img) for v in m.versions for i, img in enumerate(v.images)
        )
        self.db.table("tags").insert_all(
            {"source": src, "model_id": m.id, "position": i, "tag": t} for i, t in enumerate(m.tags)
        )
        if m.creator:
            self.db.table("creators").upsert(
                {"source": src, "username": m.creator, "image": m.creator_image},
                pk=("source", "username"),
            )

    def _write_stats(self, m: Model, raw_text: str, stats: str, stamp: str) -> None:
        """Only the counters moved: refresh them (and raw, so cards show them) in place."""
        row = _model_row(m, raw_text, stats, stamp)
        self.db.execute(
            "UPDATE models SET downloads = ?, likes = ?, stats = ?, stats_hash = ?, "
            "stats_at = ?, raw = ? WHERE source = ? AND id = ?",
            [row["downloads"], row["likes"], row["stats"], stats, stamp, raw_text, m.source, m.id],
        )
        self.db.conn.executemany(
            "UPDATE versions SET downloads = ?, likes = ?, stats = ?, raw = ? "
            "WHERE source = ? AND id = ?",
            [
                (
                    v.stats.get("downloads"),
                    v.stats.get("likes"),
                    _dumps(v.stats),
                    _dumps(v.raw),
                    m.source,
                    v.id,
                )
                for v in m.versions
            ],
        )

    def _snapshot(self, m: Model, stamp: str, run_id: int | None) -> None:
        """Append the counters as they are now; a row per model and per version, for trends."""
        rows = [_stats_row(m.source, m.id, "", m.stats, stamp, run_id)]
        rows += [_stats_row(m.source, m.id, v.id, v.stats, stamp, run_id) for v in m.versions]
        self.db.table("stats_history").upsert_all(rows, pk=STATS_PK)

    def _mark_checked(self, source: str, ids: list[str], stamp: str) -> None:
        """Bookkeeping kept apart from the data: when each model's counters were last fetched."""
        self.db.conn.executemany(
            "INSERT INTO checks (source, model_id, checked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source, model_id) DO UPDATE SET checked_at = excluded.checked_at",
            [(source, i, stamp) for i in ids],
        )

    def stale_ids(self, source: str, older_than: str, limit: int | None = None) -> list[str]:
        """Live models whose counters were last fetched before `older_than`, oldest first."""
        sql = (
            "SELECT m.id FROM models m LEFT JOIN checks c "
            "ON c.source = m.source AND c.model_id = m.id "
            "WHERE m.source = ? AND m.deleted_at IS NULL "
            "AND (c.checked_at IS NULL OR c.checked_at < ?) ORDER BY c.checked_at"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.db.execute(sql, [source, older_than])]

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
        self._started = time.monotonic()
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
                    "refreshed": counts.refreshed,
                    "unchanged": counts.unchanged,
                    "deleted": counts.deleted,
                    "failed": len(counts.failed),
                    "seconds": round(time.monotonic() - self._started, 3),
                    "errors": _dumps(counts.failed[:1000]),
                },
            )

    def clear_checkpoint(self, key: str) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM checkpoints WHERE key = ?", [key])

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


def _model_row(m: Model, raw_text: str, stats: str, stamp: str) -> dict[str, Any]:
    return {
        "source": m.source,
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
        "stats": _dumps(m.stats),
        "stats_hash": stats,
        "stats_at": stamp,
        "version_count": len(m.versions),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "description": m.description,
        "raw": raw_text,
    }


def _version_row(m: Model, position: int, v: Version) -> dict[str, Any]:
    return {
        "source": m.source,
        "id": v.id,
        "model_id": m.id,
        "position": position,
        "name": v.name,
        "base_model": v.base_model,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "published_at": v.published_at,
        "downloads": v.stats.get("downloads"),
        "likes": v.stats.get("likes"),
        "stats": _dumps(v.stats),
        "trained_words": _dumps(v.trained_words),
        "download_url": v.download_url,
        "removed_at": None,
        "raw": _dumps(v.raw),
    }


def _file_row(source: str, version_id: str, position: int, f: File) -> dict[str, Any]:
    return {
        "source": source,
        "version_id": version_id,
        "position": position,
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


def _image_row(source: str, version_id: str, position: int, img: Image) -> dict[str, Any]:
    return {
        "source": source,
        "version_id": version_id,
        "position": position,
        "id": img.id,
        "url": img.url,
        "nsfw_level": img.nsfw_level,
        "width": img.width,
        "height": img.height,
        "kind": img.kind,
        "raw": _dumps(img.raw),
    }


STATS_PK = ("source", "model_id", "version_id", "taken_at")


def _stats_row(
    source: str, model_id: str, version_id: str, stats: dict, stamp: str, run_id: int | None
) -> dict[str, Any]:
    row = {
        "source": source,
        "model_id": model_id,
        "version_id": version_id,
        "taken_at": stamp,
        "run_id": run_id,
    }
    row.update({key: stats.get(key) for key in MODEL_STATS})
    return row


def load_raw(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RecordError(f"stored raw JSON is unreadable: {exc}") from None
