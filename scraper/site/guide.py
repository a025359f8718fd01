"""The guide's model list: the curated collection file joined with the catalog's live data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..cards.render import human_size
from ..records import File, Model
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
    file: str | None = None  # the file the guide recommends, by its name in the repository


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
                file=str(e["file"]) if e.get("file") else None,
            )
            for e in group.get("model", [])
        )
        titles = {"zh": str(group.get("zh", "")), "en": str(group.get("en", ""))}
        groups.append(Group(str(group["key"]), titles, entries))
    return tuple(groups)


def lookup_key(source: str, ref: str) -> tuple[str, str]:
    return source, ref.lower()


def wanted(groups: tuple[Group, ...], live: dict[tuple[str, str], Summary]) -> list[Summary]:
    """The catalog's summaries of the collection's models (those it holds)."""
    found = (live.get(lookup_key(e.source, e.id)) for g in groups for e in g.entries)
    return [s for s in found if s is not None]


def named_files(
    groups: tuple[Group, ...], live: dict[tuple[str, str], Summary]
) -> dict[tuple[str, str], str]:
    """The file each held collection model's entry names, by (source, stored id)."""
    named = {}
    for e in (e for g in groups for e in g.entries if e.file):
        if (s := live.get(lookup_key(e.source, e.id))) is not None:
            named[(s.source, s.id)] = e.file
    return named


def facts(model: Model, named: str | None = None) -> dict[str, Any]:
    """What the guide shows of a model beyond its summary: the latest version and its file."""
    latest = model.versions[0] if model.versions else None
    main = recommended(latest.files, named) if latest else None
    return {
        "version": latest.name if latest else None,
        "file": None
        if main is None
        else {
            "name": main.name,
            "href": safe_url(main.url),
            "format": main.format,
            "size": human_size(main.size_kb),
        },
    }


def recommended(files: list[File], named: str | None = None) -> File | None:
    """The one file to download: the one the guide names; else the source's primary file;
    else a single-file checkpoint at the top of the repository, fp16 safetensors first, then
    the smallest safetensors, then another weight format. Never a component of a diffusers
    folder (`unet/`, `safety_checker/`): such a repo gets a link to the repo, not a file."""
    if named:
        for f in files:
            if f.name.lower() == named.lower():
                return f
    for f in files:
        if f.primary:
            return f
    top = [f for f in files if "/" not in f.name and f.format]
    safe = [f for f in top if f.format == "SafeTensor"]
    half = [f for f in safe if f.precision == "fp16" or "fp16" in f.name.lower()]
    for group in (half, safe, top):
        if group:
            return min(group, key=lambda f: (f.size_kb is None, f.size_kb or 0))
    return None


def joined(
    groups: tuple[Group, ...],
    live: dict[tuple[str, str], Summary],
    known: dict[str, dict[str, Any]],
    lang: str,
    labels: Any,
) -> list[dict[str, Any]]:
    """Each group's entries with the catalog's summary (or None: not yet synced), the latest
    version and its main file as a link with its format and size."""
    out = []
    for group in groups:
        entries = []
        for e in group.entries:
            s = live.get(lookup_key(e.source, e.id))
            more = known.get(s.key, {}) if s else {}
            entries.append(
                {
                    "name": e.name,
                    "url": e.url,
                    "note": e.notes.get(lang, ""),
                    "live": s,
                    "version": more.get("version"),
                    "file": _file(more.get("file"), labels),
                }
            )
        out.append({"key": group.key, "title": group.titles.get(lang, ""), "entries": entries})
    return out


def _file(file: dict[str, Any] | None, labels: Any) -> dict[str, Any] | None:
    if not file:
        return None
    text = "".join(f" · {fact}" for fact in (file["format"], file["size"]) if fact)
    if file["format"] == "PickleTensor":
        text += f" · {labels['pickle']}"
    return {"name": file["name"], "href": file["href"], "facts": text}
