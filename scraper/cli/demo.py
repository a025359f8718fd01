"""`scraper demo`: try the tool with no network and no token."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output") / "demo",
    show_default=True,
)
def demo(out: Path) -> None:
    """The whole pipeline offline: recorded answers of every source served on 127.0.0.1,
    run through `scraper run` with a generated config: synced, cards in every language, the
    site.

    \b
    Example:
      scraper demo --out output/demo
    """
    from ..demo import run
    from ..store import Busy
    from .errors import Failed
    from .logs import event_log
    from .progress import Progress

    try:
        with event_log():
            code = run(out, Progress)
    except Busy as exc:
        raise Failed(str(exc)) from None
    sys.exit(code)
