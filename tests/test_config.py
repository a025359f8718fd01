"""The run config: keys come from each source's sync options, errors name the file's line."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.jobs.config import ConfigError, key_lines, load

ROOT = Path(__file__).parent.parent
GOOD = """\
db = "data/models.db"
languages = ["zh", "bilingual"]

[site]
out = "site"
nsfw = "hide"

[[sources]]
name = "civitai"
incremental = true
refresh_stats_older_than = "24h"
types = ["LORA", "Checkpoint"]
base_models = ["SD 1.5"]
nsfw = false
rps = 1

[[sources]]
name = "huggingface"
filter = ["lora"]
pipeline_tag = "text-to-image"
limit = 5000
stale_after = "3d"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)  # GOOD's db folder: a missing one is refused
    path = tmp_path / "scraper.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text))
    return str(caught.value)


def test_a_good_config_becomes_what_sync_would_be_given(tmp_path) -> None:
    config = load(write(tmp_path, GOOD))
    assert config.db == tmp_path / "data" / "models.db"  # relative to the config file
    assert config.out == tmp_path / "output" and config.languages == ("zh", "bilingual")
    assert config.site is not None and config.site.nsfw == "hide"
    assert config.site.images == "link" and config.site.deleted == "hide"  # the defaults
    civitai, hf = config.sources
    assert civitai.options["types"] == ("LORA", "Checkpoint") and civitai.options["nsfw"] is False
    assert civitai.refresh == timedelta(hours=24) and civitai.rps == 1.0
    assert ("sort", "Newest") in civitai.filters().params()  # incremental reads newest first
    assert hf.source.cli_name == "hf" and hf.limit == 5000 and not hf.incremental
    assert hf.stale_after == timedelta(days=3) and civitai.stale_after == timedelta(hours=24)
    assert ("filter", "lora") in hf.filters().params()


def test_the_shipped_example_and_readmes_config_load(tmp_path) -> None:
    example = load(ROOT / "cron" / "scraper.example.toml")
    assert example.site is not None and example.site.images in ("link", "mirror")
    assert [s.source.cli_name for s in example.sources] == ["civitai", "hf", "modelscope"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert block, "README shows the example config"
    assert load(write(tmp_path, block[1])).sources


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('db = "x.db"\ndbb = 1\n', 2, "unknown key 'dbb' at the top level"),
        (GOOD.replace("rps = 1", "rpss = 1"), 15, "unknown key 'rpss' for source civitai"),
        (GOOD.replace("limit = 5000", 'limit = "5000"'), 21, "limit must be a positive integer"),
        (GOOD.replace("limit = 5000", "limit = 0"), 21, "limit must be a positive integer"),
        (GOOD.replace('types = ["LORA", "Checkpoint"]', 'types = "LORA"'), 12, "must be a list"),
        (GOOD.replace("nsfw = false", 'nsfw = "no"'), 14, "nsfw must be true or false"),
        (GOOD.replace("rps = 1", "rps = -1"), 15, "rps must be a number >= 0"),
        (GOOD.replace('"24h"', '"daily"'), 11, "not a duration like 24h"),
        (GOOD.replace('nsfw = "hide"', 'nsfw = "blurry"'), 6, "nsfw must be one of blur, hide"),
        (
            GOOD.replace('nsfw = "hide"', 'nsfw = "hide"\nimages = "copy"'),
            7,
            "images must be one of link, mirror, not 'copy'",
        ),
        (
            GOOD.replace('nsfw = "hide"', 'nsfw = "hide"\ndeleted = "keep"'),
            7,
            "deleted must be one of hide, archive, not 'keep'",
        ),
        (GOOD.replace('"huggingface"', '"tensorart"'), 18, "use one of civitai, hf, modelscope"),
        (GOOD.replace('languages = ["zh", "bilingual"]', 'languages = ["fr"]'), 2, "languages"),
        (GOOD.replace('[[sources]]\nname = "huggingface"', "[[sources]]"), 17, "needs name ="),
        (GOOD.replace("pipeline_tag", "refresh_stats_older_than"), 20, "unknown key"),
        (GOOD.replace('"huggingface"', '"civitai"'), 18, "civitai is configured twice"),
        ('[[sources]]\nname = "modelscope"\nlimit = 5\n', 1, "give --owner, --task or --search"),
        ("[[sources]]\nname = civitai\n", 2, "Invalid value"),
        ('db = "x.db"\n', None, "no [[sources]]"),
    ],
)
def test_each_mistake_is_one_line_naming_the_line(tmp_path, text, line, words) -> None:
    message = error(tmp_path, text)
    where = f":{line}" if line else ""
    assert message.startswith(f"{tmp_path / 'scraper.toml'}{where}: "), message
    assert words in message and "\n" not in message


@pytest.mark.parametrize(
    "line",
    [
        'token = "x"',
        'civitai_api_key = "x"',
        'query = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"',
        'username = "0123456789abcdef0123456789abcdef"',  # a Civitai key's shape
        'tag = "ms-12345678-90ab-cdef-1234-567890abcdef"',
    ],
)
def test_a_config_holding_a_token_is_refused(tmp_path, line) -> None:
    text = f'[[sources]]\nname = "civitai"\n{line}\n'
    message = error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'scraper.toml'}:3: ")
    assert "tokens are read from the environment only" in message


def test_a_value_equal_to_a_token_in_the_environment_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "short-but-real")
    message = error(tmp_path, '[[sources]]\nname = "hf"\nsearch = "short-but-real"\n')
    assert ":3: " in message and "HF_TOKEN" in message


def test_run_exits_2_on_a_bad_config_and_names_the_line(tmp_path) -> None:
    path = write(tmp_path, GOOD.replace("rps = 1", "rps = true"))
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert f"config: {path}:15: rps must be a number" in result.output
    missing = CliRunner().invoke(main, ["run", "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2 and "no such config file" in missing.output


def test_default_config_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    path = write(tmp_path, "not toml at all")
    monkeypatch.setenv("SCRAPER_CONFIG", str(path))
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2 and f"{path}:1:" in result.output


def test_key_lines_skip_strings_and_values_over_several_lines() -> None:
    text = (
        'a = """\nb = 1\n"""\n'  # a multi-line string that looks like a key inside
        "c = [\n  [1, 2],\n]\n"  # a value over lines, one of them starting with [
        "[t]\nd = 1  # [not a table]\n[[s]]\ne = 'x'\n[[s]]\ne = 2\n"
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1 and ("b",) not in lines and lines[("c",)] == 4
    assert lines[("t", "d")] == 8 and lines[("s", 0, "e")] == 10 and lines[("s", 1, "e")] == 12


def test_site_base_url_is_checked_and_kept_without_its_slash(tmp_path) -> None:
    source = '[[sources]]\nname = "civitai"\n'
    config = load(write(tmp_path, f'{source}[site]\nbase_url = "https://example.org/models/"\n'))
    assert config.site is not None and config.site.base_url == "https://example.org/models"
    message = error(tmp_path, f'{source}[site]\nout = "site"\nbase_url = "example.org"\n')
    assert message.endswith(
        ":5: base_url must be the http(s) address the site is served at, such as "
        "https://example.org/models, not 'example.org'"
    )
    assert "base_url must be" in error(tmp_path, f"{source}[site]\nbase_url = 5\n")
