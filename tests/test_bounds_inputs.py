"""Issue 17, item 6: inputs checked at the door: numbers, durations, the database before its
lock, ids per source, invisible characters, server-given path pieces."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from tests.support import hf_repos

MODELS = [{"id": i, "name": f"m{i}", "modelVersions": []} for i in range(1, 5)]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("rps", ["nan", "inf", "1e-9", "-1", "5000"])
def test_a_rate_out_of_range_is_one_line_before_any_request(serve, rps) -> None:
    server = serve(MODELS)
    for command in (["sync", "civitai", "--rps"], ["export", "civitai", "1", "--rps"]):
        result = run(*command, rps)
        assert result.exit_code == 2 and "--rps" in result.output
        assert "0.001 to 1000" in result.output
    result = run("site", "build", "--images", "mirror", "--mirror-rps", rps)
    assert result.exit_code == 2 and "--mirror-rps" in result.output
    assert "0.001 to 1000" in result.output
    assert server.requests == []


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("rps = nan", "rps must be a number"),
        ("rps = 1e-9", "rps must be a number"),
        ('stale_after = "99999999999d"', "longer than 3650d"),
        ('refresh_stats_older_than = "1e300h"', "not a duration"),
    ],
)
def test_a_config_number_or_duration_out_of_range_is_one_line(serve, tmp_path, line, said):
    server = serve(MODELS)
    config = tmp_path / "scraper.toml"
    config.write_text(f'[[sources]]\nname = "civitai"\n{line}\n', encoding="utf-8")
    result = run("run", "--config", str(config))
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output
    assert f"{config}:3:" in result.output
    assert server.requests == []
    flag = run("sync", "civitai", "--refresh-stats-older-than", "99999999999d")
    assert flag.exit_code == 2 and "longer than 3650d" in flag.output


@pytest.mark.parametrize("command", ["run", "sync"])
def test_no_lock_file_beside_a_file_that_is_refused(serve, tmp_path, command) -> None:
    serve(MODELS)
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    config = tmp_path / "scraper.toml"
    config.write_text('[[sources]]\nname = "civitai"\nrps = 0\n', encoding="utf-8")
    if command == "run":
        result = run("run", "--config", str(config), "--db", str(passwd))
    else:
        result = run("sync", "civitai", "--rps", "0", "--db", str(passwd))
    assert result.exit_code == 1
    assert "is not an SQLite database" in result.output
    assert not (tmp_path / "passwd.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd", "scraper.toml"]


def test_bad_civitai_ids_are_quarantined_alone_and_refreshes_go_on(serve, tmp_path) -> None:
    odd = [{"id": bad, "name": f"odd {bad}", "modelVersions": []} for bad in ("5.", "5-7029e6fe")]
    server = serve([*MODELS, *odd])
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1
    assert "model 5.: model id '5.' is not a Civitai model id" in result.output
    assert "failed 2)" in result.output and "4 models (new 4" in result.output
    db = tmp_path / "models.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone() == (2,)
        # A database from a release that kept any id: one of them is not a number.
        conn.execute("UPDATE models SET id = 'x9' WHERE id = '4'")
        conn.execute("UPDATE checks SET checked_at = '2000-01-01T00:00:00.000000Z'")  # long ago
    server.requests.clear()
    # A listing of nobody's models, then the counters of every model checked over 1 s ago.
    args = ["--username", "nobody", "--refresh-stats-older-than", "1s"]
    refresh = run("sync", "civitai", "--rps", "0", *args)
    assert "counters 3" in refresh.output or "unchanged 3" in refresh.output, refresh.output
    assert "'x9' is not a Civitai model id" in refresh.output
    batch = [r for r in server.requests if "ids" in r["query"]]
    assert batch and batch[0]["query"]["ids"] == ["1,2,3"]


def test_invisible_characters_leave_single_line_fields(serve, tmp_path) -> None:
    model = {
        "id": 9,
        "name": "Real\u202e gnp.exe\u202c \u200bname",
        "creator": {"username": "\u2066admin\u2069\ufeff"},
        "tags": ["a\u202db"],
        "modelVersions": [],
        "description": "<p>emoji \U0001f469\u200d\U0001f4bc kept</p>",
    }
    serve([model])
    result = run("export", "civitai", "9", "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "# Real gnp.exe name" in result.output and "admin" in result.output
    assert not any(c in result.output for c in "\u202e\u202c\u200b\u2066\u2069\ufeff\u202d")
    assert "\u200d" in result.output  # a zero-width joiner inside an emoji stays
    site = tmp_path / "site"
    built = run("site", "build", "--out", str(site))
    assert built.exit_code == 0, built.output
    page = next(site.glob("models/civitai/9*.html")).read_text(encoding="utf-8")
    assert "Real gnp.exe name" in page
    every_file = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.*"))
    assert not any(c in every_file for c in "\u202e\u202c\u200b\u2066\u2069\ufeff\u202d")


def test_a_hub_sha_that_is_not_a_commit_id_is_refused_for_that_repo(monkeypatch) -> None:
    infos, readmes = hf_repos(loras=3)
    loras = [i for i in infos if "lora" in (i.get("tags") or [])]
    loras[0]["sha"] = "../../../x"
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        result = run("sync", "hf", "--filter", "lora", "--rps", "0")
        paths = [r["path"] for r in hub.requests]
    assert result.exit_code == 1
    assert "sha '../../../x' is not a commit id" in result.output
    assert f"{len(loras) - 1} models (new {len(loras) - 1}" in result.output
    assert not any(".." in p or p.endswith("/x/README.md") for p in paths)
    assert sum(p.endswith("/README.md") for p in paths) == len(loras) - 1


def test_a_repo_id_that_is_not_owner_name_is_refused_for_that_repo(monkeypatch) -> None:
    infos, readmes = hf_repos(loras=2)
    loras = [i for i in infos if "lora" in (i.get("tags") or [])]
    loras[0]["id"] = "-rf/--x"
    with FakeHuggingFace(infos, readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        result = run("sync", "hf", "--filter", "lora", "--rps", "0")
    assert result.exit_code == 1
    assert "'-rf/--x' is not a repo id" in result.output
    assert f"{len(loras) - 1} models (new {len(loras) - 1}" in result.output
