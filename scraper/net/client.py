"""One HTTP client per API host: rate limit, bounded retries, JSON checks, no secrets in errors.

Credentials (the Authorization header, a policy's cookie) go with a request only when it is for
the configured origin (scheme, host and port): redirects are followed here, hop by hop, so one
that leads elsewhere is followed without them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .. import __version__, jsonio
from ..records import RecordError
from . import redaction, settings
from .limits import CircuitBreaker, RateLimiter, rate_limit_hint
from .redaction import redact
from .retry import Transient, WaitRetryAfter, refused_wait, retry_after
from .transport import dns_failure, read_body

if TYPE_CHECKING:  # httpx and tenacity are imported when a client is made, not for --help
    import httpx
    import tenacity

log = logging.getLogger("scraper.net")

USER_AGENT = f"scraper/{__version__} (model catalog; +https://pypi.org/project/httpx/)"
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WAITED = {403, 429, 499, *range(500, 600)}  # statuses whose Retry-After is read


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
    # own_error(status, headers, body): is this 4xx the API's own answer (its error headers or
    # its JSON)? Only then is a 404 "no such record" (a stored model marked deleted) and a
    # 403 final; the same status from a plain web server, a proxy or a CDN is not.
    own_error: Callable[[int, Mapping[str, str], Any], bool] | None = None

    def __post_init__(self) -> None:
        redaction.register(self.token_env, *self.other_secret_envs)

    def says_own_error(self, status: int, headers: Mapping[str, str], body: Any) -> bool:
        if self.own_error is not None:
            return self.own_error(status, headers, body)
        return isinstance(body, dict)  # at least an answer in JSON, not a web page


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful answer: the decoded body plus what paging needs (headers, final URL)."""

    body: Any
    headers: httpx.Headers
    url: str
    status: int
    links: dict[str, dict[str, str]]  # the Link header, parsed by httpx
    damaged: str | None = None  # what a lenient read replaced (invalid UTF-8, too deep)


class ApiError(Exception):
    """A request that failed for good: one line naming the request, the answer and what to do."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        url: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.status = status
        self.url = redact(url)
        self.body = body  # the answer's JSON, if any: is it the API's own error?
        # The answer's headers (lower-case names): some hosts say what failed there.
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}


class NotFound(ApiError):
    """404: the record is gone, unpublished or hidden; recorded, not retried."""


class HostUnavailable(ApiError):
    """The circuit breaker is open: the host failed repeatedly and is left alone for a while."""


class WaitTooLong(ApiError):
    """A wait asked for beyond SCRAPER_MAX_WAIT: the source ends now, not in days."""


class DamagedAnswer(RecordError):
    """An answer that needed repair to be read (invalid UTF-8, nesting too deep): the record
    it was for is quarantined rather than stored half right."""


class ApiClient:
    """GET JSON from one API host; a token goes in the Authorization header (and a policy's
    cookie) of requests for the configured origin, and nowhere else."""

    def __init__(
        self,
        base_url: str,
        policy: HostPolicy,
        rps: float | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
        transport: httpx.BaseTransport | None = None,
        max_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        name = f"{policy.name} base URL"
        self.base_url = settings.base_url(name, base_url, policy.token_env).rstrip("/")
        # The public web host payloads fetched here link to (stored with them; see sources).
        self.public_url = self.base_url
        self.policy = policy
        rate = policy.rps if rps is None else settings.rps(rps)
        self.limiter = RateLimiter(rate, policy.burst, clock=clock, sleep=sleep)
        self.breaker = CircuitBreaker()
        self.attempts = attempts or settings.attempts()
        self.backoff = backoff if backoff is not None else settings.backoff()
        self.max_body = settings.max_body()
        self.max_wait = settings.max_wait() if max_wait is None else max_wait
        self.timeout = settings.timeout()
        self._clock, self._sleep = clock, sleep  # injectable: a test of a wait need not wait
        self._token = redaction.token(policy.token_env)
        self._origin = _origin(httpx.URL(self.base_url))
        self._proxy = settings.proxy()
        # SCRAPER_TIMEOUT bounds each read here and the whole answer in _send; proxies come
        # from HTTPS_PROXY/ALL_PROXY (socks5h too).
        timeout = httpx.Timeout(self.timeout, connect=min(15.0, self.timeout))
        # No cookie jar: a cookie set by any host would otherwise go back with later requests.
        import http.cookiejar

        no_cookies = http.cookiejar.CookieJar(
            http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            cookies=no_cookies,
            timeout=timeout,
            follow_redirects=False,  # followed in _send, with credentials only on our origin
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

    def get_json(
        self, path: str, params: list[tuple[str, str]] | None = None, lenient: bool = False
    ) -> Any:
        """GET base_url + path and its JSON body; retried on transient failures, then ApiError."""
        return self.fetch(path, params, lenient=lenient).body

    def fetch(
        self,
        path: str,
        params: list[tuple[str, str]] | None = None,
        expect: str = "json",
        check: Callable[[Any], Any] | None = None,
        lenient: bool = False,
    ) -> Fetched:
        """GET a path under base_url (or an absolute URL on the same host, e.g. a Link 'next').

        expect="json" treats a non-JSON body as transient; expect="text" returns the text.
        check(body) may unwrap an envelope or raise (Transient is retried like any other).
        A JSON body that needed repair (invalid UTF-8, nesting too deep) is returned marked
        `damaged` when lenient (a listing page: its other items are fine), else DamagedAnswer.
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if paused := self.breaker.open_for():
            raise HostUnavailable(
                f"{self.policy.name}: not asking {url}: the host failed "
                f"{self.breaker.threshold} times in a row; paused for {paused:.0f}s more",
                url=url,
            )
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=WaitRetryAfter(self.backoff, cap=max(30.0, self.backoff)),
            before_sleep=self._before_sleep,
            reraise=True,
            sleep=self._sleep,
        )
        try:
            fetched = retrying(self._get_once, url, params, expect, check)
        except Transient as exc:
            self.breaker.record(ok=False)
            tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
            raise ApiError(
                f"{self.policy.name}: GET {url} still failing after {tries} ({exc}); "
                "try again later or lower --rps",
                url=url,
            ) from None
        self.breaker.record(ok=True)
        if fetched.damaged and not lenient:
            raise DamagedAnswer(f"{self.policy.name}: GET {redact(url)}: {fetched.damaged}")
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
        try:
            response, content = self._send(url, params)
        except httpx.TimeoutException as exc:
            ours = "SCRAPER_TIMEOUT" in str(exc)  # the whole answer's deadline (_read)
            detail = f"{exc}={self.timeout:g}s" if ours else type(exc).__name__
            raise Transient(f"timed out ({detail}){self._via()}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if dns_failure(exc):
                host = httpx.URL(url).host
                raise ApiError(
                    f"{self.policy.name}: cannot resolve {host} (DNS): check the base URL "
                    f"and the network{self._via()}",
                    url=url,
                ) from None
            detail = str(exc) or type(exc).__name__
            raise Transient(f"network error: {detail}{self._via()}") from None
        self.bytes += len(content)
        if hint := rate_limit_hint(response.headers):
            if hint[0] <= 0:
                where = f"{self.policy.name}: GET {response.request.url}"
                self._ceiling((hint[1], f"RateLimit: {response.headers['ratelimit'][:60]}"), where)
            self.limiter.observe(*hint)
        body, damaged = self._decode(response, expect, sent_at, content)
        if check is not None:
            body = check(body)
        self.limiter.succeeded()
        return Fetched(
            body,
            response.headers,
            str(response.url),
            response.status_code,
            response.links,
            damaged,
        )

    def _send(self, url: str, params: list[tuple[str, str]] | None) -> tuple[httpx.Response, bytes]:
        """One GET, its redirects followed (credentials only on our origin), its body read up
        to max_body bytes decoded, all of it within SCRAPER_TIMEOUT."""
        deadline = self._clock() + self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            request = self._http.build_request("GET", url, params=params)
            request.headers.update(self._credentials(request.url))
            self.requests += 1
            response = self._http.send(request, stream=True)
            try:
                if response.is_redirect:
                    target = request.url.join(response.headers["location"])
                    if target.scheme not in ("http", "https"):
                        raise ApiError(
                            f"{self.policy.name}: GET {request.url} redirects to a "
                            f"{target.scheme or 'relative'}: URL; refused",
                            response.status_code,
                            str(request.url),
                        )
                    url, params = str(target), None
                    continue
                return response, self._read(response, request.url, deadline)
            finally:
                response.close()
        raise ApiError(f"{self.policy.name}: GET {url}: more than {MAX_REDIRECTS} redirects")

    def _read(self, response: httpx.Response, url: httpx.URL, deadline: float) -> bytes:
        """The decoded body within max_body bytes and SCRAPER_TIMEOUT (transport.read_body)."""
        body = read_body(response, self.max_body, deadline, self._clock)
        if body is not None:
            return body  # type: ignore[return-value]  # (a bytearray: bytes-like all the way)
        raise ApiError(
            f"{self.policy.name}: GET {url}: the answer is larger than "
            f"{self.max_body / (1 << 20):g} MB; raise SCRAPER_MAX_BODY_MB if it is real",
            response.status_code,
            str(url),
        )

    def _credentials(self, url: httpx.URL) -> dict[str, str]:
        if not self._token or _origin(url) != self._origin:
            return {}
        headers = {"Authorization": f"Bearer {self._token}"}
        if self.policy.cookie:
            headers["Cookie"] = f"{self.policy.cookie}={self._token}"
        return headers

    def _via(self) -> str:
        if self._proxy is None:
            return ""
        name, value = self._proxy
        return f" (through the proxy {name}={settings.without_password(value)})"

    def _decode(
        self,
        response: httpx.Response,
        expect: str = "json",
        sent_at: float | None = None,
        content: bytes | None = None,
    ) -> tuple[Any, str | None]:
        status = response.status_code
        content = response.content if content is None else content
        body, damaged = _json_or_none(response, content)
        where = f"{self.policy.name}: GET {response.request.url}"
        page_cap = self.policy.page_cap
        asked = self._ceiling(retry_after(response.headers), where) if status in _WAITED else None
        if status == 429 and not (page_cap and page_cap(body)):
            wait = asked
            self.limiter.throttled(wait, sent_at)
            # The limiter now holds every thread back (Retry-After, or a second); with no
            # limiter the request's own backoff does the waiting.
            raise Transient("HTTP 429 rate limited", wait, paced=self.limiter.enabled)
        if status >= 500 or status == 499:
            raise Transient(f"HTTP {status}", asked)
        own = status >= 400 and self.policy.says_own_error(status, response.headers, body)
        if status == 403 and body is None and not own:
            raise Transient("HTTP 403 with a non-JSON body (Cloudflare block?)", asked)
        if status == 404:
            if own:
                raise NotFound(
                    f"{where}: HTTP 404 {_error_text(body)}".rstrip(),
                    404,
                    where,
                    body,
                    response.headers,
                )
            raise ApiError(
                f"{where}: HTTP 404 from {response.request.url.host}, not the API's own "
                f"not-found answer (is {self.base_url} the API, or a proxy in the way?); "
                "nothing was changed",
                404,
                where,
            )
        if status >= 400:
            raise ApiError(
                f"{where}: HTTP {status} {_error_text(body)}; check the options given".replace(
                    "  ", " "
                ),
                status,
                where,
                body,
                response.headers if own else None,
            )
        if expect == "text":
            return content.decode("utf-8", errors="replace"), None
        if body is None:
            kind = "an empty body" if not content.strip() else "a non-JSON body"
            raise Transient(f"HTTP {status} with {kind} (challenge or maintenance page?)")
        return body, damaged

    def _ceiling(self, asked: tuple[float, str] | None, where: str) -> float | None:
        """The seconds a server asked to wait, when within max_wait; WaitTooLong beyond."""
        if asked is None or asked[0] <= self.max_wait:
            return None if asked is None else asked[0]
        raise WaitTooLong(f"{where}: {refused_wait(*asked, self.max_wait)}", url=where)

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

    def rebase(self, url: str, old_base: str | None) -> str:
        """A URL saved under another base URL (a checkpoint of a crawl run against another
        mirror) moved onto ours: its path under the old base, then on_own_host."""
        old = (old_base or "").rstrip("/")
        if old and old != self.base_url and url.startswith(old + "/"):
            return self.base_url + url[len(old) :]
        return self.on_own_host(url)

    def redact(self, text: str) -> str:
        """Remove the token and any token-like value from text bound for a log or error."""
        return redact(text)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    return scheme, (url.host or "").lower(), url.port or _DEFAULT_PORTS.get(scheme)


def _json_or_none(response: httpx.Response, content: bytes) -> tuple[Any, str | None]:
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type and not content.lstrip().startswith((b"{", b"[")):
        return None, None
    try:
        return jsonio.loads_lenient(content)
    except ValueError:
        return None, None


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "message", "Message"):
            if isinstance(body.get(key), str):
                return body[key][:200]
    return ""
