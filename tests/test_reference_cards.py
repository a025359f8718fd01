"""Every reference pair, byte for byte: straight from JSON, and synced through SQLite."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scraper.cards.output import card_name
from scraper.cards.render import render_card
from scraper.cli import main
from scraper.sources.civitai import parse_model
from tests.support import CARDS, expected_card, reference_ids

IDS = reference_ids()


def test_all_pairs_present() -> None:
    assert len(IDS) == 122


@pytest.mark.parametrize("model_id", IDS)
def test_card_from_json(model_id: str) -> None:
    raw = json.loads((CARDS / f"{model_id}.json").read_bytes())
    assert render_card(parse_model(raw)) == expected_card(model_id)


def test_cards_through_database(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models, page_size=7)
    runner = CliRunner()
    result = runner.invoke(main, ["sync", "civitai", "--rps", "0"])
    assert result.exit_code == 0, result.output
    pages = [r for r in server.requests if r["path"].endswith("/models")]
    assert len(pages) == -(-122 // 7)
    result = runner.invoke(main, ["render", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "civitai"
    assert len(list(folder.glob("*.md"))) == 122
    for raw in reference_models:
        path = folder / card_name(parse_model(raw))
        assert path.read_bytes().decode("utf-8") == expected_card(str(raw["id"])), path.name


def test_card_command_matches_reference(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["card", str(CARDS), "--out", str(tmp_path / "cards")])
    assert result.exit_code == 0, result.output
    for model_id in IDS:
        got = (tmp_path / "cards" / f"{model_id}.md").read_bytes().decode("utf-8")
        assert got == expected_card(model_id), model_id
