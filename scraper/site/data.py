"""The site's one adapter to the database: parsed models, and a few read-only queries on the
promoted columns. Nothing here writes; every connection is opened read-only.

`load_models` is the only place that turns stored rows into `Model` records; when the store
gains its own reader (`load_models(db_path, source=None, ...)`), its body becomes that call.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.request import pathname2url

from .. import store as storage
from ..records import Model, RecordError
from ..sources import civitai, huggingface, modelscope

PARSERS = {
    civitai.SOURCE: civitai.parse_model,
    huggingface.SOURCE: huggingface.parse_model,
    modelscope.SOURCE: modelscope.parse_model,
}
Key = tuple[str, str]  # (source, model id)


def connect(db_path: Path) -> sqlite3.Connection:
    """Read-only: a site build never changes the catalog, and a missing file is an error."""
    location = pathname2url(str(Path(db_path).resolve()))  # '?', '#', '%' in a folder name
    conn = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def live_models(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(source, id, fingerprint) of every model not deleted, in a stable order. The
    fingerprint changes whenever anything a model page shows may have changed: content,
    counters, or a new stats snapshot (the chart)."""
    rows = conn.execute(
        "SELECT m.source, m.id, coalesce(m.content_hash, '') || '/' || "
        "coalesce(m.stats_hash, '') || '/' || coalesce(h.n, 0) || '/' || coalesce(h.last, '') "
        "FROM models m LEFT JOIN ("
        "  SELECT source, model_id, count(*) AS n, max(taken_at) AS last FROM stats_history "
        "  WHERE version_id = '' GROUP BY source, model_id"
        ") h ON h.source = m.source AND h.model_id = m.id "
        "WHERE m.deleted_at IS NULL ORDER BY m.source, length(m.id), m.id"
    )
    return [(str(s), str(i), _short(str(f))) for s, i, f in rows]


def _short(text: str) -> str:
    """A fingerprint only needs to differ: 64 bits of it, not the 100-character source."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def download_history(
    conn: sqlite3.Connection, source: str, ids: list[str]
) -> dict[str, list[tuple[str, int]]]:
    """Model-level (taken_at, downloads) snapshots per model id, oldest first."""
    found: dict[str, list[tuple[str, int]]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for model_id, taken_at, downloads in conn.execute(
            f"SELECT model_id, taken_at, downloads FROM stats_history WHERE source = ? "
            f"AND version_id = '' AND model_id IN ({marks}) AND downloads IS NOT NULL "
            "ORDER BY model_id, taken_at",
            [source, *chunk],
        ):
            found[model_id].append((str(taken_at), int(downloads)))
    return found


def load_models(
    conn: sqlite3.Connection, keys: Iterable[Key], failures: list[str]
) -> Iterator[Model]:
    """The live models named by `keys`, parsed, children (versions, files, images) in place
    and removed versions left out; one that cannot be read is named in `failures`."""
    by_source: dict[str, list[str]] = {}
    for source, model_id in keys:
        by_source.setdefault(source, []).append(model_id)
    for source, ids in by_source.items():
        parse = PARSERS.get(source)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT source, id, raw FROM models WHERE source = ? AND id IN ({marks}) "
                "AND deleted_at IS NULL ORDER BY length(id), id",
                [source, *chunk],
            ).fetchall()
            for _, model_id, payload in _payloads(conn, source, rows, failures):
                if parse is None:
                    failures.append(f"{source} {model_id}: no parser for this source")
                    continue
                try:
                    yield parse(payload)
                except (RecordError, KeyError, TypeError, ValueError) as exc:
                    failures.append(f"{source} {model_id}: {exc}")


def _payloads(
    conn: sqlite3.Connection, source: str, rows: list[tuple[str, str, str]], failures: list[str]
) -> Iterator[tuple[str, str, object]]:
    """(source, id, payload) put back together as Store.iter_payloads does; an unreadable row
    is named in `failures` and the others still come."""
    nest = storage.NESTING.get(source)
    if nest is None:
        for src, model_id, raw in rows:
            try:
                yield src, model_id, storage.load_raw(raw)
            except RecordError as exc:
                failures.append(f"{source} {model_id}: {exc}")
        return
    done = 0
    try:
        for src, payload in storage._nest(conn, source, rows, nest):
            yield src, rows[done][1], payload
            done += 1
    except RecordError:
        for row in rows[done:]:  # find the bad one: the rest one at a time
            try:
                ((_, payload),) = storage._nest(conn, source, [row], nest)
            except RecordError as exc:
                failures.append(f"{source} {row[1]}: {exc}")
                continue
            yield source, row[1], payload


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
