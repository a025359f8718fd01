"""How close to a server's rate limit the client runs, and how many 429s it causes itself.

A local server allows N requests/s (a 1-s sliding window; over it answers 429 and counts them).
Scenarios: a sequential cursor crawl and concurrent detail fetches (8 threads, one shared
client), with and without 50 ms of server latency; first with the limit known (--rps N), then
unknown (--rps 5N: the rate must be learnt from 429s). Peer baselines on the same servers:
huggingface_hub's HfApi.list_models (HF_ENDPOINT pointed at a local Link-paginated listing
with the same limit) and a plain loop with fixed 0.5-1.5 s sleeps, as gallery-style tools do.

Targets: >= 0.95 of N with zero self-inflicted 429s where the limit is known; >= 0.8 of N
within 30 s when it is unknown.
Usage: python bench/rate.py [--limit N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _common import CARDS, table

from scraper.demo.civitai import FakeCivitai, read_models
from scraper.demo.server import Faults
from scraper.net.client import ApiClient
from scraper.sources import civitai

MODELS = read_models(CARDS)


class Clock:
    """Completion times of successful requests, for rates per window."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done: list[float] = []
        self.lock = threading.Lock()

    def tick(self) -> None:
        with self.lock:
            self.done.append(time.monotonic() - self.started)

    def rate(self, start: float, end: float) -> float:
        return sum(1 for t in self.done if start <= t < end) / (end - start)


def crawl(api: ApiClient, clock: Clock, seconds: float) -> None:
    """Sequential: each page needs the cursor of the one before."""
    filters = civitai.SOURCE.filters({})
    while time.monotonic() - clock.started < seconds:
        for _ in civitai.SOURCE.pages(api, filters, None):
            clock.tick()
            if time.monotonic() - clock.started >= seconds:
                return


def details(api: ApiClient, clock: Clock, seconds: float, workers: int = 8) -> None:
    ids = [m["id"] for m in MODELS]

    def worker(k: int) -> None:
        i = k
        while time.monotonic() - clock.started < seconds:
            api.get_json(f"/models/{ids[i % len(ids)]}")
            clock.tick()
            i += workers

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))


def run_ours(kind: str, limit: float, rps: float, latency: float, seconds: float):
    faults = Faults(rps_limit=limit, latency=latency)
    with (
        FakeCivitai(MODELS, page_size=5, faults=faults) as server,
        ApiClient(server.base_url, civitai.POLICY, rps=rps, backoff=1.0) as api,
    ):
        clock = Clock()
        (crawl if kind == "crawl" else details)(api, clock, seconds)
        return clock, server.throttled, api.limiter.rate


def summary_row(label: str, clock: Clock, limit: float, seconds: float, throttled: int):
    achieved = clock.rate(0, seconds)
    steady = clock.rate(seconds / 2, seconds)
    return (
        label,
        f"{achieved:.1f}",
        f"{achieved / limit:.2f}",
        f"{steady / limit:.2f}",
        str(throttled),
    )


def recovery(clock: Clock, limit: float, seconds: float, window: float = 5.0) -> str:
    """Window rates, and when the rate first reached 0.8 of the limit for a whole window."""
    rates, reached = [], None
    for start in range(0, int(seconds - window) + 1, int(window)):
        r = clock.rate(start, start + window)
        rates.append(f"{r / limit:.2f}")
        if reached is None and r >= 0.8 * limit:
            reached = start + window
    when = f"{reached:.0f}s" if reached is not None else "not reached"
    return f"per {window:.0f}-s window: {' '.join(rates)}; >= 0.8 by {when}"


class _HfListing(BaseHTTPRequestHandler):
    """/api/models pages of 10 ids with a Link header, under the same rate limit."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    limit = 20.0
    window: list[float] = []
    throttled = 0
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        with self.lock:
            now = time.monotonic()
            self.window[:] = [t for t in self.window if now - t < 1.0]
            if len(self.window) >= self.limit:
                type(self).throttled += 1
                self.reply(429, b'{"error":"rate limited"}', {})
                return
            self.window.append(now)
        cursor = int(self.path.rsplit("cursor=", 1)[1]) if "cursor=" in self.path else 0
        items = [
            {"_id": f"{i:024x}", "id": f"owner/model-{i}", "modelId": f"owner/model-{i}"}
            for i in range(cursor, cursor + 10)
        ]
        host = self.headers["Host"]
        link = f'<http://{host}/api/models?limit=10&cursor={cursor + 10}>; rel="next"'
        self.reply(200, json.dumps(items).encode(), {"Link": link})

    def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def run_hf_hub(limit: float, seconds: float) -> tuple[Clock, int] | None:
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        return None
    _HfListing.limit, _HfListing.throttled, _HfListing.window = limit, 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HfListing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    from huggingface_hub import HfApi

    clock = Clock()
    try:
        for i, _ in enumerate(HfApi(endpoint=os.environ["HF_ENDPOINT"]).list_models()):
            if i % 10 == 9:
                clock.tick()  # one page
            if time.monotonic() - clock.started >= seconds:
                break
    except Exception as exc:  # the first page is not retried by huggingface_hub
        print(f"  huggingface_hub stopped: {type(exc).__name__}: {str(exc)[:80]}")
    server.shutdown()
    return clock, _HfListing.throttled


def run_fixed_sleeps(limit: float, seconds: float) -> tuple[Clock, int]:
    with (
        FakeCivitai(MODELS, page_size=5, faults=Faults(rps_limit=limit)) as server,
        ApiClient(server.base_url, civitai.POLICY, rps=0) as api,
    ):
        clock = Clock()
        while time.monotonic() - clock.started < seconds:
            api.get_json("/models/4717")
            clock.tick()
            time.sleep(random.uniform(0.5, 1.5))
        return clock, server.throttled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=20.0, help="server limit, requests/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of a known run")
    args = parser.parse_args()
    n, t = args.limit, args.seconds
    rows = [("scenario", "req/s", "of N", "2nd half", "429s")]
    notes = []
    for kind in ("crawl", "details"):
        for latency in (0.0, 0.05):
            clock, throttled, _ = run_ours(kind, n, n, latency, t)
            rows.append(
                summary_row(f"ours, {kind}, known, {latency * 1000:.0f} ms", clock, n, t, throttled)
            )
    for kind in ("crawl", "details"):
        for latency in (0.0, 0.05):
            clock, throttled, final = run_ours(kind, n, 5 * n, latency, 30.0)
            label = f"ours, {kind}, unknown, {latency * 1000:.0f} ms"
            rows.append(summary_row(label, clock, n, 30.0, throttled))
            notes.append(f"{label}: {recovery(clock, n, 30.0)}; final rate {final:.1f}/s")
    hub = run_hf_hub(n, t)
    if hub is None:
        notes.append("huggingface_hub list_models: skipped: huggingface_hub not installed")
    else:
        rows.append(summary_row("huggingface_hub list_models", hub[0], n, t, hub[1]))
    clock, throttled = run_fixed_sleeps(n, t)
    rows.append(summary_row("fixed 0.5-1.5 s sleeps", clock, n, t, throttled))
    print(f"server limit N = {n:.0f} requests/s; known runs {t:.0f} s, unknown runs 30 s")
    table(rows)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
