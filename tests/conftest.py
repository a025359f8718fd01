"""Shared fixtures: the reference pairs and a real local Civitai server, never the internet."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.demo.civitai import FakeCivitai, read_models
from scraper.demo.server import Faults
from tests.support import CARDS


@pytest.fixture(scope="session")
def reference_models() -> list[dict]:
    return read_models(CARDS)


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


@pytest.fixture
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site tests' catalog, made once per session (tests.sitedata)."""
    from tests.sitedata import shared_catalog

    return shared_catalog(tmp_path_factory)


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from that catalog, once per session."""
    from tests.sitedata import shared_site

    return shared_site(tmp_path_factory)
