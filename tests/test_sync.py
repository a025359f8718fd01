"""Crawls against a local server: paging, filters, idempotency, quarantine, kill and resume."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sqlite3
import subprocess
import time
from collections import deque
from pathlib import Path

from click.testing import CliRunner

from scraper import sources
from scraper.cli import main
from scraper.demo.server import Faults
from scraper.jobs.sync import crawl
from scraper.store import Store
from tests.support import default_sigint, stored_raw, sync_command

DATA_TABLES = ("models", "versions", "files", "images", "tags", "creators", "stats_history")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(db: Path) -> dict[str, list]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in DATA_TABLES
        }


def model_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM models ORDER BY CAST(id AS INT)")]


def test_crawl_follows_cursors_over_many_pages(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models, page_size=10)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "122 models (new 122" in result.output
    assert sorted(model_ids(tmp_path / "models.db"), key=int) == sorted(
        (str(m["id"]) for m in reference_models), key=int
    )
    cursors = [r["query"].get("cursor") for r in server.requests]
    assert cursors[0] is None and all(c for c in cursors[1:])
    assert len(server.requests) == 13
    with sqlite3.connect(tmp_path / "models.db") as conn:
        versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        run_row = conn.execute("SELECT status, new, requests FROM runs").fetchone()
    [raw] = stored_raw(tmp_path / "models.db", "id = '4717'")
    assert versions == sum(len(m["modelVersions"]) for m in reference_models)
    assert files == 415
    assert run_row == ("ok", 122, 13)
    assert '"name":"s1dlxBrew"' in raw and '"modelVersions"' not in raw  # stored once


def test_filters_are_sent_as_repeated_params(serve, reference_models) -> None:
    server = serve(reference_models)
    result = run(
        "sync",
        "civitai",
        "--rps",
        "0",
        "--types",
        "LORA",
        "--types",
        "Checkpoint",
        "--base-models",
        "SD 1.5",
        "--base-models",
        "SD 1.4",
        "--tag",
        "anime",
        "--username",
        "someone",
        "--sort",
        "Newest",
        "--period",
        "Week",
        "--no-nsfw",
    )
    assert result.exit_code == 0, result.output
    query = server.requests[0]["query"]
    assert query["types"] == ["LORA", "Checkpoint"]
    assert query["baseModels"] == ["SD 1.5", "SD 1.4"]
    assert query["tag"] == ["anime"] and query["username"] == ["someone"]
    assert query["sort"] == ["Newest"] and query["period"] == ["Week"]
    assert query["nsfw"] == ["false"] and query["limit"] == ["100"]


def test_nsfw_included_by_default(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    assert server.requests[0]["query"]["nsfw"] == ["true"]
    nsfw = [m for m in reference_models if m["nsfw"]]
    assert nsfw and len(model_ids(tmp_path / "models.db")) == len(reference_models)


def test_limit_counts_models_in_total(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models, page_size=10)
    result = run("sync", "civitai", "--rps", "0", "--limit", "25")
    assert result.exit_code == 0, result.output
    assert len(model_ids(tmp_path / "models.db")) == 25
    assert len(server.requests) == 3  # no page read ahead past the limit


def test_next_page_is_asked_for_while_this_one_is_written(
    serve, reference_models, tmp_path
) -> None:
    server = serve(reference_models, page_size=40)
    source = sources.get("civitai")
    asked_during: list[int] = []

    def progress(done: int, pages: int) -> None:
        """Called after a page is committed; waits until the server has the next request."""
        deadline = time.monotonic() + 5
        while len(server.requests) <= pages and time.monotonic() < deadline:
            time.sleep(0.01)
        asked_during.append(len(server.requests))

    with source.client(rps=0) as api, contextlib.closing(Store(tmp_path / "m.db")) as store:
        outcome = crawl(store, api, source, source.filters({}), progress=progress)
    assert outcome.status == "ok" and outcome.counts.new == 122
    assert asked_during == [2, 3, 4, 4]  # the last page names no next: nothing more is asked
    assert len(server.requests) == 4


def test_second_identical_sync_changes_no_row(serve, reference_models, tmp_path) -> None:
    serve(reference_models, page_size=30)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    before = snapshot(tmp_path / "models.db")
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 0
    assert "unchanged 122" in result.output
    assert snapshot(tmp_path / "models.db") == before


def test_changed_model_is_updated_and_vanished_version_marked(
    serve, reference_models, tmp_path
) -> None:
    import copy

    models = copy.deepcopy(reference_models)
    serve(models, page_size=50)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    target = next(m for m in models if m["id"] == 4717)
    dropped = target["modelVersions"].pop()
    target["stats"]["downloadCount"] += 1
    result = run("sync", "civitai", "--rps", "0")
    assert "updated 1, counters 0, unchanged 121" in result.output
    with sqlite3.connect(tmp_path / "models.db") as conn:
        removed = conn.execute(
            "SELECT removed_at FROM versions WHERE id = ?", [str(dropped["id"])]
        ).fetchone()[0]
        downloads = conn.execute("SELECT downloads FROM models WHERE id = '4717'").fetchone()[0]
    assert removed is not None
    assert downloads == target["stats"]["downloadCount"]


def test_empty_page_with_cursor_is_not_the_end(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models, page_size=10)
    last = reference_models[-1]["name"]
    result = run("sync", "civitai", "--rps", "0", "--query", last)
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 13  # pages 1..12 are empty after search filtering
    assert str(reference_models[-1]["id"]) in model_ids(tmp_path / "models.db")


def test_malformed_record_is_quarantined_and_run_goes_on(serve, reference_models, tmp_path) -> None:
    broken = {"id": 999999, "name": "broken", "modelVersions": "not a list"}
    serve([*reference_models[:5], broken, *reference_models[5:10]], page_size=4)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "failed 1" in result.output and "model 999999" in result.output
    assert len(model_ids(tmp_path / "models.db")) == 10
    with sqlite3.connect(tmp_path / "models.db") as conn:
        row = conn.execute("SELECT key, error, raw FROM quarantine").fetchone()
        status = conn.execute("SELECT status FROM runs").fetchone()[0]
    assert row[0] == "999999" and "not a list" in row[1] and '"broken"' in row[2]
    assert status == "partial"


def test_failed_page_keeps_checkpoint_and_next_run_resumes(
    serve, reference_models, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    server = serve(reference_models, page_size=10)
    # Page 4 fails for good: the first three pages stay, with the cursor after them.
    server.faults.script.extend([None, None, None, "503", "503"])
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "crawl stopped" in result.output and "resume" in result.output
    assert len(model_ids(tmp_path / "models.db")) == 30
    before = len(server.requests)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "resumed after 30" in result.output
    assert server.requests[before]["query"].get("cursor") == [
        "30|" + str(reference_models[30]["id"])
    ]
    assert len(model_ids(tmp_path / "models.db")) == 122
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 0


def test_killed_crawl_resumes_with_nothing_lost_or_duplicated(
    serve, reference_models, tmp_path
) -> None:
    server = serve(reference_models, page_size=5, faults=Faults(latency=0.03))
    db = tmp_path / "killed.db"
    env = dict(os.environ, CIVITAI_API_BASE=server.base_url)
    command = sync_command(db)
    for kill_after in (3, 6, 6):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        start = len(server.requests)
        deadline = time.monotonic() + 30
        while len(server.requests) - start < kill_after and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "resumed after" in result.stderr
    ids = model_ids(db)
    assert len(ids) == len(set(ids)) == 122
    # Three killed runs and one finish cost no more than a clean crawl plus one page per kill.
    assert len(server.requests) <= 25 + 3 + 3


def test_store_schema_upgrade_adds_missing_columns(tmp_path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE models (source TEXT, id TEXT, name TEXT, PRIMARY KEY (source, id))"
        )
    store = Store(db)
    assert "raw" in store.db.table("models").columns_dict
    store.close()


def test_sigint_ends_a_sync_cleanly_recorded_and_resumable(serve, reference_models, tmp_path):
    server = serve(reference_models, page_size=5, faults=Faults(latency=0.05))
    db = tmp_path / "int.db"
    env = dict(os.environ, CIVITAI_API_BASE=server.base_url)
    process = subprocess.Popen(
        sync_command(db),
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 (only resets a signal disposition)
    )
    deadline = time.monotonic() + 30
    while not stored_yet(db):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1].startswith("interrupted by SIGINT: what was committed")
    with sqlite3.connect(db) as conn:
        status, errors = conn.execute("SELECT status, errors FROM runs").fetchone()
    assert status == "interrupted" and "interrupted by SIGINT" in errors
    server.faults.latency = 0
    result = run("sync", "civitai", "--rps", "0", "--db", str(db))
    assert result.exit_code == 0 and "resumed after" in result.output
    assert len(model_ids(db)) == 122


def stored_yet(db: Path) -> bool:
    """Whether a sync running in another process has committed a page (read-only look)."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM models").fetchone()[0] > 0
    except sqlite3.OperationalError:  # the schema is still being created
        return False


def lookup_indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name for (name,) in found} & {"idx_files_sha256", "idx_tags_tag"}


def replicas(models: list[dict], n: int) -> list[dict]:
    """n models made from the reference ones, each with its own model and version ids."""
    made = []
    for k in range(n):
        model = copy.deepcopy(models[k % len(models)])
        model["id"] = k + 1
        for version in model["modelVersions"]:
            version["id"] = version["id"] * 10_000 + k
        made.append(model)
    return made


def test_long_crawl_builds_its_lookup_indexes_once_at_the_end(
    serve, reference_models, tmp_path
) -> None:
    serve(replicas(reference_models, 2_300), page_size=100)
    source = sources.get("civitai")
    db = tmp_path / "long.db"
    present: list[bool] = []

    def progress(done: int, pages: int) -> None:
        present.append(lookup_indexes(db) == {"idx_files_sha256", "idx_tags_tag"})

    with source.client(rps=0) as api, contextlib.closing(Store(db)) as store:
        outcome = crawl(store, api, source, source.filters({}), progress=progress)
    assert outcome.status == "ok" and outcome.counts.new == 2_300
    assert present == [True] * 19 + [False] * 4  # dropped with the 2,000th model, to the end
    assert lookup_indexes(db) == {"idx_files_sha256", "idx_tags_tag"}
    with sqlite3.connect(db) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT * FROM files WHERE sha256 = 'x'").fetchall()
        assert "idx_files_sha256" in repr(plan)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_long_crawl_that_fails_builds_its_lookup_indexes_all_the_same(
    serve, reference_models, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    script = deque([""] * 22 + ["503"] * 5)  # the 23rd page never comes
    serve(replicas(reference_models, 2_500), page_size=100, faults=Faults(script=script))
    source = sources.get("civitai")
    db = tmp_path / "failed.db"
    with source.client(rps=0) as api, contextlib.closing(Store(db)) as store:
        outcome = crawl(store, api, source, source.filters({}))
    assert outcome.status == "failed" and outcome.counts.new == 2_200
    assert lookup_indexes(db) == {"idx_files_sha256", "idx_tags_tag"}


def test_lookup_indexes_a_killed_crawl_dropped_come_back_with_the_next_run(tmp_path) -> None:
    db = tmp_path / "killed.db"
    with contextlib.closing(Store(db)) as store:
        store.defer_lookups()  # as a long crawl does, then killed before its end
    assert lookup_indexes(db) == set()
    with contextlib.closing(Store(db)) as store, store.exclusive():
        pass
    assert lookup_indexes(db) == {"idx_files_sha256", "idx_tags_tag"}
