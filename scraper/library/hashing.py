"""SHA-256 of whole files, streamed in large blocks, several files at once (hashlib lets go of
the GIL while it hashes); a file that changes while it is read is not given a hash."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable

from .walk import Found

BLOCK = 4 << 20  # 4 MiB reads: what sha256sum-class speed needs, and little memory per thread
CHECK_EVERY = 32  # blocks (128 MiB) between looks at the file's stat while it is read


class Changed(OSError):
    """The file changed (size, mtime or inode) while it was hashed: hashed again next scan."""


class Stopped(Exception):
    """The scan is being stopped (a signal): the hash in progress is dropped."""


def sha256(
    found: Found,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """The file's SHA-256 (upper-case hex, as the hosts write it); Changed if it moved under
    us, OSError when it cannot be read, Stopped when `stop` is set."""
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    fd = os.open(found.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        before = os.fstat(fd)
        if _moved(found, before):
            raise Changed(f"changed since it was found ({before.st_size:,} bytes now)")
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        with open(fd, "rb", buffering=0, closefd=False) as handle:
            blocks = 0
            while count := handle.readinto(buffer):
                digest.update(view[:count])
                if progress is not None:
                    progress(count)
                if stop is not None and stop.is_set():
                    raise Stopped
                blocks += 1
                if blocks % CHECK_EVERY == 0:  # a big file changed under us: stop reading it
                    _check(found, os.fstat(fd))
        after = os.fstat(fd)
        _check(found, after)
    finally:
        os.close(fd)
    try:
        now = os.stat(found.path)
    except FileNotFoundError:
        raise Changed("vanished while it was hashed") from None
    if _moved(found, after) or _moved(found, now):
        raise Changed("changed while it was hashed; it is hashed again on the next scan")
    return digest.hexdigest().upper()


def _check(found: Found, info: os.stat_result) -> None:
    if info.st_nlink == 0:
        raise Changed("vanished while it was hashed; skipped")
    if _moved(found, info):
        raise Changed("changed while it was hashed; it is hashed again on the next scan")


def _moved(found: Found, info: os.stat_result) -> bool:
    return (info.st_size, info.st_mtime_ns, info.st_ino) != (
        found.size,
        found.mtime_ns,
        found.inode,
    )
