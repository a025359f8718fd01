"""The guide's model list: the curated collection file joined with the catalog's live data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..render import human_size
from ..sanitize import safe_url
from .pages import templates_dir
from .summary import Summary

COLLECTION = "collection.toml"


@dataclass(frozen=True)
class Entry:
    source: str
    id: str
    name: str
    url: str | None
    notes: dict[str, str]


@dataclass(frozen=True)
class Group:
    key: str
    titles: dict[str, str]
    entries: tuple[Entry, ...]


@cache
def collection(path: Path | None = None) -> tuple[Group, ...]:
    """The curated list, in file order; ids compare without case (Hub ids ignore it)."""
    data = tomllib.loads((path or templates_dir() / COLLECTION).read_text(encoding="utf-8"))
    groups = []
    for group in data.get("group", []):
        entries = tuple(
            Entry(
                source=str(e["source"]),
                id=str(e["id"]),
                name=str(e.get("name") or e["id"]),
                url=safe_url(e.get("url")),
                notes={"zh": str(e.get("zh", "")), "en": str(e.get("en", ""))},
            )
            for e in group.get("model", [])
        )
        titles = {"zh": str(group.get("zh", "")), "en": str(group.get("en", ""))}
        groups.append(Group(str(group["key"]), titles, entries))
    return tuple(groups)


def lookup_key(source: str, ref: str) -> tuple[str, str]:
    return source, ref.lower()


def joined(
    groups: tuple[Group, ...], live: dict[tuple[str, str], Summary], lang: str, labels: Any
) -> list[dict[str, Any]]:
    """Each group's entries with the catalog's summary (or None: not yet synced) and the
    latest version's main file as a link with its format and size."""
    out = []
    for group in groups:
        entries = []
        for e in group.entries:
            s = live.get(lookup_key(e.source, e.id))
            entries.append(
                {
                    "name": e.name,
                    "url": e.url,
                    "note": e.notes.get(lang, ""),
                    "live": s,
                    "file": _file(s, labels) if s else None,
                }
            )
        out.append({"key": group.key, "title": group.titles.get(lang, ""), "entries": entries})
    return out


def _file(s: Summary, labels: Any) -> dict[str, Any] | None:
    if not s.file:
        return None
    name, url, fmt, size_kb = s.file
    facts = [fact for fact in (fmt, human_size(size_kb)) if fact]
    text = "".join(f" · {fact}" for fact in facts)
    if fmt == "PickleTensor":
        text += f" · {labels['pickle']}"
    return {"name": name, "href": safe_url(url), "facts": text}
