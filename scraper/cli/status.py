"""`scraper status [--json]`: the last runs per source and what is stale; exit 1 on trouble."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .options import DB, Failed, db_option, verbose_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The report as JSON (for monitors).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run's TOML config, for the database, the sources and their intervals "
    "[default: $SCRAPER_CONFIG or ./scraper.toml when it exists].",
)
@db_option
@verbose_option
def status(as_json: bool, config_path: Path | None) -> None:
    """The last runs of each source, what is stale (sources not synced within their interval,
    counters older than their refresh age), deleted and quarantined counts, database size.

    Exit status 0 when the last sync of every source succeeded and nothing is stale, else 1.

    \b
    Example:
      scraper status --json | jq .problems
    """
    from ..jobs import status as report
    from ..jobs.config import ConfigError, default_path, load
    from ..store import default_path as default_db

    ctx = click.get_current_context()
    path = config_path or default_path()
    config = None
    if config_path is not None or path.exists():
        try:
            config = load(path)
        except ConfigError as exc:
            _fail(as_json, str(exc), 2)
    db = ctx.meta.get(DB) or (config.db if config else default_db())
    if not Path(db).is_file():
        _fail(as_json, f"no database at {db}; run 'scraper run' (or a sync) first, or give --db")
    try:
        found = report.report(db, report.watches(config, db))
    except sqlite3.DatabaseError as exc:  # not a database, or one from before runs were kept
        _fail(
            as_json,
            f"cannot read {db}: {exc}; a writing run (scraper run, a sync) upgrades an old one",
        )
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        for line in lines(found):
            click.echo(line)
    sys.exit(0 if found["ok"] else 1)


def _fail(as_json: bool, message: str, code: int = 1) -> NoReturn:
    """One error line; with --json a JSON report whose `error` says it (monitors parse
    stdout), with the same exit status."""
    if not as_json:
        if code == 1:
            raise Failed(message)
        click.echo(f"error: {message}", err=True)
        sys.exit(code)
    report = {"ok": False, "error": message, "sources": [], "problems": [message]}
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(code)


def lines(found: dict[str, Any]) -> list[str]:
    """The report for people."""
    db = found["database"]
    writing = "a run is writing it now" if db["writing"] else "no run writing it"
    out = [f"database {db['path']}: {db['bytes'] / 1e6:.1f} MB, schema {db['schema']}, {writing}"]
    for s in found["sources"]:
        state = "ok" if not s["problems"] else "PROBLEM"
        out.append(
            f"{s['name']}: {state}; {s['models']:,} models, {s['deleted']:,} deleted, "
            f"{s['quarantined']:,} quarantined; last success {s['last_success_at'] or 'never'}"
        )
        c = s["counters"]
        if c["due"] is not None:
            out.append(f"  counters: {c['due']:,} due for refresh, {c['stale']:,} overdue")
        for r in s["runs"]:
            out.append(
                f"  run {r['id']} {r['started_at']} {r['seconds'] or 0:.1f}s {r['status']}: "
                f"{r['requests'] or 0} requests, new {r['new'] or 0}, updated "
                f"{r['updated'] or 0}, counters {r['refreshed'] or 0}, unchanged "
                f"{r['unchanged'] or 0}, deleted {r['deleted'] or 0}, failed {r['failed'] or 0}"
            )
            out += [f"    error: {e}" for e in r["errors"][:3]]
    library = found.get("library")
    if library:
        out.append(
            f"library: {library['files']:,} files; known {library['known']:,}, metadata only "
            f"{library['metadata_only']:,}, unknown {library['unknown']:,}"
        )
        for r in library["runs"]:
            out.append(
                f"  scan {r['id']} {r['started_at']} {r['seconds'] or 0:.1f}s {r['status']}: "
                f"hashed {r['hashed'] or 0}, unchanged {r['cached'] or 0}, "
                f"lines {r['failed'] or 0}"
            )
    problems = found["problems"]
    out.append(f"status: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    out += [f"  {p}" for p in problems]
    return out
