"""A progress display on a terminal (rich), silent under cron; log lines print above it."""

from __future__ import annotations

import logging
import sys
from typing import Any


class Progress:
    """Models and pages so far, the rate, and the total when a --limit gives one."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._handler: logging.Handler | None = None
        self._saved: list[logging.Handler] = []

    def __enter__(self) -> Progress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.logging import RichHandler
        from rich.progress import Progress as Bar

        console = Console(stderr=True)
        self._bar = Bar(*self.columns(), console=console, transient=True)
        self._task = self._bar.add_task(self.label, total=self.total, **self.fields())
        # Log records for the terminal go through the bar's console, so they never land
        # inside its line; others (a --log-file) keep theirs.
        root = logging.getLogger()
        self._saved = root.handlers[:]
        from ..net.redaction import guard

        self._handler = guard(RichHandler(console=console, show_path=False, show_time=False))
        root.handlers = [*(h for h in self._saved if not _to_terminal(h)), self._handler]
        self._bar.start()
        return self

    def columns(self) -> list[Any]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if self.total:
            columns += [BarColumn(), MofNCompleteColumn()]
        return [
            *columns,
            TextColumn("{task.fields[pages]} pages, {task.fields[rate]:.0f} models/s"),
            TimeElapsedColumn(),
        ]

    def fields(self) -> dict[str, Any]:
        return {"pages": 0, "rate": 0.0}

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            logging.getLogger().handlers = self._saved

    def update(self, models: int, pages: int) -> None:
        if self._bar is not None:
            elapsed = self._bar.tasks[0].elapsed or 1e-6
            self._bar.update(self._task, completed=models, pages=pages, rate=models / elapsed)


def _to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return not isinstance(handler, logging.FileHandler) and stream in (sys.stderr, sys.stdout)


class ByteProgress(Progress):
    """Files and bytes hashed of the totals, speed and time left (`scraper scan`); the hashing
    threads report bytes as they go (rich's progress is thread-safe)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self._done = 0
        self._files = 0

    def columns(self) -> list[Any]:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        return [
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[files]}"),
        ]

    def fields(self) -> dict[str, Any]:
        return {"files": ""}

    def start(self, files: int, nbytes: int) -> None:
        self._files = files
        if self._bar is not None:
            self._bar.update(self._task, total=nbytes or None, files=f"0/{files} files")

    def files(self, count: int) -> None:
        self._done += count
        if self._bar is not None:
            self._bar.update(self._task, files=f"{self._done}/{self._files} files")

    def hashed(self, count: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, count)
