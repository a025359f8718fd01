"""Issue 9, secrets: a token goes only to its own host and never into text we write."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace, FakeModelScope
from tests.support import PlainServer, hf_repos, modelscope_models

TOKEN = "tok-9f8e7d6c5b4a3210"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def credentials(request: dict) -> list[str]:
    """What of a recorded request could carry a token."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return [headers[k] for k in ("authorization", "cookie") if k in headers]


@pytest.fixture
def elsewhere():
    """Another host (another port on 127.0.0.1): nothing secret may ever reach it."""
    with PlainServer((200, {"Code": 200, "Success": True, "Data": {}})) as server:
        yield server


def test_modelscope_cookie_and_bearer_do_not_follow_a_redirect_to_another_host(
    monkeypatch, elsewhere
) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", TOKEN)
    details, files = modelscope_models()
    with FakeModelScope(details, files) as ms:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        ms.answers["/api/v1/models/damo/sd_model_01"] = (
            302,
            b"",
            {"Location": f"{elsewhere.root}/steal"},
        )
        run("export", "modelscope", "damo/sd_model_02", "--rps", "0")
        run("export", "modelscope", "damo/sd_model_01", "--rps", "0")
        own = [r for r in ms.requests if r["path"] == "/api/v1/models/damo/sd_model_02"]
    assert own and f"Bearer {TOKEN}" in credentials(own[0])
    assert f"m_session_id={TOKEN}" in credentials(own[0])
    assert elsewhere.requests, "the redirect was not followed at all"
    assert all(credentials(r) == [] for r in elsewhere.requests)


def test_same_host_redirect_keeps_the_token(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    infos, readmes = hf_repos(loras=2)
    with FakeHuggingFace(infos, readmes=readmes, renamed={"old/name": "lora-maker/lora-01"}) as hf:
        monkeypatch.setenv("HF_ENDPOINT", hf.base_url)
        result = run("export", "hf", "old/name", "--lang", "en", "--rps", "0")
        assert result.exit_code == 0, result.output
        followed = [r for r in hf.requests if r["path"] == "/api/models/lora-maker/lora-01"]
    assert followed and credentials(followed[0]) == [f"Bearer {TOKEN}"]


def test_resumed_crawl_under_another_endpoint_never_replays_the_old_host(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    infos, readmes = hf_repos(loras=30)
    db = str(tmp_path / "resume.db")
    with FakeHuggingFace(infos, readmes=readmes, page_size=10) as a:
        monkeypatch.setenv("HF_ENDPOINT", a.base_url)

        def page_two_fails(request: dict) -> tuple | None:
            return (500, b"", {}) if request["query"].get("cursor") == ["10"] else None

        a.answers["/api/models"] = page_two_fails
        first = run("sync", "hf", "--rps", "0", "--db", db)
        assert first.exit_code == 1
        before = len(a.requests)
        with FakeHuggingFace(infos, readmes=readmes, page_size=10) as b:
            monkeypatch.setenv("HF_ENDPOINT", b.base_url)
            second = run("sync", "hf", "--rps", "0", "--db", db)
            assert second.exit_code == 0, second.output
            assert all(f"Bearer {TOKEN}" in credentials(r) for r in b.requests)
            resumed = [r for r in b.requests if r["path"] == "/api/models"]
        assert len(a.requests) == before, "the old host was asked again"
    assert resumed[0]["query"].get("cursor") == ["10"]  # resumed on the new host, page 2


def test_a_token_echoed_in_an_error_body_is_redacted_everywhere(
    serve, reference_models, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("CIVITAI_TOKEN", TOKEN)
    server = serve(reference_models[:3])

    def echo(request: dict) -> tuple:
        return 401, {"error": f"Invalid API key: {request['headers'].get('Authorization')}"}

    server.answers["/api/v1/models"] = echo
    result = run("-v", "sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "Invalid API key" in result.output and TOKEN not in result.output
    assert "Bearer ***" in result.output
    for stored in tmp_path.glob("models.db*"):
        assert TOKEN.encode() not in stored.read_bytes()
    with sqlite3.connect(tmp_path / "models.db") as conn:
        (errors,) = conn.execute("SELECT errors FROM runs").fetchone()
    assert "Invalid API key" in errors and TOKEN not in errors


def test_bearer_like_text_is_redacted_even_for_an_unknown_token(serve, monkeypatch) -> None:
    server = serve([])
    server.answers["/api/v1/models/5"] = (403, {"error": "bad key: Bearer abcdef0123456789"})
    result = run("export", "civitai", "5", "--rps", "0")
    assert result.exit_code == 1
    assert "abcdef0123456789" not in result.output and "Bearer ***" in result.output


def test_modelscope_message_echoing_the_token_is_redacted(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", TOKEN)
    details, files = modelscope_models()
    with FakeModelScope(details, files) as ms:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        ms.answers["/api/v1/models/damo/sd_model_01"] = (
            200,
            {"Code": 10010205, "Success": False, "Message": f"session {TOKEN} expired"},
        )
        result = run("sync", "modelscope", "damo/sd_model_01", "--rps", "0")
    assert result.exit_code == 1 and "expired" in result.output
    assert TOKEN not in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        texts = json.dumps(conn.execute("SELECT * FROM runs").fetchall())
        texts += json.dumps(conn.execute("SELECT * FROM quarantine").fetchall())
    assert TOKEN not in texts


@pytest.mark.parametrize("bad", [TOKEN + "\r", TOKEN + "\n", "to\x1bken", "tok en", "tökén"])
def test_a_token_with_a_control_character_is_one_line_naming_the_variable(
    serve, monkeypatch, bad: str
) -> None:
    server = serve([])
    monkeypatch.setenv("CIVITAI_TOKEN", bad)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "CIVITAI_TOKEN" in lines[0], result.output
    assert bad.strip() not in result.output and "Traceback" not in result.output
    assert server.requests == []  # refused before any request, not retried


def test_a_token_echoed_into_model_data_is_not_stored(
    serve, reference_models, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("CIVITAI_TOKEN", TOKEN)
    echoed = [dict(m) for m in reference_models[:3]]
    echoed[0]["description"] = f"<p>your key is {TOKEN}</p>"
    echoed[1]["name"] = f"named {TOKEN}"
    echoed[2]["stats"] = {"downloadCount": 2**63, "note": TOKEN}  # quarantined, raw kept
    serve(echoed)
    run("sync", "civitai", "--rps", "0")
    with sqlite3.connect(tmp_path / "models.db") as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM models")]
        quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    assert "named ***" in names and quarantined == 1
    for stored in tmp_path.glob("models.db*"):
        assert TOKEN.encode() not in stored.read_bytes()


def test_a_policy_cookie_is_redacted_wherever_its_value_appears() -> None:
    from scraper.net.client import HostPolicy
    from scraper.net.redaction import redact

    assert redact("Cookie: m_session_id=abc123; lang=zh") == "Cookie: m_session_id=***; lang=zh"
    assert redact("GET /x?example_sess=abc123") == "GET /x?example_sess=abc123"
    HostPolicy(name="example", rps=1, burst=1, token_env="EXAMPLE_TOKEN", cookie="example_sess")
    assert redact("GET /x?example_sess=abc123&page=2") == "GET /x?example_sess=***&page=2"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Authorization: Bearer hf_x1y2z3w4v5", "Authorization: Bearer ***"),
        ('{"authorization": "Token 0a1b2c3d4e5f6a7b"}', '{"authorization": "Token ***"}'),
        ("basic dXNlcjpwYXNzd29yZA==", "basic ***"),
        ("Bearer ABCDEFGHIJKLMNOPQRSTUVWX", "Bearer ***"),  # long: blanked without a digit
        ("the token expired, get a new one", "the token expired, get a new one"),
        ("set it to the token alone", "set it to the token alone"),
    ],
)
def test_credentials_after_a_scheme_are_blanked_and_words_are_not(text, shown) -> None:
    from scraper.net.redaction import redact

    assert redact(text) == shown


def test_a_bad_token_is_named_in_a_readable_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_abc def")
    result = run("export", "hf", "a/b", "--db", str(tmp_path / "x.db"))
    assert result.exit_code != 0
    assert "HF_TOKEN holds a space at position 7 of 10; set it to the token alone" in result.output
    assert "hf_abc def" not in result.output
