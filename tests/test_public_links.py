"""Cards and pages link to each source's public web host: `public_url` in the run config or
HF_PUBLIC_URL / MODELSCOPE_PUBLIC_URL, by default the configured endpoint (a mirror keeps its
links); the demo leaves nothing pointing at its short-lived local servers; a stored payload
parses the same whatever the environment says (parsers are pure)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from tests.support import hf_repos

REPO = "lora-maker/lora-00"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def hub(monkeypatch):
    infos, readmes = hf_repos(loras=2)
    readmes[REPO] = "# A card\n\n![sample](images/a.png)\n"
    with FakeHuggingFace(infos, readmes=readmes) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        monkeypatch.delenv("HF_PUBLIC_URL", raising=False)
        yield server


def test_the_demo_leaves_no_link_to_its_local_servers(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    written = [p for p in out.rglob("*") if p.suffix in (".md", ".html", ".json", ".js")]
    cards = [p for p in written if p.suffix == ".md"]
    pages = [p for p in written if p.suffix == ".html"]
    assert len(cards) > 100 and len(pages) > 40
    local = re.compile(r"127\.0\.0\.1|localhost|\[::1\]")
    leaks = [str(p) for p in written if local.search(p.read_text(encoding="utf-8"))]
    assert leaks == []
    hf_cards = "".join(p.read_text(encoding="utf-8") for p in (out / "huggingface").glob("*.md"))
    assert "https://huggingface.co/stabilityai/sdxl-turbo" in hf_cards
    ms_cards = "".join(p.read_text(encoding="utf-8") for p in (out / "modelscope").glob("*.md"))
    assert "https://modelscope.cn/api/v1/models/damo/" in ms_cards


def test_by_default_links_go_to_the_configured_endpoint_a_mirror_keeps_its_own(hub) -> None:
    result = run("export", "hf", REPO, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert f"{hub.base_url}/{REPO}/resolve/" in result.output  # the mirror's files


def test_public_url_in_the_run_config_sets_the_links(hub, tmp_path: Path) -> None:
    config = tmp_path / "scraper.toml"
    config.write_text(
        'db = "models.db"\nout = "cards"\nlanguages = ["en"]\n\n'
        '[[sources]]\nname = "hf"\nsearch = "lora-00"\nrps = 0\n'
        'public_url = "https://hf-mirror.com"\n',
        encoding="utf-8",
    )
    result = run("run", "--config", str(config))
    assert result.exit_code == 0, result.output
    [card] = (tmp_path / "cards" / "huggingface").glob("*.en.md")
    text = card.read_text(encoding="utf-8")
    assert f"https://hf-mirror.com/{REPO}/resolve/" in text and hub.base_url not in text


def test_a_bad_public_url_is_refused_before_any_request(hub, tmp_path: Path) -> None:
    config = tmp_path / "scraper.toml"
    config.write_text(
        '[[sources]]\nname = "hf"\nsearch = "x"\npublic_url = "hf-mirror.com"\n', encoding="utf-8"
    )
    result = run("run", "--config", str(config))
    assert result.exit_code != 0 and "public_url" in result.output
    assert hub.requests == []


def test_a_stored_payload_renders_the_same_under_another_endpoint(hub, tmp_path, monkeypatch):
    assert run("export", "hf", REPO, "--lang", "en", "--rps", "0").exit_code == 0
    assert run("render", "--lang", "en", "--out", str(tmp_path / "a")).exit_code == 0
    monkeypatch.setenv("HF_ENDPOINT", "https://elsewhere.example")
    monkeypatch.setenv("HF_PUBLIC_URL", "https://elsewhere.example")
    assert run("render", "--lang", "en", "--out", str(tmp_path / "b")).exit_code == 0
    [a] = (tmp_path / "a" / "huggingface").glob("*lora-00.en.md")
    [b] = (tmp_path / "b" / "huggingface").glob("*lora-00.en.md")
    assert a.read_bytes() == b.read_bytes() and b"elsewhere" not in b.read_bytes()
