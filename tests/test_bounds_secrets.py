"""Issue 17, item 4: no secret in any output: stderr, the --log-file, the runs table, status;
a base URL with a user name or password is refused before any request."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeModelScope
from tests.support import everything_stored, modelscope_models, one_line

TOKEN = "ms-0123456789abcdef0123456789abcdef"
MODEL = "damo/sd_model_01"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def echo_token(request: dict):
    """ModelScope's legacy envelope, HTTP 200 with Success false and a 5xx Code (MODELSCOPE.md
    section 2), whose Message quotes the session cookie it was sent, as a debugging proxy or
    a verbose error page does."""
    cookie = request["headers"].get("Cookie", "")
    message = f"system error (session {cookie.split('=', 1)[-1]})"
    body = {"Code": 500, "Data": None, "Message": message, "RequestId": "x", "Success": False}
    return 200, body


def test_a_token_echoed_by_the_server_reaches_no_output(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", TOKEN)
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    details, files = modelscope_models()
    config = tmp_path / "scraper.toml"
    config.write_text(
        f'db = "out/models.db"\nout = "out"\n[[sources]]\nname = "modelscope"\n'
        f'models = ["{MODEL}"]\nrps = 0\n'
    )
    log = tmp_path / "run.log"
    with FakeModelScope(details, files) as ms:
        ms.answers[f"/api/v1/models/{MODEL}"] = echo_token
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        result = run("run", "--config", str(config), "--log-file", str(log), "-v")
        status = run("status", "--config", str(config), "--json")
        assert any(TOKEN in r["headers"].get("Cookie", "") for r in ms.requests)
    written = log.read_text(encoding="utf-8")
    assert result.exit_code == 1
    assert "system error (session ***)" in written  # the echo was there, and blanked
    assert "retry 1" in result.output  # the retry warning reached stderr, blanked
    db = tmp_path / "out" / "models.db"
    stored = everything_stored(db)
    for text in (result.output, written, status.output):
        assert TOKEN not in text and TOKEN[3:] not in text
    assert TOKEN[3:].encode() not in stored
    with sqlite3.connect(db) as conn:
        (errors,) = conn.execute("SELECT errors FROM runs").fetchone()
    assert "***" in errors and TOKEN not in errors


@pytest.mark.parametrize("command", [["sync", "civitai", "--rps", "0"], ["export", "civitai", "7"]])
def test_a_base_url_with_a_password_is_refused(serve, monkeypatch, command) -> None:
    server = serve([{"id": 7, "name": "m", "modelVersions": []}])
    monkeypatch.setenv(
        "CIVITAI_API_BASE", server.base_url.replace("http://", "http://alice:s3cret@")
    )
    result = run(*command)
    assert result.exit_code == 2
    line = one_line(result)
    assert "CIVITAI_API_BASE" in line and "set CIVITAI_TOKEN, and give" in line
    assert "HTTPS_PROXY" in line and "***" in line  # (the user info, and only it, blanked)
    assert "s3cret" not in line and "alice" not in line
    assert server.requests == []


def test_a_run_with_a_password_in_a_base_url_stores_and_logs_none(serve, monkeypatch, tmp_path):
    server = serve([{"id": 7, "name": "m", "modelVersions": []}])
    monkeypatch.setenv(
        "CIVITAI_API_BASE", server.base_url.replace("http://", "http://alice:s3cret@")
    )
    config = tmp_path / "scraper.toml"
    config.write_text('db = "out/models.db"\nout = "out"\n[[sources]]\nname = "civitai"\n')
    log = tmp_path / "run.log"
    result = run("run", "--config", str(config), "--log-file", str(log))
    status = run("status", "--config", str(config), "--json")
    assert result.exit_code == 1 and "civitai failed" in result.output
    assert "holds a user name or password" in result.output
    stored = everything_stored(tmp_path / "out" / "models.db").decode(errors="replace")
    for text in (result.output, log.read_text(), status.output, stored):
        assert "s3cret" not in text
    assert server.requests == []


def test_a_bare_domain_with_a_password_is_refused_too(monkeypatch) -> None:
    details, files = modelscope_models()
    with FakeModelScope(details, files) as ms:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url.replace("http://", "bob:s3cret@"))
        result = run("sync", "modelscope", MODEL, "--rps", "0")
        assert ms.requests == []
    assert result.exit_code == 2
    line = one_line(result)
    assert "MODELSCOPE_DOMAIN" in line and "set MODELSCOPE_API_TOKEN, and give" in line
    assert "s3cret" not in line and "bob" not in line


def test_an_offline_card_never_links_through_a_password(monkeypatch, tmp_path) -> None:
    from tests.support import hf_fixture

    saved = tmp_path / "info.json"
    saved.write_bytes(
        __import__("json").dumps(hf_fixture("model-ti-test-blobs-2024-02.json")).encode()
    )
    monkeypatch.setenv("HF_ENDPOINT", "https://alice:s3cret@hf-mirror.example")
    result = run("card", str(saved), "--lang", "en")
    assert "s3cret" not in result.output and "alice" not in result.output
    assert result.exit_code != 0 or "huggingface.co" in result.output  # (refused, or not used)
