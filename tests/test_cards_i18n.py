"""Cards in en and bilingual: the zh structure line for line, with what the 2023 format lacks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scraper.cards import escape
from scraper.cards.output import render_all
from scraper.cards.render import render_card
from scraper.cli import main
from scraper.sources.civitai import parse_model
from tests.support import CARDS, reference_ids


def model(model_id: str):
    return parse_model(json.loads((CARDS / f"{model_id}.json").read_bytes()))


@pytest.mark.parametrize("lang", ["en", "bilingual"])
def test_every_reference_model_renders_with_the_zh_structure(lang: str) -> None:
    for model_id in reference_ids():
        m = model(model_id)
        zh, other = render_card(m, "zh"), render_card(m, lang)
        zh, other_head = zh.split("\n### 三、详情")[0], other.split("\n### 3. Details")[0]
        assert other_head.count("\n#### [") == zh.count("\n#### [") == len(m.versions)
        assert other_head.count("\n  - [") == zh.count("\n  - [")
        assert other_head.count("<img src=") == zh.count("<img src=")
        assert other.startswith(f"## {escape.text(m.name)}\n### 1. Overview")
        assert "\n### 3. Details" in other


def test_rich_lines_only_outside_the_reference_format() -> None:
    m = model("4717")
    en, zh = render_card(m, "en"), render_card(m, "zh")
    assert "- Trigger words: `analog style`" in en and "触发词" not in zh
    assert "· PickleTensor · 2.0 GiB · fp16 · full · scan: Success · ⚠ pickle format" in en
    assert "- License: commercial use: Image" in en
    bilingual = render_card(m, "bilingual")
    assert "- Trigger words  触发词: `analog style`" in bilingual
    assert "### 2. Downloads (versions: 4)  二、下载地址（共4个版本）" in bilingual


def test_details_markdown_converts_html_and_drops_scripts() -> None:
    m = model("5224")
    m.description = (
        '<h1 id="x">Title</h1><p onclick="steal()">Hello <strong>world</strong>'
        '<script>alert(1)</script><a href="javascript:alert(1)">x</a></p>'
    )
    card = render_card(m, "en", details="markdown")
    details = card.split("### 3. Details\n", 1)[1]
    assert details.startswith("#### Title") and "**world**" in details
    assert "script" not in details and "alert" not in details and "onclick" not in details
    assert render_card(m, "zh").endswith(m.description)  # html stays as it is by default


def test_languages_sit_side_by_side_and_renames_remove_only_their_own(tmp_path) -> None:
    m = model("4717")
    for lang in ("zh", "en", "bilingual"):
        render_all([m], tmp_path, lang)
    names = sorted(p.name for p in (tmp_path / "civitai").glob("*.md"))
    assert names == ["4717-s1dlxbrew.bilingual.md", "4717-s1dlxbrew.en.md", "4717-s1dlxbrew.md"]
    m.name = "Renamed"
    report = render_all([m], tmp_path, "en")
    assert report.removed == 1
    names = sorted(p.name for p in (tmp_path / "civitai").glob("*.md"))
    assert names == ["4717-renamed.en.md", "4717-s1dlxbrew.bilingual.md", "4717-s1dlxbrew.md"]


def test_unknown_language_is_a_usage_error() -> None:
    assert (
        CliRunner().invoke(main, ["card", str(CARDS / "4717.json"), "--lang", "fr"]).exit_code == 2
    )
