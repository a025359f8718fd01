"""The shape the code keeps: sources behind one interface, small modules, a versioned schema."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper import sources
from scraper.cards.output import card_name
from scraper.cards.render import render_card
from scraper.catalog import load_models, open_store
from scraper.cli import main
from scraper.store import codec, schema
from tests.support import expected_card, old_database, sync_inputs

PACKAGE = Path(sources.__file__).parent.parent
SHARED = [
    p
    for p in PACKAGE.rglob("*.py")
    if p.parent.name not in ("sources", "demo") and "__pycache__" not in p.parts
]


LOCAL = re.compile(r"http://127\.0\.0\.1:[0-9]+")  # the test servers' ports differ


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_shared_modules_name_no_source() -> None:
    words = {w for s in sources.SOURCES for w in (s.name, s.cli_name, s.title, *s.aliases)}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in SHARED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert len(SHARED) > 10 and found == []


def test_no_module_is_longer_than_450_lines() -> None:
    lengths = {
        p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert max(lengths.values()) <= 450, lengths


def test_registry_finds_by_name_cli_name_and_alias() -> None:
    assert sources.get("hf") is sources.get("huggingface")
    assert sources.get("civitai").name == "civitai"
    with pytest.raises(KeyError, match="use one of civitai, hf, modelscope"):
        sources.get("tensorart")


def test_every_source_has_its_commands_and_help_examples() -> None:
    for source in sources.SOURCES:
        for group in ("sync", "export"):
            result = run(group, source.cli_name, "--help")
            assert result.exit_code == 0, result.output
            assert (
                "Example:" in result.output
                and f"scraper {group} {source.cli_name}" in result.output
            )


def test_db_and_verbose_work_before_and_after_the_subcommand(
    serve, reference_models, tmp_path, caplog
) -> None:
    serve(reference_models[:3])
    db = tmp_path / "elsewhere.db"

    def requests_logged() -> bool:
        return any("HTTP Request: GET" in r.getMessage() for r in caplog.records)

    assert run("sync", "civitai", "--rps", "0", "--db", str(db)).exit_code == 0
    assert not requests_logged()
    after = run("sync", "civitai", "--rps", "0", "--db", str(db), "-v")
    assert after.exit_code == 0, after.output
    assert requests_logged()  # -v after the subcommand turned on request logs
    out = tmp_path / "cards"
    before = run("--db", str(db), "render", "--out", str(out))
    assert before.exit_code == 0, before.output
    assert len(list((out / "civitai").glob("*.md"))) == 3


def test_old_database_is_upgraded_in_place_and_renders_the_same_cards(tmp_path, monkeypatch):
    db = old_database(tmp_path)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        runs_before = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == runs_before
    # The upgraded copy hashes as a fresh answer does: syncing the same answers changes nothing
    # (ModelScope's records name the server they came from, and the test server's port moved).
    civitai, hf, modelscope = sync_inputs(db, monkeypatch)
    for summary in (civitai, hf):
        assert "(new 0, updated 0, counters 0," in summary, summary
    assert "(new 0, updated 2, counters 0," in modelscope
    fresh = tmp_path / "fresh.db"
    sync_inputs(fresh, monkeypatch)
    old = {(m.source, m.id): m for m in load_models(db)}
    new = {(m.source, m.id): m for m in load_models(fresh)}
    assert sorted(old) == sorted(new) and len(old) == 17
    images = "SELECT * FROM images ORDER BY source, model_id, version_id, position"
    with sqlite3.connect(db) as upgraded, sqlite3.connect(fresh) as written:
        rows = [
            [LOCAL.sub("PORT", repr(r)) for r in conn.execute(images)]
            for conn in (upgraded, written)
        ]
    assert rows[0] == rows[1] and len(rows[0]) > 40  # keyed by model (version 5), as written
    for key, model in old.items():
        for lang in ("zh", "en", "bilingual"):
            cards = [
                LOCAL.sub("http://127.0.0.1:PORT", render_card(m, lang)) for m in (model, new[key])
            ]
            assert cards[0] == cards[1], (key, lang)
        if model.source == "civitai":
            assert render_card(model) == expected_card(model.id), card_name(model)


def test_database_from_a_newer_release_is_refused_untouched(tmp_path) -> None:
    db = tmp_path / "newer.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    with pytest.raises(schema.SchemaError, match="newer than this scraper"):
        open_store(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_packed_images_read_back_through_the_view(serve, reference_models, tmp_path) -> None:
    serve(reference_models[:5])
    db = tmp_path / "models.db"
    assert run("sync", "civitai", "--rps", "0", "--db", str(db)).exit_code == 0
    conn = sqlite3.connect(db)
    codec.register(conn)  # the sqlite3 shell has sqlar_uncompress built in
    packed = conn.execute("SELECT count(*) FROM versions WHERE typeof(images_raw) = 'blob'")
    assert packed.fetchone()[0] > 0
    by_version = {
        str(v["id"]): v["images"] for m in reference_models[:5] for v in m["modelVersions"]
    }
    rows = conn.execute("SELECT version_id, images FROM version_images").fetchall()
    assert len(rows) == len(by_version)
    for version_id, images in rows:
        assert json.loads(images) == by_version[version_id]


def test_the_datasette_plugin_makes_the_views_readable(serve, reference_models, tmp_path) -> None:
    from scraper.datasette_plugin import prepare_connection

    serve(reference_models[:2])
    db = tmp_path / "models.db"
    assert run("sync", "civitai", "--rps", "0", "--db", str(db)).exit_code == 0
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.OperationalError, match="sqlar_uncompress"):
        conn.execute("SELECT raw FROM models_json").fetchall()
    prepare_connection(conn)
    names = [r[0] for r in conn.execute("SELECT json_extract(raw, '$.name') FROM models_json")]
    assert sorted(names) == sorted(m["name"] for m in reference_models[:2])
