"""`scraper run` end to end against local Civitai and Hugging Face servers: two runs, signals,
a killed run, the lock, the log file; and `scraper status` as a monitor reads it."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.civitai import FakeCivitai
from scraper.demo.hub import FakeHuggingFace
from scraper.demo.recorded import GATED
from scraper.demo.server import Faults
from scraper.store import schema
from scraper.store.queries import STATUS as QUERIES
from tests.support import default_sigint, hf_repos

CONFIG = """\
db = "out/models.db"
out = "out"
languages = ["zh", "en"]

[site]
out = "out/site"

[[sources]]
name = "civitai"
incremental = true
refresh_stats_older_than = "24h"
rps = 0

[[sources]]
name = "hf"
incremental = true
rps = 0
"""
EVENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR) \S")
HF_REPOS = 25  # 5 recorded infos and 20 LoRA repos made from one


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def apis(monkeypatch, reference_models):
    """A Civitai with the cursor-skip bug on, and a Hugging Face Hub, on 127.0.0.1."""
    infos, readmes = hf_repos(loras=HF_REPOS - 5)
    models = copy.deepcopy(reference_models)
    civitai = FakeCivitai(models, page_size=20, faults=Faults(skip_boundary=True)).start()
    hf = FakeHuggingFace(infos, readmes=readmes, gated={GATED}, page_size=10).start()
    monkeypatch.setenv("CIVITAI_API_BASE", civitai.base_url)
    monkeypatch.setenv("HF_ENDPOINT", hf.base_url)
    yield civitai, hf
    civitai.stop()
    hf.stop()


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "scraper.toml"
    path.write_text(text, encoding="utf-8")
    return path


def models_by_source(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT source, count(*) FROM models GROUP BY source"))


def runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, source, status FROM runs ORDER BY id").fetchall()


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every output file but the database: its bytes and its modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("models.db")
    }


def test_two_runs_the_second_costs_a_fifth_and_changes_no_file(apis, tmp_path) -> None:
    civitai, hf = apis
    path = write_config(tmp_path)
    first = run("run", "--config", str(path))
    assert first.exit_code == 0, first.output
    out = tmp_path / "out"
    assert models_by_source(out / "models.db") == {"civitai": 122, "huggingface": HF_REPOS}
    assert len(list((out / "civitai").glob("*.en.md"))) == 122
    assert len(list((out / "huggingface").glob("*.md"))) == 2 * HF_REPOS
    assert (out / "site" / "index.html").is_file()
    assert (out / "site" / "en" / "index.html").is_file()
    assert f"site: {122 + HF_REPOS} models" in first.output
    lines = first.output.splitlines()
    assert lines and all(EVENT.match(line) for line in lines), first.output
    assert (
        sum(
            line.split(" ", 2)[2].startswith(("civitai: ok:", "huggingface: ok:")) for line in lines
        )
        == 2
    )
    assert " INFO run: ok: civitai ok, huggingface ok; cards " in lines[-1]
    first_requests = len(civitai.requests) + len(hf.requests)
    before = files(out)

    second = run("run", "--config", str(path))
    assert second.exit_code == 0, second.output
    second_requests = len(civitai.requests) + len(hf.requests) - first_requests
    assert 0 < second_requests <= first_requests / 5, (first_requests, second_requests)
    assert files(out) == before  # not a byte, not a modification time
    assert "cards en: 0 written, 147 unchanged" in second.output

    status = run("status", "--config", str(path), "--json")
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["ok"] and report["problems"] == [] and report["format"] == 1
    assert [s["name"] for s in report["sources"]] == ["civitai", "huggingface"]
    civitai_report = report["sources"][0]
    assert civitai_report["models"] == 122 and civitai_report["counters"]["due"] == 0
    assert [r["status"] for r in civitai_report["runs"]] == ["ok", "ok"]
    assert civitai_report["runs"][1]["new"] == 122 and civitai_report["runs"][0]["new"] == 0
    assert report["database"]["bytes"] > 100_000 and report["database"]["schema"] == schema.VERSION


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_run_cleanly_and_the_next_run_completes(apis, tmp_path, signum):
    civitai, _ = apis
    civitai.page_size = 5
    civitai.faults.latency = 0.05
    path = write_config(tmp_path)
    db = tmp_path / "out" / "models.db"
    command = [sys.executable, "-m", "scraper.cli", "run", "--config", str(path)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 (only resets a signal disposition)
    )
    deadline = time.monotonic() + 30
    while models_so_far(db) < 10:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    name = signal.Signals(signum).name
    assert f"run: interrupted by {name}" in stderr and "Aborted!" not in stderr
    assert runs(db) == [(1, "civitai", "interrupted")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute("SELECT count(*) FROM models").fetchone()[0]
    assert 10 <= kept < 122

    civitai.faults.latency = 0
    again = run("run", "--config", str(path))
    assert again.exit_code == 0, again.output
    assert f"resumed after {kept}" in again.output
    assert models_by_source(db) == {"civitai": 122, "huggingface": HF_REPOS}


def models_so_far(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM models").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def test_a_killed_run_is_marked_interrupted_by_the_next(apis, tmp_path) -> None:
    civitai, _ = apis
    civitai.page_size = 5
    civitai.faults.latency = 0.05
    path = write_config(tmp_path)
    db = tmp_path / "out" / "models.db"
    command = [sys.executable, "-m", "scraper.cli", "run", "--config", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while models_so_far(db) < 5:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.kill()
    process.wait()
    assert runs(db) == [(1, "civitai", "running")]  # nothing could record it
    status = run("status", "--config", str(path), "--json")
    assert status.exit_code == 1
    report = json.loads(status.output)
    assert report["sources"][0]["runs"][0]["status"] == "interrupted"  # no one holds the lock
    assert "civitai: last sync interrupted (run 1)" in report["problems"][0]

    civitai.faults.latency = 0
    again = run("run", "--config", str(path))
    assert again.exit_code == 0, again.output
    assert "run 1 (civitai sync) was left running by a process that ended" in again.output
    assert runs(db)[:3] == [
        (1, "civitai", "interrupted"),
        (2, "civitai", "ok"),
        (3, "huggingface", "ok"),
    ]
    assert models_by_source(db)["civitai"] == 122


def test_a_second_run_refuses_or_waits_for_the_lock(apis, tmp_path) -> None:
    path = write_config(tmp_path)
    db = tmp_path / "out" / "models.db"
    db.parent.mkdir()
    holder = os.open(f"{db}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's run, as the OS sees it
    try:
        refused = run("run", "--config", str(path))
        assert refused.exit_code == 1
        assert "another scraper run is writing" in refused.output and not db.exists()
        threading.Timer(0.2, os.close, [holder]).start()
        started = time.monotonic()
        waited = run("run", "--config", str(path), "--wait", "20")
    finally:
        with __import__("contextlib").suppress(OSError):
            os.close(holder)
    assert waited.exit_code == 0, waited.output
    assert time.monotonic() - started >= 0.15


def test_log_file_gets_every_event_rotates_and_stderr_keeps_the_trouble(apis, tmp_path):
    civitai, _ = apis
    civitai.faults.script.append("503")  # one retry: a warning
    path = write_config(tmp_path, CONFIG.split('[[sources]]\nname = "hf"')[0])
    log = tmp_path / "logs" / "scraper.log"
    log.parent.mkdir()
    log.write_text("old line\n" * 600_000, encoding="utf-8")  # past the 5 MB rotation size
    result = run("run", "--config", str(path), "--log-file", str(log))
    assert result.exit_code == 0, result.output
    assert (log.parent / "scraper.log.1").read_text(encoding="utf-8").startswith("old line\n")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 6 and all(EVENT.match(line) for line in lines)
    assert " INFO run: ok: civitai ok; " in lines[-1]
    trouble = [line for line in lines if " WARNING " in line or " ERROR " in line]
    assert len(trouble) == 1 and "HTTP 503; retry 1" in trouble[0]
    assert result.output.splitlines() == trouble  # cron mails only this


def test_a_failing_source_does_not_stop_the_others(apis, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    path = write_config(tmp_path)
    result = run("run", "--config", str(path))
    assert result.exit_code == 1
    assert "run: partial: civitai ok, huggingface failed" in result.output
    db = tmp_path / "out" / "models.db"
    assert models_by_source(db) == {"civitai": 122}
    assert len(list((tmp_path / "out" / "civitai").glob("*.en.md"))) == 122
    status = run("status", "--config", str(path), "--json")
    assert status.exit_code == 1
    assert json.loads(status.output)["problems"][0].startswith("huggingface: last sync failed")


def test_status_flags_stale_sources_and_counters(apis, tmp_path) -> None:
    path = write_config(tmp_path)
    assert run("run", "--config", str(path)).exit_code == 0
    db = tmp_path / "out" / "models.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET finished_at = '2020-01-01T00:00:00.000000Z'")
        conn.execute(
            "UPDATE checks SET checked_at = '2020-01-01T00:00:00.000000Z' WHERE source = 'civitai' "
            "AND model_id IN (SELECT model_id FROM checks LIMIT 7)"
        )
    status = run("status", "--config", str(path), "--json")
    assert status.exit_code == 1
    report = json.loads(status.output)
    problems = report["problems"]
    assert any(p.startswith("civitai: not synced for ") for p in problems)
    assert any(p.startswith("huggingface: not synced for ") for p in problems)
    assert "civitai: counters of 7 models older than 2d" in problems
    assert report["sources"][0]["counters"] == {
        "refresh_after_seconds": 86400.0, "due": 7, "stale": 7,
    }  # fmt: skip
    text = run("status", "--config", str(path))
    assert text.exit_code == 1 and "status: 3 problem(s)" in text.output
    # Without a config, the sources the database has synced, with the default interval.
    (tmp_path / "elsewhere").mkdir()
    bare = run("--db", str(db), "status", "--json")
    assert [s["name"] for s in json.loads(bare.output)["sources"]] == ["civitai", "huggingface"]


def test_status_answers_every_question_from_an_index(apis, tmp_path) -> None:
    assert run("run", "--config", str(write_config(tmp_path))).exit_code == 0
    with sqlite3.connect(tmp_path / "out" / "models.db") as conn:
        for name, sql in QUERIES.items():
            args = ["civitai", *(["x"] * (sql.count("?") - 1))]
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            assert all(step.startswith("SEARCH") for step in plan), (name, plan)


def test_a_database_from_a_newer_release_is_one_error_line(tmp_path) -> None:
    path = write_config(tmp_path)
    db = tmp_path / "out" / "models.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = run("run", "--config", str(path))
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert EVENT.match(line) and " ERROR run: the database is at schema version 99" in line
