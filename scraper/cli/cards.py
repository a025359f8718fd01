"""`scraper render` (cards from the database) and `scraper card` (cards from saved JSON)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .. import sources
from ..records import Model
from ..render import DETAILS, LANGS
from .options import Failed, db_option, db_path, verbose_option

lang_option = click.option(
    "--lang",
    type=click.Choice(LANGS),
    default="zh",
    show_default=True,
    help=f"zh ({sources.titles(tuple(s for s in sources.SOURCES if s.exact_zh))}: the 2023 "
    "reference format), en, or bilingual.",
)
details_option = click.option(
    "--details",
    type=click.Choice(DETAILS),
    default="html",
    show_default=True,
    help=f"HTML descriptions "
    f"({sources.titles(tuple(s for s in sources.SOURCES if s.html_description))}) "
    "as they are, or converted to Markdown.",
)


@click.command()
@lang_option
@details_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
)
@click.option(
    "--source", type=click.Choice([s.name for s in sources.SOURCES]), help="Only this source."
)
@db_option
@verbose_option
def render(lang: str, details: str, out: Path, source: str | None) -> None:
    """Write one card per stored model to OUT/<source>/<id>-<slug>.md (only changed files).

    \b
    Example:
      scraper render --lang bilingual --out output
    """
    from ..render import render_all
    from ..store import load_models

    path = db_path()
    if not path.exists():
        names = "|".join(s.cli_name for s in sources.SOURCES)
        raise Failed(f"no database at {path}; run 'scraper sync {names}' first or give --db")
    failures: list[str] = []
    report = render_all(load_models(path, source, failures), out, lang, details)
    failures += report.failed
    click.echo(
        f"render: {report.written} written, {report.unchanged} unchanged, "
        f"{report.removed} renamed, {len(failures)} failed under {out}",
        err=True,
    )
    for failure in failures[:20]:
        click.echo(f"  failed: {failure}", err=True)
    sys.exit(1 if failures else 0)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@lang_option
@details_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write OUT/<modelId>.md per model instead of printing one card.",
)
@verbose_option
def card(paths: tuple[Path, ...], lang: str, details: str, out: Path | None) -> None:
    """Render saved API JSON with no network; PATH may be a folder of .json files."""
    from ..files import safe_stem, write_atomic
    from ..render import render_card

    failures: list[str] = []
    if out is None:
        models = list(_models_from_files(paths, failures))
        if len(models) > 1:
            raise click.UsageError(f"{len(models)} models found; give --out DIR for one card each")
        for model in models:
            text = render_card(model, lang, details)
            sys.stdout.buffer.write(text.encode("utf-8"))
            sys.stdout.flush()
    else:
        written = 0
        for model in _models_from_files(paths, failures):
            suffix = ".md" if lang == "zh" else f".{lang}.md"
            stem = safe_stem(model.path_id or model.id, f"{model.source}:{model.id}")
            path = out / f"{stem}{suffix}"
            try:
                write_atomic(path, render_card(model, lang, details))
                written += 1
            except Exception as exc:  # one bad card must not stop the rest
                failures.append(f"model {model.id}: {exc}")
        click.echo(f"card: {written} cards under {out}, {len(failures)} failed", err=True)
    for failure in failures:
        click.echo(f"error: {failure}", err=True)
    sys.exit(1 if failures else 0)


def _models_from_files(paths: tuple[Path, ...], failures: list[str]) -> Iterator[Model]:
    from .. import jsonio
    from ..records import RecordError

    for path in _json_files(paths):
        try:
            source, items = sources.saved_items(jsonio.loads(path.read_bytes()))
        except (ValueError, RecordError) as exc:
            failures.append(f"{path}: {exc}; expected a saved {sources.titles()} response")
            continue
        for item in items:
            try:
                yield source.parse(item)
            except RecordError as exc:
                failures.append(f"{path}: {exc}")


def _json_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        else:
            yield path


card.help = (
    f"Render saved API JSON with no network: {'; '.join(s.saved_help for s in sources.SOURCES)}."
    " PATH may be a folder of .json files.\n\n\b\nExample:\n  scraper card saved.json --lang en"
)

COMMANDS = (render, card)
