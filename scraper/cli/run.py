"""`scraper run`: the unattended run from a config file, as cron, systemd and CI start it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from .options import DB, VERBOSE, db_option, missing_folder, verbose_option

log = logging.getLogger("scraper.run")


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The TOML config [default: $SCRAPER_CONFIG or ./scraper.toml].",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Seconds to wait for a run already writing the database, then give up (0: refuse).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every log line to this file, rotated at 5 MB (5 old files kept); stderr "
    "then gets only warnings and errors (cron mails those).",
)
@db_option
@verbose_option
def run(config_path: Path | None, wait: float, log_file: Path | None) -> None:
    """Sync every configured source, refresh counters when due, render the cards in every
    configured language and build the site: one command for cron, systemd or CI.

    Exit status: 0 all went well; 1 some records or a source failed (the others still ran),
    or another run holds the database; 2 a bad config; 130/143 interrupted.

    \b
    Example:
      scraper run --config scraper.toml --log-file output/scraper.log
    """
    from ..jobs.config import default_path

    ctx = click.get_current_context()
    db = ctx.meta.get(DB)
    if db is not None and (missing := missing_folder(db)):
        raise click.BadParameter(missing, param_hint="'--db'")
    code = execute(
        config_path or default_path(), wait, log_file, verbose=VERBOSE in ctx.meta, db=db
    )
    sys.exit(code)


def execute(
    config_path: Path,
    wait: float = 0,
    log_file: Path | None = None,
    verbose: bool = False,
    db: Path | None = None,
) -> int:
    """The run with one-line timestamped events and a progress display; the exit status."""
    from ..jobs.runner import run_file
    from .logs import event_log
    from .progress import Progress

    with event_log(verbose, log_file):
        return run_file(config_path, wait, db, progress=Progress)
