"""A small HTTP server on 127.0.0.1 that serves recorded API answers and can misbehave.

`scraper demo` runs the whole pipeline against it; the tests and benchmarks use it too: a real
server, so the client is exercised over real sockets exactly as against the real APIs.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

CHALLENGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body>Checking your browser before accessing civitai.com.</body></html>"
)
MAINTENANCE_HTML = b"<html><body><h1>We're adjusting a few things...</h1></body></html>"

FAULTS = (
    "429",
    "429-retry-after",
    "500",
    "502",
    "503",
    "524",
    "html200",
    "html403",
    "maintenance",
    "empty",
    "truncated",
    "reset",
    "slow",
)


@dataclass
class Faults:
    """What the server does wrong: a queue of scripted faults, random ones, and throttling."""

    script: deque[str] = field(default_factory=deque)  # consumed one per request, in order
    rate: float = 0.0  # probability of a random fault per request
    kinds: tuple[str, ...] = FAULTS
    seed: int = 0
    rps_limit: float = 0.0  # requests per second above which the server answers 429
    retry_after: str | None = None  # sent with throttling 429s when set
    latency: float = 0.0  # seconds added to every answer
    slow_seconds: float = 5.0  # how long a "slow" fault stalls
    skip_boundary: bool = False  # Civitai's cursor bug: the item after each page is skipped
    # A broken or hostile listing: every page after the first names itself as the next one
    # (Civitai's metadata.nextCursor, CIVITAI.md section 7; the Hub's Link rel="next",
    # HUGGINGFACE.md section 3), so a client that trusts it pages forever.
    repeat_cursor: bool = False
    # ModelScope's data.page_size as the answer states it (MODELSCOPE.md "List data"); 0 makes
    # a client that computes its depth from it never reach the 3000-result cap.
    stated_page_size: int | None = None
    trickle: float = 0.0  # seconds between the body's bytes: a reverse proxy that stalls
    trickle_only: tuple[str, ...] = ()  # the paths trickled (none named: every path)


# What route() answers: a status, a JSON-able body (or bytes, sent as they are) and headers.
Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]
# A fixed answer for one path, or a function of the request ({path, query, headers}: to echo
# a header back, say) whose None means "answer as usual".
Fixed = Answer | Callable[[dict[str, Any]], Answer | None]


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 with a request log and fault injection; subclasses
    say what each path answers in route()."""

    def __init__(self, faults: Faults | None = None, port: int = 0) -> None:
        self.faults = faults or Faults()
        self.requests: list[dict[str, Any]] = []
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.throttled = 0
        self.answers: dict[str, Fixed] = {}  # path -> a fixed answer, before route()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def route(self, path: str, query: dict[str, list[str]]) -> Answer:
        raise NotImplementedError

    def respond(self, request: dict[str, Any]) -> Answer:
        """The answer to one request ({method, path, query, headers, body}); route() unless a
        fake needs the headers (a host that answers differently with a token) or the body (an
        API of POSTs)."""
        return self.route(request["path"], request["query"])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> Any:
        # stop() waits for the loop's next poll: a short one stops the server at once (the
        # tests start and stop hundreds).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pick_fault(self) -> str | None:
        with self._lock:
            if self.faults.script:
                return self.faults.script.popleft()
            if self.faults.rps_limit > 0:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.faults.rps_limit:
                    self.throttled += 1
                    return "throttle"
                self._window.append(now)
            if self.faults.rate and self._rng.random() < self.faults.rate:
                return self._rng.choice(self.faults.kinds)
        return None


def _handler(api: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the second waits for the
        # client's delayed ACK (40 ms), which would cap a keep-alive client at ~23 requests/s.
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            # The client went away (killed or timed out): nothing to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self.answer("POST")

        def answer(self, method: str) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            request = {
                "method": method,
                "path": url.path,
                "query": query,
                "headers": dict(self.headers.items()),
                "body": self._body(),
            }
            with api._lock:
                api.requests.append(request)
            if api.faults.latency:
                time.sleep(api.faults.latency)
            fault = api.pick_fault()
            if fault and self.misbehave(fault):
                return
            fixed = api.answers.get(url.path)
            if callable(fixed):
                fixed = fixed(request)
            status, body, *extra = fixed or api.respond(request)
            headers = extra[0] if extra else {}
            if isinstance(body, bytes):
                ctype = headers.pop("Content-Type", "text/plain; charset=utf-8")
                self.send(status, body, ctype, headers)
            else:
                self.send(status, orjson.dumps(body), "application/json", headers)

        def _body(self) -> Any:
            """A request's JSON body (None: none, or not JSON)."""
            size = int(self.headers.get("Content-Length") or 0)
            if not size:
                return None
            try:
                return orjson.loads(self.rfile.read(size))
            except orjson.JSONDecodeError:
                return None

        def misbehave(self, fault: str) -> bool:
            """Answer with the fault; False when it only delays the real answer."""
            if fault == "throttle":
                extra = {"Retry-After": api.faults.retry_after} if api.faults.retry_after else {}
                self.send(
                    429,
                    b'{"error":"Rate limit exceeded, please retry shortly."}',
                    "application/json",
                    extra,
                )
            elif fault in ("429", "429-retry-after"):
                extra = {"Retry-After": "1"} if fault == "429-retry-after" else {}
                self.send(429, b"<html><body>Too Many Requests</body></html>", "text/html", extra)
            elif fault in ("500", "502", "503", "524"):
                body = b'{"message":"An unexpected error occurred"}' if fault == "500" else b""
                self.send(int(fault), body, "application/json" if body else "text/html")
            elif fault == "html200":
                self.send(200, CHALLENGE_HTML, "text/html; charset=UTF-8")
            elif fault == "html403":
                self.send(403, CHALLENGE_HTML, "text/html; charset=UTF-8")
            elif fault == "maintenance":
                self.send(200, MAINTENANCE_HTML, "text/html")
            elif fault == "empty":
                self.send(200, b"", "application/json")
            elif fault == "truncated":
                body = b'{"items": [{"id": 1, "name": "cut he'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) * 3))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
            elif fault == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
            elif fault == "slow":
                time.sleep(api.faults.slow_seconds)
                return False
            else:
                raise ValueError(f"unknown fault {fault!r}")
            return True

        def send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            trickled = api.faults.trickle and (
                not api.faults.trickle_only or urlsplit(self.path).path in api.faults.trickle_only
            )
            if not trickled:
                self.wfile.write(body)
                return
            for byte in body:  # one byte at a time, each flushed: a per-read timeout never fires
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(api.faults.trickle)

    return Handler


def throttled(retry_after: str) -> Answer:
    """A 429 with the Retry-After a server chose: Civitai's app limit body (CIVITAI.md
    section 9); the header is RFC 9110 10.2.3 (seconds, or an HTTP date)."""
    body = b'{"error":"Rate limit exceeded, please retry shortly."}'
    return 429, body, {"Content-Type": "application/json", "Retry-After": retry_after}
