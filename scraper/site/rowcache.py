"""Index rows kept between builds, one file per language beside the manifest.

A model's row is the same on each of the dozen index pages that list it, and the same build
after build while its summary is. At 100,000 models a 1% change still leaves most index pages
to render again (each holds a changed row), and rendering their rows afresh was a third of
the rebuild: here a row is rendered once, when its summary changes, and read back as bytes
after that. A row is keyed by the digest of its summary; the file holds the build stamp (the
code, templates and settings that shape a row) and a checksum, and is not used when either
differs: a stale or torn file costs a render, never a wrong row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..files import refuse_link, write_parts_atomic

MAGIC = b"scraper-site-rows 1 "
MAX_ROW = 1 << 20  # bytes: a row is a few hundred


class Rows:
    """The rows of one language: digest -> UTF-8 HTML of the row."""

    def __init__(self, kept: dict[bytes, bytes] | None = None, checksum: str = "") -> None:
        self.kept = kept or {}
        self.checksum = checksum  # of the file these rows were read from

    def get(self, digest: bytes) -> bytes | None:
        return self.kept.get(digest)

    def put(self, digest: bytes, row: bytes) -> bytes:
        self.kept[digest] = row
        return row


class Folder:
    """Where a site keeps its rows: `load` gives the last build's (empty when the stamp is not
    this build's), `save` keeps those of the models still on the site."""

    def __init__(self, root: Path, stamp: str, usable: bool = True) -> None:
        self.root, self.stamp, self.usable = Path(root), stamp, usable

    def path(self, lang: str) -> Path:
        return self.root / f".site-rows-{lang}.txt"

    def load(self, lang: str) -> Rows:
        path = self.path(lang)
        refuse_link(path, "row cache")
        if not self.usable:
            return Rows()
        try:
            with open(path, "rb") as file:
                return read(file, self.stamp)
        except FileNotFoundError:
            return Rows()

    def save(self, lang: str, rows: Rows, live: Iterable[bytes]) -> None:
        kept, parts = rows.kept, [b""]
        checksum = hashlib.blake2b(digest_size=16)
        for digest in dict.fromkeys(live):
            row = kept.get(digest)
            if row is not None:  # "<digest> <bytes>" on a line, then the row: UTF-8 text
                parts += (b"%s %d\n" % (digest.hex().encode(), len(row)), row)
        for part in parts:
            checksum.update(part)
        if checksum.hexdigest() == rows.checksum:
            return  # the same rows as the file holds: not rewritten
        parts[0] = MAGIC + f"{self.stamp} {checksum.hexdigest()}\n".encode()
        write_parts_atomic(self.path(lang), parts)  # (not joined: the rows are still held)


def read(file: BinaryIO, stamp: str) -> Rows:
    """The rows of a file written by `save` with this stamp; none for anything else. Read a
    record at a time: the file is never held whole beside its rows."""
    line = file.readline(200)
    if not line.startswith(MAGIC) or not line.endswith(b"\n"):
        return Rows()
    fields = line[len(MAGIC) : -1].decode("ascii", "replace").split(" ")
    if len(fields) != 2 or fields[0] != stamp:
        return Rows()
    rows: dict[bytes, bytes] = {}
    checksum = hashlib.blake2b(digest_size=16)
    while head := file.readline(60):
        digest, _, size = head.rstrip(b"\n").partition(b" ")
        if not head.endswith(b"\n") or len(digest) != 32 or not size.isdigit():
            return Rows()
        if int(size) > MAX_ROW:  # not ours: never a read of that size
            return Rows()
        row = file.read(int(size))
        if len(row) < int(size):
            return Rows()
        checksum.update(head)
        checksum.update(row)
        try:
            rows[bytes.fromhex(digest.decode("ascii"))] = row
        except ValueError:
            return Rows()
    return Rows(rows, fields[1]) if checksum.hexdigest() == fields[1] else Rows()
