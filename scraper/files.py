"""Output files: names safe on every file system and unique, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import unicodedata
from pathlib import Path

SLUG_MAX = 60
STEM_MAX = 160  # with "-<hash>" and ".bilingual.md" a name stays well under 200 characters
# Windows device names, reserved whatever follows the first dot: NUL.txt is NUL.
_DEVICE = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin|conout|clock)", re.I)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")  # controls, spaces, <>:"/\|?* and anything non-ASCII


def slugify(name: str) -> str:
    """Lower-case ASCII words of a name: safe on every file system, possibly empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_name.lower()))
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug


def safe_stem(readable: str, key: str) -> str:
    """A file-name stem for `readable` (an id, or id-slug; 'owner/name' gives 'owner--name'):
    only [A-Za-z0-9._-], no Windows device name, no leading or trailing dot, at most STEM_MAX
    characters. When anything had to be replaced, cut or could be ambiguous, a short stable
    hash of `key` is added, so two records never share a name, even ignoring case."""
    wanted = readable.replace("/", "--")
    text = _UNSAFE.sub("_", wanted).strip(".")
    first = text.split(".", 1)[0]
    if _DEVICE.fullmatch(first):
        text = f"{first}_{text[len(first) :]}"
    changed = text != wanted or "--" in readable or not text
    if len(text) > STEM_MAX:
        text, changed = text[:STEM_MAX].rstrip("."), True
    if changed:
        digest = hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=4)
        text = f"{text}-{digest.hexdigest()}" if text else digest.hexdigest()
    return text


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
    fd, temp = _create_temp(path)
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


def _create_temp(path: Path) -> tuple[int, str]:
    """A new file beside path, under a short name (a card's own may be near the limit) that
    no other writer uses; one left by a crashed run of the same pid is stepped over."""
    made_folder = False
    while True:
        temp = f"{path.parent}{os.sep}.tmp-{os.getpid()}-{next(_TEMP)}{path.suffix}"
        try:
            return os.open(temp, _FLAGS, 0o666), temp
        except FileExistsError:
            continue
        except FileNotFoundError:
            if made_folder:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made_folder = True


def _holds(path: Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except (FileNotFoundError, NotADirectoryError):
        return False
