"""What index pages browse by: the groups (one per source, type, base family, task, tag,
author), their facets, and the compact JSON per group that assets/browse.js sorts and filters
in the browser.

A group's JSON holds one short row per model, `[id, downloads, likes, created, updated, type,
families, source, rating]`: id is the model's place in search/d/, dates are YYYYMMDD numbers,
type, families and source index the file's own tables, rating is 0 PG/PG-13, 1 R, 2 X and
above. So 60,000 rows stay near 2 MB; what a row shows comes from the search index's model
chunks, loaded only for the page shown.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from .. import sources
from . import glossary, pages, paths, taxonomy
from .paths import ALL, KINDS
from .summary import Summary

# kind -> key -> (raw label, ranks): 1.4 million ranks at 100,000 models, 4 bytes each
Groups = dict[str, dict[str, tuple[str, array]]]
FORMAT = 1


def groups_of(ranked: list[Summary]) -> Groups:
    """Every source, type, base family, task, tag and author with its models, most downloaded
    first."""
    groups: Groups = {kind: {} for kind in (*KINDS, ALL)}

    def add(kind: str, value: str | None, rank: int) -> None:
        if not value or not value.strip():
            return
        key = pages.group_key(value)
        entry = groups[kind].get(key)
        if entry is None:
            groups[kind][key] = entry = (value.strip(), array("i"))
        if not entry[1] or entry[1][-1] != rank:
            entry[1].append(rank)

    for rank, s in enumerate(ranked):
        add("source", s.source, rank)
        add("type", s.kind, rank)
        for family in s.families:
            add("base", family, rank)
        add("task", s.task, rank)
        for t in s.tags:
            add("tag", t, rank)
        add("author", s.creator, rank)
        add(ALL, ALL, rank)
    return groups


def label(kind: str, key: str, raw: str, lang: str) -> str:
    """A group's name in the page's language: sources and the taxonomy's types, families and
    tasks by their names, tags through the glossary (the raw tag when it has no entry)."""
    S = pages.site_labels(lang)  # noqa: N806
    if kind == "source":
        return S.get(f"source_{raw}", raw)
    if kind == "tag":
        return glossary.load().tag_name(raw, lang)
    if kind == "author":
        return raw
    if kind == ALL:
        return S.all_models
    entry = taxonomy.load().names(kind).get(key)
    return entry.name(lang) if entry else raw


Counts = dict[str, dict[str, int]]  # facet kind -> key -> models


def facet_counts(ranked: list[Summary], ranks: Sequence[int]) -> Counts:
    """How many models of one index have each type, family and source (any language)."""
    counts: Counts = {"type": {}, "base": {}, "source": {}}
    types, bases, sources = counts["type"], counts["base"], counts["source"]
    for r in ranks:
        s = ranked[r]
        types[s.kind] = types.get(s.kind, 0) + 1
        sources[s.source] = sources.get(s.source, 0) + 1
        for f in s.families:
            bases[f] = bases.get(f, 0) + 1
    return counts


def facets(counts: Counts, lang: str) -> dict[str, list[tuple]]:
    """The filter choices one index offers: (key, name, count) of each type, family and source
    among its models, most common first."""
    return {
        kind: [
            (key, label(kind, key, key, lang), n)
            for key, n in sorted(found.items(), key=lambda item: (-item[1], item[0]))
        ]
        for kind, found in counts.items()
    }


def _day(value: str | None) -> int:
    if not value or len(value) < 10:
        return 0
    digits = value[:4] + value[5:7] + value[8:10]
    return int(digits) if digits.isdigit() else 0


class Rows:
    """The compact row of each ranked model, made once and shared by every group's JSON."""

    def __init__(self, ranked: list[Summary]) -> None:
        self.types: dict[str, int] = {}
        self.bases: dict[str, int] = {}
        self.sources: dict[str, int] = {}
        self.rows: list[bytes] = []
        for rank, s in enumerate(ranked):
            families = ",".join(str(self._index(self.bases, f)) for f in s.families)
            # Written out by hand: orjson gives each small result a 4 KB buffer, 390 MB here.
            row = (
                f"[{rank},{int(s.downloads or 0)},{int(s.likes or 0)},{_day(s.created)},"
                f"{_day(s.updated)},{self._index(self.types, s.kind)},[{families}],"
                f"{self._index(self.sources, s.source)},{int(s.rating)}]"
            )
            self.rows.append(row.encode())

    @staticmethod
    def _index(table: dict[str, int], key: str) -> int:
        found = table.get(key)
        if found is None:
            table[key] = found = len(table)
        return found

    def head(self) -> bytes:
        tables = {"format": FORMAT, "types": self.types, "bases": self.bases}
        tables["sources"] = self.sources
        return orjson.dumps({k: list(v) if isinstance(v, dict) else v for k, v in tables.items()})

    def json(self, head: bytes, ranks: Sequence[int]) -> bytes:
        """{"format":1,"types":[...],"bases":[...],"sources":[...],"rows":[[...],...]}"""
        body = b",".join(self.rows[r] for r in ranks)
        return head[:-1] + b',"rows":[' + body + b"]}"


def index_files(ranked: list[Summary], groups: Groups) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every group's JSON, beside its pages: list/<kind>/<key>/index.json."""
    rows = Rows(ranked)
    head = rows.head()
    for kind in (*KINDS, ALL):
        for key, (_, ranks) in groups[kind].items():
            yield paths.group_json(kind, key), rows.json(head, ranks)


def names_json() -> bytes:
    """search/names.json: the name of every type, family, task and source in both languages,
    and the glossary, for rows and results drawn in the browser."""
    vocabulary = taxonomy.load()
    out: dict[str, Any] = {}
    for kind in ("type", "base", "task"):
        out[kind] = {k: [e.zh, e.en] for k, e in vocabulary.names(kind).items()}
    out["source"] = {}
    zh, en = pages.site_labels("zh"), pages.site_labels("en")
    for source in sources.SOURCES:
        key = f"source_{source.name}"
        out["source"][source.name] = [zh[key], en[key]] if key in zh else [source.title] * 2
    out["glossary"] = glossary.load().pairs()
    return orjson.dumps(out)
