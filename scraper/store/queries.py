"""Named read queries over the promoted columns, for the site and `scraper status`: the one
place besides the writer and the reader that knows the tables. Each takes a read-only
connection (checks.connect_readonly) and returns plain values."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from typing import Any

RUN_COLUMNS = (
    "id", "command", "started_at", "finished_at", "seconds", "status", "requests", "bytes",
    "new", "updated", "refreshed", "unchanged", "deleted", "failed", "errors",
)  # fmt: skip
# Every query `scraper status` makes; tests check that each one is answered from an index.
STATUS = {
    "runs": f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE source = ? AND command = 'sync' "
    "ORDER BY id DESC LIMIT ?",
    "last_success": "SELECT finished_at FROM runs WHERE source = ? AND command = 'sync' "
    "AND status IN ('ok', 'partial') ORDER BY id DESC LIMIT 1",
    "models": "SELECT count(*) FROM models WHERE source = ?",
    "deleted": "SELECT count(*) FROM models WHERE source = ? AND deleted_at IS NOT NULL",
    "quarantined": "SELECT count(*) FROM quarantine WHERE source = ?",
    "counters_older": "SELECT count(*) FROM checks WHERE source = ? AND checked_at < ?",
    "has_runs": "SELECT 1 FROM runs WHERE source = ? AND command = 'sync' LIMIT 1",
}


# --- scraper status ---------------------------------------------------------------------------


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def has_synced(conn: sqlite3.Connection, source: str) -> bool:
    """Whether the database has any sync run of `source`."""
    return conn.execute(STATUS["has_runs"], [source]).fetchone() is not None


def last_runs(conn: sqlite3.Connection, source: str, limit: int) -> list[dict[str, Any]]:
    """The last `limit` sync runs of `source`, newest first, as RUN_COLUMNS -> value."""
    rows = conn.execute(STATUS["runs"], [source, limit])
    return [dict(zip(RUN_COLUMNS, row, strict=True)) for row in rows]


def last_success(conn: sqlite3.Connection, source: str) -> str | None:
    """When the last sync of `source` that ended ok or partial finished."""
    row = conn.execute(STATUS["last_success"], [source]).fetchone()
    return row[0] if row else None


def count(conn: sqlite3.Connection, what: str, source: str, *args: Any) -> int:
    """One of the indexed counts of STATUS (models, deleted, quarantined, counters_older)."""
    if what not in ("models", "deleted", "quarantined", "counters_older"):
        raise ValueError(f"no count named {what!r}")
    return conn.execute(STATUS[what], [source, *args]).fetchone()[0]


# --- the site -------------------------------------------------------------------------------


def live_models(conn: sqlite3.Connection, archive: bool = False) -> list[tuple[str, str, str]]:
    """(source, id, fingerprint) of every model not deleted (with `archive`, deleted ones
    too), in a stable order. The fingerprint changes whenever anything a model page shows may
    have changed: content, counters, a new stats snapshot (the chart), its deletion."""
    rows = conn.execute(
        "SELECT m.source, m.id, coalesce(m.content_hash, '') || '/' || "
        "coalesce(m.stats_hash, '') || '/' || coalesce(h.n, 0) || '/' || coalesce(h.last, '') "
        "|| '/' || coalesce(m.deleted_at, '') "
        "FROM models m LEFT JOIN ("
        "  SELECT source, model_id, count(*) AS n, max(taken_at) AS last FROM stats_history "
        "  WHERE version_id = '' GROUP BY source, model_id"
        ") h ON h.source = m.source AND h.model_id = m.id "
        + ("" if archive else "WHERE m.deleted_at IS NULL ")
        + "ORDER BY m.source, length(m.id), m.id"
    )
    return [(str(s), str(i), _short(str(f))) for s, i, f in rows]


def removed_models(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """When each model deleted upstream was found gone: (source, id) -> deleted_at."""
    rows = conn.execute(
        "SELECT source, id, deleted_at FROM models WHERE deleted_at IS NOT NULL ORDER BY source, id"
    )
    return {(str(s), str(i)): str(d) for s, i, d in rows}


def _short(text: str) -> str:
    """A fingerprint only needs to differ: 64 bits of it, not the 100-character source."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def download_history(
    conn: sqlite3.Connection, source: str, ids: list[str]
) -> dict[str, list[tuple[str, int]]]:
    """Model-level (taken_at, downloads) snapshots per model id, oldest first."""
    found: dict[str, list[tuple[str, int]]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, taken_at, downloads in conn.execute(
            f"SELECT model_id, taken_at, downloads FROM stats_history WHERE source = ? "
            f"AND version_id = '' AND model_id IN ({marks}) AND downloads IS NOT NULL "
            "ORDER BY model_id, taken_at",
            [source, *chunk],
        ):
            found[model_id].append((str(taken_at), int(downloads)))
    return found


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
