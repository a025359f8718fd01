"""One vocabulary across sources (templates/site/taxonomy.toml): a normalized type, base-model
family and task for every model, and which tags are machine tags that never reach a tag list.

The rules are data; this module only applies them, so a new source or a new base model is a
line in the data file, not code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

OTHER = "other"
_BASE_TAG = re.compile(r"base_model:(?:(?:adapter|finetune|merge|quantized):)?(.+)", re.I)


@dataclass(frozen=True)
class Entry:
    key: str
    en: str
    zh: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, eq=False)  # hashed by identity: one per process (load)
class Taxonomy:
    types: tuple[Entry, ...]
    type_values: dict[str, str]  # a source's own type, lower-cased -> key
    type_tags: tuple[tuple[str, str], ...]  # (tag or prefix ending ':', key), in order
    families: tuple[Entry, ...]
    family_rules: tuple[tuple[re.Pattern[str], str], ...]
    tasks: dict[str, Entry]
    task_values: dict[str, str]
    hidden: frozenset[str]
    hidden_prefixes: tuple[str, ...]

    def names(self, kind: str) -> dict[str, Entry]:
        listed = {"type": self.types, "base": self.families}.get(kind)
        return {e.key: e for e in listed} if listed is not None else dict(self.tasks)

    def type_of(self, raw_type: str | None, tags: Iterable[str]) -> str:
        """The model's own type if the data file knows it, else the first type its tags mark."""
        for part in (raw_type or "").split(", "):
            key = self.type_values.get(part.strip().lower())
            if key:
                return key
        lowered = [t.strip().lower() for t in tags]
        for mark, key in self.type_tags:
            for tag in lowered:
                if tag == mark or (mark.endswith(":") and tag.startswith(mark)):
                    return key
        return OTHER

    def task_of(self, raw_type: str | None, tags: Iterable[str]) -> str | None:
        """The task (pipeline) a model performs: its type when that names a task, else a tag."""
        for value in [*(raw_type or "").split(", "), *tags]:
            key = self.task_values.get(value.strip().lower())
            if key:
                return key
        return None

    def visible_tags(self, tags: Iterable[str]) -> list[str]:
        """Tags people gave, without machine tags and tasks (facets of their own)."""
        shown = []
        for tag in tags:
            low = tag.strip().lower()
            if (
                not low
                or low in self.hidden
                or low in self.task_values
                or low.startswith(self.hidden_prefixes)
            ):
                continue
            shown.append(tag.strip())
        return list(dict.fromkeys(shown))

    def family_of(self, raw: str) -> str | None:
        """The family a raw base-model value names, None when no rule knows it."""
        return _family(self, raw.strip().lower())


@lru_cache(maxsize=1 << 14)
def _family(taxonomy: Taxonomy, low: str) -> str | None:
    if low == OTHER:
        return OTHER
    for pattern, key in taxonomy.family_rules:
        if pattern.search(low):
            return key
    return None


def bases_from_tags(tags: Iterable[str]) -> list[str]:
    """Base models named by `base_model:[adapter:|finetune:|merge:|quantized:]<repo>` tags."""
    found = (_BASE_TAG.fullmatch(t.strip()) for t in tags)
    return list(dict.fromkeys(m[1] for m in found if m))


@cache
def load() -> Taxonomy:
    folder = Path(str(resources.files("scraper.templates"))) / "site"
    data = tomllib.loads((folder / "taxonomy.toml").read_text(encoding="utf-8"))
    return parse(data)


def parse(data: dict[str, Any]) -> Taxonomy:
    types = tuple(Entry(t["key"], t["en"], t["zh"]) for t in data["type"])
    families = tuple(Entry(f["key"], f["en"], f["zh"]) for f in data["family"])
    tasks = {t["key"]: Entry(t["key"], t["en"], t["zh"]) for t in data["task"]}
    task_values = {k: k for k in tasks}
    for t in data["task"]:
        task_values.update({v.lower(): t["key"] for v in t.get("values", [])})
    return Taxonomy(
        types=types,
        type_values={v.lower(): t["key"] for t in data["type"] for v in t["values"]},
        type_tags=tuple((tag.lower(), t["key"]) for t in data["type"] for tag in t["tags"]),
        families=families,
        family_rules=tuple(
            (re.compile(rule), f["key"]) for f in data["family"] for rule in f["match"]
        ),
        tasks=tasks,
        task_values=task_values,
        hidden=frozenset(t.lower() for t in data["tags"]["hidden"]),
        hidden_prefixes=tuple(p.lower() for p in data["tags"]["hidden_prefixes"]),
    )


def assign_families(summaries: Iterable[Any]) -> None:
    """Set `families` on every summary (see resolve_families)."""
    listed = list(summaries)
    refs: dict[str, list[str]] = {}
    for s in listed:
        refs.setdefault(s.ref.lower(), []).extend(s.bases)
    families = resolve_families(refs)
    for s in listed:
        s.families = families.get(s.ref.lower(), [])


def resolve_families(refs: dict[str, list[str]]) -> dict[str, list[str]]:
    """Families of every model from its raw base values (`refs`: model ref, lower-cased ->
    raw bases). A value no rule knows but that names a model of the catalog takes that
    model's families (adapter of a fine-tune of SDXL -> SDXL), chains followed, loops cut."""
    taxonomy = load()
    done: dict[str, list[str]] = {}

    def of(ref: str, seen: frozenset[str]) -> list[str]:
        if ref in done:
            return done[ref]
        found: dict[str, None] = {}
        if not refs.get(ref):  # a base model itself: its own name may say its family
            own = taxonomy.family_of(ref)
            return [own] if own and own != OTHER else []
        for raw in refs.get(ref, ()):
            key = taxonomy.family_of(raw)
            if key is None:
                low = raw.strip().lower()
                key_list = of(low, seen | {ref}) if low in refs and low not in seen else []
                found.update(dict.fromkeys(key_list or [OTHER]))
            else:
                found[key] = None
        if len(found) > 1:
            found.pop(OTHER, None)
        result = list(found)
        if not seen:
            done[ref] = result
        return result

    return {ref: of(ref, frozenset()) for ref in refs}
