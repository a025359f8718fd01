"""The full-text index: filled by the writer, kept in step on change, found by sqlite-utils."""

from __future__ import annotations

import copy
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from scraper.cli import main
from scraper.store import Store, schema
from tests.support import old_database, sync_inputs


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def search(db: Path, query: str) -> list[str]:
    """What `sqlite-utils search` finds, through its own Python API (detect_fts and all)."""
    table = sqlite_utils.Database(db).table("models")
    return sorted(row["id"] for row in table.search(query, columns=["id"]))


def integrity(db: Path) -> None:
    with sqlite3.connect(db) as conn:  # raises when the index and the rows disagree
        conn.execute("INSERT INTO models_fts (models_fts, rank) VALUES ('integrity-check', 1)")


def test_names_tags_authors_and_descriptions_are_searchable(serve, reference_models, tmp_path):
    models = copy.deepcopy(reference_models)
    serve(models, page_size=50)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    db = tmp_path / "models.db"
    assert search(db, "s1dlxBrew") == ["4717"]  # a name
    by_tag = [str(m["id"]) for m in models if "sprites" in (m.get("tags") or [])]
    assert by_tag and search(db, "tags:sprites") == sorted(by_tag)
    author = models[5]["creator"]["username"]
    by_author = sorted(str(m["id"]) for m in models if m["creator"]["username"] == author)
    assert search(db, f'creator:"{author}"') == by_author
    # HTML descriptions are indexed as their text, not their markup.
    assert "Avrik" in (models[0]["description"] or "")
    assert str(models[0]["id"]) in search(db, "description:Avrik")
    assert search(db, "description:href") == []  # in 89 descriptions, all inside tags
    integrity(db)


def test_index_follows_changes_but_not_counter_refreshes(serve, reference_models, tmp_path):
    models = copy.deepcopy(reference_models)
    server = serve(models, page_size=50)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    db = tmp_path / "models.db"
    changed, old_name = str(models[0]["id"]), f'name:"{models[0]["name"]}"'
    assert changed in search(db, old_name)
    models[0]["name"] = "Zebrafish Quartet"
    models[1]["stats"]["downloadCount"] += 5
    server._index()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE fts_writes (n)")
        conn.execute(
            "CREATE TRIGGER count_fts AFTER UPDATE OF name, tags, creator, description ON models "
            "BEGIN INSERT INTO fts_writes VALUES (new.id); END"
        )
    result = run("sync", "civitai", "--rps", "0")
    assert "updated 1, counters 1" in result.output, result.output
    assert search(db, "zebrafish") == [changed]
    assert changed not in search(db, old_name)
    with sqlite3.connect(db) as conn:  # the counters refresh did not touch indexed columns
        assert conn.execute("SELECT n FROM fts_writes").fetchall() == [(changed,)]
    integrity(db)


def test_previous_release_database_gets_the_index_the_writer_makes(tmp_path, monkeypatch):
    db = old_database(tmp_path)
    Store(db).close()
    sql = "SELECT source, name, tags, description FROM models ORDER BY source, name"
    fresh = tmp_path / "fresh.db"
    sync_inputs(fresh, monkeypatch)
    with sqlite3.connect(db) as old, sqlite3.connect(fresh) as new:
        assert old.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        upgraded, written = old.execute(sql).fetchall(), new.execute(sql).fetchall()
    # README links are resolved against the host each payload was fetched from: the old
    # database's test server had another port than this one.
    upgraded, written = _any_port(upgraded), _any_port(written)
    assert upgraded == written and len(upgraded) == 17
    assert sum(1 for row in upgraded if row[2] and row[3]) == 11  # filled, not left empty
    assert search(db, "s1dlxBrew") == ["4717"]
    integrity(db)


def _any_port(rows: list[tuple]) -> list[tuple]:
    local = re.compile(r"http://127\.0\.0\.1:[0-9]+")
    return [
        tuple(local.sub("http://127.0.0.1:PORT", v) if isinstance(v, str) else v for v in r)
        for r in rows
    ]


def test_sqlite_utils_command_line_finds_the_index(serve, reference_models, tmp_path) -> None:
    serve(reference_models, page_size=100)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    command = [Path(sys.executable).with_name("sqlite-utils"), "search"]
    found = subprocess.run(
        [*command, str(tmp_path / "models.db"), "models", "s1dlxBrew", "-c", "id", "--csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.split() == ["id", "4717"]
