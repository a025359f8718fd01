"""The reader: stored rows back into records, for cards and the site, in one read snapshot.

It is the one place that knows how a payload was split for storage: each object is stored
once, in its own row (a model without its versions, a version without its files and images,
where the source nests them), and put back together here, as JSON text, one parse per model.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import jsonio, sources
from ..records import Model, RecordError
from . import codec


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that can neither create the file nor write to it."""
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    codec.register(conn)
    return conn


class Snapshot:
    """One read transaction: everything read through it is one state of the database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def attach(self, uri: str, name: str) -> None:
        """Another SQLite file (a manifest), read in the same queries."""
        self.conn.execute("ATTACH DATABASE ? AS " + name, [uri])

    def models(
        self,
        source: str | None = None,
        failures: list[str] | None = None,
        keys: list[tuple[str, str]] | None = None,
    ) -> Iterator[Model]:
        """The stored models of `source` (or all, or just `keys`) as records, in id order; one
        whose payload no longer parses is named in `failures` (when given) and skipped."""
        for src, model_id, payload in iter_payloads(self.conn, source, keys=keys):
            try:
                yield sources.get(src).parse(payload)
            except (RecordError, KeyError) as exc:
                if failures is None:
                    raise
                failures.append(f"{src} {model_id}: {exc}")


@contextlib.contextmanager
def snapshot(path: Path) -> Iterator[Snapshot]:
    """The database read-only, in one read transaction for the block."""
    conn = connect_readonly(path)
    try:
        conn.execute("BEGIN")  # one read transaction: one snapshot for every query inside
        yield Snapshot(conn)
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
    children put back. A version marked removed is left out: the payload is the last fetched.
    """
    batches = _by_keys(conn, keys, chunk) if keys is not None else _all(conn, source, chunk)
    for batch in batches:
        for src, group in itertools.groupby(batch, key=lambda r: r[0]):
            yield from assemble(conn, src, list(group))


def assemble(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, str]]
) -> Iterator[tuple[str, str, Any]]:
    """(source, id, payload) of stored model rows (source, id, raw) of one source."""
    nest = sources.get(source).nesting
    if nest is None:
        for _, model_id, raw in group:
            yield source, model_id, load_raw(raw)
    else:
        yield from _nest(conn, source, group, nest)


def _all(conn: sqlite3.Connection, source: str | None, chunk: int) -> Iterator[list]:
    where, args = ("WHERE source = ?", [source]) if source else ("", [])
    rows = conn.execute(
        f"SELECT source, id, raw, raw_size FROM models {where} ORDER BY source, length(id), id",
        args,
    )
    while batch := rows.fetchmany(chunk):
        yield [(src, model_id, codec.unpack(raw, size)) for src, model_id, raw, size in batch]


def _by_keys(conn: sqlite3.Connection, keys: list[tuple[str, str]], chunk: int) -> Iterator[list]:
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        found: dict[tuple[str, str], tuple] = {}
        for src, group in itertools.groupby(part, key=lambda k: k[0]):
            ids = [k[1] for k in group]
            marks = ",".join("?" * len(ids))
            for row in conn.execute(
                "SELECT source, id, raw, raw_size FROM models "
                f"WHERE source = ? AND id IN ({marks})",
                [src, *ids],
            ):
                found[row[0], row[1]] = (*row[:2], codec.unpack(row[2], row[3]))
        yield [found[k] for k in part if k in found]


def _nest(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, str]], nest: tuple
) -> Iterator[tuple[str, str, Any]]:
    """Put each model's versions, files and images back, as text: one json.loads per model."""
    key, files_key, images_key = nest
    ids = [r[1] for r in group]
    versions: dict[str, list[tuple[str, str, str]]] = {i: [] for i in ids}
    files: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, version_id, raw, images, size in conn.execute(
            "SELECT model_id, id, raw, images_raw, images_size FROM versions "
            f"WHERE source = ? AND model_id IN ({marks}) AND removed_at IS NULL "
            "ORDER BY model_id, position",
            [source, *chunk],
        ):
            versions[model_id].append((version_id, raw, codec.unpack(images, size) or "[]"))
            files[version_id] = []
    for chunk in _chunks(list(files)):
        marks = ",".join("?" * len(chunk))
        for version_id, raw in conn.execute(
            f"SELECT version_id, raw FROM files WHERE source = ? "
            f"AND version_id IN ({marks}) ORDER BY version_id, position",
            [source, *chunk],
        ):
            files[version_id].append(raw)
    for _, model_id, raw in group:
        nested = [
            _with_members(text, [(files_key, f"[{','.join(files[vid])}]"), (images_key, images)])
            for vid, text, images in versions[model_id]
        ]
        yield source, model_id, load_raw(_with_members(raw, [(key, f"[{','.join(nested)}]")]))


def _with_members(obj_text: str, members: Iterable[tuple[str, str]]) -> str:
    """'{...}' plus "name":value members, spliced as text (each value is valid JSON)."""
    added = ",".join(f'"{name}":{value}' for name, value in members)
    if not added:
        return obj_text
    body = obj_text[:-1].rstrip()
    return f"{body}{',' if body != '{' else ''}{added}}}"


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_raw(text: str) -> Any:
    try:
        return jsonio.loads(text)
    except ValueError as exc:
        raise RecordError(f"stored raw JSON is unreadable: {exc}") from None
