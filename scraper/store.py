"""SQLite store: promoted columns for queries, raw JSON for fidelity, runs and crawl checkpoints."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import sqlite_utils

from . import jsonio
from .records import MODEL_STATS, File, Image, Model, RecordError, Version

DEFAULT_DB = Path("output") / "models.db"


def default_path() -> Path:
    return Path(os.environ.get("SCRAPER_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_dumps = jsonio.dumps


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# Counters that move all the time are left out of the content hash, so a model whose only
# change is its download count is "refreshed", not "updated" (and an incremental crawl can stop).


# Cut from the raw JSON text before hashing: flat "stats" objects and bare counters. A quote
# inside a JSON string is escaped (\"), so these can only match real keys.
_VOLATILE_TEXT = re.compile(
    r'"stats":\{[^{}]*\},?|"(?:downloads|likes|trendingScore|downloadsAllTime)":-?[0-9.eE+]+,?'
)


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


# Where a source nests children in its model payload. Each object is stored once, in its own
# row's raw (the model without its versions, a version without files and images, ...), and
# put back together for rendering, so the database holds the payload once, not three times.
NESTING = {"civitai": ("modelVersions", "files", "images")}


@dataclass
class _Texts:
    """The JSON text of each row of one model."""

    model: str
    versions: list[str]
    files: list[list[str]]
    images: list[list[str]]

    @classmethod
    def of(cls, m: Model) -> _Texts:
        nest = NESTING.get(m.source)
        if nest is None:
            model = _dumps(m.raw)
            versions = [_dumps(v.raw) for v in m.versions]
        else:
            key, files_key, images_key = nest
            model = _dumps({k: v for k, v in m.raw.items() if k != key})
            versions = [
                _dumps({k: x for k, x in v.raw.items() if k not in (files_key, images_key)})
                for v in m.versions
            ]
        return cls(
            model,
            versions,
            [[_dumps(f.raw) for f in v.files] for v in m.versions],
            [[_dumps(i.raw) for i in v.images] for v in m.versions],
        )

    def digest(self) -> str:
        """Of everything but the counters."""
        h = hashlib.blake2b(digest_size=16)
        for text in (self.model, *self.versions):
            h.update(_VOLATILE_TEXT.sub("", text).encode())
            h.update(b"\x00")
        for group in (*self.files, *self.images):
            h.update("\x01".join(group).encode())
            h.update(b"\x00")
        return h.hexdigest()


@dataclass
class _Batch:
    """A page's writes, queued so that each table gets one executemany."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {t: [] for t in BATCHED_TABLES}
    )
    replaced: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    version_keys: list[tuple[str, str]] = field(default_factory=list)
    model_keys: list[tuple[str, str]] = field(default_factory=list)
    stats: list[tuple[Model, _Texts, str, str]] = field(default_factory=list)

    def add_model(
        self, m: Model, texts: _Texts, row: dict[str, Any], stamp: str, replaces: bool
    ) -> None:
        src = m.source
        self.rows["models"].append(row)
        if replaces:
            self.replaced.append((src, m.id, [v.id for v in m.versions], stamp))
        self.version_keys += [(src, v.id) for v in m.versions]
        self.model_keys.append((src, m.id))
        for i, v in enumerate(m.versions):
            self.rows["versions"].append(_version_row(m, i, v, texts.versions[i]))
            self.rows["files"] += [
                _file_row(src, v.id, j, f, text)
                for j, (f, text) in enumerate(zip(v.files, texts.files[i], strict=True))
            ]
            self.rows["images"] += [
                _image_row(src, v.id, j, img, text)
                for j, (img, text) in enumerate(zip(v.images, texts.images[i], strict=True))
            ]
        self.rows["tags"] += [
            {"source": src, "model_id": m.id, "position": i, "tag": t} for i, t in enumerate(m.tags)
        ]
        if m.creator:
            self.rows["creators"].append(
                {"source": src, "username": m.creator, "image": m.creator_image}
            )


BATCHED_TABLES = ("models", "versions", "files", "images", "tags", "creators", "stats_history")


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
        "version_count": int, "created_at": str, "updated_at": str,
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
        batch = _Batch()
        stamp = now()
        if models:
            known = self._known(models[0].source, [m.id for m in models])
            for model in models:
                self._plan(model, known.get(model.id), stamp, run_id, page, batch)
        with self.db.atomic():
            if models:
                self._write(batch)
                self._mark_checked(models[0].source, [m.id for m in models], stamp)
            if checkpoint:
                self._set_checkpoint(checkpoint)
        counts.add(page)
        return page

    def _plan(
        self,
        m: Model,
        previous: _Known | None,
        stamp: str,
        run_id: int | None,
        page: Counts,
        batch: _Batch,
    ) -> None:
        """Decide what one model needs written and queue its rows."""
        texts = _Texts.of(m)
        body = texts.digest()
        stats = _digest(_dumps([m.stats, [v.stats for v in m.versions]]))
        if previous and previous.body == body and previous.deleted_at is None:
            if previous.stats == stats:
                page.unchanged += 1
                return
            batch.stats.append((m, texts, stats, stamp))
            page.refreshed += 1
        else:
            row = _model_row(m, texts.model, stats, stamp)
            first_seen = previous.first_seen_at if previous else stamp
            row.update(
                content_hash=body, first_seen_at=first_seen, changed_at=stamp, deleted_at=None
            )
            batch.add_model(m, texts, row, stamp, replaces=previous is not None)
            if previous:
                page.updated += 1
            else:
                page.new += 1
        history = batch.rows["stats_history"]
        history.append(_stats_row(m.source, m.id, "", m.stats, stamp, run_id))
        history += [_stats_row(m.source, m.id, v.id, v.stats, stamp, run_id) for v in m.versions]

    def _known(self, source: str, ids: list[str]) -> dict[str, _Known]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, content_hash, stats_hash, deleted_at, first_seen_at FROM models "
            f"WHERE source = ? AND id IN ({marks})",
            [source, *ids],
        ).fetchall()
        return {r[0]: _Known(*r[1:]) for r in rows}

    def _write(self, batch: _Batch) -> None:
        """Apply a page's queued rows with one statement per table (executemany)."""
        conn = self.db.conn
        for source, model_id, version_ids, stamp in batch.replaced:
            # A version that vanished (unpublished, taken down) is marked, never deleted.
            marks = ",".join("?" * len(version_ids))
            conn.execute(
                f"UPDATE versions SET removed_at = ? WHERE source = ? AND model_id = ? "
                f"AND removed_at IS NULL AND id NOT IN ({marks})",
                [stamp, source, model_id, *version_ids],
            )
        for table, column, keys in (
            ("files", "version_id", batch.version_keys),
            ("images", "version_id", batch.version_keys),
            ("tags", "model_id", batch.model_keys),
        ):
            conn.executemany(f"DELETE FROM {table} WHERE source = ? AND {column} = ?", keys)
        for table, rows in batch.rows.items():
            if rows:
                sql = _upsert_sql(table, tuple(rows[0]))
                conn.executemany(sql, [tuple(r.values()) for r in rows])
        for m, texts, stats, stamp in batch.stats:
            self._write_stats(m, texts, stats, stamp)

    def _write_stats(self, m: Model, texts: _Texts, stats: str, stamp: str) -> None:
        """Only the counters moved: refresh them (and raw, so cards show them) in place."""
        row = _model_row(m, texts.model, stats, stamp)
        self.db.execute(
            "UPDATE models SET downloads = ?, likes = ?, stats = ?, stats_hash = ?, "
            "stats_at = ?, raw = ? WHERE source = ? AND id = ?",
            [
                row["downloads"],
                row["likes"],
                row["stats"],
                stats,
                stamp,
                texts.model,
                m.source,
                m.id,
            ],
        )
        self.db.conn.executemany(
            "UPDATE versions SET downloads = ?, likes = ?, stats = ?, raw = ? "
            "WHERE source = ? AND id = ?",
            [
                (
                    v.stats.get("downloads"),
                    v.stats.get("likes"),
                    _dumps(v.stats),
                    text,
                    m.source,
                    v.id,
                )
                for v, text in zip(m.versions, texts.versions, strict=True)
            ],
        )

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

    def payloads(self, source: str, ids: list[str]) -> dict[str, Any]:
        """Stored payloads by id, for a source that keeps its payload in the model row."""
        found: dict[str, Any] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for model_id, raw in self.db.execute(
                f"SELECT id, raw FROM models WHERE source = ? AND id IN ({marks}) "
                "AND deleted_at IS NULL",
                [source, *chunk],
            ):
                found[model_id] = load_raw(raw)
        return found

    def iter_payloads(
        self, source: str | None = None, chunk: int = 500
    ) -> Iterator[tuple[str, Any]]:
        """(source, payload) of every stored model in id order, its children put back in place.

        A version marked removed is left out, so the payload is the one last fetched.
        """
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self.db.execute(
            f"SELECT source, id, raw FROM models {where} ORDER BY source, length(id), id", args
        )
        while batch := rows.fetchmany(chunk):
            yield from self._assemble(batch)

    def _assemble(self, batch: list[tuple[str, str, str]]) -> Iterator[tuple[str, Any]]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)  # beside the open cursor
        try:
            for source, group in itertools.groupby(batch, key=lambda r: r[0]):
                group = list(group)
                nest = NESTING.get(source)
                if nest is None:
                    for _, _, raw in group:
                        yield source, load_raw(raw)
                    continue
                yield from _nest(conn, source, group, nest)
        finally:
            conn.close()

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
        "raw": raw_text,
    }


def _version_row(m: Model, position: int, v: Version, raw_text: str) -> dict[str, Any]:
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
        "raw": raw_text,
    }


def _file_row(
    source: str, version_id: str, position: int, f: File, raw_text: str
) -> dict[str, Any]:
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
        "raw": raw_text,
    }


def _image_row(
    source: str, version_id: str, position: int, img: Image, raw_text: str
) -> dict[str, Any]:
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
        "raw": raw_text,
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


def _upsert_sql(table: str, columns: tuple[str, ...]) -> str:
    pk = SCHEMA[table][1]
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
    return (
        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
    )


def _nest(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, str]], nest: tuple
) -> Iterator[tuple[str, Any]]:
    """Put each model's versions, files and images back, as text: one json.loads per model."""
    key, files_key, images_key = nest
    ids = [r[1] for r in group]
    versions: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    children: dict[str, dict[str, list[str]]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, version_id, raw in conn.execute(
            f"SELECT model_id, id, raw FROM versions WHERE source = ? AND model_id IN ({marks}) "
            "AND removed_at IS NULL ORDER BY model_id, position",
            [source, *chunk],
        ):
            versions[model_id].append((version_id, raw))
            children[version_id] = {files_key: [], images_key: []}
    for table, field_name in (("files", files_key), ("images", images_key)):
        for chunk in _chunks(list(children)):
            marks = ",".join("?" * len(chunk))
            for version_id, raw in conn.execute(
                f"SELECT version_id, raw FROM {table} WHERE source = ? "
                f"AND version_id IN ({marks}) ORDER BY version_id, position",
                [source, *chunk],
            ):
                children[version_id][field_name].append(raw)
    for _, model_id, raw in group:
        nested = [_with_lists(text, children[vid].items()) for vid, text in versions[model_id]]
        yield source, load_raw(_with_lists(raw, [(key, nested)]))


def _with_lists(obj_text: str, lists: Iterable[tuple[str, list[str]]]) -> str:
    """'{...}' plus "key":[item texts] members, spliced as text (each item is valid JSON)."""
    members = ",".join(f'"{name}":[{",".join(items)}]' for name, items in lists)
    if not members:
        return obj_text
    body = obj_text[:-1].rstrip()
    return f"{body}{',' if body != '{' else ''}{members}}}"


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_raw(text: str) -> Any:
    try:
        return jsonio.loads(text)
    except ValueError as exc:
        raise RecordError(f"stored raw JSON is unreadable: {exc}") from None
