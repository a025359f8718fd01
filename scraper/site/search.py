"""A static search index that reads Chinese: built here, queried by assets/search.js.

Both sides use the same tokenizer and the same shard function, so what the index holds is
exactly what a query looks up (Pagefind's index-side and browser-side segmenters disagree and
miss pages). Chinese, Japanese and Korean text becomes characters and character bigrams;
other text becomes lower-cased words (and the parts of camelCase words). A query word matches
as a prefix, CJK exactly; all query tokens must match. One index serves both languages.

Layout under search/: meta.json (shard count, chunk size), s/<n>.json (token -> ids of the
models holding it, ascending) and d/<n>.json (the models themselves, `CHUNK` per file). Ids
are ranks by downloads, so the first ids of a match are its best results and a query reads
one shard per token and one or two model chunks.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import orjson

from . import glossary, pages, taxonomy
from .summary import Summary

FORMAT = 2  # 2: postings as gaps (first id, then differences)
CHUNK = 100  # models per d/<n>.json (a page of a sorted index reads a few)
POSTINGS_PER_SHARD = 4000  # about 20-40 KB of JSON a shard

# Must match CJK in search.js character for character.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f"
_RUN = re.compile(r"[^\W_]+")  # letters and digits: search.js uses [\p{L}\p{N}]+
_PIECE = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_IS_CJK = re.compile(f"[{_CJK}]")
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")
_ASCII_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def tokens(text: str) -> list[str]:
    """Index tokens of a text, in order, repeats kept."""
    return list(_tokens(text))


@lru_cache(maxsize=1 << 16)  # tags, authors and base models repeat across models
def _tokens(text: str) -> tuple[str, ...]:
    if text.isascii():  # the same as below for ASCII (NFKC changes nothing), 5 times faster
        out: list[str] = []
        for word in _ASCII_RUN.findall(text):
            out.append(word.lower())
            parts = _ASCII_CAMEL.split(word)
            if len(parts) > 1:
                out += [p.lower() for p in parts]
        return tuple(out)
    out = []
    for piece in _pieces(text):
        if _IS_CJK.match(piece):
            out += list(piece)
            out += [piece[i : i + 2] for i in range(len(piece) - 1)]
        else:
            out.append(piece.lower())
            parts = _camel_parts(piece)
            if len(parts) > 1:
                out += [p.lower() for p in parts]
    return tuple(out)


def query_terms(text: str) -> list[tuple[str, bool]]:
    """(token, is_prefix) a query must all match: a CJK word as its bigrams (or its one
    character), any other word as a prefix of an indexed word (exact when one character)."""
    terms: dict[tuple[str, bool], None] = {}
    for piece in _pieces(text):
        if _IS_CJK.match(piece):
            grams = (
                [piece] if len(piece) == 1 else [piece[i : i + 2] for i in range(len(piece) - 1)]
            )
            terms.update(((g, False), None) for g in grams)
        else:
            word = piece.lower()
            terms[(word, len(word) > 1)] = None
    return list(terms)


def shard_of(token: str, shards: int) -> int:
    """FNV-1a (32 bit) of the UTF-8 of the token's first character (CJK) or first two
    (other words), so every word sharing a two-letter prefix is in one shard."""
    key = token[:1] if _IS_CJK.match(token) else token[:2]
    h = 0x811C9DC5
    for byte in key.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % shards


def _pieces(text: str) -> Iterator[str]:
    for run in _RUN.findall(unicodedata.normalize("NFKC", text)):
        yield from _PIECE.findall(run)


def _camel_parts(word: str) -> list[str]:
    """'DreamShaper' -> Dream, Shaper: a cut before an upper-case letter after a lower-case one."""
    if word.isascii():
        return _ASCII_CAMEL.split(word)
    if word.islower() or word.isupper():  # no lower-case letter before an upper-case one
        return [word]
    parts, start = [], 0
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        if a != a.upper() and b != b.lower():
            parts.append(word[start:i])
            start = i
    parts.append(word[start:])
    return parts


def document_text(s: Summary) -> list[str]:
    """What a model is found by: names, tags, author, base models, trigger words, its own type
    and the normalized type, family and task names in both languages."""
    return [
        s.name,
        s.display_name or "",
        *s.tags,
        s.creator or "",
        *s.bases,
        *s.words,
        s.type or "",
        *_vocabulary_names(s.kind, tuple(s.families), s.task),
    ]


@lru_cache(maxsize=4096)
def _vocabulary_names(kind: str, families: tuple[str, ...], task: str | None) -> tuple[str, ...]:
    if kind == taxonomy.OTHER and not families:
        return ()
    names = []
    for lang in ("zh", "en"):
        table = pages.names(lang)
        names += [table["type"].get(kind, ""), *(table["base"].get(f, "") for f in families)]
        if task:
            names.append(table["task"].get(task, ""))
    return tuple(n for n in dict.fromkeys(names) if n)


def rank(summaries: Iterable[Summary]) -> list[Summary]:
    """Most downloaded first: a model's id in the index is its place here."""
    return sorted(summaries, key=lambda s: (-(s.downloads or 0), s.key))


def build(
    ranked: list[Summary], per_shard: int = POSTINGS_PER_SHARD
) -> Iterator[tuple[str, bytes]]:
    """(path under the site, bytes) of every index file for models ranked by `rank`."""
    postings: dict[str, array] = defaultdict(partial(array, "i"))
    chain = itertools.chain.from_iterable
    for doc, summary in enumerate(ranked):
        # each token once per model (the order is sorted out below)
        for token in set(chain(map(_tokens, document_text(summary)))):
            postings[token].append(doc)
    total = sum(len(p) for p in postings.values())
    shards = 1
    while shards < 4096 and shards * per_shard < total:
        shards *= 2
    grouped: list[dict[str, array]] = [{} for _ in range(shards)]
    for token in sorted(postings):
        grouped[shard_of(token, shards)][token] = postings[token]
    postings.clear()
    meta = {"format": FORMAT, "shards": shards, "chunk": CHUNK, "count": len(ranked)}
    yield "search/meta.json", _json(meta)
    for n, shard in enumerate(grouped):
        yield f"search/s/{n}.json", _shard_json(shard)
        grouped[n] = {}
    for start in range(0, len(ranked), CHUNK):
        yield (
            f"search/d/{start // CHUNK}.json",
            _json([_doc(s) for s in ranked[start : start + CHUNK]]),
        )


def _doc(s: Summary) -> list[Any]:
    """[page, name, second name, type, source, downloads, likes, updated, thumbnail, blurred,
    families, author]: what a result line or an index row shows."""
    return [
        s.page,
        s.name,
        s.display_name or "",
        s.kind,
        s.source,
        s.downloads,
        s.likes,
        s.updated or "",
        s.thumb or "",
        1 if s.thumb_blur else 0,
        s.families,
        s.creator or "",
    ]


def _shard_json(shard: dict[str, array]) -> bytes:
    """{"token":[gaps],...}: each token's ascending ids as the first id and the differences
    after it (ids of a common word are close: a third of the bytes of the ids themselves)."""
    members = (
        f"{json.dumps(token, ensure_ascii=False)}:[{docs[0]},"
        f"{','.join(map(str, map(operator.sub, docs[1:], docs[:-1])))}]"
        if len(docs) > 1
        else f"{json.dumps(token, ensure_ascii=False)}:[{docs[0]}]"
        for token, docs in shard.items()
    )
    return ("{" + ",".join(members) + "}").encode("utf-8")


def postings(gaps: list[int]) -> list[int]:
    """A shard's gaps back into ids (search.js: ids)."""
    return list(itertools.accumulate(gaps))


def _json(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: the model chunks are most of the index's bytes)."""
    return orjson.dumps(value)


Term = tuple[str, bool, bool]  # token, prefix, fuzzy (one edit allowed)
FUZZY_FROM = 5  # a word of this many letters or more may carry one typo


def query_groups(text: str, synonyms: bool = True) -> list[list[list[Term]]]:
    """A query as groups that must all match; a group matches when any of its alternatives
    does (the word and its glossary synonyms), an alternative when all its terms do. A CJK
    run is cut into glossary words (longest first) and the text between them."""
    words = glossary.load() if synonyms else None
    groups: list[list[list[Term]]] = []
    for piece in _pieces(text):
        parts = _segment(piece, words) if words and _IS_CJK.match(piece) else [piece]
        for part in parts:
            alternatives = words.synonyms(part) if words else [part]
            group = []
            for n, alt in enumerate(alternatives):
                terms = [
                    (token, prefix, n == 0 and prefix and len(token) >= FUZZY_FROM)
                    for token, prefix in query_terms(alt)
                ]
                if terms and terms not in group:
                    group.append(terms)
            if group:
                groups.append(group)
    return groups


def _segment(run: str, words: glossary.Glossary) -> list[str]:
    """Glossary words out of a CJK run, longest match first, left to right."""
    longest = words.longest
    parts: list[str] = []
    pending = ""
    i = 0
    while i < len(run):
        for size in range(min(longest, len(run) - i), 1, -1):
            if glossary.fold(run[i : i + size]) in words.index:
                if pending:
                    parts.append(pending)
                    pending = ""
                parts.append(run[i : i + size])
                i += size
                break
        else:
            pending += run[i]
            i += 1
    if pending:
        parts.append(pending)
    return parts


def near(word: str, token: str) -> bool:
    """One edit or less between `word` and some prefix of `token` (search.js: near)."""
    if len(token) < len(word) - 1:
        return False
    row = list(range(len(token) + 1))  # distances of "" to each prefix of token
    for i, a in enumerate(word, 1):
        prev, row[0] = row[0], i
        for j in range(1, len(token) + 1):
            cur = min(row[j] + 1, row[j - 1] + 1, prev + (a != token[j - 1]))
            prev, row[j] = row[j], cur
    return min(row) <= 1


def _matches(shard: dict[str, list[int]], term: Term) -> set[int]:
    token, prefix, fuzzy = term
    found: set[int] = set()
    for indexed, gaps in shard.items():
        if (
            indexed == token
            or (prefix and indexed.startswith(token))
            or (fuzzy and near(token, indexed))
        ):
            found.update(itertools.accumulate(gaps))
    return found


def match_ids(site: Path, text: str, synonyms: bool = True) -> list[int]:
    """The ids (download ranks) of every model matching `text`, best first: the search.js
    algorithm over a built site's files."""
    folder = Path(site) / "search"
    meta = json.loads((folder / "meta.json").read_bytes())
    groups = query_groups(text, synonyms)
    if not groups:
        return []
    shards: dict[int, dict[str, list[int]]] = {}
    matches: set[int] | None = None
    for group in groups:
        either: set[int] = set()
        for terms in group:
            both: set[int] | None = None
            for term in terms:
                n = shard_of(term[0], meta["shards"])
                if n not in shards:
                    shards[n] = json.loads((folder / "s" / f"{n}.json").read_bytes())
                found = _matches(shards[n], term)
                both = found if both is None else both & found
                if not both:
                    break
            either |= both or set()
        matches = either if matches is None else matches & either
        if not matches:
            return []
    return sorted(matches or ())


def query(
    site: Path, text: str, limit: int | None = None, synonyms: bool = True
) -> list[list[Any]]:
    """For tests and the command line: the matching models' [page, name, ...], best first."""
    folder = Path(site) / "search"
    meta = json.loads((folder / "meta.json").read_bytes())
    chunks: dict[int, list[list[Any]]] = {}
    results = []
    for doc in match_ids(site, text, synonyms)[:limit]:
        c = doc // meta["chunk"]
        if c not in chunks:
            chunks[c] = json.loads((folder / "d" / f"{c}.json").read_bytes())
        results.append(chunks[c][doc % meta["chunk"]])
    return results
