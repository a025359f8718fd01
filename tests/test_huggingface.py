"""Hugging Face source against a local Hub: Link paging, gated, renamed, broken YAML, RateLimit."""

from __future__ import annotations

import sqlite3
import time

import pytest
from click.testing import CliRunner

from scraper.cards.render import render_card
from scraper.catalog import load_models
from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from scraper.net.client import ApiClient
from scraper.sources import huggingface
from tests.support import everything_stored, hf_repos, stored_raw


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def hub(monkeypatch):
    servers = []

    def start(**kwargs) -> FakeHuggingFace:
        infos, readmes = hf_repos()
        kwargs.setdefault("readmes", readmes)
        server = FakeHuggingFace(infos, **kwargs).start()
        servers.append(server)
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()


def rows(db, sql, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_sync_filter_lora_limit_50_over_link_pages(hub, tmp_path) -> None:
    server = hub(page_size=20)
    result = run("sync", "hf", "--filter", "lora", "--limit", "50", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "50 models (new 50" in result.output
    listings = [r for r in server.requests if r["path"] == "/api/models"]
    assert len(listings) == 3
    assert listings[0]["query"]["filter"] == ["lora"] and "cursor" not in listings[0]["query"]
    assert [r["query"]["cursor"] for r in listings[1:]] == [["20"], ["40"]]
    assert all(r["query"]["filter"] == ["lora"] for r in listings)  # Link URLs kept the filter
    infos = [r for r in server.requests if r["path"].startswith("/api/models/")]
    assert len(infos) == 50 and all(r["query"]["blobs"] == ["true"] for r in infos)
    db = tmp_path / "models.db"
    assert rows(db, "SELECT count(*) FROM models WHERE source = 'huggingface'") == [(50,)]
    (size,) = rows(
        db, "SELECT size_kb FROM files WHERE name = 'pytorch_lora_weights.safetensors' LIMIT 1"
    )
    assert size[0] == pytest.approx(23_000_000 / 1024)


def test_resync_skips_details_of_unchanged_repos_and_changes_no_row(hub, tmp_path) -> None:
    server = hub(page_size=20)
    assert run("sync", "hf", "--filter", "lora", "--rps", "0").exit_code == 0
    snapshot = rows(tmp_path / "models.db", "SELECT id, raw, content_hash FROM models ORDER BY id")
    before = len(server.requests)
    result = run("sync", "hf", "--filter", "lora", "--rps", "0")
    assert result.exit_code == 0 and "unchanged 60" in result.output
    assert all(r["path"] == "/api/models" for r in server.requests[before:])  # listing only
    assert (
        rows(tmp_path / "models.db", "SELECT id, raw, content_hash FROM models ORDER BY id")
        == snapshot
    )


def test_gated_repo_is_recorded_not_failed(hub, tmp_path) -> None:
    hub(gated={"meta-llama/Llama-3.1-8B-Instruct"})
    result = run("export", "hf", "meta-llama/Llama-3.1-8B-Instruct", "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "- Status: gated: access must be requested" in result.output
    [raw] = stored_raw(tmp_path / "models.db")
    assert '"readme_status":401' in raw  # GatedRepo, asked without a token


def test_renamed_repo_followed_and_keyed_by_id(hub, tmp_path) -> None:
    server = hub(
        renamed={"olduser/textual_inversion_tests": "InvokeAI-test/textual_inversion_tests"}
    )
    assert run("export", "hf", "olduser/textual_inversion_tests", "--rps", "0").exit_code == 0
    assert any(
        r["path"] == "/api/models/InvokeAI-test/textual_inversion_tests" for r in server.requests
    )
    assert run("export", "hf", "InvokeAI-test/textual_inversion_tests", "--rps", "0").exit_code == 0
    stored = rows(tmp_path / "models.db", "SELECT id, name FROM models")
    assert stored == [("65bef127e4afda82b95e2f68", "InvokeAI-test/textual_inversion_tests")]


def test_broken_yaml_keeps_the_body_and_the_run_goes_on(hub, tmp_path) -> None:
    hub()
    result = run("export", "hf", "lora-maker/lora-03", "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "# Still a card" in result.output and "license: [openrail" not in result.output


def test_readme_front_matter_fills_the_card(hub) -> None:
    hub()
    result = run("export", "hf", "lora-maker/lora-00", "--lang", "bilingual", "--rps", "0")
    assert result.exit_code == 0, result.output
    card = result.output
    assert "Base model  原始模型: " in card and "Trigger words  触发词: `" in card
    assert "· SafeTensor · 21.9 MiB" in card
    assert "pytorch_lora_weights_fp16.bin" in card and "pickle format" in card
    assert "---\n" not in card.split("3. Details")[1][:5]


def test_widget_gallery_images_become_resolve_urls(hub) -> None:
    server = hub()
    infos, readmes = hf_repos()
    crlf = next(k for k, v in readmes.items() if "\r\n" in v)
    result = run("export", "hf", crlf, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert f"{server.base_url}/{crlf}/resolve/" in result.output
    assert "images/1.png" in result.output and "\r" not in result.output.split("3. Details")[0]


def test_429_with_ratelimit_headers_waits_for_the_window(hub, tmp_path) -> None:
    server = hub(page_size=20, quota=(6, 1.0))
    started = time.monotonic()
    result = run("sync", "hf", "--filter", "lora", "--limit", "6", "--rps", "50")
    assert result.exit_code == 0, result.output
    assert "6 models (new 6" in result.output
    assert time.monotonic() - started >= 0.9  # 7 API calls cannot fit in one 6-call window
    assert server.throttled <= 2  # paced by RateLimit before, not hammering after


def test_token_in_header_never_stored(hub, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    server = hub(page_size=20)
    assert run("sync", "hf", "--filter", "lora", "--limit", "5", "--rps", "0").exit_code == 0
    assert all(
        r["headers"].get("Authorization") == "Bearer hf_secret_token_value" for r in server.requests
    )
    assert b"hf_secret_token_value" not in everything_stored(tmp_path / "models.db")


def test_stored_raw_rebuilds_the_same_record_and_card(hub, tmp_path) -> None:
    hub()
    result = run("export", "hf", "lora-maker/lora-01", "--lang", "en", "--rps", "0")
    assert result.exit_code == 0
    [model] = list(load_models(tmp_path / "models.db"))
    assert model.source == "huggingface"
    assert render_card(model, "en").encode() == result.stdout_bytes
    assert run("render", "--lang", "en", "--out", str(tmp_path / "out")).exit_code == 0
    card = tmp_path / "out" / "huggingface" / "lora-maker--lora-01.en.md"
    assert card.read_bytes() == result.stdout_bytes


def test_saved_model_info_renders_with_card_command() -> None:
    from tests.support import RECORDED

    path = RECORDED / "huggingface" / "model-sdxl-turbo-blobs-2023-12.json"
    result = run("card", str(path), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## stabilityai/sdxl-turbo\n### 一、模型概述\n")
    assert "- 许可证：other" in result.output


def test_bad_repo_id_is_a_usage_error(hub) -> None:
    hub()
    assert run("export", "hf", "../../etc/passwd", "--rps", "0").exit_code == 2


def test_next_link_never_leaves_the_configured_host() -> None:
    with ApiClient("http://127.0.0.1:8080", huggingface.POLICY) as api:
        url = api.on_own_host("https://huggingface.co/api/models?limit=10&cursor=eyJ9")
    assert url == "http://127.0.0.1:8080/api/models?limit=10&cursor=eyJ9"


def test_duplicated_repos_sharing_a_sha_keep_their_own_versions(hub, tmp_path) -> None:
    server = hub()
    original = server.infos["lora-maker/lora-10"]
    duplicate = {**original, "_id": "f" * 24, "id": "someone/lora-10-copy"}
    server.infos[duplicate["id"]] = duplicate
    assert run("export", "hf", "lora-maker/lora-10", "--rps", "0").exit_code == 0
    assert run("export", "hf", "someone/lora-10-copy", "--rps", "0").exit_code == 0
    versions = rows(tmp_path / "models.db", "SELECT model_id FROM versions ORDER BY model_id")
    assert len(versions) == 2 and versions[0] != versions[1]


def test_incremental_reads_by_last_modified_and_stops_at_the_first_known_page(hub, tmp_path):
    server = hub(page_size=10)
    assert run("sync", "hf", "--incremental", "--rps", "0").exit_code == 0
    changed = server.infos["lora-maker/lora-42"]
    changed.update(sha="f" * 40, lastModified="2031-01-01T00:00:00.000Z")
    before = len(server.requests)
    result = run("sync", "hf", "--incremental", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "20 models (new 0, updated 1, counters 0, unchanged 19" in result.output
    asked = server.requests[before:]
    assert [r["path"] for r in asked] == [
        "/api/models",
        "/api/models/lora-maker/lora-42",
        "/lora-maker/lora-42/resolve/" + "f" * 40 + "/README.md",
        "/api/models",
    ]  # the page with the change (first: newest), that repo's info and README, then a page
    # with nothing changed, where it stops (65 repos); unchanged repos cost nothing
    assert all(r["query"]["sort"] == ["lastModified"] for r in asked if r["path"] == "/api/models")


def test_incremental_with_another_sort_is_a_usage_error(hub) -> None:
    hub()
    result = run("sync", "hf", "--incremental", "--sort", "downloads")
    assert result.exit_code == 2 and "reads by lastModified" in result.output
