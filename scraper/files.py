"""Output files: names safe on every file system and unique, written atomically."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
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


def write_atomic(path: Path, text: str) -> bool:
    """Write via a temp file and rename, so a reader never sees half a card; False if unchanged.

    The file gets the user's umask (0644 under 022), as any file the user writes."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".tmp-{secrets.token_hex(6)}{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
