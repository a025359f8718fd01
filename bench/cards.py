"""`scraper card DIR --out OUT` on N replicated reference models (default 8,000), against its
floor: orjson + a minimal Jinja2 card + a plain write of the same models (bench/floors.py).

Target: within 1.7 times the floor. Each side runs twice, alternately, into a fresh folder; the
faster run of each counts (creating files dominates and its cost moves with the disk's state).
Usage: python bench/cards.py [--models N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import orjson
from _common import Replicas, floor_cmd, run_measured, scraper_cmd, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=8_000)
    n = parser.parse_args().models
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "json"
        src.mkdir()
        for model in Replicas(n):
            (src / f"{model['id']}.json").write_bytes(orjson.dumps(model))
        out = Path(tmp) / "out"
        commands = {
            "scraper card": scraper_cmd("card", str(src), "--out", str(out)),
            "floor": floor_cmd("cards", str(src), str(out)),
        }
        best: dict[str, tuple[float, int]] = {}
        for _ in range(2):
            for label, command in commands.items():
                shutil.rmtree(out, ignore_errors=True)
                best[label] = min(best.get(label, (1e9, 0)), run_measured(command))
            assert sum(1 for _ in out.glob("*.md")) == n
    rows = [("run", "models", "seconds", "cards/s", "peak MiB")]
    for label, (seconds, rss) in best.items():
        rows.append((label, str(n), f"{seconds:.2f}", f"{n / seconds:,.0f}", str(rss)))
    table(rows)
    print(
        f"scraper card / floor = {best['scraper card'][0] / best['floor'][0]:.2f} (target <= 1.7)"
    )


if __name__ == "__main__":
    main()
