"""Issue 9: hostile or broken answers and settings end in one clear line, never a traceback."""

from __future__ import annotations

import socket
import sqlite3
import time

import httpx
import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.net.client import ApiClient, ApiError, NotFound
from scraper.sources import civitai
from tests.support import PlainServer, gzip_bomb, one_line

MODEL = {"id": 7, "name": "m", "modelVersions": []}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_gzip_bomb_fails_that_request_cleanly(serve, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SCRAPER_MAX_BODY_MB", "4")
    server = serve([MODEL])
    server.answers["/api/v1/models"] = gzip_bomb(40)
    started = time.monotonic()
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "larger than 4 MB" in result.output and "SCRAPER_MAX_BODY_MB" in result.output
    assert len(server.requests) == 1  # not retried: it would be as large again
    assert time.monotonic() - started < 5
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]


def test_a_dns_failure_is_said_at_once_not_retried() -> None:
    calls = []

    def no_such_host(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    transport = httpx.MockTransport(no_such_host)
    with ApiClient(
        "https://civitai.invalid/api/v1", civitai.POLICY, rps=0, transport=transport
    ) as api:
        started = time.monotonic()
        with pytest.raises(ApiError, match=r"cannot resolve civitai\.invalid \(DNS\)"):
            api.get_json("/models/1")
    assert len(calls) == 1 and time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SCRAPER_TIMEOUT", "abc"),
        ("SCRAPER_BACKOFF", "x"),
        ("SCRAPER_RETRIES", "x"),
        ("SCRAPER_RETRIES", "0"),
        ("SCRAPER_MAX_BODY_MB", "lots"),
        ("HTTPS_PROXY", "bogus://x"),
        ("CIVITAI_API_BASE", "civitai.com/api/v1"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(serve, monkeypatch, name: str, value: str) -> None:
    server = serve([MODEL])
    monkeypatch.setenv(name, value)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 2
    assert name in one_line(result)
    assert server.requests == []


def test_one_attempt_is_singular_and_a_failing_proxy_is_named(serve, monkeypatch) -> None:
    serve([MODEL])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pw@127.0.0.1:{port}")
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    result = run("export", "civitai", "7", "--rps", "0")
    assert result.exit_code == 1
    line = one_line(result)
    assert "after 1 attempt " in line and "1 attempts" not in line
    assert f"HTTP_PROXY=http://***@127.0.0.1:{port}" in line and "pw" not in line


@pytest.mark.parametrize(
    "answer",
    [
        (404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"}),
        (404, b"", {"Content-Type": "text/html"}),
        (404, {"message": "no route"}, {}),
    ],
)
def test_a_404_that_is_not_the_apis_own_answer_changes_nothing(
    serve, reference_models, tmp_path, monkeypatch, answer
) -> None:
    serve(reference_models)
    assert run("export", "civitai", "4468", "--rps", "0").exit_code == 0
    with PlainServer(answer) as wrong:
        monkeypatch.setenv("CIVITAI_API_BASE", f"{wrong.root}/api/v1")
        result = run("export", "civitai", "4468", "--rps", "0")
    assert result.exit_code == 1
    line = one_line(result)
    assert "HTTP 404 from 127.0.0.1" in line and "not found (deleted" not in line
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT deleted_at FROM models WHERE id = '4468'").fetchall() == [
            (None,)
        ]


def test_the_apis_own_not_found_still_marks_deleted(serve) -> None:
    server = serve([MODEL])
    with (
        ApiClient(server.base_url, civitai.POLICY, rps=0) as api,
        pytest.raises(NotFound, match="No model with id 8"),
    ):
        api.get_json("/models/8")


def test_a_401_that_is_not_the_hubs_own_answer_changes_nothing(monkeypatch, tmp_path) -> None:
    from scraper.demo.hub import FakeHuggingFace
    from tests.support import hf_repos

    infos, readmes = hf_repos(loras=1)
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        assert run("export", "hf", "lora-maker/lora-00", "--rps", "0").exit_code == 0
    with PlainServer((401, b"<html>proxy login</html>", {"Content-Type": "text/html"})) as proxy:
        monkeypatch.setenv("HF_ENDPOINT", proxy.root)
        result = run("export", "hf", "lora-maker/lora-00", "--rps", "0")
    assert result.exit_code == 1 and "not found" not in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT deleted_at FROM models").fetchall() == [(None,)]
