"""`scraper status`: what the last runs did and what is stale, for people and monitors.

Read-only, and cheap on a big database: indexed counts and the last few `runs` rows; the
database's size comes from the file. The JSON shape is versioned by FORMAT (README documents
it): fields are only ever added; a change of meaning or a removal bumps FORMAT.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import jsonio, sources
from ..sources import Source
from ..store import lock
from ..store.library import library_summary
from ..store.reader import connect_readonly
from .config import STALE_AFTER, Config, span

FORMAT = 1
RUNS_SHOWN = 5
ERRORS_SHOWN = 5
RUN_COLUMNS = (
    "id", "command", "started_at", "finished_at", "seconds", "status", "requests", "bytes",
    "new", "updated", "refreshed", "unchanged", "deleted", "failed", "errors",
)  # fmt: skip
# Every query status makes; tests check that each one is answered from an index.
QUERIES = {
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


@dataclass(frozen=True)
class Watch:
    """What status checks of one source: how old its last sync and its counters may be."""

    source: Source
    stale_after: timedelta = STALE_AFTER
    refresh: timedelta | None = None  # refresh_stats_older_than, when configured
    configured: bool = False


def watches(config: Config | None, db: Path) -> list[Watch]:
    """The configured sources; without a config, every source the database has synced."""
    if config is not None:
        return [Watch(e.source, e.stale_after, e.refresh, True) for e in config.sources]
    with contextlib.closing(connect_readonly(db)) as conn:
        return [
            Watch(s)
            for s in sources.SOURCES
            if conn.execute(QUERIES["has_runs"], [s.name]).fetchone()
        ]


def report(db: Path, watched: list[Watch], now: datetime | None = None) -> dict[str, Any]:
    """The status as a JSON-able dict: `ok` is false when a last sync failed or is missing,
    or something is stale."""
    now = now or datetime.now(UTC)
    writing = lock.held(db)
    with contextlib.closing(connect_readonly(db)) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        found = [_source(conn, w, now, writing) for w in watched]
        library = _library(conn, writing)
    problems = [f"{s['name']}: {p}" for s in found for p in s["problems"]]
    if library is not None:
        problems += [f"library: {p}" for p in library["problems"]]
    if not watched and library is None:
        problems.append("no source configured or synced yet")
    return {
        "format": FORMAT,
        "ok": not problems,
        "checked_at": _iso(now),
        "database": {
            "path": str(db),
            "bytes": _size(db),
            "schema": version,
            "writing": writing,
        },
        "sources": found,
        "library": library,
        "problems": problems,
    }


def _library(conn: sqlite3.Connection, writing: bool) -> dict[str, Any] | None:
    """Local files scanned (`scraper scan`): known to a host, metadata only, unknown; the last
    scans. None when nothing was ever scanned."""
    found = library_summary(conn)
    if found is None:
        return None
    problems = []
    for run in found["runs"]:
        errors = jsonio.loads(run["errors"]) if run["errors"] else []
        run["errors"] = [str(e) for e in errors[:ERRORS_SHOWN]] if isinstance(errors, list) else []
        if run["status"] == "running" and not writing:
            run["status"] = "interrupted"
    last = next((r for r in found["runs"] if r["status"] != "running"), None)
    if last is not None and last["status"] not in ("ok",):
        first = f": {last['errors'][0]}" if last["errors"] else ""
        problems.append(f"last scan {last['status']} (run {last['id']}){first}")
    found["problems"] = problems
    return found


def _source(conn: sqlite3.Connection, w: Watch, now: datetime, writing: bool) -> dict[str, Any]:
    name = w.source.name

    def count(query: str, *args: Any) -> int:
        return conn.execute(QUERIES[query], [name, *args]).fetchone()[0]

    runs = [_run(row, writing) for row in conn.execute(QUERIES["runs"], [name, RUNS_SHOWN])]
    success = conn.execute(QUERIES["last_success"], [name]).fetchone()
    last_success = success[0] if success else None
    problems: list[str] = []
    finished = next((r for r in runs if r["status"] != "running"), None)
    if finished is None:
        problems.append("never synced" if not runs else "first sync still running")
    elif finished["status"] != "ok":
        first = f": {finished['errors'][0]}" if finished["errors"] else ""
        problems.append(f"last sync {finished['status']} (run {finished['id']}){first}")
    age = now - _when(last_success) if last_success else None
    stale = age is None or age > w.stale_after
    if runs and stale:
        problems.append(
            "never synced successfully"
            if age is None
            else f"not synced for {span(age)} (stale after {span(w.stale_after)})"
        )
    counters: dict[str, Any] = {"refresh_after_seconds": None, "due": None, "stale": None}
    if w.refresh is not None:
        due = count("counters_older", _iso(now - w.refresh))
        late = count("counters_older", _iso(now - w.refresh - w.stale_after))
        counters = {"refresh_after_seconds": w.refresh.total_seconds(), "due": due, "stale": late}
        if late:
            problems.append(
                f"counters of {late} models older than {span(w.refresh + w.stale_after)}"
            )
    return {
        "name": name,
        "cli_name": w.source.cli_name,
        "configured": w.configured,
        "models": count("models"),
        "deleted": count("deleted"),
        "quarantined": count("quarantined"),
        "last_success_at": last_success,
        "stale_after_seconds": w.stale_after.total_seconds(),
        "stale": stale,
        "counters": counters,
        "runs": runs,
        "problems": problems,
    }


def _run(row: tuple, writing: bool) -> dict[str, Any]:
    run = dict(zip(RUN_COLUMNS, row, strict=True))
    errors = jsonio.loads(run["errors"]) if run["errors"] else []
    run["errors"] = [str(e) for e in errors[:ERRORS_SHOWN]] if isinstance(errors, list) else []
    if run["status"] == "running" and not writing:
        # Its process is gone (no one holds the lock): the next writing run will mark it.
        run["status"] = "interrupted"
        run["errors"] = ["the process ended before the run finished (killed or crashed)"]
    return run


def _size(db: Path) -> int:
    """The database's bytes on disk, its write-ahead log included."""
    total = 0
    for path in (db, Path(f"{db}-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += os.stat(path).st_size
    return total


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
