"""When to try a request again, and how long to wait first (backoff, jitter, Retry-After)."""

from __future__ import annotations

import email.utils
import random
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the client when it is made, not for --help
    import httpx
    import tenacity

RETRY_AFTER_CAP = 120.0  # a longer Retry-After is left to the circuit breaker and the next run


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
            return min(exc.retry_after, RETRY_AFTER_CAP)
        backoff = self.base * 2 ** (retry_state.attempt_number - 1)
        return min(self.cap, backoff) * random.uniform(0.5, 1.0)


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
