"""Hashing speed of `scraper scan` against its floor: the faster of `sha256sum` and
`openssl dgst -sha256` on the same file, warm in the page cache (best of 5 interleaved rounds).

Usage: python bench/hash.py [MiB]   (default 512; files go to a temporary folder)
Prints seconds and MB/s of each, the ratio to the floor (target <= 1.5) and, for four files,
the scan's hashing with 1 and 2 threads against sha256sum over the four.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import table  # noqa: E402
from scraper.library import hashing  # noqa: E402
from scraper.library.walk import Found  # noqa: E402

TARGET = 1.5
ROUNDS = 5


def make(path: Path, mib: int) -> Found:
    block = os.urandom(1 << 20)
    with open(path, "wb") as handle:
        for i in range(mib):
            handle.write(block[i % 7 :] + block[: i % 7])
    info = os.stat(path)
    return Found(os.fsencode(path), os.fsencode(path), info.st_size, info.st_mtime_ns, info.st_ino)


def best(run, times: int = 3) -> float:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        found.append(time.perf_counter() - started)
    return min(found)


def tool(*command: str, times: int = 3) -> float | None:
    if shutil.which(command[0]) is None:
        return None
    return best(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL), times)


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    folder = Path(tempfile.mkdtemp(prefix="bench-hash-"))
    try:
        big = make(folder / "big.safetensors", mib)
        subprocess.run(["cat", os.fsdecode(big.path)], stdout=subprocess.DEVNULL, check=True)
        path = os.fsdecode(big.path)
        # Interleaved rounds, best of each: the load of a shared machine hits all three alike.
        times: dict[str, list[float]] = {"sha": [], "ssl": [], "ours": []}
        for _ in range(ROUNDS):
            for key, seconds in (
                ("sha", tool("sha256sum", path, times=1)),
                ("ssl", tool("openssl", "dgst", "-sha256", path, times=1)),
                ("ours", best(lambda: hashing.sha256(big, threading.Event()), times=1)),
            ):
                if seconds is not None:
                    times[key].append(seconds)
        sha, ssl, ours = (min(times[k]) if times[k] else None for k in ("sha", "ssl", "ours"))
        assert ours is not None
        floor = min(t for t in (sha, ssl) if t is not None)
        mb = big.size / 1e6
        rows = [("one file", "seconds", "MB/s")]
        for name, seconds in (("sha256sum", sha), ("openssl dgst", ssl), ("scraper scan", ours)):
            if seconds is not None:
                rows.append((name, f"{seconds:.3f}", f"{mb / seconds:,.0f}"))
        table(rows)
        ratio = ours / floor
        print(f"{mib} MiB: scan {ours:.3f}s, floor {floor:.3f}s: {ratio:.2f}x (target <= {TARGET})")

        parts = [make(folder / f"part{i}.safetensors", max(1, mib // 4)) for i in range(4)]
        for p in parts:
            subprocess.run(["cat", os.fsdecode(p.path)], stdout=subprocess.DEVNULL, check=True)
        names = [os.fsdecode(p.path) for p in parts]
        four_floor = tool("sha256sum", *names)
        rows = [("four files", "seconds", "ratio to sha256sum")]
        if four_floor:
            rows.append(("sha256sum a b c d", f"{four_floor:.3f}", "1.00"))
        for jobs in (1, 2):
            with ThreadPoolExecutor(jobs) as pool:
                took = best(lambda: list(pool.map(hashing.sha256, parts)))  # noqa: B023
            ratio_four = f"{took / four_floor:.2f}" if four_floor else "-"
            rows.append((f"scan, {jobs} thread(s)", f"{took:.3f}", ratio_four))
        table(rows)
        print(f"cores: {os.cpu_count()}")
        if ratio > TARGET:
            raise SystemExit(f"hashing is {ratio:.2f}x its floor (target <= {TARGET})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
