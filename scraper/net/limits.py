"""Rate governance for one API host: an adaptive token bucket and a circuit breaker.

Why not aiolimiter or pyrate-limiter: aiolimiter is asyncio-only and our client is threaded;
pyrate-limiter fixes its rates at construction. We need a rate that moves at run time (halved
on a 429, paced by RateLimit headers, regained slowly), which is a few lines on a token bucket.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

DECREASE = 0.7  # rate factor on a 429: a mild cut keeps the sawtooth above 0.8 of the limit
FAST_GROWTH = 0.10  # per second, while well below the rate that last drew a 429
PROBE_GROWTH = 0.01  # per second, near that rate: probe gently for a raised limit
MARGIN = 0.98  # pace 2% under the rate: arrival jitter must not push a window over its limit


class RateLimiter:
    """Token bucket shared by every thread using one host; rps <= 0 turns it off.

    The configured rps is a ceiling. A 429 cuts the rate to what the server accepted in the
    last second (or by DECREASE) and pauses for Retry-After; quiet time regains it (fast, then
    slowly near where the 429 came); `observe` paces by a RateLimit header's remaining budget
    before any 429 comes.
    """

    def __init__(
        self,
        rps: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ceiling = rps
        self.rate = rps
        self.floor = max(rps / 100, 0.02)
        self.burst = max(1, burst)
        self._clock = clock  # injectable, so a test of a long wait need not wait
        self._sleep = sleep
        self._next = clock()  # earliest start of the next request
        self._grown = self._next
        self._cut_at = float("-inf")
        self._throttled_at_rate: float | None = None
        self._recent: deque[float] = deque()  # successes in the last second
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ceiling > 0

    def acquire(self) -> float:
        """Block until this thread may send one request; returns when its slot was booked.

        Requests are spaced 1/rate apart (GCRA), with up to burst-1 of them early; no credit
        piles up while idle beyond that, so the server never sees more than it allows. A slot
        booked before a 429 cut the rate is booked again at the new rate.
        """
        if not self.enabled:
            return self._clock()
        while True:
            with self._lock:
                booked = self._clock()
                interval = 1.0 / (self.rate * MARGIN)
                start = max(self._next, booked - (self.burst - 1) * interval)
                self._next = start + interval
                epoch = self._cut_at
            if start > booked:
                self._sleep(start - booked)
            with self._lock:
                if self._cut_at == epoch:
                    return booked

    def succeeded(self) -> None:
        """Regain rate after a throttle: quickly at first, gently near the rate that drew it."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            self._recent.append(now)
            while now - self._recent[0] > 1.0:
                self._recent.popleft()
            if self.rate >= self.ceiling:
                return
            elapsed, self._grown = now - self._grown, now
            near = self._throttled_at_rate and self.rate >= 0.95 * self._throttled_at_rate
            growth = PROBE_GROWTH if near else FAST_GROWTH
            self.rate = min(self.ceiling, self.rate * (1 + growth * min(elapsed, 1.0)))

    def throttled(self, retry_after: float | None, sent_at: float | None = None) -> None:
        """A 429: cut the rate once per overload (429s of requests booked before the last cut
        are echoes of it) and hold every thread for Retry-After, or a second without one."""
        if not self.enabled:
            return  # no pacing: the retry's own backoff (or Retry-After) does the waiting
        with self._lock:
            now = self._clock()
            if sent_at is None or sent_at >= self._cut_at:
                # What the server accepted in the last second is the best guess at its limit.
                accepted = sum(1 for t in self._recent if now - t <= 1.0)
                cut = self.rate * DECREASE
                if accepted >= 2:
                    cut = min(cut, accepted * 0.95)
                    self._throttled_at_rate = float(accepted)
                else:
                    self._throttled_at_rate = self.rate
                self.rate = max(self.floor, cut)
                self._cut_at = now
            # Without Retry-After, wait for a couple of slots to drain at the new rate.
            pause = retry_after if retry_after is not None else 2.0 / self.rate
            self._next = max(self._next, now + pause)
            self._grown = now

    def observe(self, remaining: int, reset: float) -> None:
        """Spread what is left of a quota window over the time left in it."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            if remaining <= 0:
                self._next = max(self._next, now + reset)
                return
            budget = remaining / max(reset, 1.0)
            self.rate = max(self.floor, min(self.ceiling, budget))
            self._grown = now


_RATELIMIT = re.compile(r"(?:^|;)\s*([rt])\s*=\s*(\d+)")


def rate_limit_hint(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """(remaining, seconds to reset) from an IETF draft `RateLimit` header, as the Hub sends:
    `RateLimit: "api";r=0;t=55`."""
    value = headers.get("ratelimit")
    if not value:
        return None
    found = dict(_RATELIMIT.findall(value))
    if "r" not in found or "t" not in found:
        return None
    reset = float(found["t"])
    return (int(found["r"]), reset) if math.isfinite(reset) else None


class CircuitBreaker:
    """After `threshold` requests in a row fail for good, stop asking the host for `cooldown`
    seconds, so the run moves on instead of hammering a host that is down."""

    def __init__(self, threshold: int = 5, cooldown: float = 60.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    def open_for(self) -> float:
        """Seconds the breaker stays open; 0 when requests may go."""
        with self._lock:
            return max(0.0, self._open_until - time.monotonic())

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures = 0
                return
            self._failures += 1
            if self._failures >= self.threshold:
                self._open_until = time.monotonic() + self.cooldown
                self._failures = self.threshold - 1  # half-open: one more failure reopens
