"""The site's one adapter to the database: parsed models (through the catalog) and a few
read-only queries on the promoted columns (the store's, by name). Nothing here writes, nor
knows a table: every connection is opened read-only by the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import catalog
from ..records import Model
from ..store import connect_readonly, queries

Key = tuple[str, str]  # (source, model id)

live_models = queries.live_models  # (source, id, fingerprint) of every live model
removed_models = queries.removed_models  # (source, id) -> when it was found gone upstream
download_history = queries.download_history  # per model id: (taken_at, downloads), oldest first


def connect(db_path: Path) -> sqlite3.Connection:
    """Read-only: a site build never changes the catalog; a missing, foreign or damaged file
    is one line (DatabaseProblem)."""
    return connect_readonly(Path(db_path), wait=10)


def read_models(
    conn: sqlite3.Connection, keys: Iterable[Key], failures: list[str]
) -> Iterator[Model]:
    """The models named by `keys` (live ones, from live_models), parsed, children in place and
    removed versions left out; one that cannot be read is named in `failures`."""
    yield from catalog.read(conn, keys, failures)
