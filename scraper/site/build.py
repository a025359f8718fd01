"""`scraper site build`: the catalog as a static bilingual site, incrementally.

1. Every live model's fingerprint (one query); models whose fingerprint, or the code, templates
   or settings, changed since the last build are rendered again, over a process pool: each
   worker reads its chunk of models from the database itself and writes their pages, so the
   parent never holds the models.
2. From every model's summary (new ones from the workers, the rest from the manifest) the
   parent renders the index pages, the home page, the guide and the search index.
3. Pages whose bytes did not change are not rewritten; pages the site no longer has (deleted,
   hidden or renamed) are removed; the manifest is written last.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from . import (
    DEFAULT_OUT,
    archive,
    data,
    guide,
    library,
    modelpage,
    output,
    pages,
    paths,
    rowcache,
    search,
)
from .indexes import site_pages
from .mirror import RPS
from .paths import LANGS, localized
from .pictures import Pictures
from .summary import FIELDS, Summary, compact, model_key, summarize

CHUNK = 250  # models per worker task


@dataclass
class Settings:
    db: Path
    out: Path = DEFAULT_OUT
    nsfw: str = "blur"
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False  # ignore the manifest: render and compare everything
    images: str = "link"  # link: from the sources' hosts; mirror: stored in the site
    deleted: str = "hide"  # hide: a model deleted upstream leaves the site; archive: kept
    mirror_rps: float = RPS  # image requests per second, shared by the workers
    chunk: int = CHUNK  # models per worker task; a pool starts from two chunks' worth
    postings_per_shard: int = search.POSTINGS_PER_SHARD
    base_url: str = ""  # where the site is served: absolute canonical, feed, sitemap URLs


@dataclass
class Report:
    models: int = 0  # on the site
    hidden: int = 0  # left out by --nsfw hide
    rendered: int = 0  # models whose pages were rendered this time
    pages: int = 0  # files the site has
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    archived: int = 0  # models deleted upstream, kept on the archive index
    images: list[int] = field(default_factory=lambda: [0, 0, 0])  # fetched, stored, failed


def build(settings: Settings) -> Report:
    """Build or update the site in settings.out from the database settings.db."""
    started = time.monotonic()
    report = Report()
    out = Path(settings.out)
    conn = data.connect(settings.db)  # before touching the folder: no database, no site
    pages.configure(settings.images, settings.deleted == "archive")
    try:
        with output.building(out, settings.force) as clean:
            old = output.Manifest() if settings.force else output.Manifest.read(out)
            trusted = clean and not settings.force
            pages.set_base_url(settings.base_url)
            stamp = build_stamp(settings.nsfw, settings.images, settings.deleted, settings.base_url)
            writer = output.Writer(out, old.pages, trusted)
            writer.check_folders(old.pages)
            keep = settings.deleted == "archive"
            live = data.live_models(conn, archive=keep)
            gone_at = data.removed_models(conn) if keep else {}
            removed = {model_key(*k): d for k, d in gone_at.items()}
            state, todo = _plan(live, old, stamp if trusted else None)
            conn.close()
            new_pages = _carried_pages(state, old.pages)
            _render_models(settings, todo, old, trusted, state, new_pages, report, removed)
            new_pages.update(_redirects(state, writer, new_pages))
            gone = [Summary.from_row(r) for k, (_, r) in state.items() if r and k in removed]
            summaries = [
                Summary.from_row(row)
                for key, (_, row) in state.items()
                if row is not None and key not in removed
            ]
            report.hidden = sum(1 for _, row in state.values() if row is None)
            report.models = len(summaries)
            report.archived = len(gone)
            facts = _guide_facts(settings.db, summaries, report.failed)
            # An index page whose rows and place are what they were is not rendered again.
            same_code = trusted and old.stamp == stamp
            reusable = {p: h for p, h in old.inputs.items() if p in old.pages} if same_code else {}
            inputs: dict[str, str] = {}
            on_site = {(s.source, s.id): s.page for s in summaries}
            for path, body in library.build(settings.db, on_site):  # before the home page
                new_pages[path] = writer.write(path, body)
            paging = dict(old.paging)  # where index pages broke: updated by site_pages
            rows = rowcache.Folder(out, stamp, usable=same_code)
            pages_out = site_pages(
                summaries,
                settings.postings_per_shard,
                reusable,
                facts,
                settings.base_url,
                paging,
                rows,
            )
            if keep:
                pages_out = itertools.chain(pages_out, archive.pages(gone, removed))
            with writer.in_background():  # the disk writes while the next page renders
                for path, body, made_of in pages_out:
                    if made_of is not None:
                        inputs[path] = made_of
                    if body is None:
                        new_pages[path] = old.pages[path]
                    else:
                        writer.queue(path, body if isinstance(body, bytes) else body.encode())
            new_pages.update(writer.hashes)
            for path in old.pages.keys() - new_pages.keys():
                report.removed += writer.remove(path)
            manifest = output.Manifest(stamp, new_pages, state, inputs=inputs, paging=paging)
            manifest.write(writer.root, old.digest)
            report.written += writer.written
            report.unchanged += writer.unchanged
            report.pages = len(new_pages)
    finally:
        conn.close()
    report.seconds = time.monotonic() - started
    return report


def _guide_facts(db: Path, summaries: list[Summary], failed: list[str]) -> dict[str, Any]:
    """The latest version and file of each collection model the catalog holds (a few dozen
    models read again: summaries do not carry files)."""
    live = {guide.lookup_key(s.source, s.ref): s for s in summaries}
    keys = [(s.source, s.id) for s in guide.wanted(guide.collection(), live)]
    named = guide.named_files(guide.collection(), live)
    conn = data.connect(db)
    try:
        return {
            model_key(m.source, m.id): guide.facts(m, named.get((m.source, m.id)))
            for m in data.read_models(conn, keys, failed)
        }
    finally:
        conn.close()


def build_stamp(nsfw: str, images: str = "link", deleted: str = "hide", base_url: str = "") -> str:
    """Changes with the code, the templates, the libraries that shape HTML and the settings:
    any of them changing makes every model page be rendered again."""
    h = hashlib.blake2b(digest_size=16)
    h.update(
        f"nsfw={nsfw};images={images};deleted={deleted};format={output.FORMAT};"
        f"base_url={base_url}".encode()
    )
    for name in ("nh3", "markdown-it-py", "jinja2"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(f"{name}={metadata.version(name)}".encode())
    package = Path(__file__).resolve().parent.parent
    templates = Path(str(resources.files("scraper.templates")))
    files = sorted(package.rglob("*.py")) + sorted(p for p in templates.rglob("*") if p.is_file())
    for path in files:
        if "__pycache__" not in path.parts:
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _plan(
    live: list[tuple[str, str, str]], old: output.Manifest, stamp: str | None
) -> tuple[dict[str, list[Any]], list[tuple[str, str, str]]]:
    """Models whose last summary still holds (same fingerprint, same stamp) and those to render."""
    same = stamp is not None and old.stamp == stamp
    state: dict[str, list[Any]] = {}
    todo = []
    for source, model_id, fingerprint in live:
        key = model_key(source, model_id)
        previous = old.models.get(key)
        if (
            same
            and isinstance(previous, list)
            and len(previous) == 2
            and previous[0] == fingerprint
        ):
            if previous[1] is not None:
                compact(previous[1])
            state[key] = previous
        else:
            todo.append((source, model_id, fingerprint))
    return state, todo


def _carried_pages(state: dict[str, list[Any]], known: dict[str, str]) -> dict[str, str]:
    """The pages of models not rendered again stay as they are."""
    kept = {}
    for _, row in state.values():
        if row is None:
            continue
        for lang in LANGS:
            path = localized(Summary.from_row(row).page, lang)
            if path in known:
                kept[path] = known[path]
    return kept


# --- model pages, in workers -----------------------------------------------------------------


@dataclass
class Job:
    db: str
    out: str
    nsfw: str
    trusted: bool
    models: list[tuple[str, str, str]]  # (source, id, fingerprint)
    known: dict[str, str]  # the last hashes of these models' pages
    images: str = "link"
    removed: dict[str, str] = field(default_factory=dict)  # key -> deleted_at (archive)
    rps: float = RPS  # this worker's share of the image requests
    deleted: str = "hide"
    base_url: str = ""


@dataclass
class JobResult:
    models: dict[str, list[Any]]  # key -> [fingerprint, summary row or None]
    pages: dict[str, str]
    failed: list[str]
    written: int
    unchanged: int
    images: tuple[int, int, int] = (0, 0, 0)  # fetched, stored, failed


def render_job(job: Job) -> JobResult:
    """Render and write the pages of one chunk of models (runs in a worker process)."""
    pages.set_base_url(job.base_url)
    conn = data.connect(Path(job.db))
    pages.configure(job.images, job.deleted == "archive")
    writer = output.Writer(Path(job.out), job.known, job.trusted)
    pictures = Pictures.of(job.images, Path(job.out), job.rps)
    failures: list[str] = []
    result = JobResult({}, {}, failures, 0, 0)
    fingerprints = {(s, i): fp for s, i, fp in job.models}
    histories: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for source in {s for s, _, _ in job.models}:
        ids = [i for s, i, _ in job.models if s == source]
        histories[source] = data.download_history(conn, source, ids)
    try:
        for model in data.read_models(conn, list(fingerprints), failures):
            key = model_key(model.source, model.id)
            fingerprint = fingerprints.get((model.source, model.id), "")
            try:
                if pictures.mirror is not None:
                    pictures.mirror.transient = False
                summary = summarize(model, job.nsfw, pictures)
                if summary is None:
                    result.models[key] = [fingerprint, None]
                    continue
                history = histories.get(model.source, {}).get(model.id, [])
                description = pages.description_html(model)
                removed = job.removed.get(key)
                for lang in LANGS:
                    html = modelpage.model_page(
                        model, lang, job.nsfw, history, description, pictures, removed
                    )
                    path = localized(summary.page, lang)
                    result.pages[path] = writer.write(path, html)
                if pictures.mirror is not None and pictures.mirror.transient:
                    fingerprint += "+retry"  # an image may come next time: render it again
                result.models[key] = [fingerprint, summary.to_row()]
            except Exception as exc:  # one odd record or template bug must not stop the rest
                failures.append(f"{key}: {type(exc).__name__}: {exc}")
    finally:
        conn.close()
        pictures.close()
    result.written, result.unchanged = writer.written, writer.unchanged
    if pictures.mirror is not None:
        m = pictures.mirror
        result.images = (m.fetched, m.stored, m.failed)
    return result


def _render_models(
    settings: Settings,
    todo: list[tuple[str, str, str]],
    old: output.Manifest,
    trusted: bool,
    state: dict[str, list[Any]],
    new_pages: dict[str, str],
    report: Report,
    removed: dict[str, str],
) -> None:
    workers = max(1, min(settings.jobs, len(todo) // settings.chunk))

    def jobs() -> Iterator[Job]:
        for start in range(0, len(todo), settings.chunk):
            chunk = todo[start : start + settings.chunk]
            known = {}
            for source, model_id, _ in chunk:
                previous = old.models.get(model_key(source, model_id))
                row = previous[1] if isinstance(previous, list) and len(previous) == 2 else None
                page = Summary.from_row(row).page if row else paths.model_page(source, model_id)
                for lang in LANGS:
                    path = localized(page, lang)
                    if path in old.pages:
                        known[path] = old.pages[path]
            keys = (model_key(s, i) for s, i, _ in chunk)
            gone = {k: removed[k] for k in keys if k in removed}
            yield Job(
                str(settings.db),
                str(settings.out),
                settings.nsfw,
                trusted,
                chunk,
                known,
                settings.images,
                gone,
                settings.mirror_rps / workers,
                settings.deleted,
                settings.base_url,
            )

    # A pool costs about a second to start: worth it from two chunks of work on.
    if workers == 1:
        _collect(map(render_job, jobs()), todo, old, state, new_pages, report)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        _collect(pool.imap_unordered(render_job, jobs()), todo, old, state, new_pages, report)


def _moved(row: list[Any], previous: Any) -> None:
    """A model whose page moved (a renamed repo) keeps the addresses it had, for redirects."""
    if not (isinstance(previous, list) and len(previous) == 2 and previous[1]):
        return
    before, now = Summary.from_row(previous[1]), Summary.from_row(row)
    moved = [p for p in [*before.moved_from, before.page] if p != now.page]
    row[FIELD_MOVED] = list(dict.fromkeys(moved))


FIELD_MOVED = FIELDS.index("moved_from")


def _redirects(
    state: dict[str, list[Any]], writer: output.Writer, live: dict[str, str]
) -> dict[str, str]:
    """A redirect page at each earlier address of a model, in both languages, unless another
    model's page lives there now."""
    written: dict[str, str] = {}
    for _, row in state.values():
        if row is None or not row[FIELD_MOVED]:
            continue
        summary = Summary.from_row(row)
        for old_page in summary.moved_from:
            for lang in LANGS:
                path, target = localized(old_page, lang), localized(summary.page, lang)
                if path in live:
                    continue
                written[path] = writer.write(path, paths.redirect_page(path, target))
    return written


def _collect(
    results: Iterator[JobResult],
    todo: list[tuple[str, str, str]],
    old: output.Manifest,
    state: dict[str, list[Any]],
    new_pages: dict[str, str],
    report: Report,
) -> None:
    for result in results:
        for key, (fingerprint, row) in result.models.items():
            if row is not None:
                _moved(row, old.models.get(key))
            old.models.pop(key, None)  # replaced: after a code change, 100,000 rows freed
            state[key] = [fingerprint, compact(row) if row is not None else None]
        new_pages.update(result.pages)
        report.failed += result.failed
        report.written += result.written
        report.unchanged += result.unchanged
        report.rendered += len(result.models)
        report.images = [a + b for a, b in zip(report.images, result.images, strict=True)]
    for source, model_id, _ in todo:  # failed: keep what the last build made, retry next time
        key = model_key(source, model_id)
        previous = old.models.get(key)
        if key not in state and isinstance(previous, list) and len(previous) == 2:
            state[key] = ["", previous[1]]
            if previous[1] is not None:
                for lang in LANGS:
                    path = localized(Summary.from_row(previous[1]).page, lang)
                    if path in old.pages:
                        new_pages[path] = old.pages[path]


# --- everything else, in the parent ----------------------------------------------------------
