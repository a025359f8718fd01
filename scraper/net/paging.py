"""Paginators: how a listing goes from one page to the next, as small swappable pieces.

Each yields `Page(items, next_cursor, cursor, damaged)`; the cursor is opaque text the crawl
stores in its checkpoint, so a killed crawl resumes from the page after the last one
committed. Pages are read leniently: an answer with one bad item still gives the others.
Every paginator ends: a Progress remembers this crawl's cursors and last page, and a server
that repeats a cursor or a link, or answers the same page again, ends it as EndlessListing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..records import Page, RecordError

if TYPE_CHECKING:
    from .client import ApiClient

Params = list[tuple[str, str]]
T = TypeVar("T")
Items = Callable[[Any], list[Any]]  # the items of a page body (RecordError when there are none)


class EndlessListing(RecordError):
    """A server that would page forever (a repeated cursor or link, the same page again): the
    crawl of that source ends as failed with this one line."""


class Progress:
    """What this crawl asked for so far: a cursor (or link, or page number) asked twice, or a
    non-empty page holding only the items of the one before while claiming more, ends it.

    Only the cursors (short text) and the last page's item keys are kept: the memory of a
    crawl of a million models stays a few MB."""

    def __init__(self, kind: str = "cursor") -> None:
        self.kind = kind
        self._asked: set[str] = set()
        self._last: set[str] = set()

    def ask(self, cursor: str | None) -> None:
        """Before asking for the page after `cursor`: refused when it was asked before."""
        key = "" if cursor is None else cursor
        if key in self._asked:
            shown = key if len(key) <= 100 else f"{key[:48]}...{key[-48:]}"
            raise EndlessListing(f"the server repeated {self.kind} {shown!r}; stopping")
        self._asked.add(key)

    def got(self, items: list[Any], more: bool) -> None:
        """After a page: refused when it claims more but brings nothing the last did not."""
        keys = {_item_key(item) for item in items}
        if more and keys and keys <= self._last:
            raise EndlessListing(
                f"the server answered the same {len(keys)} items again and claims more; stopping"
            )
        self._last = keys


def _item_key(item: Any) -> str:
    if isinstance(item, dict):
        for name in ("id", "_id"):
            if item.get(name) is not None:
                return str(item[name])
    return repr(item)[:200]


@dataclass
class CursorPaging:
    """`?cursor=` from the previous body until the body names no next cursor."""

    api: ApiClient
    path: str
    params: Params
    items: Items
    next_cursor: Callable[[Any], str | None]
    param: str = "cursor"
    send: Callable[[str], str] = str  # the cursor as asked for (the page keeps the API's)

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        progress = Progress("cursor")
        while True:
            progress.ask(cursor)
            asked = None if cursor is None else self.send(cursor)
            params = self.params if asked is None else [*self.params, (self.param, asked)]
            fetched = self.api.fetch(self.path, params, lenient=True)
            items = self.items(fetched.body)
            following = self.next_cursor(fetched.body)
            progress.got(items, following is not None)
            yield Page(items, following, cursor, fetched.damaged)
            if following is None:
                return
            cursor = following


def inclusive_date_cursor(cursor: str) -> str:
    """A cursor that is a bare ISO date, moved 1 ms later; any other cursor as it is.

    An API that hands out the date of the item after the page (its lookahead) as the next
    cursor, then answers with the items strictly older, skips that item at every page
    boundary. Asking from 1 ms later reads it at the top of the next page; if the API counts
    the bound in, the crawl drops the repeat. Dates kept to the microsecond upstream still
    fall inside: a cursor cut to milliseconds is at most 1 ms early.
    """
    if "T" not in cursor or "|" in cursor:
        return cursor
    try:
        when = datetime.fromisoformat(cursor)
    except ValueError:
        return cursor
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    later = (when + timedelta(milliseconds=1)).astimezone(UTC)
    return later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class LinkPaging:
    """The first page from the query, then each `Link: rel="next"` URL (the cursor is that URL,
    moved onto the configured host); the end is a page without one."""

    api: ApiClient
    path: str
    params: Params
    items: Items

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        url, params = (self.api.on_own_host(cursor), None) if cursor else (self.path, self.params)
        progress = Progress("next link")
        while True:
            progress.ask(url)
            fetched = self.api.fetch(url, params, lenient=True)
            following = fetched.links.get("next", {}).get("url")
            following = self.api.on_own_host(following) if following else None
            cursor = url if params is None else None
            items = self.items(fetched.body)
            progress.got(items, following is not None)
            yield Page(items, following, cursor, fetched.damaged)
            if following is None:
                return
            url, params = following, None


@dataclass
class PageNumberPaging:
    """`?page_number=N` from 1; `more(body, number, items)` says whether page N+1 exists, and
    no page past `last` is asked for, whatever the answers say (a listing's depth cap)."""

    api: ApiClient
    path: str
    params: Params
    items: Items
    more: Callable[[Any, int, list[Any]], bool]
    param: str = "page_number"
    check: Callable[[Any], Any] | None = None  # unwraps an envelope, raises on an error one
    last: int | None = None  # the deepest page the listing serves

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        number = int(cursor) if cursor else 1
        progress = Progress("page")
        while True:
            params = [*self.params, (self.param, str(number))]
            fetched = self.api.fetch(self.path, params, check=self.check, lenient=True)
            items = self.items(fetched.body)
            more = self.more(fetched.body, number, items)
            more = more and (self.last is None or number < self.last)
            progress.got(items, more)
            yield Page(items, str(number + 1) if more else None, str(number), fetched.damaged)
            if not more:
                return
            number += 1


def ahead(pages: Iterator[T], wanted: Callable[[T], bool]) -> Iterator[T]:
    """The pages, the next one asked for while the caller still writes this one (the network's
    wait hidden behind the database's), when wanted(page) says the caller will go on; else it
    is asked for only if the caller does: a crawl asks for no page more than it did.

    One page ahead at most, by a daemon thread never waited for on the way out: an interrupted
    run exits at once, and a page nobody takes is dropped."""
    upcoming: _Upcoming[T] | _Later[T] = _Later(pages)
    while (page := upcoming.result()) is not None:
        upcoming = _Upcoming(pages) if wanted(page) else _Later(pages)
        yield page


class _Later(Generic[T]):
    """next(pages) when it is asked for."""

    def __init__(self, pages: Iterator[T]) -> None:
        self._pages = pages

    def result(self) -> T | None:
        return next(self._pages, None)


class _Upcoming(Generic[T]):
    """next(pages) running now in its own thread; result() hands over the page or its error."""

    def __init__(self, pages: Iterator[T]) -> None:
        self._done = threading.Event()
        self._page: T | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(pages,), daemon=True).start()

    def _run(self, pages: Iterator[T]) -> None:
        try:
            self._page = next(pages, None)
        except BaseException as exc:  # raised again in the caller's thread by result()
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> T | None:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._page
