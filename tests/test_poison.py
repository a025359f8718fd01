"""Issue 9 items 5, 6, 8, 9: one bad record, card, file or database never stops a run."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.catalog import load_models
from scraper.cli import main
from tests.support import one_line

GOOD = 6  # reference models served after the poison: all must be stored


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def poison_page(models: list[dict]) -> bytes:
    """A /models page holding the poison items of issue 9 and three good models, as bytes:
    a count past SQLite's integers, a lone surrogate, a 2000-deep array, an invalid byte."""
    bigint = dict(models[0], id=990101, name="huge count")
    bigint["stats"] = {"downloadCount": 9223372036854775808}
    surrogate = dict(models[0], id=990102, name="lone \ud800 surrogate")
    deep = dict(models[0], id=990103, name="deep", extra="@DEEP@")
    invalid = dict(models[0], id=990104, name="bad @BYTE@ byte")
    page = {
        "items": [bigint, *models[:2], surrogate, deep, invalid, models[2]],
        "metadata": {"nextCursor": f"3|{models[3]['id']}"},
    }
    text = json.dumps(page).encode()  # ensure_ascii: the surrogate travels as \ud800
    text = text.replace(b'"@DEEP@"', b"[" * 2000 + b"]" * 2000)
    return text.replace(b"@BYTE@", b"\xff")


@pytest.fixture
def poisoned(serve, reference_models):
    models = reference_models[:GOOD]
    server = serve(models, page_size=3)
    page = poison_page(models)

    def first_page(request: dict):
        if "cursor" not in request["query"]:
            return 200, page, {"Content-Type": "application/json"}
        return None

    server.answers["/api/v1/models"] = first_page
    return server


def rows(db: Path, sql: str) -> list:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_poison_records_are_quarantined_and_the_crawl_moves_on(poisoned, tmp_path) -> None:
    db = tmp_path / "models.db"
    first = run("sync", "civitai", "--rps", "0")
    assert first.exit_code == 1, first.output
    assert "Traceback" not in first.output
    assert rows(db, "SELECT count(*) FROM models") == [(GOOD,)]
    quarantined = dict(rows(db, "SELECT key, error FROM quarantine"))
    assert set(quarantined) == {"990101", "990102", "990103", "990104"}, quarantined
    assert rows(db, "SELECT status FROM runs") == [("partial",)]
    assert rows(db, "SELECT count(*) FROM checkpoints") == [(0,)]  # the crawl got to its end
    second = run("sync", "civitai", "--rps", "0")  # and the next run is not stuck there
    assert second.exit_code == 1 and rows(db, "SELECT count(*) FROM models") == [(GOOD,)]
    assert [s for (s,) in rows(db, "SELECT status FROM runs")] == ["partial", "partial"]


def test_a_quarantined_record_keeps_its_raw_item_and_error(poisoned, tmp_path) -> None:
    run("sync", "civitai", "--rps", "0")
    db = tmp_path / "models.db"
    (raw, error) = rows(db, "SELECT raw, error FROM quarantine WHERE key = '990101'")[0]
    assert "9223372036854775808" in raw and "990101" in error


def stored(tmp_path: Path, reference_models: list[dict], serve) -> Path:
    serve(reference_models[:GOOD])
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    return tmp_path / "models.db"


def test_render_reports_an_unreadable_row_and_writes_the_rest(
    serve, reference_models, tmp_path
) -> None:
    db = stored(tmp_path, reference_models, serve)
    victim = str(reference_models[1]["id"])
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE models SET raw = CAST(x'7b22ff' AS TEXT) WHERE id = ?", [victim])
    result = run("render", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"civitai {victim}" in result.output and "Traceback" not in result.output
    assert len(list((tmp_path / "out" / "civitai").glob("*.md"))) == GOOD - 1


def test_render_reports_a_card_it_cannot_write_and_writes_the_rest(
    serve, reference_models, tmp_path
) -> None:
    stored(tmp_path, reference_models, serve)
    out = tmp_path / "out"
    run("render", "--out", str(out))
    victim = sorted((out / "civitai").glob("*.md"))[0]
    victim.unlink()
    victim.mkdir()  # a folder where the card goes: writing it fails
    for card in (out / "civitai").glob("*.md"):
        if card.is_file():
            card.unlink()
    result = run("render", "--out", str(out), "--force")
    assert result.exit_code == 1
    assert victim.name in result.output and "Traceback" not in result.output
    assert len([p for p in (out / "civitai").glob("*.md") if p.is_file()]) == GOOD - 1


def test_render_on_a_full_disk_reports_each_card_in_one_line(
    serve, reference_models, tmp_path
) -> None:
    db = stored(tmp_path, reference_models, serve)
    with sqlite3.connect(db) as conn:  # no -shm to create: the limit hits the cards only
        conn.execute("PRAGMA journal_mode=DELETE")

    def small_files() -> None:  # past 1 KiB a write fails (EFBIG), as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    done = subprocess.run(
        [sys.executable, "-m", "scraper.cli", "render", "--db", str(db), "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("failed: civitai") >= GOOD - 1  # every card named


@pytest.mark.parametrize("kind", ["empty", "text", "unrelated", "folder"])
def test_render_on_a_file_that_is_not_our_database_changes_nothing(tmp_path, kind) -> None:
    path = tmp_path / "other.db"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("name,downloads\nx,1\n" * 50, encoding="utf-8")
    elif kind == "unrelated":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
            conn.execute("INSERT INTO notes VALUES ('mine')")
    else:
        path.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    content = path.read_bytes() if path.is_file() else None
    for command in (["render"], ["render", "--lang", "en"]):
        result = run(*command, "--db", str(path), "--out", str(tmp_path / "out"))
        assert result.exit_code == 1
        assert str(path) in one_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal, -shm, out
    if content is not None:
        assert path.read_bytes() == content


@pytest.mark.parametrize("kind", ["text", "unrelated", "folder"])
def test_sync_on_a_file_that_is_not_our_database_changes_nothing(
    serve, reference_models, tmp_path, kind
) -> None:
    serve(reference_models[:2])
    path = tmp_path / "other.db"
    if kind == "text":
        path.write_text("name,downloads\nx,1\n" * 50, encoding="utf-8")
    elif kind == "unrelated":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
    else:
        path.mkdir()
    content = path.read_bytes() if path.is_file() else None
    result = run("sync", "civitai", "--rps", "0", "--db", str(path))
    assert result.exit_code == 1
    assert str(path) in one_line(result)
    if content is not None:
        assert path.read_bytes() == content


def damage(db: Path) -> bytes:
    """Garbage over the first page of the models table (not the file's header)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'models'"
        ).fetchone()
    data = bytearray(db.read_bytes())
    start = (root - 1) * page
    data[start : start + page] = os.urandom(page)
    db.write_bytes(bytes(data))
    return bytes(data)


def test_a_damaged_database_is_reported_not_used(serve, reference_models, tmp_path) -> None:
    db = stored(tmp_path, reference_models, serve)
    damaged = damage(db)
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    line = one_line(result)
    assert str(db) in line and ".recover" in line and "backup" in line
    assert db.read_bytes() == damaged
    render = run("render", "--out", str(tmp_path / "out"))
    assert render.exit_code == 1 and "Traceback" not in render.output
    assert str(db) in render.output and db.read_bytes() == damaged


def test_render_reads_one_snapshot(serve, reference_models, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_COMPRESS", "0")  # payloads as text, for json_set below
    db = stored(tmp_path, reference_models, serve)  # WAL, as the store writes it
    models = load_models(db)
    first = next(models)
    with sqlite3.connect(db) as conn:  # a sync commits while render is half way
        conn.execute(
            "UPDATE models SET raw = json_set(raw, '$.name', 'changed') WHERE id != ?", [first.id]
        )
        conn.execute("DELETE FROM versions")
    rest = list(models)
    assert len(rest) == GOOD - 1
    assert all(m.name != "changed" and m.versions for m in rest)  # the state before, whole


def test_render_never_changes_the_file_it_reads(serve, reference_models, tmp_path) -> None:
    db = stored(tmp_path, reference_models, serve)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    before = db.read_bytes()
    assert run("render", "--out", str(tmp_path / "out")).exit_code == 0
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
