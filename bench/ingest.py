"""Ingest through a local Civitai server with the limiter off: models/s (default 10,000 models).

Target: at least 1,000 models/s on one core. The server runs in its own process (the other
core); `scraper sync civitai --rps 0` runs as a subprocess, once into an empty database and
once more (everything unchanged: the cost of a cron re-run).
Usage: python bench/ingest.py [--models N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import ServerProcess, env_with, run_measured, scraper_cmd, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    n = parser.parse_args().models
    rows = [("run", "models", "seconds", "models/s", "peak MiB")]
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(n) as server:
        env = env_with(CIVITAI_API_BASE=server.base_url)
        command = scraper_cmd("sync", "civitai", "--rps", "0", "--db", str(Path(tmp) / "m.db"))
        for label in ("sync, all new", "sync again, all unchanged"):
            seconds, rss = run_measured(command, env)
            rows.append((label, str(n), f"{seconds:.2f}", f"{n / seconds:,.0f}", str(rss)))
    table(rows)


if __name__ == "__main__":
    main()
