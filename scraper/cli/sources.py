"""`scraper sync SOURCE` and `scraper export SOURCE KEY`: one command per registered source."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import click

from .. import sources
from .options import DURATION, RPS, Failed, click_param, db_option, db_path, verbose_option
from .progress import Progress


class PerSource(click.Group):
    """One subcommand per registered source, made when first asked for: a source registered
    after the CLI was imported has its commands too."""

    def __init__(self, *args: Any, make: Callable[[sources.Source], click.Command], **kw: Any):
        super().__init__(*args, **kw)
        self._make = make

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(s.cli_name for s in sources.SOURCES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        source = next((s for s in sources.SOURCES if s.cli_name == name), None)
        if source is None:
            return None
        if name not in self.commands:
            self.add_command(self._make(source))
        return self.commands[name]


@click.group(cls=PerSource, make=lambda s: _sync_command(s))
def sync() -> None:
    """Crawl a source into the database (resumes an interrupted crawl with the same options)."""


@click.group(cls=PerSource, make=lambda s: _export_command(s))
def export() -> None:
    """Fetch one model, store it and print its card."""


COMMANDS = (sync, export)


def _rps_option() -> click.Option:
    return click.Option(
        ["--rps"], type=RPS, help="Requests per second: 0.001 to 1000, or 0 for no limit."
    )


def _shared_sync_params(source: sources.Source) -> list[click.Parameter]:
    params: list[click.Parameter] = [
        click.Option(["--limit"], type=click.IntRange(min=1), help="Stop after N models in total."),
        _rps_option(),
    ]
    if source.incremental:
        params.append(
            click.Option(
                ["--incremental"],
                is_flag=True,
                help="Newest first; stop at the first page with nothing new or changed (cron).",
            )
        )
    if source.refresh_batch:
        params.append(
            click.Option(
                ["--refresh-stats-older-than", "refresh"],
                type=DURATION,
                help="Afterwards refresh counters of known models not fetched for this long "
                "(24h, 7d).",
            )
        )
    return params


def _with_example(text: str, example: str) -> str:
    return f"{text}\n\n\b\nExample:\n  {example}"


def _sync_command(source: sources.Source) -> click.Command:
    def run(
        limit: int | None,
        rps: float | None,
        incremental: bool = False,
        refresh: Any = None,
        **options: Any,
    ) -> None:
        from ..catalog import open_store
        from ..jobs.sync import crawl

        try:
            filters = source.filters({**options, "incremental": incremental})
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        with (
            source.client(rps) as api,
            contextlib.closing(open_store(db_path())) as store,
            exclusive(store),
            Progress(source.cli_name, limit) as p,
        ):
            started = time.monotonic()
            outcome = crawl(
                store,
                api,
                source,
                filters,
                limit,
                p.update,
                incremental=incremental,
                refresh_older_than=refresh,
            )
        summary(source.name, outcome, time.monotonic() - started)
        sys.exit(outcome.exit_code)

    params = [*map(click_param, source.sync_options), *_shared_sync_params(source)]
    return _command(source.cli_name, run, params, source.sync_help, source.sync_example)


def _export_command(source: sources.Source) -> click.Command:
    def run(lang: str, rps: float | None, **options: Any) -> None:
        from ..cards.render import render_card
        from ..catalog import open_store
        from ..jobs.sync import export_one
        from ..net.client import ApiError, NotFound
        from ..records import RecordError

        key = options.pop(source.export_argument.name)
        if isinstance(key, str) and key.strip().startswith(("http://", "https://")):
            named = source.key_of_url(key.strip())
            if named is None:
                raise click.UsageError(f"{key} is not the URL of a {source.title} model page")
            key = named
        what = _what(source, key, options)
        with source.client(rps) as api:
            try:
                model_key = source.locate(api, None if key is None else str(key), options)
                with contextlib.closing(open_store(db_path())) as store, exclusive(store):
                    model = export_one(store, api, source, model_key)
            except NotFound:
                raise Failed(
                    f"{source.name} {what} not found (deleted, unpublished or a wrong id)"
                ) from None
            except (ApiError, RecordError) as exc:
                raise Failed(str(exc)) from None
            except ValueError as exc:  # a malformed key
                raise click.UsageError(str(exc)) from None
        sys.stdout.buffer.write(render_card(model, lang).encode("utf-8"))

    from .cards import lang_option

    params = [
        click_param(source.export_argument),
        *map(click_param, source.export_options),
        _rps_option(),
    ]
    command = _command(source.cli_name, run, params, source.export_help, source.export_example)
    return lang_option(command)


def _what(source: sources.Source, key: Any, options: dict[str, Any]) -> str:
    """What was asked for, for the not-found line: model 12, version 34, hash ABC."""
    if key is not None:
        return f"model {key}"
    given = [f"{name} {value}" for name, value in options.items() if value is not None]
    return given[0] if given else "model"


def _command(
    name: str, run: Callable[..., None], params: list[click.Parameter], text: str, example: str
) -> click.Command:
    command = click.Command(name, callback=run, params=params, help=_with_example(text, example))
    return verbose_option(db_option(command))


@contextlib.contextmanager
def exclusive(store: Any) -> Iterator[None]:
    """The database's writer lock, or one line saying who holds it."""
    from ..store import Busy

    try:
        with store.exclusive():
            yield
    except Busy as exc:
        raise Failed(str(exc)) from None


def summary(source: str, outcome: Any, seconds: float) -> None:
    """One line of what a run did, then the first failures by name."""
    for line in outcome.summary(source, seconds):
        click.echo(line, err=True)
