"""Peak memory (ru_maxrss of the scraper process) of sync and render at 10,000 and 50,000 models.

Target: the peak at 50,000 within 1.1 times the peak at 10,000, i.e. both stream. The floor is
the interpreter with the command's modules imported and nothing done. The server runs in its
own process and is not counted.
Usage: python bench/memory.py [--sizes 10000 50000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import ServerProcess, env_with, run_measured, scraper_cmd, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    sizes = parser.parse_args().sizes
    peaks: dict[str, list[int]] = {"sync": [], "render": []}
    rows = [("models", "sync s", "sync peak MiB", "render s", "render peak MiB")]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp, ServerProcess(n) as server:
            db = str(Path(tmp) / "m.db")
            env = env_with(CIVITAI_API_BASE=server.base_url)
            sync_s, sync_rss = run_measured(
                scraper_cmd("sync", "civitai", "--rps", "0", "--db", db), env
            )
            render_s, render_rss = run_measured(
                scraper_cmd("render", "--db", db, "--out", str(Path(tmp) / "out"))
            )
        peaks["sync"].append(sync_rss)
        peaks["render"].append(render_rss)
        rows.append((f"{n:,}", f"{sync_s:.1f}", str(sync_rss), f"{render_s:.1f}", str(render_rss)))
    table(rows)
    _, floor = run_measured(
        [sys.executable, "-c", "import scraper.cli, scraper.cards.render, scraper.jobs.sync"]
    )
    print(f"floor: the interpreter with the modules imported, {floor} MiB")
    for name, values in peaks.items():
        if len(values) > 1:
            print(
                f"{name}: peak at {sizes[-1]:,} / peak at {sizes[0]:,} = "
                f"{values[-1] / values[0]:.2f} (target <= 1.1); above the floor "
                f"{values[0] - floor} and {values[-1] - floor} MiB"
            )


if __name__ == "__main__":
    main()
