"""Issue 9 items 12-15: inputs users already have, and the CLI's one-line answers to bad ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from scraper.cards.render import render_card
from scraper.cli import main
from scraper.sources.civitai import parse_model
from scraper.sources.huggingface import parse_model as parse_hf
from tests.support import CARDS, FIXTURES, HOSTILE, hf_fixture

VERSION = FIXTURES / "civitai" / "model-version-2025-original-true.json"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def version_body(model: dict, index: int) -> dict:
    """A /model-versions/{id} answer made from a reference model, as the API shapes it."""
    body = dict(model["modelVersions"][index], modelId=model["id"])
    body["model"] = {k: model.get(k) for k in ("name", "type", "nsfw", "poi")}
    return body


def test_card_reads_a_model_version_body() -> None:
    body = json.loads(VERSION.read_bytes())
    result = run("card", str(VERSION), "--lang", "en")
    assert result.exit_code == 0, result.output
    card = result.stdout_bytes.decode()
    assert card.startswith("## Hyphoria \\[Illu & NAI\\]\n### 1. Overview")
    assert card.count("\n#### [Version 1 of 1] ") == 1 and body["name"] in card
    assert body["files"][0]["name"] in card and "- Type: Checkpoint" in card
    assert card.count("<img src=") == 4


def test_folder_mode_reads_civitai_info_files_and_counts_cards_written(tmp_path) -> None:
    model = json.loads((CARDS / "4717.json").read_bytes())
    saved = tmp_path / "models"
    saved.mkdir()
    for i in range(2):  # two files of the same model, as a Helper saves them
        (saved / f"file{i}.civitai.info").write_text(json.dumps(version_body(model, i)))
    shutil.copy(CARDS / "5224.json", saved / "5224.json")
    (saved / "notes.txt").write_text("not an input")
    result = run("card", str(saved), "--out", str(tmp_path / "out"), "--lang", "en")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["4717.en.md", "5224.en.md"]
    assert "2 cards" in result.output and "same model" in result.output
    merged = (tmp_path / "out" / "4717.en.md").read_text(encoding="utf-8")
    assert merged.count("\n#### [Version ") == 2  # both versions, one card


def test_card_on_a_folder_without_inputs_says_so(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("card", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "no saved responses" in result.output and str(tmp_path / "empty") in result.output


def test_a_huge_list_page_without_out_is_refused_before_it_is_parsed(tmp_path) -> None:
    page = tmp_path / "page.json"
    with page.open("wb") as out:
        out.write(b'{"items": [' + b" " * (20 << 20) + b"this is not JSON")
    result = run("card", str(page))
    assert result.exit_code == 2
    assert "--out" in result.output and "not JSON" not in result.output


def test_three_demos_at_once_end_in_one_line_each(tmp_path) -> None:
    command = [sys.executable, "-m", "scraper.cli", "demo", "--out", str(tmp_path / "demo")]
    procs = [
        subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all("Traceback" not in err and "database is locked" not in err for _, err in results)
    assert any(code == 0 for code, _ in results), results
    for code, err in results:
        if code != 0:
            assert err.strip().splitlines()[-1].startswith("error: "), err


def test_a_demo_that_finds_the_database_busy_leaves_the_running_ones_config_alone(tmp_path) -> None:
    from scraper.store import lock

    out = tmp_path / "demo"
    out.mkdir()
    config = out / "scraper.toml"
    config.write_text("# the config a running demo is reading\n", encoding="utf-8")
    with lock.exclusive(out / "models.db"):
        done = subprocess.run(
            [sys.executable, "-m", "scraper.cli", "demo", "--out", str(out)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: another scraper run")
    assert config.read_text(encoding="utf-8") == "# the config a running demo is reading\n"


def test_ctrl_c_during_start_up_is_one_line(tmp_path) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "click.py").write_text("raise KeyboardInterrupt\n")  # interrupted while importing
    env = dict(os.environ, PYTHONPATH=f"{fake}{os.pathsep}{Path.cwd()}")
    done = subprocess.run(
        [sys.executable, "-c", "from scraper.entry import main; main()"],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == ["scraper: interrupted"]


def test_licence_lines_say_what_the_licence_says() -> None:
    raw = json.loads((HOSTILE / "civitai-model.json").read_bytes())
    card = render_card(parse_model(raw), "en")
    assert "- License: commercial use: none; credit required; no derivatives" in card
    reference = parse_model(json.loads((CARDS / "4717.json").read_bytes()))
    line = next(x for x in render_card(reference, "bilingual").splitlines() if "License" in x)
    assert line.endswith(
        "commercial use: Image; credit required; derivatives allowed; same licence required"
    )
    for value in ([], "None", "{None}", [None], ["None"]):
        raw["allowCommercialUse"] = value
        assert "commercial use: none;" in render_card(parse_model(raw), "en")
    raw["allowCommercialUse"] = "{Image,RentCivit}"
    assert "commercial use: Image, RentCivit;" in render_card(parse_model(raw), "en")
    assert "None" not in render_card(parse_model(raw), "en").split("### 3.")[0]


def test_hugging_face_dates_published_is_created_and_updated_is_last_modified() -> None:
    info = hf_fixture("model-sdxl-turbo-blobs-2023-12.json")
    card = render_card(parse_hf(info), "en")
    assert f"  - Published: {info['createdAt']}\n" in card
    assert f"  - Updated: {info['lastModified']}\n" in card


def test_a_partial_expand_body_is_refused_by_card() -> None:
    path = FIXTURES / "huggingface" / "model-sdxl-base-expand-2025-02.json"
    result = run("card", str(path))
    assert result.exit_code == 1
    assert "siblings" in result.output and "expand" in result.output
    assert "## " not in result.output
