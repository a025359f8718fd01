"""Whatever goes wrong ends in one line on stderr, never a traceback (unless -v asks for it).

Exit status: 1 the run could not do its job (a file, the database, the network), 2 a setting
or an argument to fix.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

import click

from ..net.redaction import redact
from ..net.settings import SettingError


class Failed(click.ClickException):
    """A run that could not do its job: one line on stderr, exit 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        click.echo(f"error: {redact(self.message)}", err=True)


class BadSetting(Failed):
    """A setting or argument to fix: one line, exit 2."""

    exit_code = 2


def one_line(exc: BaseException, verbose: bool = False) -> click.ClickException | None:
    """The one-line error for an exception a command let through; None to let it propagate
    (click's own exceptions, exits, interrupts, and anything at all with -v)."""
    if isinstance(exc, click.ClickException | click.exceptions.Exit | click.Abort):
        return None
    if isinstance(exc, SettingError):
        return BadSetting(str(exc))
    if verbose or not isinstance(exc, Exception):
        return None
    from ..files import OutsideFolder
    from ..store.checks import DatabaseProblem

    if isinstance(exc, DatabaseProblem | OutsideFolder):
        return Failed(str(exc))
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return Failed(
            "the database is in use by another program that is writing it; wait for it to "
            "finish or give this run its own --db"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return Failed(f"database error: {exc}; if the file is damaged, restore a backup")
    if isinstance(exc, OSError):
        return Failed(os_error(exc))
    return Failed(f"{type(exc).__name__}: {exc} (unexpected; run with -v for the traceback)")


def os_error(exc: OSError) -> str:
    """An OSError as a person reads it: what, where and what to do."""
    where = f" {exc.filename}" if exc.filename else ""
    hint = {
        errno.ENOSPC: "free some disk space",
        errno.EDQUOT: "free some disk space",
        errno.EACCES: "check the permissions or choose another folder",
        errno.EPERM: "check the permissions or choose another folder",
        errno.EROFS: "the file system is read-only; choose another folder",
        errno.ENAMETOOLONG: "use a shorter path",
        errno.EISDIR: "give a file, not a folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
    }.get(exc.errno or 0, "")
    text = f"cannot use{where}: {exc.strerror or exc}"
    return f"{text}; {hint}" if hint else text


def run_guarded(invoke: Any, ctx: click.Context, verbose: bool) -> Any:
    """invoke(ctx), with whatever escapes it turned into one line."""
    try:
        return invoke(ctx)
    except Exception as exc:
        line = one_line(exc, verbose)
        if line is None:
            raise
        raise line from None
