"""Output files: names safe on every file system, written atomically."""

from __future__ import annotations

import os
import re
import tempfile
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


def write_atomic(path: Path, text: str) -> bool:
    """Write via a temp file and rename, so a reader never sees half a card; False if unchanged."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
