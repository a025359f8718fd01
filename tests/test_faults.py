"""Sync under every fault the local server can inject: the database must end exactly right."""

from __future__ import annotations

import contextlib
import copy
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from scraper import sources
from scraper.catalog import open_store
from scraper.cli import main
from scraper.demo.server import FAULTS, Faults
from scraper.jobs.sync import crawl
from scraper.net.limits import CircuitBreaker, RateLimiter, rate_limit_hint
from tests.support import stored_raw, sync_command


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def data_view(db: Path) -> dict[str, list]:
    """The data a run leaves, without its timestamps: what must equal a clean run's."""
    queries = {
        "models": "SELECT source, id, raw, deleted_at IS NULL FROM models ORDER BY 1, 2",
        "versions": "SELECT source, id, model_id, position, raw, images_raw, images_size, "
        "removed_at IS NULL FROM versions ORDER BY 1, 2",
        "files": "SELECT source, version_id, position, raw FROM files ORDER BY 1, 2, 3",
        "images": "SELECT * FROM images ORDER BY 1, 2, 3",
        "tags": "SELECT * FROM tags ORDER BY 1, 2, 3",
    }
    with sqlite3.connect(db) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}


@pytest.fixture
def clean_view(serve, reference_models, tmp_path_factory) -> dict[str, list]:
    server = serve(reference_models, page_size=20)
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    assert run("sync", "civitai", "--rps", "0", "--db", str(db)).exit_code == 0
    server.stop()
    return data_view(db)


def sync_until_done(db: Path, attempts: int = 6) -> list[float]:
    """Cron-like: sync again after a failed run, as `scraper sync civitai --rps 0` does; the
    waits the retries asked for, recorded by the client's sleep instead of slept."""
    source = sources.get("civitai")
    waits: list[float] = []
    for _ in range(attempts):
        with (
            source.client(rps=0, sleep=waits.append) as api,
            contextlib.closing(open_store(db)) as store,
        ):
            outcome = crawl(store, api, source, source.filters({"incremental": False}))
        if outcome.status == "ok":
            return waits
    raise AssertionError(f"not done after {attempts} runs: {outcome.counts.failed}")


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_ends_with_the_clean_database(
    serve, reference_models, clean_view, tmp_path, monkeypatch, fault
) -> None:
    # a stall of 0.4 s outlasts 0.15 s; other faults keep a margin for a busy machine
    monkeypatch.setenv("SCRAPER_TIMEOUT", "0.15" if fault == "slow" else "0.3")
    faults = Faults(rate=0.3, kinds=(fault,), seed=7, slow_seconds=0.4)
    server = serve(reference_models, page_size=20, faults=faults)
    waits = sync_until_done(tmp_path / "f.db")
    assert data_view(tmp_path / "f.db") == clean_view
    assert len(server.requests) > 7  # faults really were served and retried
    if fault == "429-retry-after":  # the server's Retry-After: 1, not the backoff, was waited
        assert waits and all(w == 1.0 for w in waits)


def test_all_faults_at_once(serve, reference_models, clean_view, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_TIMEOUT", "0.15")
    faults = Faults(rate=0.5, seed=11, slow_seconds=0.4, skip_boundary=True)
    serve(reference_models, page_size=20, faults=faults)
    sync_until_done(tmp_path / "all.db", attempts=10)
    assert data_view(tmp_path / "all.db") == clean_view


def test_cursor_skip_bug_is_recovered(serve, reference_models, clean_view, tmp_path) -> None:
    server = serve(reference_models, page_size=20, faults=Faults(skip_boundary=True))
    result = run("sync", "civitai", "--rps", "0", "--db", str(tmp_path / "skip.db"))
    assert result.exit_code == 0, result.output
    assert data_view(tmp_path / "skip.db") == clean_view
    recovered = [r for r in server.requests if r["path"] != "/api/v1/models"]
    assert len(recovered) == 5  # one /models/{id} per page boundary (at 20, 41, 62, 83, 104)


def test_throttling_server_is_learnt_not_hammered(
    serve, reference_models, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SCRAPER_BACKOFF", "0.2")
    server = serve(reference_models, page_size=10, faults=Faults(rps_limit=10))
    started = time.monotonic()
    result = run("sync", "civitai", "--rps", "50", "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    assert "unchanged 0" in result.output and "new 122" in result.output
    # 13 pages; the limiter backs off after the first 429s instead of retrying at 50/s.
    assert server.throttled <= 8
    assert time.monotonic() - started < 20


def test_killed_at_random_points_integrity_and_same_end(
    serve, reference_models, clean_view, tmp_path
) -> None:
    server = serve(reference_models, page_size=10, faults=Faults(latency=0.01))
    db = tmp_path / "k.db"
    env = dict(os.environ, CIVITAI_API_BASE=server.base_url)
    command = sync_command(db)
    rng = random.Random(3)
    for _ in range(5):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.2, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if db.exists():
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert data_view(db) == clean_view


def test_second_run_on_a_locked_database_refuses(serve, reference_models, tmp_path) -> None:
    serve(reference_models)
    db = tmp_path / "locked.db"
    store = open_store(db)
    with store.exclusive():
        result = run("sync", "civitai", "--rps", "0", "--db", str(db))
    assert result.exit_code == 1
    assert "another scraper run is writing" in result.output
    assert run("sync", "civitai", "--rps", "0", "--db", str(db)).exit_code == 0


def test_host_down_opens_the_breaker_and_names_what_was_missed(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    server = serve(
        [{"id": 1, "name": "x", "modelVersions": []}], faults=Faults(rate=1.0, kinds=("503",))
    )
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "crawl stopped" in result.output and "resume" in result.output
    assert len(server.requests) == 2


def test_incremental_run_stops_at_the_first_known_page(serve, reference_models, tmp_path):
    models = copy.deepcopy(reference_models)
    server = serve(models, page_size=10)
    assert run("sync", "civitai", "--rps", "0", "--sort", "Newest").exit_code == 0
    fresh = copy.deepcopy(models[:3])
    for i, model in enumerate(fresh):
        model["id"] = 900000 + i
        model["name"] = f"fresh {i}"
        for version in model["modelVersions"]:
            version["id"] = 9000000 + version["id"]
            version["publishedAt"] = "2030-01-01T00:00:00.000Z"
    server.models[:0] = fresh
    server._index()
    before = len(server.requests)
    result = run("sync", "civitai", "--rps", "0", "--incremental")
    assert result.exit_code == 0, result.output
    assert "new 3" in result.output
    assert len(server.requests) - before == 2  # the page with news, then one known page
    assert server.requests[-1]["query"]["sort"] == ["Newest"]


def test_counter_changes_are_refreshed_and_kept_as_history(serve, reference_models, tmp_path):
    models = copy.deepcopy(reference_models)
    serve(models, page_size=50)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    models[0]["stats"]["downloadCount"] += 10
    models[0]["modelVersions"][0]["stats"]["downloadCount"] += 10
    result = run("sync", "civitai", "--rps", "0")
    assert "updated 0, counters 1, unchanged 121" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        history = conn.execute(
            "SELECT downloads FROM stats_history WHERE model_id = ? AND version_id = '' "
            "ORDER BY taken_at",
            [str(models[0]["id"])],
        ).fetchall()
    [raw] = stored_raw(tmp_path / "models.db", "id = ?", (str(models[0]["id"]),))
    assert [h[0] for h in history] == [
        models[0]["stats"]["downloadCount"] - 10,
        models[0]["stats"]["downloadCount"],
    ]
    assert f'"downloadCount":{models[0]["stats"]["downloadCount"]}' in raw


def test_stats_refresh_batches_ids_and_marks_deleted_once(serve, reference_models, tmp_path):
    models = copy.deepcopy(reference_models)
    server = serve(models, page_size=100)
    assert run("sync", "civitai", "--rps", "0", "--limit", "10").exit_code == 0
    gone = server.models.pop(0)
    server._index()
    with sqlite3.connect(tmp_path / "models.db") as conn:
        conn.execute("UPDATE checks SET checked_at = '2000-01-01T00:00:00.000000Z'")
    before = len(server.requests)
    result = run(
        "sync", "civitai", "--rps", "0", "--limit", "1", "--refresh-stats-older-than", "24h"
    )
    assert result.exit_code == 0, result.output
    assert "deleted 1" in result.output
    asked = server.requests[before:]
    id_batches = [r for r in asked if "ids" in r["query"]]
    assert len(id_batches) == 1 and len(id_batches[0]["query"]["ids"][0].split(",")) == 9
    with sqlite3.connect(tmp_path / "models.db") as conn:
        deleted = conn.execute(
            "SELECT deleted_at FROM models WHERE id = ?", [str(gone["id"])]
        ).fetchone()
    [raw] = stored_raw(tmp_path / "models.db", "id = ?", (str(gone["id"]),))
    assert deleted[0] is not None and gone["name"] in raw  # last good data kept
    with sqlite3.connect(tmp_path / "models.db") as conn:
        conn.execute("UPDATE checks SET checked_at = '2000-01-01T00:00:00.000000Z'")
    before = len(server.requests)
    run("sync", "civitai", "--rps", "0", "--limit", "1", "--refresh-stats-older-than", "1h")
    assert not any(r["path"].endswith(f"/models/{gone['id']}") for r in server.requests[before:])


def test_bad_duration_is_a_usage_error() -> None:
    result = run("sync", "civitai", "--refresh-stats-older-than", "soon")
    assert result.exit_code == 2 and "duration like 24h" in result.output


# --- limiter and breaker, on the clock ------------------------------------------------


def test_limiter_cuts_on_429_and_regains() -> None:
    limiter = RateLimiter(10)
    limiter.throttled(None)
    assert limiter.rate == pytest.approx(7.0)
    limiter._grown -= 1.0  # a quiet second
    limiter.succeeded()
    assert 7.0 < limiter.rate <= 10


def fake_time() -> tuple[list[float], Callable[[], float], Callable[[float], None]]:
    """A clock and a sleep that moves it: the limiter's waits measured, not slept."""
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return now, lambda: now[0], sleep


def test_limiter_waits_out_retry_after_and_ratelimit_headers() -> None:
    now, clock, sleep = fake_time()
    limiter = RateLimiter(100, clock=clock, sleep=sleep)
    limiter.throttled(0.3)
    started = now[0]
    limiter.acquire()
    assert now[0] - started == pytest.approx(0.3)
    limiter.observe(*rate_limit_hint({"ratelimit": '"api";r=0;t=1'}))
    started = now[0]
    limiter.acquire()
    assert now[0] - started == pytest.approx(1.0)
    limiter.observe(*rate_limit_hint({"ratelimit": '"api";r=30;t=10'}))
    assert limiter.rate == pytest.approx(3.0)


def test_rate_limit_hint_parsing() -> None:
    assert rate_limit_hint({"ratelimit": '"api";r=12;t=55'}) == (12, 55.0)
    assert rate_limit_hint({"ratelimit": "garbage"}) is None
    assert rate_limit_hint({}) is None


def test_breaker_opens_after_threshold_and_half_opens() -> None:
    now, clock, _ = fake_time()
    breaker = CircuitBreaker(threshold=2, cooldown=0.2, clock=clock)
    breaker.record(ok=False)
    assert breaker.open_for() == 0
    breaker.record(ok=False)
    assert breaker.open_for() == pytest.approx(0.2)
    now[0] += 0.25
    assert breaker.open_for() == 0
    breaker.record(ok=False)  # the half-open probe failed: open again at once
    assert breaker.open_for() > 0


def naive_walk(server) -> list[int]:
    """Follow nextCursor exactly as the API hands it out: what a client without recovery gets."""
    ids: list[int] = []
    cursor = None
    while True:
        params = {"sort": "Newest", "nsfw": "true", "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(f"{server.base_url}/models", params=params).json()
        ids += [m["id"] for m in body["items"]]
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            return ids


@pytest.mark.parametrize("incremental", [False, True])
def test_newest_first_crawl_recovers_the_items_date_cursors_skip(
    serve, reference_models, tmp_path, incremental
) -> None:
    server = serve(reference_models, page_size=20, faults=Faults(skip_boundary=True))
    lost = naive_walk(server)
    # The fake is Civitai in that mode: ISO-date cursors, and 5 of 122 models lost to them
    # (the lookahead of each of 5 page boundaries).
    assert len(lost) == 117 and len(set(lost)) == 117
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["query"]["cursor"][0])
        for r in server.requests
        if "cursor" in r["query"]
    )
    asked = len(server.requests)
    args = ["--incremental"] if incremental else ["--sort", "Newest"]
    result = run("sync", "civitai", "--rps", "0", "--db", str(tmp_path / "n.db"), *args)
    assert result.exit_code == 0, result.output
    assert "122 models (new 122" in result.output
    with sqlite3.connect(tmp_path / "n.db") as conn:
        stored = {int(r[0]) for r in conn.execute("SELECT id FROM models")}
    assert stored == {m["id"] for m in reference_models}
    # The pages 122 models make at 20 a page, as without the bug: no extra request by id.
    assert len(server.requests) - asked == 7
    assert all(r["path"] == "/api/v1/models" for r in server.requests[asked:])


def test_newest_first_crawl_without_the_bug_counts_no_model_twice(
    serve, reference_models, tmp_path
) -> None:
    models = copy.deepcopy(reference_models)
    server = serve(models, page_size=20)  # a fixed API: the next page starts at the cursor
    order = server.filtered({"sort": ["Newest"], "nsfw": ["true"]})
    last_of_page, lookahead = order[19], order[20]
    shared = max(v.get("publishedAt") or v["createdAt"] for v in last_of_page["modelVersions"])
    for version in lookahead["modelVersions"]:  # a tie across the first boundary
        version["publishedAt"] = shared
    walked = naive_walk(server)
    assert len(walked) == 123 and len(set(walked)) == 122  # the API itself repeats one
    result = run("sync", "civitai", "--rps", "0", "--sort", "Newest")
    assert result.exit_code == 0, result.output
    assert "122 models (new 122, updated 0, counters 0, unchanged 0" in result.output
