"""The site's one adapter to the database: parsed models, and a few read-only queries on the
promoted columns. Nothing here writes; every connection is opened read-only, through the store's
reader, which alone knows how a payload was split for storage.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import sources
from ..records import Model, RecordError
from ..store.reader import connect_readonly, iter_payloads

Key = tuple[str, str]  # (source, model id)


def connect(db_path: Path) -> sqlite3.Connection:
    """Read-only: a site build never changes the catalog; a missing, foreign or damaged file
    is one line (DatabaseProblem)."""
    conn = connect_readonly(Path(db_path))
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


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


def removed_models(conn: sqlite3.Connection) -> dict[Key, str]:
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


def load_models(
    conn: sqlite3.Connection, keys: Iterable[Key], failures: list[str]
) -> Iterator[Model]:
    """The models named by `keys` (live ones, from live_models), parsed, children in place and
    removed versions left out; one that cannot be read is named in `failures`."""
    for source, model_id, payload in iter_payloads(conn, keys=sorted(keys)):
        try:
            if isinstance(payload, RecordError):
                raise payload
            yield sources.get(source).parse(payload)
        except Exception as exc:  # one unreadable model must not stop the site
            failures.append(f"{source} {model_id}: {exc}")


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
