"""`scraper card` on the reference set replicated to N models (default 10,000): cards/s.

Target: at least 3,000 cards/s on one core. Prints the in-process rate (the code path the
command runs, no interpreter start) and the end-to-end rate of `scraper card DIR --out OUT`.
Usage: python bench/cards.py [--models N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson
from _common import Replicas, run_measured, scraper_cmd, table
from click.testing import CliRunner

from scraper.cli import main as cli


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    n = parser.parse_args().models
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "json"
        src.mkdir()
        for model in Replicas(n):
            (src / f"{model['id']}.json").write_bytes(orjson.dumps(model))
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["card", str(src), "--out", str(Path(tmp) / "a")])
        in_process = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        seconds, rss = run_measured(scraper_cmd("card", str(src), "--out", str(Path(tmp) / "b")))
    table(
        [
            ("path", "models", "seconds", "cards/s", "peak MiB"),
            ("in-process", str(n), f"{in_process:.2f}", f"{n / in_process:,.0f}", "-"),
            (
                "scraper card (subprocess)",
                str(n),
                f"{seconds:.2f}",
                f"{n / seconds:,.0f}",
                str(rss),
            ),
        ]
    )


if __name__ == "__main__":
    main()
