"""Shared fixtures: the reference pairs and a real local Civitai server, never the internet."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scraper.fakeapi import FakeCivitai, Faults, load_models

DATA = Path(__file__).parent / "data"
CARDS = DATA / "civitai-cards"
FIXTURES = DATA / "fixtures"


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


@pytest.fixture(scope="session")
def reference_models() -> list[dict]:
    return load_models(CARDS)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reaches a real API, waits for real backoff or writes outside tmp_path."""
    monkeypatch.setenv("CIVITAI_API_BASE", "http://127.0.0.1:9/api/v1")
    monkeypatch.setenv("SCRAPER_BACKOFF", "0.01")
    monkeypatch.setenv("SCRAPER_DB", str(tmp_path / "models.db"))
    monkeypatch.delenv("CIVITAI_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch):
    """Start a FakeCivitai and point CIVITAI_API_BASE at it."""
    servers: list[FakeCivitai] = []

    def start(
        models: list[dict], page_size: int = 100, faults: Faults | None = None
    ) -> FakeCivitai:
        server = FakeCivitai(models, page_size=page_size, faults=faults).start()
        servers.append(server)
        monkeypatch.setenv("CIVITAI_API_BASE", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()
