"""Card rules beyond the 2023 reference: today's fields, absent lines, thumbnails, file names."""

from __future__ import annotations

import copy
import json

import pytest

from scraper.cards.output import card_name, render_all
from scraper.cards.render import render_card as render
from scraper.files import slugify
from scraper.records import RecordError
from scraper.sources.civitai import model_items, parse_model, thumbnail
from tests.support import CARDS, FIXTURES


def fixture(name: str):
    return json.loads((FIXTURES / "civitai" / name).read_bytes())


def reference(model_id: str) -> dict:
    return json.loads((CARDS / f"{model_id}.json").read_bytes())


def test_null_description_renders_as_nothing() -> None:
    assert render(parse_model(reference("61016"))).endswith("### 三、详情\n")


def test_absent_fields_leave_their_lines_out() -> None:
    raw = reference("5224")
    del raw["stats"]["favoriteCount"]
    raw["stats"]["rating"] = None
    version = raw["modelVersions"][0]
    del version["baseModel"]
    del version["stats"]["ratingCount"]
    card = render(parse_model(raw))
    assert "收藏人数" not in card and "\n- 评分：" not in card
    assert "None" not in card.split("### 三、详情")[0]
    assert card.count("原始模型") == len(raw["modelVersions"]) - 1
    assert card.count("  - 评分人数") == len(raw["modelVersions"]) - 1


def test_today_list_page_shows_new_counters_and_drops_frozen_zeros() -> None:
    item = fixture("models-list-2025-page.json")["items"][0]
    card = render(parse_model(item))
    stats = item["stats"]
    assert f"- 点赞数：{stats['thumbsUpCount']}\n" in card
    assert f"- 下载数：{stats['downloadCount']}\n" in card
    # favoriteCount/ratingCount/rating were frozen at 0 in this era: unknown, not 0.
    overview = card.split("### 二、")[0]
    assert "收藏人数" not in overview and "评分" not in overview
    version = item["modelVersions"][0]
    assert "updatedAt" not in version
    assert f"  - 发布时间：{version['publishedAt']}\n" in card


def test_published_date_falls_back_to_created_at() -> None:
    raw = reference("5224")
    for version in raw["modelVersions"]:
        del version["updatedAt"]
    card = render(parse_model(raw))
    assert f"发布时间：{raw['modelVersions'][0]['createdAt']}" in card


def test_image_urls_become_450px_thumbnails() -> None:
    body = fixture("model-11821-detail-2025.json")
    card = render(parse_model(body))
    assert "original=true" not in card
    srcs = [line for line in card.splitlines() if line.startswith("| <img")]
    assert srcs and all("/width=450/" in line for line in srcs)
    assert not any("/width=1024/" in line for line in srcs)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://image.civitai.com/acc/uuid/original=true/1.jpeg",
            "https://image.civitai.com/acc/uuid/width=450/1.jpeg",
        ),
        (
            "https://image.civitai.com/acc/uuid/width=832/1.jpeg",
            "https://image.civitai.com/acc/uuid/width=450/1.jpeg",
        ),
        (
            "https://image.civitai.com/acc/uuid/width=450/1.jpeg",
            "https://image.civitai.com/acc/uuid/width=450/1.jpeg",
        ),
        (
            "https://image.civitai.com/acc/uuid/1.jpeg",
            "https://image.civitai.com/acc/uuid/width=450/1.jpeg",
        ),
        (
            "https://example.com/a/b/original=true/1.jpeg",
            "https://example.com/a/b/original=true/1.jpeg",
        ),
    ],
)
def test_thumbnail(url: str, expected: str) -> None:
    assert thumbnail(url) == expected


def test_every_fixture_era_renders() -> None:
    for name in (
        "model-1102-detail-2023.json",
        "model-1580878-detail-2025.json",
        "models-list-item-26124-2023-nsfw.json",
        "models-list-2023-page.json",
        "models-list-item-4823-2023.json",
        "models-list-2025-page.json",
    ):
        for item in model_items(fixture(name)):
            card = render(parse_model(item))
            assert card.startswith(f"## {item['name']}\n### 一、模型概述\n"), name


def test_tag_objects_of_2023_detail_bodies() -> None:
    body = fixture("model-1102-detail-2023.json")
    assert parse_model(body).tags == [t["name"] for t in body["tags"]]


def test_image_id_recovered_from_url_and_nsfw_strings_mapped() -> None:
    model = parse_model(fixture("models-list-item-26124-2023-nsfw.json"))
    images = model.versions[0].images
    assert all(i.id and i.id.isdigit() for i in images)
    assert {i.nsfw_level for i in images} <= {1, 2, 4, 8}
    assert any(i.nsfw_level and i.nsfw_level > 1 for i in images)


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"name": "x", "modelVersions": []},
        {"id": 1, "modelVersions": []},
        {"id": 1, "name": "x", "modelVersions": {}},
        {"id": 1, "name": "x", "modelVersions": [3]},
    ],
)
def test_malformed_records_raise_record_error(raw) -> None:
    with pytest.raises(RecordError):
        parse_model(raw)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Deliberate", "deliberate"),
        ("【CHECKPOINT】 MAKIMAKII", "checkpoint-makimakii"),
        ("中文名字", ""),
        ("CON", "con"),
        ("a/b\\c:d*e?f", "a-b-c-d-e-f"),
        ("Café Ñ  ", "cafe-n"),
        ("x" * 200, "x" * 60),
    ],
)
def test_slug_is_ascii_and_windows_safe(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_card_name_without_slug() -> None:
    raw = copy.deepcopy(reference("61016"))
    raw["name"] = "模型"
    assert card_name(parse_model(raw)) == "61016.md"


def test_render_rewrites_only_changed_and_follows_renames(tmp_path) -> None:
    first = parse_model(reference("4717"))
    other = parse_model(reference("5224"))
    report = render_all([first, other], tmp_path)
    assert (report.written, report.unchanged) == (2, 0)
    path = tmp_path / "civitai" / card_name(first)
    stamp = path.stat().st_mtime_ns
    report = render_all([first, other], tmp_path)
    assert (report.written, report.unchanged) == (0, 2)
    assert path.stat().st_mtime_ns == stamp
    renamed = copy.deepcopy(reference("4717"))
    renamed["name"] = "A New Name"
    report = render_all([parse_model(renamed)], tmp_path)
    assert report.written == 1 and report.removed == 1
    assert not path.exists()
    assert (tmp_path / "civitai" / "4717-a-new-name.md").exists()
    assert (tmp_path / "civitai" / card_name(other)).exists()
    assert not list((tmp_path / "civitai").glob(".*.tmp"))


def test_image_without_url_is_kept_but_not_shown() -> None:
    raw = reference("5224")
    raw["modelVersions"][0]["images"].insert(0, {"id": 1, "nsfw": "None"})
    model = parse_model(raw)
    assert model.versions[0].images[0].url == "" and model.versions[0].images[0].raw["id"] == 1
    assert render(model) == render(parse_model(reference("5224")))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (
            "AvroraPrisonerV2[torn_clothes].safetensors",
            "AvroraPrisonerV2[torn_clothes].safetensors",
        ),
        ("half]open.pt", "half\\]open.pt"),
        ("half[open.pt", "half\\[open.pt"),
        ("[x](https://evil.example).pt", "\\[x\\](https://evil.example).pt"),
    ],
)
def test_balanced_brackets_in_link_text_stay_an_unbalanced_one_is_escaped(
    tmp_path, name: str, shown: str
) -> None:
    from click.testing import CliRunner
    from markdown_it import MarkdownIt

    from scraper.cli import main

    raw = reference("4468")
    raw["modelVersions"][0]["files"][0]["name"] = name
    saved = tmp_path / "4468.json"
    saved.write_text(json.dumps(raw), encoding="utf-8")
    result = CliRunner().invoke(main, ["card", str(saved), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"  - [{shown}]("))
    tokens = MarkdownIt("commonmark").parseInline(line.strip()[2:])[0].children
    assert [t.type for t in tokens][:3] == ["link_open", "text", "link_close"]
    assert tokens[1].content == name  # the link shows the file's name as it is
