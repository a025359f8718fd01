"""A fourth source (tests/fakehub.py: one file) added with one registry line: the CLI, the
crawl, the store, the cards, the run config and the redaction all know it, with no shipped
file edited. Its listing is a POST, its credential signs requests (an httpx.Auth)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper import sources
from scraper.catalog import load_models
from scraper.cli import main
from scraper.jobs.config import ConfigError, load
from tests import fakehub

KEY = "fk-" + "0123456789abcdef01234567"
MODELS = [
    {
        "id": n,
        "title": f"Fake model {n}",
        "readme": f"# Model {n}\n\nA *markdown* readme, `a<b`.",
        "tags": ["lora"] if n % 2 else ["checkpoint"],
        "author": "someone",
        "downloads": 10 * n,
        "stars": n,
        "updated": f"2026-01-0{n}T00:00:00Z",
        "file": f"model-{n}.safetensors",
    }
    for n in range(1, 6)
]


@pytest.fixture
def fake(monkeypatch) -> Iterator[fakehub.FakeHubServer]:
    with fakehub.FakeHubServer(MODELS, key=KEY) as server:
        monkeypatch.setenv("FAKEHUB_API_BASE", server.base_url)
        monkeypatch.setenv("FAKEHUB_KEY", KEY)
        sources.register(fakehub.SOURCE)  # the one registry line
        try:
            yield server
        finally:
            sources.unregister(fakehub.SOURCE.name)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_fourth_source_syncs_renders_and_exports(fake, tmp_path: Path) -> None:
    db = tmp_path / "models.db"
    synced = run("sync", "fake", "--rps", "0", "--db", str(db))
    assert synced.exit_code == 0, synced.output
    assert "fakehub: ok: 5 models (new 5," in synced.output
    pages = [r for r in fake.requests if r["path"] == "/api/search"]
    assert [r["method"] for r in pages] == ["POST"] * 3  # 2 + 2 + 1 models
    assert [r["body"]["page"] for r in pages] == ["1", "2", "3"]
    assert all(KEY not in json.dumps(r["headers"]) for r in fake.requests)  # signed, not sent
    assert {m.id for m in load_models(db)} == {"1", "2", "3", "4", "5"}
    [model] = [m for m in load_models(db) if m.id == "3"]
    assert model.description_format == "markdown" and model.stats == {"downloads": 30, "likes": 3}

    again = run("sync", "fake", "--tag", "lora", "--rps", "0", "--db", str(db))
    assert "(new 0, updated 0, counters 0, unchanged 3," in again.output, again.output
    assert fake.requests[-1]["body"] == {"size": "2", "tag": "lora", "page": "2"}

    out = tmp_path / "cards"
    rendered = run("--db", str(db), "render", "--out", str(out), "--lang", "en")
    assert rendered.exit_code == 0, rendered.output
    card = (out / "fakehub" / "3-fake-model-3.en.md").read_text(encoding="utf-8")
    assert "## Fake model 3" in card and "model-3.safetensors" in card

    exported = run("export", "fake", "4", "--db", str(db), "--lang", "en", "--rps", "0")
    assert exported.exit_code == 0, exported.output
    assert "## Fake model 4" in exported.output
    assert fake.requests[-1]["method"] == "GET" and fake.requests[-1]["path"] == "/api/models/4"


def test_a_wrong_key_is_one_line_that_never_shows_the_key(fake, monkeypatch, tmp_path) -> None:
    wrong = "fk-" + "f" * 24
    monkeypatch.setenv("FAKEHUB_KEY", wrong)
    result = run("sync", "fake", "--rps", "0", "--db", str(tmp_path / "m.db"))
    assert result.exit_code == 1
    assert "HTTP 401 bad signature" in result.output and "POST" in result.output
    assert wrong not in result.output


def test_the_run_config_takes_its_options_and_refuses_its_key_format(fake, tmp_path) -> None:
    path = tmp_path / "scraper.toml"
    path.write_text('[[sources]]\nname = "fake"\ntag = "lora"\n', encoding="utf-8")
    [entry] = load(path).sources
    assert entry.source is fakehub.SOURCE and entry.options["tag"] == "lora"
    shaped = "fk-" + "a" * 24  # its own format, not the key in the environment
    path.write_text(f'[[sources]]\nname = "fake"\ntag = "{shaped}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="looks like a token"):
        load(path)


def test_without_the_registry_line_the_source_is_unknown() -> None:
    assert all(s.name != "fakehub" for s in sources.SOURCES)
    assert run("sync", "fake", "--help").exit_code != 0
