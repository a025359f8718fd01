"""Output files: names safe on every file system and unique, written atomically, and never
through a symbolic link out of their folder."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import unicodedata
from collections.abc import Iterable
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


def safe_stem(readable: str, key: str, hashed: bool = False) -> str:
    """A file-name stem for `readable` (an id, or id-slug; 'owner/name' gives 'owner--name'):
    only [A-Za-z0-9._-], no Windows device name, no leading dot or '-', no trailing dot, at
    most STEM_MAX characters. When anything had to be replaced, cut or could be ambiguous (or
    `hashed`: the name is another record's ignoring case), a short stable hash of `key` is
    added, so two records never share a name, even ignoring case."""
    wanted = readable.replace("/", "--")
    text = _UNSAFE.sub("_", wanted).strip(".")
    first = text.split(".", 1)[0]
    if _DEVICE.fullmatch(first):
        text = f"{first}_{text[len(first) :]}"
    if text.startswith("-"):  # never taken for an option by a shell command
        text = "_" + text[1:]
    changed = hashed or text != wanted or "--" in readable or not text
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
    write_parts_atomic(path, [data])
    return True


def write_parts_atomic(path: Path, parts: Iterable[bytes]) -> None:
    """write_atomic of the parts one after the other, never joined in memory (a cache of
    tens of megabytes is written while it is still held)."""
    fd, temp = _create_temp(path)
    try:
        try:
            for part in parts:
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


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


class OutsideFolder(Exception):
    """A write or removal that would go through a symbolic link, or into a folder this tool
    did not make: refused with one line naming the path."""


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def check_folder(root: Path, folder: Path) -> None:
    """Refuse `folder` when it, or any folder between `root` and it, is a symbolic link (a
    planted one would take writes and removals outside root). Missing folders are fine."""
    root, folder = Path(root), Path(folder)
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        raise OutsideFolder(f"{folder} is not inside {root}; refusing to write there") from None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise OutsideFolder(
                f"{current} is a symbolic link; refusing to write or remove through it "
                "(remove the link, or choose another output folder)"
            )


def remove_inside(root: Path, path: Path) -> bool:
    """Remove one file under root without following a symbolic link on the way (a link
    itself is removed, never its target); False when it was not there."""
    check_folder(root, path.parent)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def create_exclusive(path: Path) -> None:
    """Create (or keep) an empty marker file without following a symbolic link to it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | _NO_FOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if os.path.islink(path):
            raise OutsideFolder(f"{path} is a symbolic link; remove it") from None
        raise exc
    os.close(fd)


def refuse_link(path: Path, what: str) -> None:
    """One line when `path` (a manifest, a lock) is a symbolic link."""
    if Path(path).is_symlink():
        raise OutsideFolder(
            f"{path} is a symbolic link, not this tool's {what}; remove it and run again"
        )
