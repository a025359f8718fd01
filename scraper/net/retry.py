"""When to try a request again, and how long to wait first (backoff, jitter, Retry-After)."""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the client when it is made, not for --help
    import tenacity

EPOCH_SECONDS = 1e9  # an X-RateLimit-Reset above this is a Unix time (2001 on), else seconds


class Transient(Exception):
    """A failure worth retrying: throttling, server errors, HTML or empty bodies, network errors.

    `paced` means the rate limiter already holds every request back for as long as needed.
    """

    def __init__(self, message: str, retry_after: float | None = None, paced: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.paced = paced


class WaitRetryAfter:
    """Exponential backoff with jitter, or the server's Retry-After when it said one."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, Transient) and exc.paced:
            return 0.0
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after  # the client refused one above SCRAPER_MAX_WAIT already
        backoff = self.base * 2 ** (retry_state.attempt_number - 1)
        return min(self.cap, backoff) * random.uniform(0.5, 1.0)


def retry_after(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> tuple[float, str] | None:
    """(seconds, the header as sent) a server asked to wait: Retry-After (RFC 9110 10.2.3:
    seconds or an HTTP date), else X-RateLimit-Reset (seconds, or a Unix time as GitHub and
    others send it). A value that is not a finite time is ignored: the backoff decides."""
    for name in ("retry-after", "x-ratelimit-reset"):
        value = (headers.get(name) or "").strip()
        seconds = _seconds(value, now(), epoch=name == "x-ratelimit-reset") if value else None
        if seconds is not None:
            return seconds, f"{name.title().replace('Ratelimit', 'RateLimit')}: {value[:40]}"
    return None


def refused_wait(seconds: float, header: str, max_wait: float) -> str:
    """What a server asked for and how to allow it, for a wait beyond the ceiling."""
    from .settings import span

    return (
        f"the server asked to wait {span(seconds)} ({header}), longer than the "
        f"{span(max_wait)} this tool waits at most; to wait that long raise SCRAPER_MAX_WAIT "
        "(seconds) or max_wait in the config, else run again later"
    )


def _seconds(value: str, now: float, epoch: bool) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            return None
        return max(0.0, number - now) if epoch and number > EPOCH_SECONDS else number
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, OverflowError):
        return None
