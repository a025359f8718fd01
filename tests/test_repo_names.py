"""Hub repos found by their readable id (owner/name) next to the stable `_id` key."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urljoin

from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from tests.support import hf_repos


def test_a_hub_repo_is_found_by_its_repo_id(monkeypatch, tmp_path, serve, reference_models):
    infos, readmes = hf_repos(loras=2)
    serve(reference_models[:3])
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        assert CliRunner().invoke(main, ["sync", "hf", "--rps", "0"]).exit_code == 0
    assert CliRunner().invoke(main, ["sync", "civitai", "--rps", "0"]).exit_code == 0
    with sqlite3.connect(tmp_path / "models.db") as conn:
        rows = conn.execute(
            "SELECT source, id FROM repo_ids WHERE repo_id = 'stabilityai/sdxl-turbo'"
        ).fetchall()
        assert rows == [("huggingface", "6564b36f4eb2f55240230f48")]  # its _id
        hf = conn.execute("SELECT count(*) FROM models WHERE source = 'huggingface'").fetchone()
        assert conn.execute("SELECT count(*) FROM repo_ids").fetchone() == hf  # Hub rows only
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM models WHERE source = 'huggingface' AND name = ?",
            ("x/y",),
        ).fetchall()
        assert any("idx_models_name" in str(step) for step in plan)


def test_hub_pages_are_named_owner_name_and_a_rename_leaves_a_redirect(monkeypatch, tmp_path):
    infos, readmes = hf_repos(loras=1)
    site = tmp_path / "site"
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        assert CliRunner().invoke(main, ["sync", "hf", "--rps", "0"]).exit_code == 0
    build = ["site", "build", "--out", str(site), "--jobs", "1"]
    assert CliRunner().invoke(main, build).exit_code == 0
    old = site / "models/huggingface/stabilityai--sdxl-turbo.html"
    assert old.is_file() and "sdxl-turbo" in old.read_text(encoding="utf-8")
    renamed = next(i for i in infos if i["id"] == "stabilityai/sdxl-turbo")
    renamed["id"] = renamed["modelId"] = "stabilityai/sdxl-turbo-renamed"
    renamed["sha"] = "e" * 40  # the listing shows a new commit: the repo is read again
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        assert CliRunner().invoke(main, ["sync", "hf", "--rps", "0"]).exit_code == 0
    assert CliRunner().invoke(main, build).exit_code == 0
    new = site / "models/huggingface/stabilityai--sdxl-turbo-renamed.html"
    assert new.is_file()
    for lang in ("", "en/"):
        page = f"{lang}models/huggingface/stabilityai--sdxl-turbo.html"
        moved = (site / page).read_text(encoding="utf-8")
        [href] = re.findall(r'http-equiv="refresh" content="0; url=([^"]+)"', moved)
        target = f"{lang}models/huggingface/stabilityai--sdxl-turbo-renamed.html"
        assert urljoin(page, href) == target
    assert CliRunner().invoke(main, build).exit_code == 0  # kept by the next build too
    assert old.is_file() and "refresh" in old.read_text(encoding="utf-8")
