"""ModelScope source against a local server: envelopes, listing, README inline, files."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeModelScope
from tests.support import everything_stored, modelscope_models, stored_raw


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def ms(monkeypatch):
    details, files = modelscope_models()
    server = FakeModelScope(details, files, page_size=5).start()
    monkeypatch.setenv("MODELSCOPE_DOMAIN", server.base_url)
    yield server
    server.stop()


def test_named_models_are_fetched_with_readme_and_files(ms, tmp_path) -> None:
    result = run(
        "sync",
        "modelscope",
        "damo/cv_cartoon_stable_diffusion_design",
        "damo/sd_model_01",
        "--rps",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "2 models (new 2" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        files = conn.execute("SELECT name, size_kb, sha256 FROM files ORDER BY name").fetchall()
    names = [f[0] for f in files]
    assert "unet/model.safetensors" in names and "unet" not in names
    assert all(r["query"]["Revision"] == ["master"] for r in ms.requests)


def test_listing_by_owner_over_pages(ms, tmp_path) -> None:
    result = run("sync", "modelscope", "--owner", "damo", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "12 models (new 12" in result.output
    pages = [r for r in ms.requests if r["path"] == "/openapi/v1/models"]
    assert [p["query"]["page_number"] for p in pages] == [["1"], ["2"], ["3"]]


def test_error_envelope_under_http_200_is_an_error(ms, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    ms.envelope_errors.add("damo/sd_model_02")
    result = run(
        "sync", "modelscope", "damo/sd_model_01", "damo/sd_model_02", "nobody/nothing", "--rps", "0"
    )
    assert result.exit_code == 1
    assert "1 models (new 1" in result.output
    assert "model not exist" in result.output and "system error" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT count(*) FROM models").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


def test_export_card_in_every_language(ms) -> None:
    for lang, heading, name_line in (
        ("zh", "### 一、模型概述", "- 中文名：卡通系列文生图模型-插画风"),
        ("en", "### 1. Overview", "- Chinese name: 卡通系列文生图模型-插画风"),
        (
            "bilingual",
            "### 1. Overview  一、模型概述",
            "- Chinese name  中文名: 卡通系列文生图模型",
        ),
    ):
        model = "damo/cv_cartoon_stable_diffusion_design"
        result = run("export", "modelscope", model, "--lang", lang, "--rps", "0")
        assert result.exit_code == 0, result.output
        card = result.output
        assert card.startswith("## damo/cv_cartoon_stable_diffusion_design\n")
        assert heading in card and name_line in card
        assert "Apache License 2.0" in card and "· SafeTensor · 3.2 GiB" in card
        assert "# 卡通系列文生图模型" in card  # the README, inline in the detail
        # a README image, made absolute as ModelScope serves it (an HTML attribute: &amp;)
        assert "repo?Revision=master&amp;FilePath=description%2Fsim1.png" in card


def test_token_sent_as_cookie_and_bearer_never_stored(ms, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", "ms-secret-token-42")
    assert run("sync", "modelscope", "damo/sd_model_03", "--rps", "0").exit_code == 0
    headers = ms.requests[0]["headers"]
    assert headers["Authorization"] == "Bearer ms-secret-token-42"
    assert "m_session_id=ms-secret-token-42" in headers["Cookie"]
    assert b"ms-secret-token-42" not in everything_stored(tmp_path / "models.db")


def test_usage_errors(ms) -> None:
    assert run("sync", "modelscope").exit_code == 2
    assert run("sync", "modelscope", "not-a-model-id").exit_code == 2


def test_incremental_listing_reads_only_what_changed(ms, tmp_path) -> None:
    args = ["sync", "modelscope", "--owner", "damo", "--incremental", "--rps", "0"]
    first = run(*args)
    assert first.exit_code == 0 and "12 models (new 12" in first.output
    assert all(
        r["query"]["sort"] == ["last_modified"] for r in ms.requests if "page_number" in r["query"]
    )
    ms.details["damo/sd_model_03"]["LastUpdatedTime"] += 86400
    ms.details["damo/sd_model_03"]["Description"] = "newer"
    ms.details["damo/sd_model_07"]["Downloads"] += 100  # a counter: from the listing, no request
    before = len(ms.requests)
    again = run(*args)
    assert again.exit_code == 0, again.output
    assert "updated 1" in again.output
    asked = [r["path"] for r in ms.requests[before:]]
    assert asked == [
        "/openapi/v1/models",
        "/api/v1/models/damo/sd_model_03",
        "/api/v1/models/damo/sd_model_03/repo/files",
        "/openapi/v1/models",
    ]  # the page with the change, that model's detail and files, then a page of known ones
    [raw] = stored_raw(tmp_path / "models.db", "name = 'damo/sd_model_07'")
    assert '"Downloads":' + str(ms.details["damo/sd_model_07"]["Downloads"]) in raw
