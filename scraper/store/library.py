"""Local model files (`scraper scan`): the hash cache, what hosts answered for each hash, and
the files a scan wrote beside the models. Paths are bytes (os.fsencode): any name a file
system allows, UTF-8 or not, is a key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .reader import _chunks
from .runs import now

__all__ = ["Cached", "Library", "Lookup", "library_files", "library_summary"]


@dataclass(frozen=True, slots=True)
class Cached:
    """What the last scan that hashed a file saw of it."""

    size: int
    mtime_ns: int
    inode: int
    sha256: str
    kind: str | None
    meta: str | None  # header metadata, JSON


@dataclass(frozen=True, slots=True)
class Lookup:
    """A host's last answer for a hash: found (with the version body) or unknown."""

    result: str  # found | unknown
    asked_at: str
    model_id: str | None
    version_id: str | None
    body: str | None  # the version answer as the host sent it (JSON text), when found


class Library:
    """The library tables of a Store (written under the writer's lock, in transactions)."""

    db: sqlite_utils.Database

    def cached_files(self, paths: list[bytes]) -> dict[bytes, Cached]:
        found: dict[bytes, Cached] = {}
        for chunk in _chunks(paths):  # type: ignore[arg-type]
            marks = ",".join("?" * len(chunk))
            for path, *rest in self.db.execute(
                "SELECT path, size, mtime_ns, inode, sha256, kind, meta FROM library_files "
                f"WHERE path IN ({marks})",
                chunk,
            ):
                found[bytes(path)] = Cached(*rest)
        return found

    def save_hashes(self, rows: list[tuple[bytes, bytes, int, int, int, str, str | None]]) -> None:
        """(path, root, size, mtime_ns, inode, sha256, kind) of files hashed now; their
        metadata is set apart (save_meta), once it is read."""
        stamp = now()
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO library_files (path, root, size, mtime_ns, inode, sha256, kind, "
                "hashed_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO "
                "UPDATE SET root = excluded.root, size = excluded.size, mtime_ns = "
                "excluded.mtime_ns, inode = excluded.inode, sha256 = excluded.sha256, kind = "
                "excluded.kind, hashed_at = excluded.hashed_at, seen_at = excluded.seen_at, "
                "meta = NULL",
                [(*row, stamp, stamp) for row in rows],
            )

    def save_meta(self, rows: list[tuple[bytes, str | None]]) -> None:
        """(path, metadata JSON) of files read for their header."""
        with self.db.atomic():
            self.db.conn.executemany("UPDATE library_files SET meta = ? WHERE path = ?", rows)

    def mark_seen(self, paths: list[bytes], root: bytes, stamp: str) -> None:
        with self.db.atomic():
            self.db.conn.executemany(
                "UPDATE library_files SET seen_at = ?, root = ? WHERE path = ?",
                [(stamp, root, p) for p in paths],
            )

    def forget_unseen(self, root: bytes, before: str) -> int:
        """Files of a folder scanned to its end that this scan did not find: gone."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM library_files WHERE root = ? AND seen_at < ?", [root, before]
            )
            return cursor.rowcount

    def lookups(self, source: str, hashes: list[str]) -> dict[str, Lookup]:
        found: dict[str, Lookup] = {}
        for chunk in _chunks(hashes):
            marks = ",".join("?" * len(chunk))
            for sha, *rest in self.db.execute(
                "SELECT sha256, result, asked_at, model_id, version_id, body FROM hash_lookups "
                f"WHERE source = ? AND sha256 IN ({marks})",
                [source, *chunk],
            ):
                found[sha] = Lookup(*rest)
        return found

    def record_found(
        self, source: str, sha256: str, model_id: str, version_id: str, body: str
    ) -> None:
        stamp = now()
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO hash_lookups (source, sha256, asked_at, result, "
                "model_id, version_id, body, found_at) VALUES (?, ?, ?, 'found', ?, ?, ?, ?)",
                [source, sha256, stamp, model_id, version_id, body, stamp],
            )

    def record_unknown(self, source: str, sha256: str) -> None:
        """The host does not know the hash (now): when; a hash it knew before keeps its
        last good answer (a model deleted upstream stays documented)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO hash_lookups (source, sha256, asked_at, result) "
                "VALUES (?, ?, ?, 'unknown') ON CONFLICT (source, sha256) DO UPDATE SET "
                "asked_at = excluded.asked_at",
                [source, sha256, now()],
            )

    def model_inputs(self, source: str, ids: list[str]) -> dict[str, str]:
        """What a model's card is made of (content, counters, deletion), per stored id."""
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for model_id, inputs in self.db.execute(
                "SELECT id, content_hash || '|' || ifnull(stats_hash, '') || '|' || "
                f"ifnull(deleted_at, '') FROM models WHERE source = ? AND id IN ({marks})",
                [source, *chunk],
            ):
                found[model_id] = inputs
        return found

    def outputs(self, paths: list[bytes]) -> dict[bytes, tuple[str, int, int]]:
        """(inputs, size, mtime_ns) of the files a scan wrote, by path."""
        found: dict[bytes, tuple[str, int, int]] = {}
        for chunk in _chunks(paths):  # type: ignore[arg-type]
            marks = ",".join("?" * len(chunk))
            for path, inputs, size, mtime in self.db.execute(
                f"SELECT path, inputs, size, mtime_ns FROM library_outputs WHERE path IN ({marks})",
                chunk,
            ):
                found[bytes(path)] = (inputs, size, mtime)
        return found

    def save_outputs(self, rows: list[tuple[bytes, str, int, int]]) -> None:
        """(path, inputs, size, mtime_ns) of files just written."""
        stamp = now()
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO library_outputs (path, inputs, size, mtime_ns, "
                "written_at) VALUES (?, ?, ?, ?, ?)",
                [(*row, stamp) for row in rows],
            )


# --- read-only: status and the site ---------------------------------------------------------


def _has_tables(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'library_files'"
        ).fetchone()
        is not None
    )


def library_summary(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """Files scanned, known to a host, with header metadata only, unknown; the last scans.
    None for a database no scan has touched."""
    if not _has_tables(conn):
        return None
    files = conn.execute("SELECT count(*) FROM library_files").fetchone()[0]
    runs = conn.execute(
        "SELECT id, started_at, finished_at, seconds, status, new, unchanged, failed, errors "
        "FROM runs WHERE source = 'library' AND command = 'scan' ORDER BY id DESC LIMIT 5"
    ).fetchall()
    if not files and not runs:
        return None
    known = conn.execute(
        "SELECT count(*) FROM library_files f WHERE EXISTS (SELECT 1 FROM hash_lookups h "
        "WHERE h.sha256 = f.sha256 AND h.result = 'found')"
    ).fetchone()[0]
    described = conn.execute(
        "SELECT count(*) FROM library_files f WHERE json_extract(meta, '$.described') "
        "AND NOT EXISTS (SELECT 1 "
        "FROM hash_lookups h WHERE h.sha256 = f.sha256 AND h.result = 'found')"
    ).fetchone()[0]
    columns = ("id", "started_at", "finished_at", "seconds", "status", "hashed", "cached")
    return {
        "files": files,
        "known": known,
        "metadata_only": described,
        "unknown": files - known - described,
        "runs": [dict(zip((*columns, "failed", "errors"), row, strict=True)) for row in runs],
    }


def library_files(conn: sqlite3.Connection) -> Iterator[tuple[Any, ...]]:
    """(path, root, size, sha256, kind, meta, source, model_id, version_id, model name,
    deleted_at) of every scanned file, by path; the model columns are None for a file no host
    knows."""
    if not _has_tables(conn):
        return
    yield from conn.execute(
        "SELECT f.path, f.root, f.size, f.sha256, f.kind, f.meta, h.source, h.model_id, "
        "h.version_id, m.name, m.deleted_at FROM library_files f "
        "LEFT JOIN hash_lookups h ON h.sha256 = f.sha256 AND h.result = 'found' "
        "LEFT JOIN models m ON m.source = h.source AND m.id = h.model_id ORDER BY f.path"
    )


def stored_models(conn: sqlite3.Connection, source: str, ids: list[str]) -> dict[str, Any]:
    """The stored models of `source` by id, as records (deleted ones too: their last good
    data); one that no longer parses is left out."""
    from .. import sources
    from .reader import iter_payloads

    parse = sources.get(source).parse
    found: dict[str, Any] = {}
    for _, model_id, payload in iter_payloads(conn, keys=[(source, i) for i in sorted(ids)]):
        try:
            found[model_id] = parse(payload)
        except Exception:  # an unreadable row: the card waits for a fresh fetch
            continue
    return found
