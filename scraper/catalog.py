"""The catalog: stored payloads read as records, once per read, for cards, the site and search.

The one module between the store, which knows storage layouts, and the sources, which know
payloads: it gives the store each source's layout at open and parses what the store returns.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import sources
from .records import Model, RecordError
from .store import Layout, Snapshot, Store
from .store import snapshot as _snapshot
from .store.reader import iter_payloads

Key = tuple[str, str]  # (source, model id)


def layouts() -> dict[str, Layout]:
    """Each registered source's storage layout, by its stored name (read at each open, so a
    source registered later is known)."""
    return {
        s.name: Layout(nesting=s.nesting, volatile=frozenset(s.volatile), parse=s.parse)
        for s in sources.SOURCES
    }


def open_store(path: Path | str) -> Store:
    """The database open for writing, told how every source's payloads are stored."""
    return Store(path, layouts())


def parse(source: str, payload: Any) -> Model:
    """A stored payload (or the RecordError it is instead) as its source's record."""
    if isinstance(payload, RecordError):
        raise payload
    return sources.get(source).parse(payload)


def records(
    payloads: Iterable[tuple[str, str, Any]], failures: list[str] | None = None
) -> Iterator[Model]:
    """Payloads as records; one that no longer parses, whatever the reason, is named in
    `failures` (when given) and skipped, else raised."""
    for source, model_id, payload in payloads:
        try:
            yield parse(source, payload)
        except Exception as exc:  # one unreadable row must not stop the others
            if failures is None:
                raise
            failures.append(f"{source} {model_id}: {exc}")


class Reading:
    """A read snapshot of the database, its payloads read as records."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def models(
        self,
        source: str | None = None,
        failures: list[str] | None = None,
        keys: list[Key] | None = None,
    ) -> Iterator[Model]:
        """The stored models of `source` (or all, or just `keys`) as records, in id order."""
        yield from records(self.snap.payloads(source, keys), failures)


@contextlib.contextmanager
def snapshot(path: Path) -> Iterator[Reading]:
    """The database read-only, in one read transaction for the block."""
    with _snapshot(Path(path), layouts()) as snap:
        yield Reading(snap)


def load_models(
    path: Path, source: str | None = None, failures: list[str] | None = None
) -> Iterator[Model]:
    """Every stored model of `source` (or all) as a record, in id order, all read from one
    snapshot so a sync running meanwhile is seen wholly or not at all."""
    with snapshot(path) as reading:
        yield from reading.models(source, failures)


def read(conn: sqlite3.Connection, keys: Iterable[Key], failures: list[str]) -> Iterator[Model]:
    """The models named by `keys` on an open read-only connection, as records, children in
    place and removed versions left out; one that cannot be read is named in `failures`."""
    yield from records(iter_payloads(conn, layouts(), keys=sorted(keys)), failures)


def stored_models(conn: sqlite3.Connection, source: str, ids: list[str]) -> dict[str, Model]:
    """The stored models of `source` by id, as records (deleted ones too: their last good
    data); one that no longer parses is left out."""
    found: dict[str, Model] = {}
    keys = [(source, i) for i in sorted(ids)]
    for _, model_id, payload in iter_payloads(conn, layouts(), keys=keys):
        try:
            found[model_id] = parse(source, payload)
        except Exception:  # an unreadable row: the card waits for a fresh fetch
            continue
    return found
