"""Crawls: a source's pages into the store, checkpointed so a killed run resumes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import jsonio
from ..interrupt import signal_name
from ..net.client import ApiClient, ApiError, NotFound, WaitTooLong
from ..net.paging import EndlessListing, ahead
from ..net.redaction import redact
from ..records import Model, Page, RecordError
from ..sources import Filters, Source
from ..store import Checkpoint, Counts, Store

Progress = Callable[[int, int], None]
log = logging.getLogger("scraper.jobs.sync")
LONG_CRAWL = 2_000  # models written in one run after which the store's lookups wait for its end
SLICE = 1  # items per worker read at once, where reading an item fetches (see _read_in_slices)


@dataclass
class Outcome:
    """How a sync ended: 'ok', 'partial' (some records failed) or 'failed' (stopped early)."""

    run_id: int
    counts: Counts
    status: str
    requests: int
    nbytes: int
    pages: int
    resumed_from: int = 0
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1

    def summary(self, source: str, seconds: float, shown: int = 20) -> list[str]:
        """One line of what the run did, then the first failures by name."""
        c = self.counts
        resumed = f", resumed after {self.resumed_from}" if self.resumed_from else ""
        lines = [
            f"{source}: {self.status}: {c.seen} models (new {c.new}, updated {c.updated}, "
            f"counters {c.refreshed}, unchanged {c.unchanged}, deleted {c.deleted}, "
            f"failed {len(c.failed)}) from {self.pages} pages{resumed}; "
            f"{self.requests} requests, {self.nbytes / 1e6:.1f} MB in {seconds:.1f}s; "
            f"run {self.run_id}"
        ]
        lines += [f"  failed: {redact(failure)}" for failure in c.failed[:shown]]
        if len(c.failed) > shown:
            lines.append(f"  ... and {len(c.failed) - shown} more (see the runs table)")
        return lines


def crawl_key(source: str, params: list[tuple[str, str]], limit: int | None) -> str:
    text = json.dumps([source, params, limit])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def crawl(
    store: Store,
    api: ApiClient,
    source: Source,
    filters: Filters,
    limit: int | None = None,
    progress: Progress | None = None,
    incremental: bool = False,
    refresh_older_than: timedelta | None = None,
) -> Outcome:
    """Page through a listing; each page's records and the cursor after it commit together.

    incremental: stop at the first page in which nothing is new or changed (for a newest-first
    listing, everything after it is known). refresh_older_than: afterwards, refresh the
    counters of known models not fetched for that long (sources that can fetch many by id).
    """
    params = filters.params()
    key = crawl_key(source.name, params, limit)
    run_id = store.start_run(
        source.name, "sync", {"params": params, "limit": limit, "incremental": incremental}
    )
    counts = Counts()
    with _recorded(store, run_id, counts, api):
        saved = store.checkpoint(key)
        cursor = saved["cursor"] if saved else None
        if cursor and cursor.startswith(("http://", "https://")):
            # A URL cursor (a Link) saved under another base URL is moved onto the current one.
            cursor = api.rebase(cursor, saved.get("base_url") if saved else None)
        done = saved["models"] if saved else 0
        pages = saved["pages"] if saved else 0
        start_pages = pages
        resumed_from = done
        status, error = "ok", None
        read = _attempt(source.reader(api))
        previous: set[str] = set()  # the last page's models: an item repeated across pages
        listed, asked = done, 0

        def going_on(page: Page) -> bool:
            """The crawl will ask for the page after this one whatever its models are (an
            incremental crawl stops at a page with nothing new: it asks when it knows)."""
            nonlocal listed, asked
            listed += len(page.items)
            asked += 1
            more = page.next_cursor is not None and (
                limit is None or (listed < limit and asked < limit)
            )
            return more and not incremental

        deferred = False
        with ThreadPoolExecutor(max(1, source.workers)) as pool:
            try:
                for page in ahead(source.pages(api, filters, cursor), going_on):
                    pages += 1
                    items = page.items if limit is None else page.items[: max(0, limit - done)]
                    readable = items
                    if page.damaged:
                        readable = _set_aside(
                            store, source.name, items, page.damaged, counts, run_id
                        )
                    models, previous, early = _read_in_slices(
                        store, source, readable, (read, pool), counts, run_id, previous
                    )
                    done += len(items)
                    # --limit counts pages too: empty pages with a cursor cannot go on forever.
                    finished = page.next_cursor is None or (
                        limit is not None and (done >= limit or pages - start_pages >= limit)
                    )
                    cursor = None if finished else page.next_cursor
                    mark = Checkpoint(
                        key, source.name, params, cursor, pages, done, run_id, api.base_url
                    )
                    if not deferred and done - resumed_from >= LONG_CRAWL and not finished:
                        store.defer_lookups()
                        deferred = True
                    saved_page = store.save_models(models, counts, mark, run_id)
                    if incremental and items and saved_page.changed + early == 0 and not finished:
                        store.clear_checkpoint(key)  # nothing new here: the rest is known
                        finished = True
                    if progress:
                        progress(done, pages)
                    if finished:
                        break
            except EndlessListing as exc:  # resuming would loop again: said as it is
                status, error = "failed", str(exc)
                counts.failed.append(f"{source.name}: {exc}")
            except (ApiError, RecordError) as exc:
                status, error = "failed", str(exc)
                counts.failed.append(
                    f"crawl stopped: {exc}; run again to resume from the last page"
                )
            except Exception as exc:  # a bug or the unforeseen: the run row still says so
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                counts.failed.append(
                    f"crawl stopped: {error}; run again to resume from the last page"
                )
            finally:
                if deferred:
                    _restore_lookups(store)
        if refresh_older_than is not None and status == "ok" and source.refresh_batch:
            refresh_counters(store, api, source, refresh_older_than, counts, run_id)
        if status == "ok" and counts.failed:
            status = "partial"
        store.finish_run(run_id, status, counts, api.requests, api.bytes)
        return Outcome(run_id, counts, status, api.requests, api.bytes, pages, resumed_from, error)


@contextlib.contextmanager
def _recorded(store: Store, run_id: int, counts: Counts, api: ApiClient) -> Iterator[None]:
    """A run that ends by a signal is recorded `interrupted`, by an unexpected error
    `failed`; what its pages committed stays."""
    try:
        yield
    except KeyboardInterrupt as exc:
        _interrupted(store, run_id, counts, api, exc)
        raise
    except Exception as exc:
        counts.failed.append(f"stopped by an unexpected error: {exc!r}")
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise


def _interrupted(
    store: Store, run_id: int, counts: Counts, api: ApiClient, exc: KeyboardInterrupt
) -> None:
    counts.failed.append(f"interrupted by {signal_name(exc)}; the next run goes on from here")
    store.finish_run(run_id, "interrupted", counts, api.requests, api.bytes)


def _restore_lookups(store: Store) -> None:
    """The lookup indexes a long crawl dropped, built again however it ended; if that fails
    too (a full disk), the next writing run's recover() builds them."""
    try:
        store.restore_lookups()
    except Exception as exc:
        log.warning("lookup indexes not rebuilt (%s); the next run builds them", exc)


def _set_aside(
    store: Store, source: str, items: list, damaged: str, counts: Counts, run_id: int
) -> list:
    """A page that needed repair (invalid UTF-8, nesting too deep): the items holding the
    repair go to quarantine as they were read; the others are read as usual."""
    kept = []
    for position, item in enumerate(items):
        text = jsonio.dumps_safe(item)  # \\ufffd: the same mark, escaped next to a surrogate
        if jsonio.DAMAGE in text or "\\ufffd" in text:
            message = f"model {_item_key(item, position)}: the answer was damaged ({damaged})"
            store.quarantine(source, _item_key(item, position), message, item, run_id)
            counts.failed.append(message)
        else:
            kept.append(item)
    return kept


def _read_in_slices(
    store: Store,
    source: Source,
    items: list,
    reading: tuple[Callable[..., Any], ThreadPoolExecutor],
    counts: Counts,
    run_id: int,
    previous: set[str],
) -> tuple[list[Model], set[str], int]:
    """A page's items read a slice at a time where each read fetches more (a Hub README may
    be 40 MB): every slice but the last is stored at once, so a page holds one slice's answers,
    not all of them. (The last slice's models, the page's model ids, models changed so far.)"""
    read, pool = reading
    size = max(1, source.workers * SLICE if source.workers > 1 else len(items))
    seen: set[str] = set()  # the API can repeat an item while data moves
    page_ids: set[str] = set()
    models: list[Model] = []
    early = 0
    for start in range(0, max(1, len(items)), size):
        part = items[start : start + size]
        reader = pool.map if source.workers > 1 else map
        results = list(reader(read, part, _stored(store, source, part)))
        found = _read_items(store, source.name, part, results, counts, run_id, seen)
        page_ids.update(m.id for m in found)
        found = [m for m in found if m.id not in previous]
        if start + size < len(items):
            early += store.save_models(found, counts, None, run_id).changed
        else:
            models = found
    return models, page_ids, early


def _stored(store: Store, source: Source, items: list) -> list[Any]:
    """The stored payload of each item, read here (not in the workers) for sources that ask."""
    keys = source.item_keys(items)
    if keys is None:
        return [None] * len(items)
    found = store.payloads(source.name, [k for k in keys if k is not None], source.stored_by)
    return [found.get(k) if k is not None else None for k in keys]


def _read_items(
    store: Store,
    source: str,
    items: list,
    results: list[Any],
    counts: Counts,
    run_id: int,
    seen: set[str] | None = None,
) -> list[Model]:
    """A page's items as read (a Model or the error), in order; a malformed item is
    quarantined with its error, the rest go on."""
    models: list[Model] = []
    seen = set() if seen is None else seen
    for position, (item, result) in enumerate(zip(items, results, strict=True)):
        if isinstance(result, Model):
            if result.id not in seen:  # the API can repeat an item while data moves
                seen.add(result.id)
                models.append(result)
            continue
        key = _item_key(item, position)
        if isinstance(result, WaitTooLong):  # the server asks for days: the source ends here
            raise result
        if isinstance(result, ApiError):  # not fetched (gone, host paused): named, not stored
            counts.failed.append(f"{source} {key}: {result}")
            continue
        message = f"model {key}: {result}"
        store.quarantine(source, key, message, item, run_id)
        counts.failed.append(message)
    return models


def _attempt(call: Callable[..., Any]) -> Callable[..., Any]:
    """Run call() in a worker and hand its failure back as a value, to be dealt with in order."""

    def attempt(*args: Any) -> Any:
        try:
            return call(*args)
        except Exception as exc:  # schema drift of any kind must not stop the crawl
            return exc

    return attempt


def _item_key(item: Any, position: int) -> str:
    if isinstance(item, dict):
        for key in ("id", "_id", "Path"):
            if item.get(key) is not None:
                return str(item[key])
    return f"item-{position}"


def refresh_counters(
    store: Store,
    api: ApiClient,
    source: Source,
    older_than: timedelta,
    counts: Counts,
    run_id: int,
    workers: int = 4,
) -> None:
    """Refetch known models whose counters are older than `older_than`, many per request.

    A model missing from the answer is asked for alone: a 404 marks it deleted (and it is
    not asked for again); the stored data stays.
    """
    cutoff = (datetime.now(UTC) - older_than).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = store.stale_ids(source.name, cutoff)
    size = source.refresh_batch
    batches = [stale[i : i + size] for i in range(0, len(stale), size)]
    missing: list[str] = []

    parse = _attempt(source.parse)
    with ThreadPoolExecutor(workers) as pool:
        answers = pool.map(_attempt(lambda b: source.fetch_many(api, b)), batches)
        for batch, result in zip(batches, answers, strict=True):
            if isinstance(result, Exception):
                counts.failed.append(f"stats of {len(batch)} models not refreshed: {result}")
                continue
            read = [parse(item) for item in result]
            models = _read_items(store, source.name, result, read, counts, run_id)
            store.save_models(models, counts, run_id=run_id)
            returned = {m.id for m in models}
            missing += [i for i in batch if i not in returned]
        lookups = pool.map(_attempt(lambda i: source.fetch(api, i)), missing)
        for model_id, result in zip(missing, lookups, strict=True):
            if isinstance(result, NotFound):
                counts.deleted += store.mark_deleted(source.name, model_id)
            elif isinstance(result, Exception):
                counts.failed.append(f"model {model_id}: not refreshed: {result}")
            else:
                try:
                    store.save_models([source.parse(result)], counts, run_id=run_id)
                except RecordError as exc:
                    counts.failed.append(f"model {model_id}: {exc}")


def export_one(store: Store, api: ApiClient, source: Source, key: str) -> Model:
    """Fetch one model, store it and return it; a 404 keeps what the store already had."""
    run_id = store.start_run(source.name, "export", {"id": key})
    counts = Counts()
    try:
        model = source.parse(source.fetch(api, key))
        store.save_models([model], counts, run_id=run_id)
    except KeyboardInterrupt as exc:
        _interrupted(store, run_id, counts, api, exc)
        raise
    except NotFound:
        counts.deleted += _mark_gone(store, source, str(key))
        counts.failed.append(f"model {key}: not found")
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    except (ApiError, RecordError) as exc:
        counts.failed.append(str(exc))
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    store.finish_run(run_id, "ok", counts, api.requests, api.bytes)
    return model


def _mark_gone(store: Store, source: Source, key: str) -> int:
    """Mark the model an export asked for deleted: by its key, or (a Hub repo asked by its
    name, stored under its stable id) by the stored model of that name."""
    if marked := store.mark_deleted(source.name, key):
        return marked
    stored = store.payloads(source.name, [key], "name").get(key)
    if stored is None:
        return 0
    try:
        return store.mark_deleted(source.name, source.parse(stored).id)
    except RecordError:
        return 0
