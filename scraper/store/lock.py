"""One writing run per database: an OS file lock, so a killed run leaves no stale lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock


class Busy(RuntimeError):
    """Another run holds the database's lock."""


@contextlib.contextmanager
def exclusive(path: Path, wait: float = 0) -> Iterator[None]:
    """Hold `<db>.lock` for the block, waiting up to `wait` seconds for another run to end;
    two syncs at full speed would share no rate budget."""
    from .checks import DatabaseProblem, accepted

    accepted(Path(path))  # no `passwd.lock` beside a file that is refused anyway
    lock_path = Path(f"{path}.lock")
    if lock_path.is_symlink():
        raise DatabaseProblem(
            f"{lock_path} is a symbolic link; remove it (the lock file is this tool's own)"
        )
    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=wait)
    except filelock.Timeout:
        waited = f" (waited {wait:g}s)" if wait else ""
        raise Busy(
            f"another scraper run is writing {path}{waited}; wait for it to finish, "
            "give --wait SECONDS, or give this run its own --db"
        ) from None
    try:
        yield
    finally:
        lock.release()


def held(path: Path) -> bool:
    """Whether a run holds the database's lock now (for reports; it takes nothing)."""
    if not Path(f"{path}.lock").exists():
        return False
    try:
        with exclusive(path):
            return False
    except Busy:
        return True
    except OSError:  # a lock file this user cannot open: nothing to tell
        return False
