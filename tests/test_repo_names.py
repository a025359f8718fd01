"""Hub repos found by their readable id (owner/name) next to the stable `_id` key."""

from __future__ import annotations

import sqlite3

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
