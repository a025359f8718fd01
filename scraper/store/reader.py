"""The reader: stored rows back into records, for cards and the site, in one read snapshot.

It is the one place that knows how a payload was split for storage: each object is stored
once, in its own row (a model without its versions, a version without its files, a version's
images as one packed array, where the source nests them), and put back together here, as JSON
bytes, one parse per model. Rows are read as bytes, so one that is not valid UTF-8 (or not
valid JSON) fails its own model only.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import jsonio, sources
from ..records import Model, RecordError
from . import codec
from .checks import connect_readonly as _connect
from .checks import damaged

__all__ = ["Snapshot", "connect_readonly", "iter_payloads", "load_models", "snapshot"]


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to a database this tool wrote (DatabaseProblem otherwise), able
    to unpack packed payloads in SQL."""
    conn = _connect(path)
    codec.register(conn)
    return conn


class Snapshot:
    """One read transaction: everything read through it is one state of the database."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def attach(self, uri: str, name: str) -> None:
        """Another SQLite file (a manifest), read in the same queries."""
        self.conn.execute("ATTACH DATABASE ? AS " + name, [uri])

    def detach(self, name: str) -> None:
        """Let go of an attached file; this ends the snapshot."""
        self.conn.rollback()
        self.conn.execute("DETACH DATABASE " + name)

    def models(
        self,
        source: str | None = None,
        failures: list[str] | None = None,
        keys: list[tuple[str, str]] | None = None,
    ) -> Iterator[Model]:
        """The stored models of `source` (or all, or just `keys`) as records, in id order. A
        payload that no longer parses, whatever the reason, is named in `failures` (when
        given) and skipped; a damaged file is DatabaseProblem, in one line."""
        try:
            for src, model_id, payload in iter_payloads(self.conn, source, keys=keys):
                try:
                    if isinstance(payload, RecordError):
                        raise payload
                    yield sources.get(src).parse(payload)
                except Exception as exc:  # one unreadable row must not stop the others
                    if failures is None:
                        raise
                    failures.append(f"{src} {model_id}: {exc}")
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, exc) from None


@contextlib.contextmanager
def snapshot(path: Path) -> Iterator[Snapshot]:
    """The database read-only, in one read transaction for the block."""
    conn = connect_readonly(path)
    try:
        conn.execute("BEGIN")  # one read transaction: one snapshot for every query inside
        yield Snapshot(conn, path)
    finally:
        conn.close()


def load_models(
    path: Path, source: str | None = None, failures: list[str] | None = None
) -> Iterator[Model]:
    """Every stored model of `source` (or all) as a record, in id order, all read from one
    snapshot so a sync running meanwhile is seen wholly or not at all."""
    with snapshot(path) as snap:
        yield from snap.models(source, failures)


def iter_payloads(
    conn: sqlite3.Connection,
    source: str | None = None,
    chunk: int = 500,
    keys: list[tuple[str, str]] | None = None,
) -> Iterator[tuple[str, str, Any]]:
    """(source, id, payload) of every stored model (or of `keys`, in their order), its
    children put back; the payload is a RecordError for a model whose stored JSON cannot be
    read. A version marked removed is left out: the payload is the one last fetched."""
    batches = _by_keys(conn, keys, chunk) if keys is not None else _all(conn, source, chunk)
    for batch in batches:
        for src, group in itertools.groupby(batch, key=lambda r: r[0]):
            yield from assemble(conn, src, list(group))


def assemble(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, bytes | None]]
) -> Iterator[tuple[str, str, Any]]:
    """(source, id, payload) of stored model rows (source, id, JSON bytes) of one source."""
    nest = sources.get(source).nesting
    if nest is None:
        for _, model_id, raw in group:
            yield source, model_id, _payload(raw)
    else:
        yield from _nest(conn, source, group, nest)


RAW = "CAST(raw AS BLOB), raw_size"  # bytes, whatever the row holds (text, or packed)


def _all(conn: sqlite3.Connection, source: str | None, chunk: int) -> Iterator[list]:
    where, args = ("WHERE source = ?", [source]) if source else ("", [])
    rows = conn.execute(
        f"SELECT source, id, {RAW} FROM models {where} ORDER BY source, length(id), id", args
    )
    while batch := rows.fetchmany(chunk):
        yield [(src, model_id, _Packed(raw, size)) for src, model_id, raw, size in batch]


def _by_keys(conn: sqlite3.Connection, keys: list[tuple[str, str]], chunk: int) -> Iterator[list]:
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        found: dict[tuple[str, str], tuple] = {}
        for src, group in itertools.groupby(part, key=lambda k: k[0]):
            ids = [k[1] for k in group]
            marks = ",".join("?" * len(ids))
            for src_, model_id, raw, size in conn.execute(
                f"SELECT source, id, {RAW} FROM models WHERE source = ? AND id IN ({marks})",
                [src, *ids],
            ):
                found[src_, model_id] = (src_, model_id, _Packed(raw, size))
        yield [found[k] for k in part if k in found]


def _nest(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, Any]], nest: tuple
) -> Iterator[tuple[str, str, Any]]:
    """Put each model's versions, files and images back, as bytes: one parse per model."""
    key, files_key, images_key = nest
    ids = [r[1] for r in group]
    versions: dict[str, list[tuple[str, bytes, bytes]]] = {i: [] for i in ids}
    files: dict[str, list[bytes]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, version_id, raw, images, size in conn.execute(
            "SELECT model_id, id, CAST(raw AS BLOB), CAST(images_raw AS BLOB), images_size "
            f"FROM versions WHERE source = ? AND model_id IN ({marks}) AND removed_at IS NULL "
            "ORDER BY model_id, position",
            [source, *chunk],
        ):
            versions[model_id].append((version_id, raw or b"{}", _unpacked(images, size) or b"[]"))
            files[version_id] = []
    # Files are keyed by model since schema version 5; migrations before it read by version.
    by = "model_id" if _has_column(conn, "files", "model_id") else "version_id"
    for chunk in _chunks(ids if by == "model_id" else list(files)):
        marks = ",".join("?" * len(chunk))
        for version_id, raw in conn.execute(
            f"SELECT version_id, CAST(raw AS BLOB) FROM files WHERE source = ? "
            f"AND {by} IN ({marks}) ORDER BY {by}, version_id, position",
            [source, *chunk],
        ):
            if version_id in files:  # not of a removed version
                files[version_id].append(raw or b"null")
    for _, model_id, packed in group:
        raw = packed.open() if isinstance(packed, _Packed) else packed
        if isinstance(raw, RecordError):
            yield source, model_id, raw
            continue
        nested = [
            _with_members(
                text, [(files_key, b"[" + b",".join(files[vid]) + b"]"), (images_key, imgs)]
            )
            for vid, text, imgs in versions[model_id]
        ]
        whole = _with_members(raw, [(key, _array(nested))])
        yield source, model_id, _payload(whole)


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    found = conn.execute("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", [table, column])
    return found.fetchone() is not None


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _with_members(obj: bytes | None, members: Iterable[tuple[str, bytes]]) -> bytes | None:
    """b'{...}' plus "name":value members, spliced as bytes (each value is valid JSON)."""
    added = b",".join(b'"%s":%s' % (name.encode(), value) for name, value in members)
    if not added or not obj:
        return obj
    body = obj[:-1].rstrip()
    return body + (b"," if body != b"{" else b"") + added + b"}"


def _unpacked(value: bytes | None, size: int | None) -> Any:
    """The JSON bytes of a stored value, or a RecordError when it cannot be unpacked."""
    try:
        return codec.unpack_bytes(value, size)
    except Exception as exc:  # zlib.error, or anything a damaged value raises
        return RecordError(f"stored payload cannot be unpacked: {exc}")


class _Packed:
    """A stored value as read, unpacked only when its model's turn comes: a batch of large
    payloads (40 MB READMEs) costs one unpacked model at a time, not the batch's."""

    __slots__ = ("raw", "size")

    def __init__(self, raw: bytes | None, size: int | None) -> None:
        self.raw, self.size = raw, size

    def open(self) -> Any:
        raw, self.raw = self.raw, None  # the packed bytes go with the model
        return _unpacked(raw, self.size)


def _payload(raw: Any) -> Any:
    if isinstance(raw, _Packed):
        raw = raw.open()
    if isinstance(raw, RecordError):
        return raw
    try:
        return load_raw(raw if raw is not None else b"null")
    except RecordError as exc:
        return exc


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_raw(text: str | bytes) -> Any:
    try:
        return jsonio.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"stored raw JSON is unreadable: {exc}") from None
