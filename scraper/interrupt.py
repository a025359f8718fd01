"""SIGINT and SIGTERM as an exception in the main thread, so a writing run ends cleanly.

The exception unwinds the page in flight (its transaction rolls back), the crawl records its
run as `interrupted`, and the command exits 130 or 143. A second signal while that happens
ends the process at once: SQLite's journal still keeps the database whole.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; a KeyboardInterrupt, so code that cleans up after Ctrl-C
    cleans up after a stop from systemd or cron the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def signal_name(exc: KeyboardInterrupt) -> str:
    return exc.name if isinstance(exc, Interrupted) else "SIGINT"


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Raise Interrupted on SIGINT and SIGTERM for the block (main thread only); a signal
    the process was started ignoring (SIGINT of a background job) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if raised:  # the first one is still being cleaned up after: stop now
            os._exit(128 + signum)
        raised.append(signum)
        raise Interrupted(signum)

    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:
            continue
        previous[signum] = signal.SIG_DFL if current is None else current
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)
