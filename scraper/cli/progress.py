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
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        console = Console(stderr=True)
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if self.total:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns += [
            TextColumn("{task.fields[pages]} pages, {task.fields[rate]:.0f} models/s"),
            TimeElapsedColumn(),
        ]
        self._bar = Bar(*columns, console=console, transient=True)
        self._task = self._bar.add_task(self.label, total=self.total, pages=0, rate=0.0)
        # Log records for the terminal go through the bar's console, so they never land
        # inside its line; others (a --log-file) keep theirs.
        root = logging.getLogger()
        self._saved = root.handlers[:]
        from ..net.redaction import guard

        self._handler = guard(RichHandler(console=console, show_path=False, show_time=False))
        root.handlers = [*(h for h in self._saved if not _to_terminal(h)), self._handler]
        self._bar.start()
        return self

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

    def __enter__(self) -> ByteProgress:
        if not self.enabled:
            return self
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        super().__enter__()
        self._bar.stop()
        self._bar.columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[files]}"),
        )
        self._bar.remove_task(self._task)
        self._task = self._bar.add_task(self.label, total=None, files="")
        self._bar.start()
        return self

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
