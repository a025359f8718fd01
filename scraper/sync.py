"""Crawls: pages from a source into the store, checkpointed so a killed run resumes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .http import ApiClient, ApiError, NotFound
from .records import Model, Page, RecordError
from .sources import civitai
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


def crawl_key(source: str, params: list[tuple[str, str]], limit: int | None) -> str:
    text = json.dumps([source, params, limit])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass
class Crawl:
    """One source's listing: how to page from a cursor and how to read an item into a record.

    `read` may make further requests (a detail body, a README); its failures count against the
    item, not the crawl.
    """

    source: str
    params: list[tuple[str, str]]
    pages: Callable[[str | None], Iterator[Page]]
    read: Callable[[Any], Model]


def sync(
    store: Store,
    api: ApiClient,
    crawl: Crawl,
    limit: int | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Page through a listing; each page's records and the cursor after it commit together."""
    key = crawl_key(crawl.source, crawl.params, limit)
    run_id = store.start_run(crawl.source, "sync", {"params": crawl.params, "limit": limit})
    counts = Counts()
    saved = store.checkpoint(key)
    cursor = saved["cursor"] if saved else None
    done = saved["models"] if saved else 0
    pages = saved["pages"] if saved else 0
    resumed_from = done
    status, error = "ok", None
    try:
        for page in crawl.pages(cursor):
            pages += 1
            items = page.items if limit is None else page.items[: max(0, limit - done)]
            models = _read_items(store, crawl, items, counts, run_id)
            done += len(items)
            finished = page.next_cursor is None or (limit is not None and done >= limit)
            cursor = None if finished else page.next_cursor
            mark = Checkpoint(key, crawl.source, crawl.params, cursor, pages, done, run_id)
            store.save_models(models, counts, mark)
            if progress:
                progress(done, pages)
            if finished:
                break
    except (ApiError, RecordError) as exc:
        status, error = "failed", str(exc)
        counts.failed.append(f"crawl stopped: {exc}; run again to resume from the last page")
    if status == "ok" and counts.failed:
        status = "partial"
    store.finish_run(run_id, status, counts, api.requests, api.bytes)
    return Outcome(run_id, counts, status, api.requests, api.bytes, pages, resumed_from, error)


def civitai_crawl(api: ApiClient, filters: civitai.Filters) -> Crawl:
    return Crawl(
        source=civitai.SOURCE,
        params=filters.params(),
        pages=lambda cursor: civitai.iter_pages(api, filters, cursor),
        read=civitai.parse_model,
    )


def _read_items(
    store: Store, crawl: Crawl, items: list, counts: Counts, run_id: int
) -> list[Model]:
    """Read a page; a malformed item is quarantined with its error and the page goes on."""
    models: list[Model] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        try:
            model = crawl.read(item)
        except NotFound as exc:
            counts.failed.append(f"{_item_key(item, position)}: {exc}")
            continue
        except Exception as exc:  # schema drift of any kind must not stop the crawl
            key = _item_key(item, position)
            message = f"model {key}: {exc}"
            store.quarantine(crawl.source, key, message, item, run_id)
            counts.failed.append(message)
            continue
        if model.id in seen:  # the API can repeat an item within one page while data moves
            continue
        seen.add(model.id)
        models.append(model)
    return models


def _item_key(item: Any, position: int) -> str:
    if isinstance(item, dict):
        for key in ("id", "_id", "Path"):
            if item.get(key) is not None:
                return str(item[key])
    return f"item-{position}"


def export_civitai(store: Store, api: ApiClient, model_id: str) -> Model:
    """Fetch one model, store it and return it; a 404 keeps what the store already had."""
    run_id = store.start_run(civitai.SOURCE, "export", {"id": model_id})
    counts = Counts()
    try:
        raw = civitai.get_model(api, model_id)
        model = civitai.parse_model(raw)
        store.save_models([model], counts)
    except NotFound:
        counts.deleted += store.mark_deleted(civitai.SOURCE, str(model_id))
        counts.failed.append(f"model {model_id}: not found")
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    except (ApiError, RecordError) as exc:
        counts.failed.append(str(exc))
        store.finish_run(run_id, "failed", counts, api.requests, api.bytes)
        raise
    store.finish_run(run_id, "ok", counts, api.requests, api.bytes)
    return model
