"""`scraper render` (cards from the database) and `scraper card` (cards from saved JSON)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .. import sources
from ..cards.render import DETAILS, LANGS
from ..records import Model
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
@click.option(
    "--force",
    is_flag=True,
    help="Render every card, not only those whose model, template or options changed.",
)
@db_option
@verbose_option
def render(lang: str, details: str, out: Path, source: str | None, force: bool) -> None:
    """Write one card per stored model to OUT/<source>/<id>-<slug>.md, rendering only the
    models that changed since the last render (the manifest OUT/.scraper-manifest.db knows).

    \b
    Example:
      scraper render --lang bilingual --out output
    """
    from ..cards.output import render_catalog

    path = db_path()
    if not path.exists():
        names = "|".join(s.cli_name for s in sources.SOURCES)
        raise Failed(f"no database at {path}; run 'scraper sync {names}' first or give --db")
    report = render_catalog(path, out, lang, details, source, force)
    failures = report.failed
    click.echo(
        f"render: {report.written} written, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(failures)} failed under {out}",
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
    """Render saved API JSON with no network; PATH may be a folder of saved responses."""
    from ..cards.render import render_card
    from ..files import safe_stem, write_atomic

    inputs = list(_inputs(paths))
    if not inputs:
        where = ", ".join(str(p) for p in paths)
        raise Failed(f"no saved responses (*{', *'.join(SAVED_SUFFIXES)}) in {where}")
    failures: list[str] = []
    if out is None:
        for path in inputs:
            if path.stat().st_size > STDOUT_MAX:
                raise click.UsageError(
                    f"{path} is {path.stat().st_size >> 20} MB, a list of many models: "
                    "give --out DIR for one card each"
                )
        models = _merged(_models_from_files(inputs, failures))
        if len(models) > 1:
            raise click.UsageError(f"{len(models)} models found; give --out DIR for one card each")
        for model in models.values():
            sys.stdout.buffer.write(render_card(model, lang, details).encode("utf-8"))
            sys.stdout.flush()
    else:
        suffix = ".md" if lang == "zh" else f".{lang}.md"
        # Per card written: the input it came from and its version ids, enough to merge a
        # later input of the same model (a folder may hold thousands: no payload is kept).
        seen: dict[tuple[str, str], tuple[list[Path], set[str]]] = {}
        names: dict[str, tuple[str, str]] = {}  # stem, lower case -> the model written there
        repeats = 0
        for path, model in _models_from_files(inputs, failures):
            key = (model.source, model.id)
            if key in seen:  # the same model again (another version of it, say): one card
                repeats += 1
                earlier, versions = seen[key]
                if {v.id for v in model.versions} <= versions:
                    continue
                merged = _merged(_models_from_files(earlier, []))[key]
                _merge(merged, model)
                model, earlier = merged, [*earlier, path]
            else:
                earlier = [path]
            seen[key] = (earlier, {v.id for v in model.versions})
            stem = safe_stem(model.path_id or model.id, f"{model.source}:{model.id}")
            if names.setdefault(stem.lower(), key) != key:  # another model's, ignoring case
                stem = safe_stem(model.path_id or model.id, f"{model.source}:{model.id}", True)
                names[stem.lower()] = key
            try:
                write_atomic(out / f"{stem}{suffix}", render_card(model, lang, details))
            except Exception as exc:  # one bad card must not stop the rest
                failures.append(f"model {model.id}: {exc}")
        same = f"; {repeats} held the same model as another (one card each)" if repeats else ""
        click.echo(
            f"card: {len(seen)} cards under {out} from {len(inputs)} inputs{same}, "
            f"{len(failures)} failed",
            err=True,
        )
    for failure in failures:
        click.echo(f"error: {failure}", err=True)
    sys.exit(1 if failures else 0)


# API answers, and what other tools save next to model files (each source says which).
SAVED_SUFFIXES = tuple(dict.fromkeys(x for s in sources.SOURCES for x in s.saved_suffixes))
STDOUT_MAX = 8 << 20  # one model's answer is far smaller; a larger file is a list page


def _merge(first: Model, other: Model) -> bool:
    """Add to `first` the versions of `other` it lacks; whether anything was added."""
    known = {v.id for v in first.versions}
    extra = [v for v in other.versions if v.id not in known]
    first.versions += extra
    return bool(extra)


def _merged(models: Iterator[tuple[Path, Model]]) -> dict[tuple[str, str], Model]:
    found: dict[tuple[str, str], Model] = {}
    for _, model in models:
        key = (model.source, model.id)
        if key in found:
            _merge(found[key], model)
        else:
            found[key] = model
    return found


def _models_from_files(paths: list[Path], failures: list[str]) -> Iterator[tuple[Path, Model]]:
    from .. import jsonio
    from ..records import RecordError

    for path in paths:
        try:
            source, items = sources.saved_items(jsonio.loads(path.read_bytes()))
        except (ValueError, RecordError, RecursionError) as exc:
            failures.append(f"{path}: {exc}; expected a saved {sources.titles()} response")
            continue
        for item in items:
            try:
                yield path, source.parse(item)
            except RecordError as exc:
                failures.append(f"{path}: {exc}")


def _inputs(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            found = [p for suffix in SAVED_SUFFIXES for p in path.glob(f"*{suffix}")]
            yield from sorted(p for p in found if p.is_file())
        else:
            yield path


card.help = (
    f"Render saved API JSON with no network: {'; '.join(s.saved_help for s in sources.SOURCES)}."
    f" PATH may be a folder of saved responses (*{', *'.join(SAVED_SUFFIXES)}); inputs holding "
    "the same model make one card.\n\n\b\nExample:\n  scraper card saved.json --lang en"
)

COMMANDS = (render, card)
