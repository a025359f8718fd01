"""Files to models by their SHA-256, through a source that can look a hash up (its client's
rate limit, retries and breaker), and the model then fetched and stored as any other. A
source with a bulk lookup is asked hash_batch hashes a request, and one by one when that fails.

What the host answered is kept per hash: found (the version answer, written beside the file),
or unknown with when it was asked, not asked again before the retry interval. A hash once
found keeps its last good answer whatever comes later (a model deleted upstream stays
documented); an error answer changes nothing and the hash is asked again next time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import jsonio
from ..net import redaction
from ..net.client import ApiClient, ApiError, HostUnavailable, NotFound
from ..records import RecordError
from ..sources import SOURCES, Source
from ..store import Counts, Store
from ..store.library import Lookup

RETRY_AFTER = timedelta(days=7)


def hash_source() -> Source:
    """The registered source that can look files up by hash."""
    return next(s for s in SOURCES if s.hash_lookup)


class Lookups:
    """The lookups of one scan: one client, made only when something must be asked."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        rps: float | None = None,
        recheck: bool = False,
        retry_after: timedelta = RETRY_AFTER,
        client: Callable[[], ApiClient] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.source = hash_source()
        self.recheck = recheck
        self.retry_after = retry_after
        self._client = client or (lambda: self.source.client(rps))
        self.api: ApiClient | None = None
        self.counts = Counts()  # models stored
        self.fetched: set[str] = set()  # models fetched by this scan
        self.failed: list[str] = []
        self.asked = 0
        self.paused: str | None = None  # the host is unavailable: nothing more is asked
        self.not_asked = 0  # hashes left for the next scan because of that

    def close(self) -> None:
        if self.api is not None:
            self.api.close()

    @property
    def requests(self) -> int:
        return self.api.requests if self.api else 0

    @property
    def nbytes(self) -> int:
        return self.api.bytes if self.api else 0

    def _api(self) -> ApiClient:
        if self.api is None:
            self.api = self._client()
        return self.api

    def due(self, known: Lookup | None) -> bool:
        """Ask the host about this hash now? Never-asked ones yes; unknown ones after the
        retry interval; found ones no (their models are refreshed by syncs); every one with
        recheck."""
        if known is None or self.recheck:
            return True
        if known.result == "found":
            return False
        asked = datetime.strptime(known.asked_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return datetime.now(UTC) - asked >= self.retry_after

    def resolve(self, hashes: list[str]) -> dict[str, Lookup]:
        """The host's answer for each hash, asking for those that are due (in batches where
        the source looks many up in one request)."""
        name = self.source.name
        known = self.store.lookups(name, hashes)
        due = [sha for sha in hashes if self.due(known.get(sha))]
        size = self.source.hash_batch
        for start in range(0, len(due), size or 1):
            batch = due[start : start + (size or 1)]
            if self.paused is not None:
                self.not_asked += len(batch)  # the host is paused: next scan
            elif size:
                self.ask_many(batch, known)
            else:
                self.ask(batch[0], known.get(batch[0]))
        if due:
            known = self.store.lookups(name, hashes)
        self.fetch_missing([k.model_id for k in known.values() if k.model_id])
        return known

    def ask_many(self, shas: list[str], known: dict[str, Lookup]) -> None:
        """One request for a batch of hashes; when it fails (an older host without the bulk
        endpoint, a challenge page, an error after retries) each hash is asked alone."""
        try:
            found = self.source.versions_by_hashes(self._api(), shas)
        except HostUnavailable as exc:
            self.paused = str(exc)
            self.failed.append(
                f"{len(shas)} hashes from {shas[0]}: not looked up: {exc}; the next scan asks again"
            )
            return
        except (ApiError, RecordError):
            for sha in shas:
                if self.paused is not None:
                    self.not_asked += 1
                else:
                    self.ask(sha, known.get(sha))
            return
        self.asked += len(shas)
        for sha in shas:
            if sha in found:
                self.found(sha, found[sha])
            else:
                self.unknown(sha, known.get(sha))

    def ask(self, sha: str, before: Lookup | None = None) -> None:
        self.asked += 1
        api = self._api()
        try:
            body = self.source.version_by_hash(api, sha)
        except NotFound:
            self.unknown(sha, before)
            return
        except HostUnavailable as exc:
            self.paused = str(exc)
            self.failed.append(f"hash {sha}: not looked up: {exc}; the next scan asks again")
            return
        except (ApiError, RecordError) as exc:
            self.failed.append(f"hash {sha}: not looked up: {exc}; the next scan asks again")
            return
        self.found(sha, body)

    def unknown(self, sha: str, before: Lookup | None) -> None:
        self.store.record_unknown(self.source.name, sha)  # a found one keeps its answer
        if before is not None and before.model_id:
            self.fetch(before.model_id)  # gone upstream? marked deleted, data kept

    def found(self, sha: str, body: Any) -> None:
        """A version answer: kept for the hash (written beside its file) and its model
        fetched once."""
        try:
            model_id, version_id = self.source.version_keys(body)
        except RecordError as exc:
            self.failed.append(f"hash {sha}: not looked up: {exc}; the next scan asks again")
            return
        scrub = redaction.scrubber() or str
        self.store.record_found(
            self.source.name, sha, model_id, version_id, scrub(jsonio.dumps(body))
        )
        self.fetch(model_id)

    def fetch_missing(self, ids: list[str]) -> None:
        """Models of found hashes that the database does not hold (a fetch that failed, a
        scan interrupted between the two requests)."""
        stored = self.store.model_inputs(self.source.name, list(dict.fromkeys(ids)))
        for model_id in dict.fromkeys(ids):
            if model_id not in stored and model_id not in self.fetched and self.paused is None:
                self.fetch(model_id)

    def fetch(self, model_id: str) -> None:
        """The model, as a sync stores it; a 404 marks a stored copy deleted and keeps it.
        Not while the host is paused: a later scan fetches what is missing."""
        if model_id in self.fetched or self.paused is not None:
            return
        self.fetched.add(model_id)
        api = self._api()
        try:
            model = self.source.parse(self.source.fetch(api, model_id))
            self.store.save_models([model], self.counts, run_id=self.run_id)
        except NotFound:
            self.counts.deleted += self.store.mark_deleted(self.source.name, model_id)
        except HostUnavailable as exc:
            self.paused = str(exc)
            self.failed.append(f"model {model_id}: not fetched: {exc}")
        except (ApiError, RecordError) as exc:
            self.failed.append(f"model {model_id}: not fetched: {exc}")


def parse_body(text: str | None) -> Any:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return jsonio.loads(text)
    return None
