"""The files written next to each model (or under --out): the host's version answer, a card.

The database remembers each file it wrote, with its size and mtime: a file found there that
it did not write, or that was changed since, is kept (--force replaces it). A file whose
inputs did not change is not rendered again, so a rescan of an unchanged folder reads
nothing but stats.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic
from ..store import Store
from .walk import Found, show

FORMAT = "1"  # bump when what is written for the same inputs changes


@dataclass
class Written:
    written: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # files not ours, left alone
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Planned:
    path: bytes
    inputs: str
    make: Callable[[], bytes | None]  # rendered only when it must be written; None: nothing


def stem(path: bytes) -> bytes:
    """NAME of NAME.safetensors."""
    name = os.path.basename(path)
    dot = name.rfind(b".")
    return name[:dot] if dot > 0 else name


def place(found: Found, suffix: str, out: bytes | None) -> bytes:
    """NAME<suffix> beside the model, or at the same place under `out` (the model's folder
    relative to its scanned root, under the root's own name)."""
    name = stem(found.path) + os.fsencode(suffix)
    folder = os.path.dirname(found.path)
    if out is None:
        return os.path.join(folder, name)
    if found.root == found.path:  # a file given on the command line
        return os.path.join(out, name)
    relative = os.path.relpath(folder, found.root)
    parts = [out, os.path.basename(found.root.rstrip(b"/")) or b"root"]
    if relative != b".":
        parts.append(relative)
    return os.path.join(*parts, name)


def write(store: Store, planned: list[Planned], force: bool) -> Written:
    """Write what changed; keep what is not ours."""
    done = Written()
    recorded = store.outputs([p.path for p in planned])
    rows: list[tuple[bytes, str, int, int]] = []
    for item in planned:
        try:
            info = os.stat(item.path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            done.failed.append(f"{show(item.path)}: cannot stat: {exc.strerror}")
            continue
        mine = recorded.get(item.path)
        ours = mine is not None and (
            (mine[1], info) == (-1, None)  # nothing to write last time, nothing there now
            or (info is not None and (info.st_size, info.st_mtime_ns) == (mine[1], mine[2]))
        )
        if info is not None and not ours and not force:
            done.kept.append(
                f"{show(item.path)}: not written by scraper (or changed since); kept, "
                "--force replaces it"
            )
            continue
        if ours and mine is not None and mine[0] == item.inputs:
            done.unchanged += 1
            continue
        try:
            data = item.make()
            if data is None:  # nothing to write (no image allowed, say): remembered as such
                rows.append((item.path, item.inputs, -1, -1))
                continue
            write_atomic(Path(os.fsdecode(item.path)), data)
            after = os.stat(item.path)
        except OSError as exc:
            done.failed.append(
                f"{show(item.path)}: cannot write: {exc.strerror or exc}; "
                "a read-only folder takes --out DIR"
            )
            continue
        rows.append((item.path, item.inputs, after.st_size, after.st_mtime_ns))
        done.written += 1
    if rows:
        store.save_outputs(rows)
    return done
