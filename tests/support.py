"""Test data and helpers shared by the test modules: the reference pairs, recorded Hub data
(package data, since the demo serves it too)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scraper.demo.recorded import DATA as RECORDED
from scraper.demo.recorded import hf_repos, modelscope_models

DATA = Path(__file__).parent / "data"
CARDS = DATA / "civitai-cards"
FIXTURES = DATA / "fixtures"

__all__ = ["RECORDED", "hf_repos", "modelscope_models"]


def sync_command(db: Path) -> list[str]:
    """`scraper sync civitai` as its own process, for tests that kill it."""
    return [sys.executable, "-m", "scraper.cli", "sync", "civitai", "--rps", "0", "--db", str(db)]


def reference_ids() -> list[str]:
    return sorted((p.stem for p in CARDS.glob("*.json")), key=int)


def expected_card(model_id: str) -> str:
    """The reference card, less its literal None: a null description renders as nothing."""
    text = (CARDS / f"{model_id}.md").read_bytes().decode("utf-8")
    raw = json.loads((CARDS / f"{model_id}.json").read_bytes())
    if raw["description"] is None:
        assert text.endswith("\n### 三、详情\nNone")
        text = text[: -len("None")]
    return text
