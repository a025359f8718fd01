"""Shared by the benchmarks: replicated reference models, a server in its own process, timing."""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "tests" / "data" / "civitai-cards"


def base_texts() -> list[bytes]:
    """The 122 reference models as JSON text, in id order."""
    paths = sorted(CARDS.glob("*.json"), key=lambda p: int(p.stem))
    return [p.read_bytes() for p in paths]


class Replicas(Sequence):
    """N models made on demand from the reference set, each with its own model and version
    ids, so a 50,000-model catalog costs the server no memory."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.texts = base_texts()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        if not 0 <= index < self.n:
            raise IndexError(index)
        model = orjson.loads(self.texts[index % len(self.texts)])
        model["id"] = index + 1
        for version in model["modelVersions"]:
            version["id"] = version["id"] * 1_000_000 + index + 1
        return model

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(self.n))


def _serve(n: int, page_size: int, ready: Any) -> None:
    from scraper.demo.civitai import FakeCivitai

    class Lazy(FakeCivitai):
        def _index(self) -> None:  # no by-id index: the crawl only lists
            self.by_id, self.versions, self.hashes = {}, {}, {}

    server = Lazy(Replicas(n), page_size=page_size)
    ready.send(server.base_url)
    server._server.serve_forever()


class ServerProcess:
    """A FakeCivitai in a child process, so the client under test has its core to itself."""

    def __init__(self, n: int, page_size: int = 100) -> None:
        here, there = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(n, page_size, there))
        self.process.start()
        self.base_url = here.recv()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join()


def scraper_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "scraper.cli", *args]


def floor_cmd(*args: str) -> list[str]:
    """A job of bench/floors.py as its own process, like the command it is the floor of."""
    return [sys.executable, str(Path(__file__).with_name("floors.py")), *args]


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command; (seconds, its peak resident memory in MiB) from wait4's rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed with status {status}")
    return seconds, usage.ru_maxrss // 1024


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env


def table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def self_rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
