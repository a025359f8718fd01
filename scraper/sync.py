"""Crawls: pages from a source into the store, checkpointed so a killed run resumes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .http import ApiClient, ApiError, NotFound
from .records import Model, Page, RecordError
from .sources import civitai, huggingface, modelscope
from .store import Checkpoint, Counts, Store

Progress = Callable[[int, int], None]


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


@dataclass
class Crawl:
    """One source's listing: how to page from a cursor and how to read an item into a record.

    `read` may make further requests (a detail body, a README); its failures count against the
    item, not the crawl, and with workers > 1 the items of a page are read concurrently.
    """

    source: str
    params: list[tuple[str, str]]
    pages: Callable[[str | None], Iterator[Page]]
    read: Callable[[Any], Model]
    workers: int = 1


def crawl_key(source: str, params: list[tuple[str, str]], limit: int | None) -> str:
    text = json.dumps([source, params, limit])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def sync(
    store: Store,
    api: ApiClient,
    crawl: Crawl,
    limit: int | None = None,
    progress: Progress | None = None,
    incremental: bool = False,
    refresh_older_than: timedelta | None = None,
) -> Outcome:
    """Page through a listing; each page's records and the cursor after it commit together.

    incremental: stop at the first page in which nothing is new or changed (for a newest-first
    listing, everything after it is known). refresh_older_than: afterwards, refresh the
    counters of known models not fetched for that long.
    """
    key = crawl_key(crawl.source, crawl.params, limit)
    run_id = store.start_run(
        crawl.source, "sync", {"params": crawl.params, "limit": limit, "incremental": incremental}
    )
    counts = Counts()
    saved = store.checkpoint(key)
    cursor = saved["cursor"] if saved else None
    done = saved["models"] if saved else 0
    pages = saved["pages"] if saved else 0
    resumed_from = done
    status, error = "ok", None
    with ThreadPoolExecutor(max(1, crawl.workers)) as pool:
        try:
            for page in crawl.pages(cursor):
                pages += 1
                items = page.items if limit is None else page.items[: max(0, limit - done)]
                reader = pool.map if crawl.workers > 1 else map
                models = _read_items(store, crawl.source, crawl.read, items, counts, run_id, reader)
                done += len(items)
                finished = page.next_cursor is None or (limit is not None and done >= limit)
                cursor = None if finished else page.next_cursor
                mark = Checkpoint(key, crawl.source, crawl.params, cursor, pages, done, run_id)
                saved_page = store.save_models(models, counts, mark, run_id)
                if incremental and items and saved_page.changed == 0 and not finished:
                    store.clear_checkpoint(key)  # nothing new here: the rest is known
                    finished = True
                if progress:
                    progress(done, pages)
                if finished:
                    break
        except (ApiError, RecordError) as exc:
            status, error = "failed", str(exc)
            counts.failed.append(f"crawl stopped: {exc}; run again to resume from the last page")
    if refresh_older_than is not None and status == "ok" and crawl.source == civitai.SOURCE:
        refresh_stats(store, api, refresh_older_than, counts, run_id)
    if status == "ok" and counts.failed:
        status = "partial"
    store.finish_run(run_id, status, counts, api.requests, api.bytes)
    return Outcome(run_id, counts, status, api.requests, api.bytes, pages, resumed_from, error)


def _read_items(
    store: Store,
    source: str,
    read: Callable[[Any], Model],
    items: list,
    counts: Counts,
    run_id: int,
    reader: Callable = map,
) -> list[Model]:
    """Read a page, in order; a malformed item is quarantined with its error, the rest go on."""
    models: list[Model] = []
    seen: set[str] = set()
    results = reader(_attempt(read), items)
    for position, (item, result) in enumerate(zip(items, results, strict=True)):
        if isinstance(result, Model):
            if result.id not in seen:  # the API can repeat an item while data moves
                seen.add(result.id)
                models.append(result)
            continue
        key = _item_key(item, position)
        if isinstance(result, ApiError):  # not fetched (gone, host paused): named, not stored
            counts.failed.append(f"{source} {key}: {result}")
            continue
        message = f"model {key}: {result}"
        store.quarantine(source, key, message, item, run_id)
        counts.failed.append(message)
    return models


def _attempt(call: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Run call() in a worker and hand its failure back as a value, to be dealt with in order."""

    def attempt(arg: Any) -> Any:
        try:
            return call(arg)
        except Exception as exc:  # schema drift of any kind must not stop the crawl
            return exc

    return attempt


def _item_key(item: Any, position: int) -> str:
    if isinstance(item, dict):
        for key in ("id", "_id", "Path"):
            if item.get(key) is not None:
                return str(item[key])
    return f"item-{position}"


# --- Civitai ---------------------------------------------------------------------------


def civitai_crawl(api: ApiClient, filters: civitai.Filters) -> Crawl:
    return Crawl(
        source=civitai.SOURCE,
        params=filters.params(),
        pages=lambda cursor: civitai.iter_pages(api, filters, cursor),
        read=civitai.parse_model,
    )


def hf_crawl(api: ApiClient, filters: huggingface.Filters, store: Store) -> Crawl:
    """Link-paged listing; details and README fetched concurrently, skipped when the repo's
    sha is the one already stored."""
    known: dict[str, Any] = {}

    def pages(cursor: str | None) -> Iterator[Page]:
        for page in huggingface.iter_pages(api, filters, cursor):
            ids = [str(i.get("_id")) for i in page.items if isinstance(i, dict)]
            known.clear()
            known.update(store.payloads(huggingface.SOURCE, ids))  # read here, not in workers
            yield page

    return Crawl(
        huggingface.SOURCE, filters.params(), pages, huggingface.reader(api, known.get), workers=4
    )


def modelscope_crawl(
    api: ApiClient, filters: modelscope.Filters, names: tuple[str, ...] = ()
) -> Crawl:
    """Named models, or the OpenAPI listing by owner/task; each read fetches detail and files."""
    params = [("model", n) for n in names] or filters.params()
    return Crawl(
        modelscope.SOURCE,
        params,
        (lambda cursor: modelscope.named_pages(list(names)))
        if names
        else (lambda cursor: modelscope.iter_pages(api, filters, cursor)),
        lambda item: modelscope.read_item(api, item),
        workers=2,
    )


def refresh_stats(
    store: Store,
    api: ApiClient,
    older_than: timedelta,
    counts: Counts,
    run_id: int,
    workers: int = 4,
) -> None:
    """Refetch known models whose counters are older than `older_than`, 100 per request.

    A model missing from the answer is asked for alone: a 404 marks it deleted (and it is
    not asked for again); the stored data stays.
    """
    cutoff = (datetime.now(UTC) - older_than).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = store.stale_ids(civitai.SOURCE, cutoff)
    batches = [stale[i : i + civitai.PAGE_SIZE] for i in range(0, len(stale), civitai.PAGE_SIZE)]
    missing: list[str] = []
    with ThreadPoolExecutor(workers) as pool:
        answers = pool.map(_attempt(lambda b: civitai.get_models(api, b)), batches)
        for batch, result in zip(batches, answers, strict=True):
            if isinstance(result, Exception):
                counts.failed.append(f"stats of {len(batch)} models not refreshed: {result}")
                continue
            models = _read_items(store, civitai.SOURCE, civitai.parse_model, result, counts, run_id)
            store.save_models(models, counts, run_id=run_id)
            returned = {m.id for m in models}
            missing += [i for i in batch if i not in returned]
        lookups = pool.map(_attempt(lambda i: civitai.get_model(api, i)), missing)
        for model_id, result in zip(missing, lookups, strict=True):
            if isinstance(result, NotFound):
                counts.deleted += store.mark_deleted(civitai.SOURCE, model_id)
            elif isinstance(result, Exception):
                counts.failed.append(f"model {model_id}: not refreshed: {result}")
            else:
                try:
                    store.save_models([civitai.parse_model(result)], counts, run_id=run_id)
                except RecordError as exc:
                    counts.failed.append(f"model {model_id}: {exc}")


def civitai_model_of(api: ApiClient, version_id: int | None, file_hash: str | None) -> int:
    """The model id behind a version id or a file hash."""
    if version_id is not None:
        body = civitai.get_version(api, version_id)
    else:
        body = civitai.get_version_by_hash(api, file_hash or "")
    model_id = body.get("modelId") if isinstance(body, dict) else None
    if not isinstance(model_id, int):
        raise RecordError("the version answer names no modelId")
    return model_id


def export_civitai(store: Store, api: ApiClient, model_id: str) -> Model:
    """Fetch one Civitai model, store it and return it."""
    return export(
        store,
        api,
        civitai.SOURCE,
        model_id,
        lambda: civitai.parse_model(civitai.get_model(api, model_id)),
    )


def export_hf(store: Store, api: ApiClient, repo_id: str) -> Model:
    """Fetch one Hugging Face repo (info, file sizes, README), store it and return it."""
    return export(
        store,
        api,
        huggingface.SOURCE,
        repo_id,
        lambda: huggingface.parse_model(huggingface.fetch_model(api, repo_id)),
    )


def export_modelscope(store: Store, api: ApiClient, model_id: str) -> Model:
    """Fetch one ModelScope model (detail with README, files), store it and return it."""
    return export(
        store,
        api,
        modelscope.SOURCE,
        model_id,
        lambda: modelscope.parse_model(modelscope.fetch_model(api, model_id)),
    )


def export(
    store: Store, api: ApiClient, source: str, key: str, fetch: Callable[[], Model]
) -> Model:
    """Fetch one model, store it and return it; a 404 keeps what the store already had."""
    run_id = store.start_run(source, "export", {"id": key})
    counts = Counts()
    try:
        model = fetch()
        store.save_models([model], counts, run_id=run_id)
    except NotFound:
        counts.deleted += store.mark_deleted(source, str(key))
        counts.failed.append(f"model {key}: not found")
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    except (ApiError, RecordError) as exc:
        counts.failed.append(str(exc))
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    store.finish_run(run_id, "ok", counts, api.requests, api.bytes)
    return model
