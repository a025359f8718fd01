"""`scraper demo`: the whole pipeline offline, through the same `scraper run` cron starts, with
a generated config, against recorded answers of all three APIs served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..jobs.runner import ProgressFactory

# `scraper run`'s config, as the demo writes it beside its output (paths are relative to it).
CONFIG = """\
# Written by `scraper demo`: the config `scraper run` reads. Tokens never go here.
db = "models.db"
out = "."                      # cards under ./<source>/
languages = ["zh", "en", "bilingual"]

[site]
out = "site"
nsfw = "blur"

[[sources]]
name = "civitai"
incremental = true
rps = 0                        # a local server: no need to be gentle

[[sources]]
name = "hf"
incremental = true
rps = 0

[[sources]]
name = "modelscope"
owner = "damo"
incremental = true
rps = 0
"""


def run(out: Path, progress: ProgressFactory | None = None) -> int:
    """Serve the recorded answers (with two injected faults, to show the retries), run the
    generated config as `scraper run` does, say where everything is; its exit status. Busy
    when another run holds the demo's database."""
    from ..files import write_atomic
    from ..jobs.runner import run_file
    from ..sources import huggingface, modelscope
    from . import recorded
    from .civitai import FakeCivitai
    from .hub import FakeHuggingFace, FakeModelScope
    from .server import Faults

    out.mkdir(parents=True, exist_ok=True)
    config = out / "scraper.toml"
    infos, readmes = recorded.hf_repos(loras=8)
    details, files = recorded.modelscope_models()
    faults = Faults()
    faults.script.extend(["503", "html200"])
    with (
        _exclusive(out / "models.db"),
        FakeCivitai(recorded.civitai_models(), page_size=5, faults=faults) as civitai,
        FakeHuggingFace(infos, readmes, gated={recorded.GATED}, page_size=5) as hf,
        FakeModelScope(details, files, page_size=5) as ms,
        _environment(
            CIVITAI_API_BASE=civitai.base_url,
            HF_ENDPOINT=hf.base_url,
            MODELSCOPE_DOMAIN=ms.base_url,
            # The recorded answers are the real hosts': cards and pages link there, not to
            # the local servers, which are gone when the demo ends.
            HF_PUBLIC_URL=huggingface.DEFAULT_ENDPOINT,
            MODELSCOPE_PUBLIC_URL=modelscope.DEFAULT_WEB,
            SCRAPER_BACKOFF=os.environ.get("SCRAPER_BACKOFF", "0.1"),
        ),
    ):
        # Under the lock and whole: a second demo never truncates the config a first one reads.
        write_atomic(config, CONFIG)
        click.echo(
            f"demo: recorded answers of {len(civitai.models)} Civitai, {len(infos)} Hugging "
            f"Face and {len(details)} ModelScope models served on 127.0.0.1; "
            f"running {config}",
            err=True,
        )
        code = run_file(config, locked=True, progress=progress)
    folders = [out / name for name in ("civitai", "huggingface", "modelscope")]
    cards = sum(1 for folder in folders for _ in folder.glob("*.md"))
    click.echo(f"demo: {cards} cards (zh, en, bilingual) in:", err=True)
    for folder in folders:
        click.echo(str(folder))
    site = out / "site" / "index.html"
    click.echo(f"demo: site: {site if site.exists() else 'not built'}")
    scraper, sqlite_utils = _programs()
    if site.exists():
        click.echo(f"demo: preview it: {scraper} site serve --out {_here(site.parent)}", err=True)
    click.echo(f"demo: next, try: {scraper} status --config {_here(config)}", err=True)
    if sqlite_utils:
        db = _here(out / "models.db")
        click.echo(f"demo:       or: {sqlite_utils} search {db} models lora", err=True)
    return code


def _programs() -> tuple[str, str | None]:
    """How the user can run scraper (and sqlite-utils) from where they stand: the bare name
    when PATH finds this one, else its path (`.venv/bin/scraper`), else `python -m`."""
    program = Path(sys.argv[0])
    folder = program.parent if program.name == "scraper" and program.is_file() else None
    folder = folder or Path(sys.executable).parent

    def spelled(name: str) -> str | None:
        local = folder / name
        if not local.is_file():
            return None
        found = shutil.which(name)
        if found and Path(found).resolve() == local.resolve():
            return name
        return _here(local)

    scraper = spelled("scraper") or f"{_here(Path(sys.executable))} -m scraper.cli"
    return scraper, spelled("sqlite-utils")


def _here(path: Path) -> str:
    """A path as the user would type it here: relative below the current folder (quoted
    when it needs it), else absolute."""
    import shlex

    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path.cwd()))
        text = text if "/" in text else f"./{text}" if absolute.is_file() else text
    except ValueError:
        text = str(absolute)
    return shlex.quote(text)


@contextlib.contextmanager
def _exclusive(db: Path) -> Iterator[None]:
    """The demo's database to itself: another demo or run on it is Busy, and waits for
    nothing."""
    from ..store import lock

    with lock.exclusive(db):
        yield


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """The APIs moved onto the local servers for the block, then put back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
