"""Output files: names safe on every file system, written atomically."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import unicodedata
from pathlib import Path

SLUG_MAX = 60


def slugify(name: str) -> str:
    """Lower-case ASCII words of a name: safe on every file system, possibly empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_name.lower()))
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug


def safe_id(model_id: str) -> str:
    """Ids become path parts: 'owner/name' -> 'owner--name', nothing else but [A-Za-z0-9._-]."""
    text = model_id.replace("/", "--")
    text = re.sub(r"[^A-Za-z0-9._-]", "_", text).strip(".")
    return text or "_"


_TEMP = itertools.count()
_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def write_atomic(path: Path, data: str | bytes, if_changed: bool = True) -> bool:
    """Write via a temp file in the same folder and a rename, so a reader never sees half a
    file; False when if_changed and the file already holds these bytes.

    The fewest system calls: a stat (then a read only when the sizes match), open, write,
    close, rename; the folder is made only when the first open finds it missing. Mode 0666
    less the umask, like any new file.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if if_changed and _holds(path, data):
        return False
    temp = f"{path.parent}{os.sep}.{path.name}.{os.getpid()}-{next(_TEMP)}.tmp"
    try:
        fd = os.open(temp, _FLAGS, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, _FLAGS, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def _holds(path: Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except (FileNotFoundError, NotADirectoryError):
        return False
