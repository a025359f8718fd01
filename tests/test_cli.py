"""The command line as a user meets it: outputs, exit codes, one-line errors, no secrets kept."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from scraper.cli import main
from tests.support import CARDS, FIXTURES, everything_stored, expected_card, stored_raw


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_card_prints_one_model_to_stdout_byte_exact() -> None:
    result = run("card", str(CARDS / "4717.json"))
    assert result.exit_code == 0
    assert result.stdout_bytes.decode("utf-8") == expected_card("4717")


def test_card_reads_a_list_page_and_a_detail_body(tmp_path) -> None:
    page = FIXTURES / "civitai" / "models-list-2023-page.json"
    detail = FIXTURES / "civitai" / "model-1102-detail-2023.json"
    result = run("card", str(page), str(detail), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("*.md"))
    ids = [str(i["id"]) for i in json.loads(page.read_bytes())["items"]] + ["1102"]
    assert names == sorted(f"{i}.md" for i in ids)


def test_card_with_several_models_and_no_out_is_a_usage_error() -> None:
    result = run("card", str(FIXTURES / "civitai" / "models-list-2023-page.json"))
    assert result.exit_code == 2
    assert "give --out DIR" in result.output


def test_card_bad_json_is_one_line_and_the_rest_still_render(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": 1}', encoding="utf-8")
    result = run("card", str(bad), str(odd), str(CARDS / "5224.json"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "bad.json" in errors[0] and "odd.json" in errors[1]
    assert (tmp_path / "o" / "5224.md").exists()


def test_card_missing_path_is_a_usage_error(tmp_path) -> None:
    assert run("card", str(tmp_path / "nope.json")).exit_code == 2


def test_render_without_database_says_what_to_do(tmp_path) -> None:
    result = run("render", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1
    assert "scraper sync civitai" in result.output


def test_export_fetches_stores_and_prints(serve, reference_models, tmp_path) -> None:
    server = serve(reference_models)
    result = run("export", "civitai", "4717", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8") == expected_card("4717")
    assert server.requests[-1]["path"] == "/api/v1/models/4717"
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT name FROM models WHERE id = '4717'").fetchone()


def test_export_of_a_vanished_model_marks_it_deleted_and_keeps_it(
    serve, reference_models, tmp_path
) -> None:
    server = serve(reference_models)
    assert run("export", "civitai", "4717", "--rps", "0").exit_code == 0
    server.models = [m for m in server.models if m["id"] != 4717]
    server._index()
    result = run("export", "civitai", "4717", "--rps", "0")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: civitai model 4717 not found (deleted, unpublished or a wrong id)"
    ]
    with sqlite3.connect(tmp_path / "models.db") as conn:
        (deleted_at,) = conn.execute("SELECT deleted_at FROM models WHERE id = '4717'").fetchone()
    [raw] = stored_raw(tmp_path / "models.db", "id = '4717'")
    assert deleted_at and '"name":"s1dlxBrew"' in raw


def test_token_never_reaches_database_or_output(serve, reference_models, tmp_path, monkeypatch):
    token = "civitai-secret-0123456789"
    monkeypatch.setenv("CIVITAI_TOKEN", token)
    server = serve(reference_models, page_size=40)
    server.faults.script.extend(["503", "html403"])
    result = run("-v", "sync", "civitai", "--rps", "0")
    assert result.exit_code == 0
    assert all(r["headers"].get("Authorization") == f"Bearer {token}" for r in server.requests)
    assert all("token" not in r["query"] for r in server.requests)
    assert token not in result.output
    assert token.encode() not in everything_stored(tmp_path / "models.db")  # the WAL too
    run("render", "--out", str(tmp_path / "out"))
    for card in (tmp_path / "out").rglob("*.md"):
        assert token not in card.read_text(encoding="utf-8")


def test_unknown_option_exits_2() -> None:
    assert run("sync", "civitai", "--no-such-option").exit_code == 2


def test_demo_runs_all_three_sources_through_scraper_run(tmp_path) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    counts = {"civitai": 18, "huggingface": 13, "modelscope": 12}
    for source, models in counts.items():
        folder = out / source
        assert str(folder) in result.output
        for lang in ("en", "bilingual"):
            assert len(list(folder.glob(f"*.{lang}.md"))) == models, (source, lang)
        assert len(list(folder.glob("*.md"))) == 3 * models
    civitai_zh = (out / "civitai" / "4717-s1dlxbrew.md").read_text(encoding="utf-8")
    assert civitai_zh == expected_card("4717")
    assert "retry 1" in result.output  # the injected faults were served and retried
    assert " INFO run: ok: civitai ok, huggingface ok, modelscope ok; " in result.output
    site = out / "site" / "index.html"
    assert site.is_file() and f"demo: site: {site}" in result.output
    config = out / "scraper.toml"
    assert "scraper status --config demo/scraper.toml" in result.output  # from where we stand
    status = run("status", "--config", str(config))  # the next command it suggests works
    assert status.exit_code == 0, status.output
    with sqlite3.connect(out / "models.db") as conn:
        assert conn.execute("SELECT source, command, status FROM runs").fetchall() == [
            (source, "sync", "ok") for source in counts
        ]


def test_export_by_version_id_and_by_file_hash(serve, reference_models) -> None:
    server = serve(reference_models)
    model = next(m for m in reference_models if m["id"] == 4717)
    version = model["modelVersions"][1]
    sha = version["files"][0]["hashes"]["SHA256"]
    for option, value in (("--version", str(version["id"])), ("--hash", sha.lower())):
        result = run("export", "civitai", option, value, "--rps", "0")
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes.decode("utf-8") == expected_card("4717")
    paths = [r["path"] for r in server.requests]
    assert f"/api/v1/model-versions/{version['id']}" in paths
    assert f"/api/v1/model-versions/by-hash/{sha.lower()}" in paths


def test_export_needs_exactly_one_key() -> None:
    assert run("export", "civitai").exit_code == 2
    assert run("export", "civitai", "1", "--version", "2").exit_code == 2
    assert run("export", "civitai", "--hash", "../etc").exit_code == 2
