"""One writing run per database: an OS file lock, so a killed run leaves no stale lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock


class Busy(RuntimeError):
    """Another run holds the database's lock."""


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold `<db>.lock` for the block; two syncs at full speed would share no rate budget."""
    lock = filelock.FileLock(f"{path}.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise Busy(
            f"another scraper run is writing {path}; wait for it to finish "
            "or give this run its own --db"
        ) from None
    try:
        yield
    finally:
        lock.release()
