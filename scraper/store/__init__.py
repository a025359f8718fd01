"""SQLite store: promoted columns for queries, raw JSON for fidelity, runs and checkpoints.

schema (tables, migrations), lock (one writer), writer (pages in one transaction), reader
(records back, read-only), runs (runs, checkpoints, quarantine).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from . import checks, codec, lock, schema
from .checks import DatabaseProblem
from .library import Library
from .lock import Busy
from .reader import Snapshot, load_models, snapshot
from .runs import Checkpoint, Counts, RunLog, now
from .writer import Writer

DEFAULT_DB = Path("output") / "models.db"
log = logging.getLogger("scraper.store")

__all__ = [
    "Busy",
    "Checkpoint",
    "Counts",
    "DatabaseProblem",
    "Snapshot",
    "Store",
    "default_path",
    "load_models",
    "now",
    "snapshot",
]


def default_path() -> Path:
    return Path(os.environ.get("SCRAPER_DB") or DEFAULT_DB)


class Store(RunLog, Writer, Library):
    """The database opened for writing, its schema brought up to date.

    All writes of one page happen in one transaction, so a crash never leaves half a page.
    """

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        checks.before_writing(path)  # a folder, not SQLite, not ours or damaged: refused
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._started = time.monotonic()
        self.db = sqlite_utils.Database(path)
        try:
            self.db.execute("PRAGMA busy_timeout=10000")  # before anything that may wait
            codec.register(self.db.conn)
            if self.db.execute("PRAGMA page_count").fetchone()[0] == 0:
                # Before the first table: the page size, and pages freed by large deletions
                # can be given back.
                self.db.execute(f"PRAGMA page_size = {schema.PAGE_SIZE}")
                self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # A writing run touches B-tree pages all over a growing file: a 64 MiB cache keeps
            # the cost per model flat as the catalog grows (2 MiB, the default, does not), and
            # fewer, larger checkpoints cost fewer syncs; the WAL is cut back after each.
            self.db.execute("PRAGMA cache_size=-65536")
            self.db.execute("PRAGMA wal_autocheckpoint=4000")
            self.db.execute(f"PRAGMA journal_size_limit={64 << 20}")
            schema.migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def exclusive(self, wait: float = 0) -> Iterator[None]:
        """The writer's lock, waiting up to `wait` seconds; then recover()."""
        with lock.exclusive(self.path, wait):
            self.recover()
            yield

    def recover(self) -> None:
        """With the lock held: runs a killed process left `running` are marked interrupted,
        and lookup indexes a killed long crawl had dropped are built again."""
        self.restore_lookups()
        for run_id, source, command in self.recover_interrupted():
            log.warning(
                "run %d (%s %s) was left running by a process that ended; marked interrupted",
                run_id,
                source,
                command,
            )
