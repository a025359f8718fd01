"""Search that reads Chinese: the tokenizer, and recall over a built site's shards with the
same algorithm search.js runs (the browser test runs search.js itself)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from scraper.site import paths, search
from scraper.site.chart import downloads_svg
from tests.sitedata import DECOYS, EN_WORDS, ZH_WORDS


def test_tokens_bigrams_for_cjk_words_for_the_rest() -> None:
    assert search.tokens("国风人像") == [
        *("国", "风", "人", "像"),
        *("国风", "风人", "人像"),
    ]
    assert search.tokens("DreamShaper v2.1") == ["dreamshaper", "dream", "shaper", "v2", "1"]
    assert search.tokens("ＳＤＸＬ　ｌｏｒａ") == ["sdxl", "lora"]  # full-width, NFKC
    assert search.tokens("black_dresss, アニメ塗り") == [
        *("black", "dresss"),
        *("ア", "ニ", "メ", "塗", "り", "アニ", "ニメ", "メ塗", "塗り"),
    ]
    assert search.tokens("<script>alert(1)</script>") == ["script", "alert", "1", "script"]
    assert search.tokens("") == []


def test_query_terms() -> None:
    assert search.query_terms("人像") == [("人像", False)]
    assert search.query_terms("猫") == [("猫", False)]
    assert search.query_terms("水墨山水 Dream") == [
        ("水墨", False),
        ("墨山", False),
        ("山水", False),
        ("dream", True),
    ]
    assert search.query_terms("v 1") == [("v", False), ("1", False)]


def test_shards_are_many_and_a_word_lives_in_one(site: Path) -> None:
    meta = json.loads((site / "search/meta.json").read_bytes())
    assert meta["shards"] >= 8
    files = list((site / "search/s").glob("*.json"))
    assert len(files) == meta["shards"]
    holders = [f.name for f in files if "人像" in json.loads(f.read_bytes())]
    assert holders == [f"{search.shard_of('人像', meta['shards'])}.json"]


def catalog_texts(db: Path) -> dict[str, list[str]]:
    """Page of every live model -> its name and tags, straight from the database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT m.source, m.id, m.name, group_concat(t.tag, char(31)) FROM models m "
            "LEFT JOIN tags t ON t.source = m.source AND t.model_id = m.id "
            "WHERE m.deleted_at IS NULL GROUP BY m.source, m.id"
        ).fetchall()
    return {
        paths.model_page(s, i, name if s != "civitai" else None): [
            name,
            *(tags.split("\x1f") if tags else []),
        ]
        for s, i, name, tags in rows
    }


@pytest.mark.parametrize("word", [*ZH_WORDS, "人", "像素", "焦茶", "新垣結衣", "アニメ"])
def test_recall_chinese(site: Path, catalog: Path, word: str) -> None:
    """Every model whose name or tags contain the word is found."""
    expected = {
        page for page, texts in catalog_texts(catalog).items() if any(word in t for t in texts)
    }
    found = {r[0] for r in search.query(site, word)}
    assert expected, word
    assert expected <= found, sorted(expected - found)


def test_two_character_words_match_only_where_they_occur(site: Path, catalog: Path) -> None:
    """A bigram is exact: 人物像素 holds 人 and 像 but not 人像 (glossary synonyms aside)."""
    texts = catalog_texts(catalog)
    for word in ("人像", "国风"):
        for page, *_ in search.query(site, word, synonyms=False):
            joined = " ".join(texts[page]) + " ".join(_more_text(catalog, page))
            assert word in joined, (word, page)
    assert any("人物像素" in t for ts in texts.values() for t in ts) and DECOYS


def _more_text(db: Path, page: str) -> list[str]:
    source, stem = page.split("/")[1], page.split("/")[2].removesuffix(".html")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT coalesce(creator, ''), coalesce(type, '') FROM models "
            "WHERE source = ? AND id = ?",
            [source, stem],
        ).fetchall()
        words = conn.execute(
            "SELECT coalesce(base_model, ''), coalesce(trained_words, '') FROM versions "
            "WHERE source = ? AND model_id = ?",
            [source, stem],
        ).fetchall()
    return [x for row in rows + words for x in row]


@pytest.mark.parametrize("word", [*EN_WORDS, "Counterfeit", "lora", "negative", "sdxl", "SD"])
def test_recall_english_words_and_prefixes(site: Path, catalog: Path, word: str) -> None:
    """Every model with a word starting with the query (any case) in its name or tags."""
    start = re.compile(r"(?<![a-z0-9])" + re.escape(word.lower()))
    expected = {
        page
        for page, texts in catalog_texts(catalog).items()
        if any(start.search(t.lower()) for t in texts)
    }
    found = {r[0] for r in search.query(site, word)}
    assert expected, word
    assert expected <= found, sorted(expected - found)


def test_results_rank_by_downloads_and_carry_both_names(site: Path) -> None:
    results = search.query(site, "卡通")
    assert results[0][:3] == [
        paths.model_page("modelscope", "1000", "damo/cv_cartoon_stable_diffusion_design"),
        "damo/cv_cartoon_stable_diffusion_design",
        "卡通系列文生图模型-插画风",
    ]
    ranked = search.query(site, "lora")
    downloads = [r[5] or 0 for r in ranked]
    assert len(ranked) > 20 and downloads == sorted(downloads, reverse=True)


def test_words_from_every_field_are_found(site: Path) -> None:
    def pages(q: str) -> set[str]:
        return {r[0] for r in search.query(site, q)}

    assert "models/civitai/4468.html" in pages("rqdwdw")  # author
    assert "models/civitai/4468.html" in pages("girl")  # trigger word
    assert "models/civitai/990001.html" in pages("hostileword")
    ms = paths.model_page("modelscope", "1000", "damo/cv_cartoon_stable_diffusion_design")
    assert ms in pages("damo")
    assert pages("SD 2.1 768")  # base model
    assert pages("definitely-not-a-word-here") == set()
    assert pages("   ") == set()


def test_chart_needs_two_snapshots_and_escapes_its_label() -> None:
    assert downloads_svg([], "x") is None
    assert downloads_svg([("2024-01-01T00:00:00Z", 5)], "x") is None
    svg = downloads_svg(
        [("2024-01-01T00:00:00Z", 5), ("2024-02-01T00:00:00Z", 50), ("2024-03-01T00:00:00Z", 80)],
        "<script>x</script>",
    )
    assert svg is not None and "<script>" not in svg and "&lt;script&gt;" in svg
    points = re.search(r'points="([^"]+)"', svg)[1].split()
    assert len(points) == 3
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] > ys[1] > ys[2]  # more downloads: higher on the chart
    many = downloads_svg([(f"2024-01-01T00:00:{i % 60:02d}Z", i) for i in range(1000)], "m")
    assert len(re.search(r'points="([^"]+)"', many)[1].split()) <= 240
