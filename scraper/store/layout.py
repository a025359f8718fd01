"""How a source's payloads are stored, as the store is told at open: it knows layouts, not
sources (the catalog, one stage up, makes them from the registry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..records import Model


@dataclass(frozen=True, slots=True)
class Layout:
    """One source's storage: where its payload nests children, which keys are counters."""

    # (versions, files, images) keys: each object is then stored once, in its own row, and
    # put back together by the reader; None: the payload is stored whole.
    nesting: tuple[str, str, str] | None = None
    # Counters that move all the time, kept out of the content hash (a refresh, not a change).
    volatile: frozenset[str] = frozenset()
    # A payload read as a record: only migrations that fill a column from what a record says
    # (the full-text index) call it.
    parse: Callable[[Any], Model] | None = None


Layouts = Mapping[str, Layout]  # by the `source` column


def of(layouts: Layouts, source: str) -> Layout:
    """The layout of a stored source; one the caller did not describe is a bug, said plainly."""
    try:
        return layouts[source]
    except KeyError:
        raise KeyError(f"no storage layout given for source {source!r}") from None
