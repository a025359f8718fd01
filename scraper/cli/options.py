"""Options shared by every command, defined once; errors that end a run in one line."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from ..sources import Option

VERBOSE = "scraper.verbose"
DB = "scraper.db"


def configure_logging(verbose: bool) -> None:
    from ..net.redaction import guard

    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr
    )
    for handler in logging.getLogger().handlers:
        guard(handler)  # no token in any log line, whichever logger wrote it
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)


def _remember_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[VERBOSE] = True
        configure_logging(True)


def _remember_db(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """Remembered only: a command that writes checks the folder (db_path); `status` reads, and
    answers a missing database in its own words (JSON for monitors)."""
    if value is not None:
        ctx.meta[DB] = value


def missing_folder(db: Path) -> str | None:
    """Why a database path cannot be used: its folder does not exist (a typo is refused, not
    created; only the default output/ is made on first use)."""
    folder = Path(db).expanduser().parent
    if folder.is_dir() or folder.absolute() == Path("output").absolute():
        return None
    return f"the folder {folder} does not exist; create it first, or fix the path"


# Accepted on the group and on every command: `scraper -v sync ...` or `scraper sync ... -v`.
verbose_option = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_remember_verbose,
    help="Log every retry and request summary.",
)
db_option = click.option(
    "--db",
    type=click.Path(path_type=Path),  # a folder or a foreign file is refused in one line later
    expose_value=False,
    callback=_remember_db,
    help="SQLite database [default: $SCRAPER_DB or output/models.db].",
)


def db_path() -> Path:
    """--db given anywhere on the command line, else $SCRAPER_DB, else output/models.db."""
    from ..store import default_path

    given = click.get_current_context().meta.get(DB)
    if given is not None:
        if missing := missing_folder(given):
            raise click.BadParameter(missing, param_hint="'--db'")
        return given
    if missing := missing_folder(default_path()):
        raise Failed(f"SCRAPER_DB={default_path()}: {missing}")
    return default_path()


from .errors import Failed  # noqa: E402,F401 (kept importable from here)


class Duration(click.ParamType):
    """24h, 30m, 7d, 90s."""

    name = "duration"

    def convert(self, value: object, param: object, ctx: object) -> timedelta:
        from ..jobs.config import parse_duration

        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)  # type: ignore


DURATION = Duration()


def click_param(option: Option) -> click.Parameter:
    """A source's Option as a click argument or option (int means a positive integer)."""
    kind: Any = {str: click.STRING, int: click.IntRange(min=1), float: click.FLOAT}.get(
        option.kind, click.STRING
    )
    if option.choices:
        kind = click.Choice(option.choices)
    if option.argument:
        return click.Argument(
            [option.name], nargs=-1 if option.multiple else 1, required=False, type=kind
        )
    if option.kind is bool:
        flags = f"{option.flag}/--no-{option.flag[2:]}" if option.negative else option.flag
        return click.Option(
            [flags, option.name],
            is_flag=True,
            default=bool(option.default),
            show_default=option.negative,
            help=option.help,
        )
    return click.Option(
        [option.flag, option.name],
        type=kind,
        multiple=option.multiple,
        default=option.default,
        help=option.help or None,
    )


class _Rps(click.ParamType):
    """A request rate, checked as the client checks it (finite, 0 or 0.001 to 1000)."""

    name = "rps"

    def convert(self, value: object, param: object, ctx: object) -> float:
        from ..net.settings import SettingError, rps

        try:
            return rps(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError, SettingError) as exc:
            text = str(exc) if isinstance(exc, SettingError) else f"{value!r} is not a number"
            self.fail(text, param, ctx)  # type: ignore[arg-type]


RPS = _Rps()
