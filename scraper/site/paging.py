"""Where an index's pages break, kept from build to build.

An index lists its models most downloaded first. Cut into even pages afresh each time, a model
whose downloads grow moves every model between its old and new place, so every page between
them changes: at 100,000 models a 1% change of counters rewrote 1.7 GB of index pages. Here
each page starts at a boundary, the sort key of the model that opened it, kept in the
manifest; a model that moves changes only the page it leaves and the page it enters, and the
order across pages is still exactly by downloads. Pages drift in size: one under half a page
joins the next, one over two pages is split evenly.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from .summary import Summary

PAGE_SIZE = 100  # rows of a page cut afresh

SortKey = tuple[int, str]


def sort_key(s: Summary) -> SortKey:
    """The order of every index (search.rank's): most downloaded first, then by key."""
    return (-(s.downloads or 0), s.key)


class Paging:
    """The pages of each index of one build: from the last build's boundaries where they
    still make pages of a fair size, cut afresh where there were none."""

    def __init__(
        self, ranked: list[Summary], previous: dict[str, Any], size: int = PAGE_SIZE
    ) -> None:
        self.keys = [sort_key(s) for s in ranked]  # ascending: ranked is in this order
        self.previous = previous if isinstance(previous, dict) else {}
        self.size = size
        self.kept: dict[str, list[list[Any]]] = {}  # index -> boundaries, for the manifest
        self._made: dict[str, list[Sequence[int]]] = {}

    def pages(self, kind: str, key: str, ranks: Sequence[int]) -> list[Sequence[int]]:
        """The ranks on each page of one index (ranks: its models, ascending)."""
        name = f"{kind}/{key}"
        made = self._made.get(name)
        if made is None:
            starts = repage(self._starts(self.previous.get(name), ranks), len(ranks), self.size)
            if len(starts) > 1:
                self.kept[name] = [list(self.keys[ranks[s]]) for s in starts[1:]]
            ends = [*starts[1:], len(ranks)]
            self._made[name] = made = [ranks[a:b] for a, b in zip(starts, ends, strict=True)]
        return made

    def _starts(self, boundaries: Any, ranks: Sequence[int]) -> list[int]:
        """Where the last build's boundaries fall among this index's models now."""
        if not isinstance(boundaries, list):
            return list(range(0, max(1, len(ranks)), self.size))
        starts = {0}
        for boundary in boundaries:
            if not (
                isinstance(boundary, list)
                and len(boundary) == 2
                and isinstance(boundary[0], int)
                and isinstance(boundary[1], str)
            ):
                return list(range(0, max(1, len(ranks)), self.size))  # not ours: cut afresh
            at = bisect.bisect_left(self.keys, (boundary[0], boundary[1]))
            start = bisect.bisect_left(ranks, at)
            if start < len(ranks):
                starts.add(start)
        return sorted(starts)


def repage(starts: list[int], total: int, size: int) -> list[int]:
    """Page starts with every page but the last at least half a page and none over two: a
    small page joins the next one, a large one is split evenly."""
    if total <= 0:
        return [0]
    sizes = [b - a for a, b in zip(starts, [*starts[1:], total], strict=True)]
    merged: list[int] = []
    for n in sizes:
        if n <= 0:
            continue
        if merged and merged[-1] < size // 2:
            merged[-1] += n
        else:
            merged.append(n)
    fair: list[int] = []
    for n in merged:
        if n > 2 * size:
            parts = -(-n // size)
            fair += [n // parts + (1 if i < n % parts else 0) for i in range(parts)]
        else:
            fair.append(n)
    if len(fair) > 1 and fair[-1] < size // 2 and fair[-2] + fair[-1] <= 2 * size:
        last = fair.pop()  # a short last page is only worth it after a full one
        fair[-1] += last
    out, at = [], 0
    for n in fair:
        out.append(at)
        at += n
    return out


def pager_numbers(number: int, count: int) -> list[int]:
    """The page links a pager shows: first, last, and two either side of this one."""
    return sorted({1, count, *range(max(1, number - 2), min(count, number + 2) + 1)})
