"""A new user's first hour: the demo's suggested commands work as printed, `status --json`
is always JSON, `export` takes a model page URL, and a config that cannot work is refused
before any request, naming the key, the allowed values and the likely one."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace, FakeModelScope
from tests.support import hf_repos, modelscope_models


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_demos_suggested_commands_work_as_printed(tmp_path: Path) -> None:
    program = Path(sys.executable).parent / "scraper"
    env = dict(os.environ, PATH="/usr/bin:/bin")  # the venv not activated
    env.pop("SCRAPER_DB", None)
    demo = subprocess.run(
        [str(program), "demo", "--out", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    suggested = [
        line.split(": ", 2)[-1]
        for line in demo.stderr.splitlines()
        if line.startswith(("demo: next, try:", "demo:       or:"))
    ]
    assert len(suggested) == 2 and all(line.split()[0] != "scraper" for line in suggested)
    for line in suggested:
        done = subprocess.run(
            shlex.split(line), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert done.stdout.strip(), line


def test_status_json_is_json_even_without_a_database(tmp_path: Path) -> None:
    result = run("status", "--json", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and "no database" in report["error"]
    # A typo in the folder too: status reads, so it answers in JSON rather than a usage error.
    typo = run("status", "--json", "--db", str(tmp_path / "nope" / "none.db"))
    assert typo.exit_code == 1 and "no database" in json.loads(typo.stdout)["error"]


@pytest.mark.parametrize(
    "url",
    [
        "https://civitai.com/models/4468/counterfeit-v30?modelVersionId=57618",
        "https://civitai.com/models/4468",
    ],
)
def test_export_takes_a_civitai_model_page_url(serve, reference_models, url: str) -> None:
    server = serve(reference_models)
    result = run("export", "civitai", url, "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "Counterfeit-V3.0" in result.output.splitlines()[0]
    assert [r["path"] for r in server.requests] == ["/api/v1/models/4468"]


def test_export_takes_hub_page_urls(monkeypatch) -> None:
    infos, readmes = hf_repos(loras=1)
    details, files = modelscope_models(count=2)
    with FakeHuggingFace(infos, readmes) as hf, FakeModelScope(details, files) as ms:
        monkeypatch.setenv("HF_ENDPOINT", hf.base_url)
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        got = run(
            "export", "hf", "https://huggingface.co/stabilityai/sdxl-turbo/tree/main", "--rps", "0"
        )
        assert got.exit_code == 0, got.output
        assert got.output.startswith("## stabilityai/sdxl-turbo")
        url = "https://modelscope.cn/models/damo/cv_cartoon_stable_diffusion_design/summary"
        got = run("export", "modelscope", url, "--rps", "0")
        assert got.exit_code == 0, got.output
        assert got.output.startswith("## damo/cv_cartoon_stable_diffusion_design")
    wrong = run("export", "hf", "https://huggingface.co/datasets/owner/name", "--rps", "0")
    assert wrong.exit_code == 2 and "not the URL of a Hugging Face model page" in wrong.output


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ('types = ["Lora"]', "not 'Lora' (did you mean 'LORA'?)"),
        ('sort = "Most downloaded"', "not 'Most downloaded' (did you mean 'Most Downloaded'?)"),
        ('period = "week"', "not 'week' (did you mean 'Week'?)"),
    ],
)
def test_unknown_enumerations_are_refused_before_any_request(serve, tmp_path, entry, words):
    server = serve([])
    config = tmp_path / "scraper.toml"
    config.write_text(f'[[sources]]\nname = "civitai"\n{entry}\n', encoding="utf-8")
    result = run("run", "--config", str(config))
    assert result.exit_code == 2 and words in result.output
    assert "must be one of" in result.output and server.requests == []


def test_a_folder_that_cannot_be_written_is_refused_before_any_request(serve, tmp_path):
    server = serve([])
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    config = tmp_path / "scraper.toml"
    config.write_text('out = "a-file/cards"\n[[sources]]\nname = "civitai"\n', encoding="utf-8")
    result = run("run", "--config", str(config))
    assert result.exit_code == 2 and "out: " in result.output and "is not a folder" in result.output
    config.write_text(
        '[site]\nout = "a-file/site"\n[[sources]]\nname = "civitai"\n', encoding="utf-8"
    )
    result = run("run", "--config", str(config))
    assert result.exit_code == 2 and "site.out: " in result.output
    assert server.requests == []


def test_a_db_in_a_missing_folder_is_refused_but_output_is_made(serve, tmp_path) -> None:
    serve([])
    config = tmp_path / "scraper.toml"
    config.write_text('db = "dtaa/models.db"\n[[sources]]\nname = "civitai"\n', encoding="utf-8")
    result = run("run", "--config", str(config))
    assert result.exit_code == 2 and "dtaa does not exist" in result.output
    assert not (tmp_path / "dtaa").exists()
    missing = run("sync", "civitai", "--rps", "0", "--db", str(tmp_path / "nope" / "m.db"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert not (tmp_path / "nope").exists()
    again = run("--db", str(tmp_path / "nope" / "m.db"), "run", "--config", str(config))
    assert again.exit_code == 2 and "does not exist" in again.output
    assert not (tmp_path / "nope").exists()
    made = run("sync", "civitai", "--rps", "0", "--db", "output/models.db")
    assert made.exit_code == 0, made.output
    assert (tmp_path / "output" / "models.db").is_file()
