"""Issue 9 item 7: card file names are safe on every file system, unique, and readable."""

from __future__ import annotations

import copy
import os
import re
import stat

import pytest

from scraper.cards.output import card_name, render_all
from scraper.files import safe_stem, write_atomic
from scraper.sources.huggingface import parse_model as parse_hf
from tests.support import hf_fixture

DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)
WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def hf_model(repo_id: str, key: str | None = None):
    info = copy.deepcopy(hf_fixture("model-ti-test-blobs-2024-02.json"))
    info["id"] = info["modelId"] = repo_id
    info["_id"] = key or f"id-{repo_id}"
    return parse_hf(info)


def portable(name: str) -> bool:
    stem = name.split(".", 1)[0]
    return (
        len(name) < 200
        and not WINDOWS_BAD.search(name)
        and not DEVICE.match(stem.rstrip(" "))
        and not name.endswith((" ", "."))
        and not name.startswith(".")
    )


HOSTILE_IDS = [
    "CON",
    "con",
    "NUL.txt",
    "aux.tar.gz",
    "COM1",
    "lpt9.md",
    "owner/name. ",
    "owner/..",
    'a<b>c:d"e|f?g*h',
    "tab\there",
    "new\nline",
    "x" * 300,
    "owner/" + "y" * 250,
    "?",
    "*",
    "..",
]


@pytest.mark.parametrize("repo_id", HOSTILE_IDS)
def test_every_hostile_id_gives_a_portable_name(repo_id: str) -> None:
    for lang in ("zh", "en", "bilingual"):
        name = card_name(hf_model(repo_id), lang)
        assert portable(name), (repo_id, name)


def test_names_never_collide_even_ignoring_case() -> None:
    ids = [*HOSTILE_IDS, "Owner/Model?", "owner/model*", "owner--name", "owner/name", "a/B", "a/b_"]
    names = [card_name(hf_model(i), "en").lower() for i in ids]
    assert len(set(names)) == len(names), names


def test_plain_ids_keep_their_readable_names() -> None:
    assert card_name(hf_model("stabilityai/sdxl-turbo")) == "stabilityai--sdxl-turbo.md"
    assert safe_stem("4717-s1dlxbrew", "civitai:4717") == "4717-s1dlxbrew"


def test_a_changed_name_carries_a_stable_hash_of_the_id() -> None:
    first = card_name(hf_model("CON"))
    assert first == card_name(hf_model("CON")) and re.fullmatch(r"CON_-[0-9a-f]{8}\.md", first)


def test_300_character_id_renders_instead_of_failing(tmp_path) -> None:
    report = render_all([hf_model("x" * 300)], tmp_path, "en")
    assert report.written == 1 and report.failed == []


def test_cards_follow_the_umask(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "card.md"
        assert write_atomic(path, "text")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["card.md"]
