"""`scraper demo`: the whole pipeline offline, against recorded answers served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import time
from importlib import resources
from pathlib import Path

import click

DATA = "data"


def run(out: Path) -> int:
    """Sync the recorded Civitai models (through two injected faults), render their cards; the
    exit status of the sync."""
    from ..cli.sources import exclusive, summary
    from ..http import ApiClient
    from ..render import render_all
    from ..sources import get
    from ..store import Store, load_models
    from ..sync import crawl
    from .civitai import FakeCivitai, read_models
    from .server import Faults

    civitai = get("civitai")
    models = read_models(Path(str(resources.files(__name__) / DATA / "civitai")))
    # Two faults on the first pages show the retries at work.
    faults = Faults()
    faults.script.extend(["503", "html200"])
    store = Store(out / "models.db")
    # One writer at a time, as for sync: a second demo on the same folder says so and stops.
    with (
        contextlib.closing(store),
        exclusive(store),
        FakeCivitai(models, page_size=5, faults=faults) as server,
    ):
        click.echo(f"demo: serving {len(models)} recorded models at {server.base_url}", err=True)
        with ApiClient(server.base_url, civitai.policy, rps=0, backoff=0.1) as api:
            started = time.monotonic()
            outcome = crawl(store, api, civitai, civitai.filters({}))
            summary(civitai.name, outcome, time.monotonic() - started)
        report = render_all(load_models(out / "models.db"), out, "zh")
    folder = out / civitai.name
    click.echo(f"demo: {report.written + report.unchanged} cards in {folder}", err=True)
    click.echo(str(folder))
    return outcome.exit_code
