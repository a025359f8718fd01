"""What each run did, where an unfinished crawl stands, and the records that failed to parse."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from .. import jsonio
from ..net.redaction import redact, scrubber


def _storable(text: str) -> str:
    """Text SQLite can take: a lone surrogate becomes its escape (\\ud800)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    base_url: str | None = None  # the API base the cursor belongs to


class RunLog:
    """The runs, checkpoints and quarantine tables of a Store."""

    db: sqlite_utils.Database
    _started: float

    def start_run(self, source: str, command: str, params: Any) -> int:
        self._started = time.monotonic()
        with self.db.atomic():
            table = self.db.table("runs")
            table.insert(
                {
                    "source": source,
                    "command": command,
                    "params": redact(jsonio.dumps(params)),
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
                    "errors": redact(jsonio.dumps_safe(counts.failed[:1000])),
                },
            )

    def recover_interrupted(self) -> list[tuple[int, str, str]]:
        """Runs left `running` by a process that ended without finishing them, marked
        `interrupted`: the caller holds the lock, so no live run can be among them."""
        rows = self.db.execute(
            "SELECT id, source, command FROM runs WHERE status = 'running' ORDER BY id"
        ).fetchall()
        if rows:
            why = jsonio.dumps(["the process ended before the run finished (killed or crashed)"])
            with self.db.atomic():
                self.db.execute(
                    "UPDATE runs SET status = 'interrupted', errors = ? WHERE status = 'running'",
                    [why],
                )
        return [tuple(r) for r in rows]

    def checkpoint(self, key: str) -> dict[str, Any] | None:
        rows = list(self.db.table("checkpoints").rows_where("key = ?", [key]))
        return rows[0] if rows else None

    def clear_checkpoint(self, key: str) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM checkpoints WHERE key = ?", [key])

    def _set_checkpoint(self, c: Checkpoint) -> None:
        """Inside the page's transaction: the cursor moves only with the page's rows."""
        if c.cursor is None:
            self.db.execute("DELETE FROM checkpoints WHERE key = ?", [c.key])
            return
        self.db.table("checkpoints").upsert(
            {
                "key": c.key,
                "source": c.source,
                "params": jsonio.dumps(c.params),
                "cursor": c.cursor,
                "pages": c.pages,
                "models": c.models,
                "run_id": c.run_id,
                "updated_at": now(),
                "base_url": c.base_url,
            },
            pk="key",
        )

    def quarantine(self, source: str, key: str, error: str, raw: Any, run_id: int | None) -> None:
        """Keep a record we could not read, with why, so a parser fix can replay it; whatever
        the record holds (lone surrogates, huge numbers, deep nesting) it can be kept."""
        with self.db.atomic():
            self.db.table("quarantine").upsert(
                {
                    "source": source,
                    "key": _storable(key),
                    "error": _storable(redact(error)),
                    "raw": (scrubber() or str)(jsonio.dumps_safe(raw)),
                    "seen_at": now(),
                    "run_id": run_id,
                },
                pk=("source", "key"),
            )
