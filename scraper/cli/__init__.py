"""The `scraper` command: a thin layer over sources, store and render, built from the registry.

Exit status: 0 success, 1 the run finished but something failed (named in the summary), 2 usage.
"""

from __future__ import annotations

import logging
import sys

import click

from .errors import run_guarded
from .options import VERBOSE, configure_logging, db_option, verbose_option


class _Main(click.Group):
    """The `scraper` group: SIGINT and SIGTERM end any command cleanly (exit 130 or 143), and
    whatever else a command lets through ends in one line (see errors)."""

    def invoke(self, ctx: click.Context) -> object:
        from ..interrupt import exit_code, interruptible, signal_name

        with interruptible():
            try:
                return run_guarded(super().invoke, ctx, VERBOSE in ctx.meta)
            except KeyboardInterrupt as exc:
                click.echo(
                    f"interrupted by {signal_name(exc)}: what was committed is kept, the run "
                    "is recorded as interrupted and the next one goes on from there",
                    err=True,
                )
                ctx.exit(exit_code(exc))


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@verbose_option
@db_option
@click.version_option(package_name="scraper")
def main() -> None:
    """Model metadata into SQLite and model cards (--db and -v work before or after the
    subcommand)."""
    configure_logging(VERBOSE in click.get_current_context().meta)


def _register() -> None:
    from .. import sources as registry
    from . import cards, demo, run, scan, site, sources, status

    main.help = (
        f"Model metadata from {registry.titles()} into SQLite, model cards and a static site."
        "\n\n--db and -v work before or after the subcommand."
    )
    commands = (*sources.COMMANDS, *cards.COMMANDS, scan.scan, site.site, run.run)
    commands += (status.status, demo.demo)
    for command in commands:
        main.add_command(command)


_register()

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    logging.getLogger(__name__)
    sys.exit(main())
