"""`scraper run`: every configured source synced in turn, the cards rendered and the site built,
all under the database's one lock; a summary line per source and one final line.

A source that fails does not stop the others; the exit status says whether everything went
well (0) or something failed (1), for cron, systemd and monitors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cards.output import render_catalog
from ..catalog import open_store
from ..files import OutsideFolder
from ..store import Store, lock
from .config import Config, LibraryConfig, SourceConfig, span
from .sync import crawl

log = logging.getLogger("scraper.run")

# (label, total) -> a context whose value has update(models, pages): the terminal's progress.
ProgressFactory = Callable[[str, int | None], AbstractContextManager[Any]]


@dataclass
class Step:
    """How a part of the run ended: ok, and the line that says so."""

    ok: bool
    line: str
    short: str = ""  # for the final line


def run_file(
    config_path: Path,
    wait: float = 0,
    db: Path | None = None,
    locked: bool = False,
    progress: ProgressFactory | None = None,
) -> int:
    """Load the config and run it; the exit status (2: a bad config), every failure logged as
    one line. The entry point of `scraper run` and of the demo. locked: the caller holds the
    database's lock already (the demo)."""
    from ..interrupt import exit_code, signal_name
    from ..store import Busy
    from ..store.schema import SchemaError
    from .config import ConfigError, load

    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("config: %s", exc)
        return 2
    if db is not None:  # --db given on the command line wins over the config's
        config = dataclasses.replace(config, db=db)
    try:
        return run(config, wait, progress, locked)
    except (Busy, SchemaError, sqlite3.DatabaseError) as exc:  # nothing could be synced
        log.error("run: %s", exc)
        return 1
    except KeyboardInterrupt as exc:
        log.error(
            "run: interrupted by %s; what was committed is kept, the source's run is "
            "recorded as interrupted and the next run goes on from there",
            signal_name(exc),
        )
        return exit_code(exc)


def run(
    config: Config,
    wait: float = 0,
    progress: ProgressFactory | None = None,
    locked: bool = False,
) -> int:
    """The whole unattended run; its exit status (0 all went well, 1 something failed).
    locked: the caller holds the database's lock already."""
    started = time.monotonic()
    statuses: dict[str, str] = {}
    with contextlib.nullcontext() if locked else lock.exclusive(config.db, wait):
        store = open_store(config.db)  # migrated under the lock: two upgrades never race
        try:
            store.recover()
            for entry in config.sources:
                statuses[entry.source.name] = _sync(
                    store, entry, progress or _quiet, config.max_wait
                )
            for number, library in enumerate(config.libraries, 1):
                statuses[f"library {number}"] = _scan(store, library)
        finally:
            store.close()
        cards = _render(config)
        site = _build_site(config)
    ok = all(s == "ok" for s in statuses.values()) and cards.ok and (site is None or site.ok)
    failed = [name for name, status in statuses.items() if status != "ok"]
    parts = [
        ", ".join(f"{name} {status}" for name, status in statuses.items()),
        cards.line,
        site.short if site else "no [site]",
    ]
    state = "ok" if ok else ("failed" if len(failed) == len(statuses) else "partial")
    level = logging.INFO if ok else logging.WARNING  # with --log-file, stderr shows this one
    log.log(level, "run: %s: %s; %.1fs", state, "; ".join(parts), time.monotonic() - started)
    return 0 if ok else 1


def _sync(
    store: Store, entry: SourceConfig, progress: ProgressFactory, max_wait: float | None = None
) -> str:
    """One source's crawl (and counters refresh); its status, summary logged."""
    source = entry.source
    log.info("%s: sync started (%s)", source.name, describe(entry))
    started = time.monotonic()
    try:
        with (
            source.client(entry.rps, entry.public_url) as api,
            progress(source.cli_name, entry.limit) as bar,
        ):
            if max_wait is not None:
                api.max_wait = max_wait  # the config's max_wait over SCRAPER_MAX_WAIT
            outcome = crawl(
                store,
                api,
                source,
                entry.filters(),
                entry.limit,
                bar.update,
                incremental=entry.incremental,
                refresh_older_than=entry.refresh,
            )
    except Exception as exc:  # one source's trouble (a bug, a full disk) must not stop the rest
        log.error("%s: failed: %s", source.name, exc)
        return "failed"
    first, *failures = outcome.summary(source.name, time.monotonic() - started)
    log.log(logging.INFO if outcome.status == "ok" else logging.WARNING, "%s", first)
    for line in failures:
        log.warning("%s", line.strip())
    return outcome.status


def _scan(store: Store, library: LibraryConfig) -> str:
    """One [[library]] folder scanned (before the cards and the site); its status."""
    from ..library.scan import Options, scan

    log.info("library: scan of %s started", library.path)
    started = time.monotonic()
    options = Options(
        lang=library.lang,
        info=library.info,
        card=library.card,
        force=library.force,
        out=library.out,
        rps=library.rps,
        retry_after=library.retry_after,
        preview=library.preview,
        nsfw=library.nsfw,
    )
    if library.jobs:
        options.jobs = library.jobs
    try:
        report = scan(store, [library.path], options)
    except Exception as exc:  # one folder's trouble must not stop the rest
        log.error("library %s: failed: %s", library.path, exc)
        return "failed"
    first, *rest = report.lines(time.monotonic() - started)
    log.log(logging.INFO if report.status == "ok" else logging.WARNING, "%s", first)
    for line in rest:
        log.warning("%s", line.strip())
    return report.status


def describe(entry: SourceConfig) -> str:
    """The options a source runs with, for its first log line."""
    given = [
        f"{key} {','.join(map(str, value)) if isinstance(value, tuple) else value}"
        for key, value in entry.options.items()
        if value not in (None, (), False) and value is not _default(entry, key)
    ]
    return ", ".join(
        filter(
            None,
            [
                "incremental" if entry.incremental else "full crawl",
                *given,
                f"limit {entry.limit}" if entry.limit else "",
                f"rps {entry.rps:g}" if entry.rps is not None else "",
                f"counters older than {span(entry.refresh)}" if entry.refresh else "",
            ],
        )
    )


def _default(entry: SourceConfig, key: str) -> object:
    return next(o.default for o in entry.source.sync_options if o.name == key)


def _render(config: Config) -> Step:
    """Cards of every configured source in every configured language; only models that changed
    since their card was written are rendered."""
    written = unchanged = removed = 0
    failures: list[str] = []
    for lang in config.languages:
        before = len(failures)
        counts = [0, 0, 0]
        for name in _rendered(config):
            try:
                report = render_catalog(config.db, config.out, lang, config.details, name)
            except OutsideFolder as exc:  # a planted link, someone's folder: said, not followed
                failures.append(str(exc))
                continue
            failures += report.failed
            counts = [
                counts[0] + report.written,
                counts[1] + report.unchanged,
                counts[2] + report.removed,
            ]
        log.info(
            "cards %s: %d written, %d unchanged, %d removed, %d failed under %s",
            lang,
            *counts,
            len(failures) - before,
            config.out,
        )
        written, unchanged, removed = (
            written + counts[0],
            unchanged + counts[1],
            removed + counts[2],
        )
    for failure in failures[:20]:
        log.warning("  failed: %s", failure)
    line = f"cards {written} written, {unchanged} unchanged, {len(failures)} failed"
    return Step(not failures, line)


def _rendered(config: Config) -> list[str]:
    """The sources whose cards a run renders: those synced, and the one a library's files
    are looked up in."""
    names = [entry.source.name for entry in config.sources]
    if config.libraries:
        from ..library.lookup import hash_source

        names.append(hash_source().name)
    return list(dict.fromkeys(names))


def _build_site(config: Config) -> Step | None:
    """The one place `scraper run` (and so the demo) builds the static site from [site]."""
    if config.site is None:
        return None
    from ..site.build import Settings, build
    from ..site.output import UnsafePath

    site = config.site
    settings = Settings(
        db=config.db,
        out=site.out,
        nsfw=site.nsfw,
        images=site.images,
        deleted=site.deleted,
        base_url=site.base_url,
    )
    try:
        report = build(settings)
    except (OutsideFolder, UnsafePath) as exc:
        log.error("site: %s", exc)
        return Step(False, f"site: {exc}", "site failed")
    line = (
        f"site: {report.models} models, {report.written} files written, {report.unchanged} "
        f"unchanged, {report.removed} removed, {len(report.failed)} failed under {config.site.out}"
    )
    log.log(logging.INFO if not report.failed else logging.WARNING, "%s", line)
    for failure in report.failed[:20]:
        log.warning("  failed: %s", failure)
    short = f"site {report.written} written" if not report.failed else "site failed"
    return Step(not report.failed, line, short)


@contextlib.contextmanager
def _quiet(label: str, total: int | None) -> Iterator[Any]:
    """No progress display (under cron, in tests)."""
    yield _NoBar()


class _NoBar:
    def update(self, models: int, pages: int) -> None:
        pass
