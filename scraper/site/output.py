"""Writing the site: only inside its folder, atomically, only when a page's bytes changed.

The manifest (`.site-manifest.json` in the folder) remembers each page's content hash and each
model's fingerprint and summary, so a rebuild renders only changed models and rewrites only
changed pages. A build that dies half-way leaves a marker; the next build then trusts no hash
and compares with the files themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock
import orjson

from ..files import OutsideFolder, create_exclusive, refuse_link, write_atomic
from .paths import is_safe

MANIFEST = ".site-manifest.json"
MARKER = ".site-building"
LOCK = ".site-build.lock"
FORMAT = 1
PENDING = 16 << 20  # bytes queued for the writing threads at most (an index JSON is MBs)


class UnsafePath(ValueError):
    """A path that would leave the output folder or is not one the site makes."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Writer:
    """Writes pages under `root`: each path checked, unchanged bytes never rewritten (the file's
    mtime stays), a new file created through a temp file and rename with the umask's mode."""

    root: Path
    known: dict[str, str] = field(default_factory=dict)  # path -> hash of what is on disk
    trusted: bool = True  # False: `known` may be stale; compare with the files instead
    written: int = 0
    unchanged: int = 0
    _dirs: set[Path] = field(default_factory=set)
    _pool: ThreadPoolExecutor | None = None
    hashes: dict[str, str] = field(default_factory=dict)  # of the pages written by `queue`
    _pending: dict[Path, tuple[Future, int, str]] = field(default_factory=dict)
    _queued: int = 0  # bytes in _pending

    def __post_init__(self) -> None:
        self.root = Path(os.path.realpath(self.root))

    def write(self, path: str, data: bytes | str) -> str:
        """Write one page (if its bytes changed); returns its content hash."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self._prepare(path)
        if target in self._pending:
            self._wait(target)  # queued before: the last bytes must win
        h, wrote = self._settle(path, target, data)
        self._count(wrote)
        return h

    def queue(self, path: str, data: bytes) -> None:
        """Write one page in a writing thread (inside `in_background`): its hash, the
        comparison and the write happen there while the caller renders the next page
        (hashing and the disk run without the GIL); its hash is in `hashes` once flushed."""
        target = self._prepare(path)
        if target in self._pending:
            self._wait(target)  # the same page again: the last bytes must win
        while self._pending and self._queued + len(data) > PENDING:
            self._wait(next(iter(self._pending)))
        future = self._pool.submit(self._settle, path, target, data)  # type: ignore[union-attr]
        self._pending[target] = (future, len(data), path)
        self._queued += len(data)

    @contextlib.contextmanager
    def in_background(self, threads: int = 2) -> Iterator[Writer]:
        """`queue` writes in threads; every write has ended, and the first failure is raised,
        when the block ends."""
        with ThreadPoolExecutor(threads, thread_name_prefix="site-write") as pool:
            self._pool = pool
            try:
                yield self
                self.flush()
            finally:
                self._pool = None
                self._pending.clear()  # (the pool's exit waits for what is still queued)
                self._queued = 0

    def flush(self) -> None:
        """Wait for every queued write; raise the first that failed."""
        while self._pending:
            self._wait(next(iter(self._pending)))

    def _prepare(self, path: str) -> Path:
        target = self.target(path)
        self._ensure_dir(target.parent)  # (once per folder) a planted link is refused
        return target

    def _settle(self, path: str, target: Path, data: bytes) -> tuple[str, bool]:
        """(hash, written): the page written unless it already holds these bytes."""
        h = digest(data)
        if self._unchanged(path, target, h, data):
            return h, False
        write_atomic(target, data, if_changed=False)  # unchanged was decided above
        return h, True

    def _wait(self, target: Path) -> None:
        future, size, path = self._pending.pop(target)
        self._queued -= size
        self.hashes[path], wrote = future.result()
        self._count(wrote)

    def _count(self, wrote: bool) -> None:
        if wrote:
            self.written += 1
        else:
            self.unchanged += 1

    def remove(self, path: str) -> bool:
        """Delete a page the site no longer has, and folders left empty by it."""
        try:
            target = self.target(path)
            self._inside(target.parent)  # a planted link to a folder outside: not followed
        except UnsafePath:
            return False  # a manifest entry we did not write: never follow it
        try:
            os.unlink(target)  # (a link itself is removed, never its target)
        except (FileNotFoundError, NotADirectoryError):
            return False
        folder = target.parent
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
        return True

    def check_folders(self, paths: list[str] | set[str] | dict[str, str]) -> None:
        """Refuse at once when a folder the last build wrote into now leads outside the root
        (a symbolic link planted since), before any page is carried, written or removed."""
        for folder in {path.rpartition("/")[0] for path in paths if is_safe(path)}:
            if folder:
                self._inside(self.root / folder)

    def target(self, path: str) -> Path:
        if not is_safe(path):
            raise UnsafePath(f"refusing to write {path!r}: not a site page path")
        return self.root / path

    def _unchanged(self, path: str, target: Path, h: str, data: bytes) -> bool:
        if self.trusted:
            return self.known.get(path) == h and target.is_file() and not target.is_symlink()
        try:
            return not target.is_symlink() and target.read_bytes() == data
        except OSError:
            return False

    def _ensure_dir(self, folder: Path) -> None:
        """Create a page's folder; refuse one that resolves outside the root (a symlink)."""
        if folder in self._dirs:
            return
        existing = folder
        while existing != self.root and not os.path.lexists(existing):
            existing = existing.parent
        self._inside(existing)  # before creating anything under it
        folder.mkdir(parents=True, exist_ok=True)
        self._inside(folder)
        self._dirs.add(folder)

    def _inside(self, folder: Path) -> None:
        real = os.path.realpath(folder)
        if real != str(self.root) and not real.startswith(str(self.root) + os.sep):
            raise UnsafePath(f"refusing to write under {folder}: it leads outside {self.root}")


@dataclass
class Manifest:
    """What the last build made: page path -> content hash, model key -> [fingerprint,
    summary row or None when hidden], and the stamp of the code, templates and settings."""

    stamp: str = ""
    pages: dict[str, str] = field(default_factory=dict)
    models: dict[str, list[Any]] = field(default_factory=dict)
    digest: str = ""  # of the file as read: an unchanged manifest is not rewritten
    inputs: dict[str, str] = field(default_factory=dict)  # index page -> hash of its rows
    paging: dict[str, Any] = field(default_factory=dict)  # index -> where its pages break

    @classmethod
    def read(cls, root: Path) -> Manifest:
        refuse_link(root / MANIFEST, "site manifest")
        try:
            raw = (root / MANIFEST).read_bytes()
            data = orjson.loads(raw)
        except (FileNotFoundError, orjson.JSONDecodeError):
            return cls()
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return cls()
        pages, models, inputs, paging = (
            data.get(name) if isinstance(data.get(name), dict) else {}
            for name in ("pages", "models", "inputs", "paging")
        )
        return cls(str(data.get("stamp") or ""), pages, models, digest(raw), inputs, paging)

    def write(self, root: Path, previous: str = "") -> None:
        body = {
            "format": FORMAT,
            "stamp": self.stamp,
            "pages": self.pages,
            "models": self.models,
            "inputs": self.inputs,
            "paging": self.paging,
        }
        data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)  # the same bytes for the same pages
        if previous and digest(data) == previous:
            return
        write_atomic(root / MANIFEST, data, if_changed=False)


@contextlib.contextmanager
def building(root: Path, force: bool = False):
    """One build per folder at a time (an OS lock, so a killed build leaves none behind);
    yields whether the last build finished (False: its manifest cannot be trusted). A first
    build into a folder holding someone's files is refused unless forced."""
    root.mkdir(parents=True, exist_ok=True)
    for name, what in ((LOCK, "lock file"), (MARKER, "build marker"), (MANIFEST, "manifest")):
        refuse_link(root / name, f"site {what}")
    ours = os.path.lexists(root / MANIFEST) or os.path.lexists(root / MARKER)
    if not ours and not force:
        with os.scandir(root) as entries:
            found = sorted(e.name for e in entries if e.name != LOCK)
        if found:
            raise OutsideFolder(
                f"{root} holds files this tool did not write ({', '.join(found[:3])}"
                f"{', ...' if len(found) > 3 else ''}; no {MANIFEST}); choose an empty --out, "
                "or give --force to build there anyway"
            )
    lock = filelock.FileLock(str(root / LOCK))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise RuntimeError(f"another site build is writing {root}") from None
    try:
        marker = root / MARKER
        clean = not marker.exists()
        create_exclusive(marker)  # never through a link planted there
        yield clean
        marker.unlink(missing_ok=True)
    finally:
        lock.release()
