"""The `scraper` command: a thin layer over sources, store and render.

Exit status: 0 success, 1 the run finished but something failed (named in the summary), 2 usage.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import click

from . import jsonio
from . import render as rendering
from . import sync as syncing
from .http import ApiClient, ApiError, NotFound
from .records import Model, RecordError
from .site.cli import site
from .sources import civitai, huggingface, modelscope
from .store import Busy, Store, default_path
from .sync import Outcome

PARSERS = {
    civitai.SOURCE: civitai.parse_model,
    huggingface.SOURCE: huggingface.parse_model,
    modelscope.SOURCE: modelscope.parse_model,
}

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database [default: $SCRAPER_DB or output/models.db].",
)
lang_option = click.option(
    "--lang",
    type=click.Choice(rendering.LANGS),
    default="zh",
    show_default=True,
    help="zh (Civitai: the 2023 reference format), en, or bilingual.",
)
details_option = click.option(
    "--details",
    type=click.Choice(rendering.DETAILS),
    default="html",
    show_default=True,
    help="Civitai descriptions as their HTML, or converted to Markdown.",
)


class _Duration(click.ParamType):
    """24h, 30m, 7d, 90s."""

    name = "duration"
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: object, param: object, ctx: object) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        if len(text) >= 2 and text[-1] in self.units and text[:-1].replace(".", "", 1).isdigit():
            return timedelta(seconds=float(text[:-1]) * self.units[text[-1]])
        self.fail(f"{value!r} is not a duration like 24h, 30m or 7d", param, ctx)  # type: ignore


DURATION = _Duration()


class Failed(click.ClickException):
    """A run that could not do its job: one line on stderr, exit 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log every retry and request summary.")
@click.version_option(package_name="scraper")
def main(verbose: bool) -> None:
    """Model metadata from Civitai, Hugging Face and ModelScope into SQLite and model cards."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


main.add_command(site)


# --- sync ------------------------------------------------------------------------------


@main.group()
def sync() -> None:
    """Crawl a source into the database (resumes an interrupted crawl with the same options)."""


@sync.command("civitai")
@click.option("--types", multiple=True, help="Model type, repeatable: LORA, Checkpoint, ...")
@click.option("--base-models", multiple=True, help="Base model, repeatable: 'SD 1.5', ...")
@click.option("--tag", help="Only models with this tag.")
@click.option("--username", help="Only models by this creator.")
@click.option("--query", help="Search text.")
@click.option("--sort", help="'Highest Rated', 'Most Downloaded', 'Newest', ...")
@click.option("--period", type=click.Choice(["AllTime", "Year", "Month", "Week", "Day"]))
@click.option(
    "--nsfw/--no-nsfw",
    default=True,
    show_default=True,
    help="Include NSFW models (the level is stored either way).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N models in total.")
@click.option("--rps", type=click.FloatRange(min=0), help="Requests per second (0: no limit).")
@click.option(
    "--incremental",
    is_flag=True,
    help="Newest first; stop at the first page with nothing new or changed (for cron).",
)
@click.option(
    "--refresh-stats-older-than",
    "refresh",
    type=DURATION,
    help="Afterwards refresh counters of known models not fetched for this long (24h, 7d).",
)
@db_option
def sync_civitai_cmd(
    types: tuple[str, ...],
    base_models: tuple[str, ...],
    tag: str | None,
    username: str | None,
    query: str | None,
    sort: str | None,
    period: str | None,
    nsfw: bool,
    limit: int | None,
    rps: float | None,
    incremental: bool,
    refresh: timedelta | None,
    db: Path | None,
) -> None:
    """Crawl Civitai /models with cursor pagination into the database."""
    if incremental:
        sort = sort or "Newest"
    filters = civitai.Filters(types, base_models, tag, username, query, sort, period, nsfw)
    store = Store(db or default_path())
    with _exclusive(store), civitai.client(rps) as api, _Progress("civitai") as progress:
        started = time.monotonic()
        crawl = syncing.civitai_crawl(api, filters)
        outcome = syncing.sync(
            store,
            api,
            crawl,
            limit,
            progress.update,
            incremental=incremental,
            refresh_older_than=refresh,
        )
    _summary("civitai", outcome, time.monotonic() - started)
    sys.exit(outcome.exit_code)


@contextlib.contextmanager
def _exclusive(store: Store) -> Iterator[None]:
    try:
        with store.exclusive():
            yield
    except Busy as exc:
        raise Failed(str(exc)) from None


@sync.command("hf")
@click.option("--search", help="Substring of the repo name or owner.")
@click.option("--author", help="Only repos of this user or organisation.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Tag, repeatable: diffusers, lora, stable-diffusion, license:mit, ...",
)
@click.option("--pipeline-tag", help="Task, e.g. text-to-image.")
@click.option("--sort", type=click.Choice(huggingface.SORTS))
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N models in total.")
@click.option("--rps", type=click.FloatRange(min=0), help="Requests per second (0: no limit).")
@db_option
def sync_hf_cmd(
    search: str | None,
    author: str | None,
    filters: tuple[str, ...],
    pipeline_tag: str | None,
    sort: str | None,
    limit: int | None,
    rps: float | None,
    db: Path | None,
) -> None:
    """Crawl Hugging Face /api/models (Link paging) with file sizes and READMEs."""
    query = huggingface.Filters(search, author, filters, pipeline_tag, sort)
    store = Store(db or default_path())
    with _exclusive(store), huggingface.client(rps) as api, _Progress("hf") as progress:
        started = time.monotonic()
        crawl = syncing.hf_crawl(api, query, store)
        outcome = syncing.sync(store, api, crawl, limit, progress.update)
    _summary("huggingface", outcome, time.monotonic() - started)
    sys.exit(outcome.exit_code)


@sync.command("modelscope")
@click.argument("models", nargs=-1)
@click.option("--owner", help="List the models of this owner.")
@click.option("--task", help="List the models of this task, e.g. text-to-image-synthesis.")
@click.option("--search", help="Search text (with --owner or --task).")
@click.option("--sort", type=click.Choice(["default", "downloads", "likes", "last_modified"]))
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N models in total.")
@click.option("--rps", type=click.FloatRange(min=0), help="Requests per second (0: no limit).")
@db_option
def sync_modelscope_cmd(
    models: tuple[str, ...],
    owner: str | None,
    task: str | None,
    search: str | None,
    sort: str | None,
    limit: int | None,
    rps: float | None,
    db: Path | None,
) -> None:
    """Fetch named ModelScope models (OWNER/NAME ...), or list them by --owner or --task."""
    if not models and not (owner or task or search):
        raise click.UsageError("name models as OWNER/NAME, or give --owner, --task or --search")
    for name in models:
        if name.count("/") != 1:
            raise click.BadParameter(f"{name!r} is not OWNER/NAME", param_hint="MODELS")
    query = modelscope.Filters(owner, task, search, sort)
    store = Store(db or default_path())
    with _exclusive(store), modelscope.client(rps) as api, _Progress("modelscope") as progress:
        started = time.monotonic()
        crawl = syncing.modelscope_crawl(api, query, models)
        outcome = syncing.sync(store, api, crawl, limit, progress.update)
    _summary("modelscope", outcome, time.monotonic() - started)
    sys.exit(outcome.exit_code)


def _summary(source: str, o: Outcome, seconds: float) -> None:
    c = o.counts
    resumed = f", resumed after {o.resumed_from}" if o.resumed_from else ""
    click.echo(
        f"{source}: {o.status}: {c.seen} models (new {c.new}, updated {c.updated}, "
        f"counters {c.refreshed}, unchanged {c.unchanged}, deleted {c.deleted}, "
        f"failed {len(c.failed)}) from {o.pages} pages{resumed}; "
        f"{o.requests} requests, {o.nbytes / 1e6:.1f} MB in {seconds:.1f}s; run {o.run_id}",
        err=True,
    )
    for failure in c.failed[:20]:
        click.echo(f"  failed: {failure}", err=True)
    if len(c.failed) > 20:
        click.echo(f"  ... and {len(c.failed) - 20} more (see the runs table)", err=True)


class _Progress:
    """A one-line counter on a terminal; silent under cron."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self.started = time.monotonic()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            click.echo("\r\033[K", nl=False, err=True)

    def update(self, models: int, pages: int) -> None:
        if self.enabled:
            rate = models / max(time.monotonic() - self.started, 1e-6)
            click.echo(
                f"\r\033[K{self.label}: {models} models, {pages} pages, {rate:.0f}/s",
                nl=False,
                err=True,
            )


# --- render ----------------------------------------------------------------------------


@main.command()
@lang_option
@details_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
)
@click.option("--source", type=click.Choice(sorted(PARSERS)), help="Only this source.")
@db_option
def render(lang: str, details: str, out: Path, source: str | None, db: Path | None) -> None:
    """Write one card per stored model to OUT/<source>/<id>-<slug>.md (only changed files)."""
    path = db or default_path()
    if not path.exists():
        raise Failed(f"no database at {path}; run 'scraper sync civitai' first or give --db")
    store = Store(path)
    failures: list[str] = []
    report = rendering.render_all(_stored_models(store, source, failures), out, lang, details)
    failures += report.failed
    click.echo(
        f"render: {report.written} written, {report.unchanged} unchanged, "
        f"{report.removed} renamed, {len(failures)} failed under {out}",
        err=True,
    )
    for failure in failures[:20]:
        click.echo(f"  failed: {failure}", err=True)
    sys.exit(1 if failures else 0)


def _stored_models(store: Store, source: str | None, failures: list[str]) -> Iterator[Model]:
    for src, payload in store.iter_payloads(source):
        try:
            yield PARSERS[src](payload)
        except (RecordError, KeyError) as exc:
            failures.append(f"{src}: {exc}")


# --- card ------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@lang_option
@details_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write OUT/<modelId>.md per model instead of printing one card.",
)
def card(paths: tuple[Path, ...], lang: str, details: str, out: Path | None) -> None:
    """Render saved API JSON with no network: a Civitai model, list item or list page, a Hugging
    Face model info, a ModelScope model detail; PATH may be a folder of .json files."""
    failures: list[str] = []
    models = list(_models_from_files(paths, failures)) if out is None else None
    if out is None:
        assert models is not None
        if len(models) > 1:
            raise click.UsageError(f"{len(models)} models found; give --out DIR for one card each")
        for model in models:
            text = rendering.render_card(model, lang, details)
            sys.stdout.buffer.write(text.encode("utf-8"))
            sys.stdout.flush()
    else:
        written = 0
        for model in _models_from_files(paths, failures):
            suffix = ".md" if lang == "zh" else f".{lang}.md"
            path = out / f"{rendering.safe_id(model.path_id or model.id)}{suffix}"
            try:
                rendering.write_atomic(path, rendering.render_card(model, lang, details))
                written += 1
            except Exception as exc:  # one bad card must not stop the rest
                failures.append(f"model {model.id}: {exc}")
        click.echo(f"card: {written} cards under {out}, {len(failures)} failed", err=True)
    for failure in failures:
        click.echo(f"error: {failure}", err=True)
    sys.exit(1 if failures else 0)


def _models_from_files(paths: tuple[Path, ...], failures: list[str]) -> Iterator[Model]:
    for path in _json_files(paths):
        try:
            parse, items = _saved_items(jsonio.loads(path.read_bytes()))
        except (ValueError, RecordError) as exc:
            failures.append(
                f"{path}: {exc}; expected a saved Civitai, Hugging Face or ModelScope response"
            )
            continue
        for item in items:
            try:
                yield parse(item)
            except RecordError as exc:
                failures.append(f"{path}: {exc}")


def _saved_items(payload: object) -> tuple:
    """Which source a saved response comes from, by its shape, and its model items."""
    if isinstance(payload, dict) and ("Data" in payload or "detail" in payload):
        return modelscope.parse_model, [payload]
    if isinstance(payload, dict) and ("_id" in payload or "info" in payload):
        return huggingface.parse_model, [payload]
    return civitai.parse_model, civitai.model_items(payload)


def _json_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        else:
            yield path


# --- export ----------------------------------------------------------------------------


@main.group()
def export() -> None:
    """Fetch one model, store it and print its card."""


@export.command("civitai")
@click.argument("model_id", type=click.IntRange(min=1), required=False)
@click.option(
    "--version",
    "version_id",
    type=click.IntRange(min=1),
    help="Find the model by one of its version ids instead.",
)
@click.option("--hash", "file_hash", help="Find the model by a file hash (SHA256, AutoV2, ...).")
@lang_option
@db_option
def export_civitai_cmd(
    model_id: int | None,
    version_id: int | None,
    file_hash: str | None,
    lang: str,
    db: Path | None,
) -> None:
    """Fetch /models/MODEL_ID (or the model of a version or file hash), store it, print its card."""
    if [model_id, version_id, file_hash].count(None) != 2:
        raise click.UsageError("give exactly one of MODEL_ID, --version or --hash")
    if file_hash is not None and not file_hash.isalnum():
        raise click.BadParameter(f"{file_hash!r} is not a file hash", param_hint="--hash")
    store = Store(db or default_path())
    with _exclusive(store), civitai.client() as api:
        what = (
            f"model {model_id}"
            if model_id
            else (f"version {version_id}" if version_id else f"file hash {file_hash}")
        )
        try:
            if model_id is None:
                model_id = syncing.civitai_model_of(api, version_id, file_hash)
            model = syncing.export_civitai(store, api, str(model_id))
        except NotFound:
            raise Failed(f"civitai {what} not found (deleted, unpublished or a wrong id)") from None
        except (ApiError, RecordError) as exc:
            raise Failed(str(exc)) from None
    sys.stdout.buffer.write(rendering.render_card(model, lang).encode("utf-8"))


@export.command("hf")
@click.argument("repo_id")
@lang_option
@db_option
def export_hf_cmd(repo_id: str, lang: str, db: Path | None) -> None:
    """Fetch a Hugging Face repo (OWNER/NAME): info, file sizes, README; store, print its card."""
    _export(db, lang, huggingface.client(), repo_id, syncing.export_hf)


@export.command("modelscope")
@click.argument("model_id")
@lang_option
@db_option
def export_modelscope_cmd(model_id: str, lang: str, db: Path | None) -> None:
    """Fetch a ModelScope model (OWNER/NAME): detail, README, files; store, print its card."""
    _export(db, lang, modelscope.client(), model_id, syncing.export_modelscope)


def _export(db: Path | None, lang: str, api: ApiClient, key: str, fetch) -> None:
    store = Store(db or default_path())
    with _exclusive(store), api:
        try:
            model = fetch(store, api, key)
        except NotFound:
            raise Failed(f"{api.policy.name} model {key} not found (or not public)") from None
        except ValueError as exc:  # a malformed id
            raise click.BadParameter(str(exc)) from None
        except (ApiError, RecordError) as exc:
            raise Failed(str(exc)) from None
    sys.stdout.buffer.write(rendering.render_card(model, lang).encode("utf-8"))


# --- demo ------------------------------------------------------------------------------


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output") / "demo",
    show_default=True,
)
def demo(out: Path) -> None:
    """The whole pipeline offline: recorded responses served on 127.0.0.1, synced, rendered,
    published as a site."""
    from importlib import resources

    from .fakeapi import FakeCivitai, Faults, load_models
    from .site.build import Settings as SiteSettings
    from .site.build import build as build_site

    models = load_models(Path(str(resources.files("scraper.demo"))))
    # Two faults on the first pages show the retries at work.
    faults = Faults()
    faults.script.extend(["503", "html200"])
    store = Store(out / "models.db")
    with FakeCivitai(models, page_size=5, faults=faults) as server:
        click.echo(f"demo: serving {len(models)} recorded models at {server.base_url}", err=True)
        with ApiClient(server.base_url, civitai.POLICY, rps=0, backoff=0.1) as api:
            started = time.monotonic()
            outcome = syncing.sync(store, api, syncing.civitai_crawl(api, civitai.Filters()))
            _summary("civitai", outcome, time.monotonic() - started)
    stored = _stored_models(store, None, [])
    report = rendering.render_all(stored, out, "zh")
    click.echo(f"demo: {report.written + report.unchanged} cards in {out / 'civitai'}", err=True)
    built = build_site(SiteSettings(db=out / "models.db", out=out / "site"))
    click.echo(
        f"demo: a site of {built.models} models in {out / 'site'} "
        f"(preview: scraper site serve --out {out / 'site'})",
        err=True,
    )
    click.echo(str(out / "civitai"))
    click.echo(str(out / "site" / "index.html"))
    sys.exit(outcome.exit_code or (1 if built.failed else 0))


if __name__ == "__main__":
    main()
