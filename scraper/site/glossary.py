"""The zh <-> en glossary (templates/site/glossary.toml): query words expanded both ways, and
tags named in the page's language. search.js reads the same entries from search/names.json."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path


def fold(word: str) -> str:
    """How words are compared: NFKC, lower-cased, trimmed (search.js does the same)."""
    return unicodedata.normalize("NFKC", word).strip().lower()


@dataclass(frozen=True)
class Glossary:
    terms: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (zh words, en words)
    index: dict[str, int]  # folded word -> its term
    longest: int = 1  # characters of the longest word (CJK runs are cut into words)

    def synonyms(self, word: str) -> list[str]:
        """The word and every word of its entry (just the word when it has none)."""
        found = self.index.get(fold(word))
        if found is None:
            return [word]
        zh, en = self.terms[found]
        return list(dict.fromkeys([word, *zh, *en]))

    def tag_name(self, tag: str, lang: str) -> str:
        """A tag in the page's language: its entry's first word in that language, else as is."""
        found = self.index.get(fold(tag))
        if found is None:
            return tag
        zh, en = self.terms[found]
        words = zh if lang == "zh" else en
        if fold(tag) in (fold(w) for w in words):
            return tag
        other = en if lang == "zh" else zh
        return words[0] if fold(tag) == fold(other[0]) else f"{words[0]} ({tag})"

    def pairs(self) -> list[list[list[str]]]:
        return [[list(zh), list(en)] for zh, en in self.terms]


@cache
def load() -> Glossary:
    folder = Path(str(resources.files("scraper.templates"))) / "site"
    data = tomllib.loads((folder / "glossary.toml").read_text(encoding="utf-8"))
    terms = tuple(
        (tuple(t["zh"]), tuple(t["en"])) for t in data["term"] if t.get("zh") and t.get("en")
    )
    index: dict[str, int] = {}
    for n, (zh, en) in enumerate(terms):
        for word in (*zh, *en):
            index.setdefault(fold(word), n)
    return Glossary(terms, index, max((len(w) for w in index), default=1))
