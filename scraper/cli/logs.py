"""Log lines for unattended runs: one timestamped line per event on stderr (journald keeps it),
or with --log-file every event in a file rotated by the standard library's handler and only
warnings and errors on stderr, so that cron mails trouble and nothing else."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..net.redaction import guard

LOG_BYTES = 5_000_000  # a log file is rotated past this size
LOG_BACKUPS = 5  # and this many old ones are kept (scraper.log.1 ... .5)


class OneLine(logging.Formatter):
    """`2026-11-30T22:36:01Z INFO message`, in UTC, always on one line."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " | ")


@contextlib.contextmanager
def event_log(verbose: bool = False, log_file: Path | None = None) -> Iterator[None]:
    """Route every log record of the block to stderr (and the file) as one-line events."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.setFormatter(OneLine())
        guard(handler)  # before anything logs: no token in stderr or the file
    if log_file is not None:
        handlers[0].setLevel(logging.WARNING)
    root.handlers = handlers
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        for handler in handlers[1:]:
            handler.close()
        root.handlers, root.level = saved
