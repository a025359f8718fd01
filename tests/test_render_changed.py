"""`scraper render` renders what changed and nothing else, and the cards stay right."""

from __future__ import annotations

import json
import shutil
import sqlite3
from importlib import resources
from pathlib import Path

from click.testing import CliRunner

from scraper.cards import render
from scraper.cards.output import card_name, render_catalog
from scraper.catalog import open_store
from scraper.cli import main
from scraper.sources.civitai import parse_model
from scraper.store import Counts
from tests.support import expected_card


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def stored(tmp_path: Path, models: list[dict]) -> Path:
    db = tmp_path / "models.db"
    store = open_store(db)
    store.save_models([parse_model(m) for m in models], Counts())
    store.close()
    return db


def stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.md")}


def test_second_render_renders_nothing_and_a_change_renders_one(reference_models, tmp_path):
    models = reference_models[:20]
    db = stored(tmp_path, models)
    out = tmp_path / "out"
    first = render_catalog(db, out)
    assert (first.written, first.unchanged, first.failed) == (20, 0, [])
    before = stamps(out / "civitai")
    again = render_catalog(db, out)
    assert (again.written, again.unchanged) == (0, 20)
    assert stamps(out / "civitai") == before
    changed = json.loads(json.dumps(models[3]))
    changed["stats"]["downloadCount"] += 1
    open_store(db).save_models([parse_model(changed)], Counts())
    third = render_catalog(db, out)
    assert (third.written, third.unchanged) == (1, 19)
    name = card_name(parse_model(changed))
    assert [n for n, t in stamps(out / "civitai").items() if before[n] != t] == [name]
    assert (
        f"- 下载数：{changed['stats']['downloadCount']}\n" in (out / "civitai" / name).read_text()
    )


def test_a_template_change_renders_everything_again(reference_models, tmp_path) -> None:
    db = stored(tmp_path, reference_models[:5])
    templates = tmp_path / "templates"
    shutil.copytree(Path(str(resources.files("scraper.templates"))), templates)
    out = tmp_path / "out"
    assert render_catalog(db, out, templates_dir=str(templates)).written == 5
    assert render_catalog(db, out, templates_dir=str(templates)).written == 0
    labels = templates / "labels.toml"
    labels.write_text(labels.read_text().replace('tags = "标签"', 'tags = "标记"'))
    render.labels.cache_clear()  # as a new process would read them
    assert render_catalog(db, out, templates_dir=str(templates)).written == 5
    assert "- 标记：" in next((out / "civitai").glob("*.md")).read_text()


def test_deleted_card_files_come_back_and_force_renders_all(reference_models, tmp_path):
    db = stored(tmp_path, reference_models[:6])
    out = tmp_path / "out"
    assert run("render", "--db", str(db), "--out", str(out)).exit_code == 0
    victim = sorted((out / "civitai").glob("*.md"))[2]
    victim.unlink()
    result = run("render", "--db", str(db), "--out", str(out))
    assert "render: 1 written, 5 unchanged" in result.output
    model_id = victim.name.split("-", 1)[0]
    assert victim.read_text(encoding="utf-8") == expected_card(model_id)
    before = stamps(out / "civitai")
    result = run("render", "--db", str(db), "--out", str(out), "--force")
    assert "render: 0 written, 6 unchanged" in result.output  # rendered, bytes the same
    assert stamps(out / "civitai") == before


def test_cards_of_models_gone_from_the_database_are_removed(reference_models, tmp_path):
    db = stored(tmp_path, reference_models[:4])
    out = tmp_path / "out"
    render_catalog(db, out)
    gone = parse_model(reference_models[1])
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM models WHERE id = ?", [gone.id])
    report = render_catalog(db, out)
    assert report.removed == 1 and report.written == 0
    assert not (out / "civitai" / card_name(gone)).exists()
    assert len(list((out / "civitai").glob("*.md"))) == 3


def test_a_folder_rendered_by_the_previous_release_is_taken_over(reference_models, tmp_path):
    """Its .cards-zh.json named each card's file: a renamed model's old card still goes."""
    db = stored(tmp_path, reference_models[:2])
    out = tmp_path / "out"
    folder = out / "civitai"
    folder.mkdir(parents=True)
    model = parse_model(reference_models[0])
    (folder / "1079-old-name.md").write_text("old card")
    (folder / ".cards-zh.json").write_text(json.dumps({model.id: "1079-old-name.md"}))
    report = render_catalog(db, out)
    assert report.written == 2 and report.removed == 1
    assert not (folder / "1079-old-name.md").exists()
    assert not (folder / ".cards-zh.json").exists()
    assert sorted(p.name for p in folder.glob("*.md")) == sorted(
        card_name(parse_model(m)) for m in reference_models[:2]
    )


def test_render_leaves_one_manifest_file_and_cards_readable_by_others(reference_models, tmp_path):
    db = stored(tmp_path, reference_models[:2])
    out = tmp_path / "out"
    render_catalog(db, out)
    assert sorted(p.name for p in out.iterdir()) == [".scraper-manifest.db", "civitai"]
    for card in (out / "civitai").glob("*.md"):
        assert card.stat().st_mode & 0o044 == 0o044  # group and others may read (umask 022)
