"""The reader: stored rows back into records, for cards and the site, in one read snapshot.

It is the one place that knows how a payload was split for storage: each object is stored
once, in its own row (a model without its versions, a version without its files and images,
where the source nests them), and put back together here, as JSON text, one parse per model.
The JSON is read as bytes, so a row that is not valid UTF-8 fails its own model only.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import jsonio, sources
from ..records import Model, RecordError
from .checks import connect_readonly, damaged

__all__ = ["connect_readonly", "iter_payloads", "load_models", "load_raw"]


def load_models(
    path: Path, source: str | None = None, failures: list[str] | None = None
) -> Iterator[Model]:
    """Every stored model of `source` (or all) as a record, in id order, all read from one
    snapshot so a sync running meanwhile is seen wholly or not at all. A payload that no
    longer parses, for whatever reason, is named in `failures` (when given) and skipped; a
    damaged file is DatabaseProblem, in one line."""
    conn = connect_readonly(path)
    try:
        conn.execute("BEGIN")  # one read transaction: one snapshot for every query below
        for src, model_id, payload in iter_payloads(conn, source):
            try:
                if isinstance(payload, RecordError):
                    raise payload
                yield sources.get(src).parse(payload)
            except Exception as exc:  # one unreadable row must not stop the others
                if failures is None:
                    raise
                failures.append(f"{src} {model_id}: {exc}")
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    finally:
        conn.close()


def iter_payloads(
    conn: sqlite3.Connection, source: str | None = None, chunk: int = 500
) -> Iterator[tuple[str, str, Any]]:
    """(source, id, payload) of every stored model in id order, its children put back; the
    payload is a RecordError for a model whose stored JSON cannot be read.

    A version marked removed is left out, so the payload is the one last fetched.
    """
    where, args = ("WHERE source = ?", [source]) if source else ("", [])
    rows = conn.execute(
        f"SELECT source, id, CAST(raw AS BLOB) FROM models {where} ORDER BY source, length(id), id",
        args,
    )
    while batch := rows.fetchmany(chunk):
        for src, group in itertools.groupby(batch, key=lambda r: r[0]):
            nest = sources.get(src).nesting
            if nest is None:
                for _, model_id, raw in group:
                    yield src, model_id, _payload(raw)
            else:
                yield from _nest(conn, src, list(group), nest)


def _nest(
    conn: sqlite3.Connection, source: str, group: list[tuple[str, str, str]], nest: tuple
) -> Iterator[tuple[str, str, Any]]:
    """Put each model's versions, files and images back, as text: one json.loads per model."""
    key, files_key, images_key = nest
    ids = [r[1] for r in group]
    versions: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    children: dict[str, dict[str, list[str]]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, version_id, raw in conn.execute(
            f"SELECT model_id, id, CAST(raw AS BLOB) FROM versions WHERE source = ? "
            f"AND model_id IN ({marks}) "
            "AND removed_at IS NULL ORDER BY model_id, position",
            [source, *chunk],
        ):
            versions[model_id].append((version_id, raw))
            children[version_id] = {files_key: [], images_key: []}
    for table, field_name in (("files", files_key), ("images", images_key)):
        for chunk in _chunks(list(children)):
            marks = ",".join("?" * len(chunk))
            for version_id, raw in conn.execute(
                f"SELECT version_id, CAST(raw AS BLOB) FROM {table} WHERE source = ? "
                f"AND version_id IN ({marks}) ORDER BY version_id, position",
                [source, *chunk],
            ):
                children[version_id][field_name].append(raw)
    for _, model_id, raw in group:
        nested = [_with_lists(text, children[vid].items()) for vid, text in versions[model_id]]
        yield source, model_id, _payload(_with_lists(raw, [(key, nested)]))


def _with_lists(obj_text: bytes, lists: Iterable[tuple[str, list[bytes]]]) -> bytes:
    """'{...}' plus "key":[item texts] members, spliced as text (each item is valid JSON)."""
    members = b",".join(b'"%s":[%s]' % (name.encode(), b",".join(items)) for name, items in lists)
    if not members or not obj_text:
        return obj_text
    body = obj_text[:-1].rstrip()
    return body + (b"," if body != b"{" else b"") + members + b"}"


def _payload(raw: bytes | None) -> Any:
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
