"""One HTTP client per API host: rate limit, bounded retries, JSON checks, no secrets in errors."""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from . import __version__, jsonio
from .limits import CircuitBreaker, RateLimiter, rate_limit_hint

if TYPE_CHECKING:  # httpx and tenacity are imported when a client is made, not for --help
    import httpx
    import tenacity

log = logging.getLogger("scraper.http")

RETRY_AFTER_CAP = 120.0  # a longer Retry-After is left to the circuit breaker and the next run
USER_AGENT = f"scraper/{__version__} (model catalog; +https://pypi.org/project/httpx/)"


_SECRET_ENVS: set[str] = set()  # every token variable a policy names, for redaction


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """What one API host needs: a polite rate and burst, where its token lives and how it is
    sent, and which answers are not what their status says."""

    name: str
    rps: float
    burst: int
    token_env: str
    cookie: str | None = None  # also send the token as this cookie (for APIs that read one)
    other_secret_envs: tuple[str, ...] = ()  # legacy names of the token, redacted too
    # A 429 whose body says it is a paging cap, not throttling: retrying cannot help.
    page_cap: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        _SECRET_ENVS.update((self.token_env, *self.other_secret_envs))


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful answer: the decoded body plus what paging needs (headers, final URL)."""

    body: Any
    headers: httpx.Headers
    url: str
    status: int
    links: dict[str, dict[str, str]]  # the Link header, parsed by httpx


class ApiError(Exception):
    """A request that failed for good: one line naming the request, the answer and what to do."""

    def __init__(self, message: str, status: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class NotFound(ApiError):
    """404: the record is gone, unpublished or hidden; recorded, not retried."""


class HostUnavailable(ApiError):
    """The circuit breaker is open: the host failed repeatedly and is left alone for a while."""


class Transient(Exception):
    """A failure worth retrying: throttling, server errors, HTML or empty bodies, network errors.

    `paced` means the rate limiter already holds every request back for as long as needed.
    """

    def __init__(self, message: str, retry_after: float | None = None, paced: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.paced = paced


class _WaitRetryAfter:
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


class ApiClient:
    """GET JSON from one API host; a token goes in the Authorization header and nowhere else."""

    def __init__(
        self,
        base_url: str,
        policy: HostPolicy,
        rps: float | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.limiter = RateLimiter(policy.rps if rps is None else rps, policy.burst)
        self.breaker = CircuitBreaker()
        self.attempts = attempts or int(os.environ.get("SCRAPER_RETRIES", "6"))
        self.backoff = (
            backoff if backoff is not None else float(os.environ.get("SCRAPER_BACKOFF", "1"))
        )
        self._token = os.environ.get(policy.token_env) or None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        # Read timeout from SCRAPER_TIMEOUT; proxies come from HTTPS_PROXY/ALL_PROXY (socks5h too).
        timeout = httpx.Timeout(float(os.environ.get("SCRAPER_TIMEOUT", "60")), connect=15.0)
        cookies = {policy.cookie: self._token} if policy.cookie and self._token else None
        self._http = httpx.Client(
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            follow_redirects=True,
            transport=transport,
        )
        self.requests = 0
        self.bytes = 0
        self.retries = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        """GET base_url + path and its JSON body; retried on transient failures, then ApiError."""
        return self.fetch(path, params).body

    def fetch(
        self,
        path: str,
        params: list[tuple[str, str]] | None = None,
        expect: str = "json",
        check: Callable[[Any], Any] | None = None,
    ) -> Fetched:
        """GET a path under base_url (or an absolute URL on the same host, e.g. a Link 'next').

        expect="json" treats a non-JSON body as transient; expect="text" returns the text.
        check(body) may unwrap an envelope or raise (Transient is retried like any other).
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if paused := self.breaker.open_for():
            raise HostUnavailable(
                f"{self.policy.name}: not asking {self.redact(url)}: the host failed "
                f"{self.breaker.threshold} times in a row; paused for {paused:.0f}s more",
                url=self.redact(url),
            )
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=_WaitRetryAfter(self.backoff, cap=max(30.0, self.backoff)),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            fetched = retrying(self._get_once, url, params, expect, check)
        except Transient as exc:
            self.breaker.record(ok=False)
            raise ApiError(
                f"{self.policy.name}: GET {self.redact(url)} still failing after "
                f"{self.attempts} attempts ({exc}); try again later or lower --rps",
                url=self.redact(url),
            ) from None
        self.breaker.record(ok=True)
        return fetched

    def _get_once(
        self,
        url: str,
        params: list[tuple[str, str]] | None,
        expect: str,
        check: Callable[[Any], Any] | None,
    ) -> Fetched:
        import httpx

        sent_at = self.limiter.acquire()
        self.requests += 1
        try:
            response = self._http.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise Transient(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Transient(
                f"network error: {self.redact(str(exc)) or type(exc).__name__}"
            ) from None
        self.bytes += len(response.content)
        if hint := rate_limit_hint(response.headers):
            self.limiter.observe(*hint)
        body = self._decode(response, expect, sent_at)
        if check is not None:
            body = check(body)
        self.limiter.succeeded()
        return Fetched(
            body, response.headers, str(response.url), response.status_code, response.links
        )

    def _decode(
        self, response: httpx.Response, expect: str = "json", sent_at: float | None = None
    ) -> Any:
        status = response.status_code
        body = _json_or_none(response)
        where = f"{self.policy.name}: GET {self.redact(str(response.request.url))}"
        page_cap = self.policy.page_cap
        if status == 429 and not (page_cap and page_cap(body)):
            retry_after = _retry_after(response)
            self.limiter.throttled(retry_after, sent_at)
            # The limiter now holds every thread back (Retry-After, or a second); with no
            # limiter the request's own backoff does the waiting.
            raise Transient("HTTP 429 rate limited", retry_after, paced=self.limiter.enabled)
        if status >= 500 or status == 499:
            raise Transient(f"HTTP {status}", _retry_after(response))
        if status == 403 and body is None:
            raise Transient(
                "HTTP 403 with a non-JSON body (Cloudflare block?)", _retry_after(response)
            )
        if status == 404:
            raise NotFound(f"{where}: HTTP 404 {_error_text(body)}".rstrip(), 404, where)
        if status >= 400:
            raise ApiError(
                f"{where}: HTTP {status} {_error_text(body)}; check the options given".replace(
                    "  ", " "
                ),
                status,
                where,
            )
        if expect == "text":
            return response.content.decode("utf-8", errors="replace")
        if body is None:
            kind = "an empty body" if not response.content.strip() else "a non-JSON body"
            raise Transient(f"HTTP {status} with {kind} (challenge or maintenance page?)")
        return body

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s: %s; retry %d in %.1fs", self.policy.name, exc, state.attempt_number, wait)

    def on_own_host(self, url: str) -> str:
        """The same path and query on the configured host, whatever host `url` names: a token
        is never sent to a host the user did not configure (a mirror may link to its origin)."""
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        return urlunsplit(base._replace(path=parts.path, query=parts.query, fragment=""))

    def redact(self, text: str) -> str:
        """Remove the token and any token-like query value from text bound for a log or error."""
        if self._token:
            text = text.replace(self._token, "***")
        return redact(text)


_TOKEN_PARAM = re.compile(r"((?:token|api_key|apikey|access_token)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Blank every configured token and token-like query value in text."""
    for name in sorted(_SECRET_ENVS):
        secret = os.environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _TOKEN_PARAM.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """httpx logs every request URL at INFO: make sure no secret survives into a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


for _name in ("httpx", "scraper.http"):
    logging.getLogger(_name).addFilter(RedactingFilter())


def _json_or_none(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type and not response.content.lstrip().startswith((b"{", b"[")):
        return None
    try:
        return jsonio.loads(response.content)
    except ValueError:
        return None


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "message", "Message"):
            if isinstance(body.get(key), str):
                return body[key][:200]
    return ""


def _retry_after(response: httpx.Response) -> float | None:
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
