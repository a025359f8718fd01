"""Issue 17, item 2: every wait has a ceiling (SCRAPER_MAX_WAIT, the config's max_wait), and
SCRAPER_TIMEOUT bounds a whole answer."""

from __future__ import annotations

import sqlite3
import time

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from scraper.demo.server import Faults, throttled
from tests.support import hf_repos

MODEL = {"id": 7, "name": "m", "modelVersions": []}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def once(answer):
    """The answer for the first request only; the usual answers after it."""
    asked = []

    def first(request: dict):
        asked.append(request)
        return answer if len(asked) == 1 else None

    return first


@pytest.mark.parametrize("rps", ["0", "2"])  # with the limiter off and on
def test_a_retry_after_of_years_ends_the_source_at_once(serve, tmp_path, rps) -> None:
    server = serve([MODEL])
    server.answers["/api/v1/models"] = throttled("100000000")
    started = time.monotonic()
    result = run("sync", "civitai", "--rps", rps)
    assert result.exit_code == 1
    assert "asked to wait 1157d 9h (Retry-After: 100000000)" in result.output
    assert "raise SCRAPER_MAX_WAIT" in result.output and "15m" in result.output
    assert time.monotonic() - started < 10 and len(server.requests) == 1
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "1e400", "soon", "Mon, 99 Foo 2026"])
def test_a_malformed_retry_after_falls_back_to_the_backoff(serve, value) -> None:
    server = serve([MODEL])
    server.answers["/api/v1/models"] = once(throttled(value))
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "1 models (new 1" in result.output and len(server.requests) == 2


def test_the_ceiling_is_a_setting(serve, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_MAX_WAIT", "1")
    server = serve([MODEL])
    server.answers["/api/v1/models"] = throttled("5")
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1 and "asked to wait 5s (Retry-After: 5)" in result.output
    monkeypatch.setenv("SCRAPER_MAX_WAIT", "nan")
    assert "SCRAPER_MAX_WAIT" in run("sync", "civitai", "--rps", "0").output


def test_an_x_ratelimit_reset_far_ahead_ends_the_source(serve) -> None:
    server = serve([MODEL])
    reset = str(int(time.time()) + 30 * 86400)  # a Unix time a month ahead
    server.answers["/api/v1/models"] = (
        429,
        {"error": "Rate limit exceeded, please retry shortly."},
        {"X-RateLimit-Reset": reset},
    )
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert f"(X-RateLimit-Reset: {reset})" in result.output and "29d 23h" in result.output


def test_a_hub_ratelimit_reset_of_years_ends_the_source(monkeypatch, tmp_path) -> None:
    """The Hub's IETF-draft header (HUGGINGFACE.md section 9), r=0 with a reset of years."""
    infos, readmes = hf_repos(loras=2)
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        hub.answers["/api/models"] = (
            200,
            [],
            {
                "RateLimit": '"api";r=0;t=100000000',
                "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
            },
        )
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        started = time.monotonic()
        result = run("sync", "hf", "--filter", "lora")
    assert result.exit_code == 1
    assert '(RateLimit: "api";r=0;t=100000000)' in result.output
    assert time.monotonic() - started < 10


def test_the_config_max_wait_is_the_ceiling_of_a_run(serve, tmp_path) -> None:
    server = serve([MODEL])
    server.answers["/api/v1/models"] = throttled("120")
    config = tmp_path / "scraper.toml"
    config.write_text('max_wait = "1m"\n[[sources]]\nname = "civitai"\nrps = 0\n')
    started = time.monotonic()
    result = run("run", "--config", str(config))
    assert result.exit_code == 1
    assert "asked to wait 2m (Retry-After: 120), longer than the 1m" in result.output
    assert time.monotonic() - started < 20


def test_a_trickled_body_is_cut_at_the_timeout(serve, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_TIMEOUT", "0.5")
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    server = serve([MODEL], faults=Faults(trickle=0.1))  # a byte each 0.1 s: 10 s for 100 bytes
    started = time.monotonic()
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "longer than SCRAPER_TIMEOUT=0.5s" in result.output
    assert time.monotonic() - started < 6 and len(server.requests) == 2


def test_a_wait_of_years_on_one_item_ends_the_source_not_only_the_item(monkeypatch) -> None:
    infos, readmes = hf_repos(loras=6)
    loras = sorted(i["id"] for i in infos if "lora" in (i.get("tags") or []))
    with FakeHuggingFace(infos, readmes=readmes, page_size=2) as hub:
        for repo in loras:
            hub.answers[f"/api/models/{repo}"] = throttled("100000000")
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        result = run("sync", "hf", "--filter", "lora", "--rps", "0")
        listings = [r for r in hub.requests if r["path"] == "/api/models"]
    assert result.exit_code == 1
    assert "asked to wait 1157d 9h (Retry-After: 100000000)" in result.output
    assert "from 1 pages" in result.output  # the crawl ended on its first page
    assert len(listings) <= 2  # (the second one asked for ahead, never read)


@pytest.mark.parametrize("rps", [0, 2])  # the retry's own wait, or the limiter's
def test_a_wait_within_the_ceiling_is_honoured_in_full(serve, rps) -> None:
    """Retry-After: 600 (under 15 minutes) is waited for, not cut to a couple of minutes; the
    client's clock and sleep are injected, so the test waits for nothing."""
    from scraper.net.client import ApiClient
    from scraper.sources import civitai

    server = serve([MODEL])
    server.answers["/api/v1/models"] = once(throttled("600"))
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with ApiClient(
        server.base_url, civitai.POLICY, rps=rps, clock=lambda: now[0], sleep=sleep
    ) as api:
        assert api.get_json("/models")["items"][0]["id"] == 7
    assert max(slept) == pytest.approx(600, abs=1) and len(server.requests) == 2
