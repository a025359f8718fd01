"""The Hugging Face Hub's own error answers, replayed exactly as recorded in
scraper/demo/data/huggingface/hub-errors.json (status, X-Error-Code/X-Error-Message, body),
through the CLI: what each one does to the stored repo."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace, hub_error
from tests.support import RECORDED, hf_repos, stored_raw

LORA = "lora-maker/lora-00"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def hub(monkeypatch):
    servers = []

    def start(readmes: dict[str, str] | None = None, loras: int = 6) -> FakeHuggingFace:
        infos, recorded = hf_repos(loras=loras)
        server = FakeHuggingFace(infos, readmes=recorded if readmes is None else readmes)
        servers.append(server.start())
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()


def test_the_fixture_is_the_hubs_answers_with_their_sources() -> None:
    recorded = json.loads((RECORDED / "huggingface" / "hub-errors.json").read_bytes())
    for name, entry in recorded.items():
        if name.startswith("_"):
            continue
        assert entry["source"] and entry["status"] in (401, 403, 404), name
        assert "X-Error-Code" in entry["headers"] or "X-Error-Message" in entry["headers"], name
    status, body, headers = hub_error("entry_not_found", "a/b")
    assert (status, body, headers["X-Error-Code"]) == (404, b"Entry not found", "EntryNotFound")


def test_sync_where_no_repo_has_a_readme_stores_and_cards_every_repo(hub, tmp_path) -> None:
    server = hub(readmes={})
    result = run("sync", "hf", "--rps", "0")
    assert result.exit_code == 0, result.output
    repos = len(server.infos)
    assert f"{repos} models (new {repos}" in result.output and "failed 0)" in result.output
    readmes = [r for r in server.requests if "/resolve/" in r["path"]]
    assert len(readmes) == repos  # each asked once, answered EntryNotFound, not retried
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT count(*) FROM models").fetchone() == (repos,)
    assert all(
        '"readme":null,"readme_status":404' in raw for raw in stored_raw(tmp_path / "models.db")
    )
    out = tmp_path / "cards"
    assert run("render", "--lang", "en", "--out", str(out)).exit_code == 0
    cards = list((out / "huggingface").glob("*.en.md"))
    assert len(cards) == repos
    assert all(c.read_text(encoding="utf-8").startswith("## ") for c in cards)


def test_a_404_without_the_hubs_error_code_is_an_error_not_a_missing_readme(hub, tmp_path):
    server = hub()
    info = server.infos[LORA]
    path = f"/{LORA}/resolve/{info['sha']}/README.md"
    server.answers[path] = (404, b"<html>Not Found</html>", {"Content-Type": "text/html"})
    result = run("export", "hf", LORA, "--rps", "0")
    assert result.exit_code == 1 and "not the API's own" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT count(*) FROM models").fetchone() == (0,)


def test_repo_not_found_marks_a_stored_repo_missing(hub, tmp_path) -> None:
    server = hub()
    assert run("export", "hf", LORA, "--rps", "0").exit_code == 0
    del server.infos[LORA]
    result = run("export", "hf", LORA, "--rps", "0")
    assert result.exit_code == 1 and "not found (deleted" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        [(deleted,)] = conn.execute("SELECT deleted_at FROM models").fetchall()
    assert deleted is not None


def test_gated_readme_with_a_token_is_403_and_the_repo_is_stored(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_" + "a" * 34)
    server = hub()
    server.gated.add(LORA)
    result = run("export", "hf", LORA, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    [raw] = stored_raw(tmp_path / "models.db")
    assert '"readme":null,"readme_status":403' in raw


def test_a_disabled_repo_is_marked_missing(hub, tmp_path) -> None:
    server = hub()
    assert run("export", "hf", LORA, "--rps", "0").exit_code == 0
    server.disabled.add(LORA)
    result = run("export", "hf", LORA, "--rps", "0")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    with sqlite3.connect(tmp_path / "models.db") as conn:
        [(deleted,)] = conn.execute("SELECT deleted_at FROM models").fetchall()
    assert deleted is not None


def test_revision_not_found_reads_the_info_again(hub, tmp_path) -> None:
    server = hub()
    info = server.infos[LORA]
    old, new = info["sha"], "f" * 40
    served: list[str] = []

    def moving(request):  # the first info names a commit that is gone by the README request
        served.append(old if not served else new)
        return 200, {**info, "sha": served[-1]}

    server.answers[f"/api/models/{LORA}"] = moving
    server.gone_revisions.add(old)
    result = run("export", "hf", LORA, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert served == [old, new]
    [raw] = stored_raw(tmp_path / "models.db")
    assert f'"sha":"{new}"' in raw and '"readme_status":200' in raw


def test_a_refused_token_is_one_line_naming_it(hub, monkeypatch) -> None:
    server = hub()
    server.answers[f"/api/models/{LORA}"] = hub_error("invalid_token")
    result = run("export", "hf", LORA, "--rps", "0")
    assert result.exit_code == 1 and "refuses HF_TOKEN" in result.output
    assert "not found" not in result.output
