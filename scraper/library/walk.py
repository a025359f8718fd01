"""Find model files under folders: every name as bytes (any name a file system allows),
symlinked folders followed once (a loop is named, not walked), each bad entry one line."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
_SUFFIXES = tuple(s.encode() for s in SUFFIXES)


@dataclass(frozen=True, slots=True)
class Found:
    """A model file and its stat when found: the hash cache's key."""

    path: bytes
    root: bytes
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry that cannot be documented, and why (one summary line)."""

    path: bytes
    why: str

    def line(self) -> str:
        return f"{show(self.path)}: {self.why}"


def show(path: bytes) -> str:
    """A path for a message: bytes that are not UTF-8 as \\xNN, control characters too."""
    text = path.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def is_model(name: bytes) -> bool:
    return name.lower().endswith(_SUFFIXES)


def walk(root: bytes) -> Iterator[Found | Skipped]:
    """Model files under `root` (absolute), depth first in name order. A folder reached a
    second time (a symlink loop, or two links to one folder) is not walked again."""
    try:
        top = os.stat(root)
    except OSError as exc:
        yield Skipped(root, f"cannot open the folder: {exc.strerror}")
        return
    if not stat.S_ISDIR(top.st_mode):
        if is_model(root):
            yield from _file(root, root, top)
        else:
            yield Skipped(root, "not a folder nor a model file")
        return
    visited = {(top.st_dev, top.st_ino)}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(folder, f"cannot list the folder: {exc.strerror}; skipped")
            continue
        folders = []
        for entry in entries:
            found = _entry(entry, root, visited)
            if isinstance(found, bytes):
                folders.append(found)
            elif found is not None:
                yield found
        stack.extend(reversed(folders))


def _entry(entry: os.DirEntry[bytes], root: bytes, visited: set) -> Found | Skipped | bytes | None:
    """A file found, a line, a folder to walk (its path) or nothing."""
    path = entry.path
    try:
        info = entry.stat()  # follows symlinks
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skipped(path, "symlink loop (the link leads back to itself); not followed")
        if not is_model(entry.name):
            return None  # not ours to report (a folder link that broke is no model)
        if exc.errno == errno.ENOENT:
            if entry.is_symlink():
                return Skipped(path, "broken symlink (its target is gone); skipped")
            return Skipped(path, "vanished while the folder was read; skipped")
        return Skipped(path, f"cannot stat: {exc.strerror}; skipped")
    if stat.S_ISDIR(info.st_mode):
        key = (info.st_dev, info.st_ino)
        if key in visited:
            if entry.is_symlink():
                return Skipped(
                    path,
                    "a folder already walked (a symlink loop or a second link to it); not followed",
                )
            return None
        visited.add(key)
        return path
    if not is_model(entry.name):
        return None
    return next(_file(path, root, info), None)


def _file(path: bytes, root: bytes, info: os.stat_result) -> Iterator[Found | Skipped]:
    if not stat.S_ISREG(info.st_mode):
        yield Skipped(path, "not a regular file (a device or pipe); skipped")
    elif info.st_size == 0:
        yield Skipped(path, "empty file (0 bytes); skipped")
    else:
        yield Found(path, root, info.st_size, info.st_mtime_ns, info.st_ino)
