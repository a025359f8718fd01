"""Start-up: `scraper --help` against `python -c pass` (the floor), median of 15 runs each.

Target: within 0.15 s of the bare interpreter: a command imports what it needs when it runs.
Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _common import run_measured, scraper_cmd, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    commands = {
        "scraper --help": scraper_cmd("--help"),
        "scraper sync civitai --help": scraper_cmd("sync", "civitai", "--help"),
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):  # interleaved, so load swings hit every command alike
        for label, command in commands.items():
            times[label].append(run_measured(command)[0])
    floor = statistics.median(times["python -c pass (floor)"])
    rows = [("command", "median s", "over the floor s")]
    for label, values in times.items():
        median = statistics.median(values)
        rows.append((label, f"{median:.3f}", f"{median - floor:+.3f}"))
    table(rows)
    over = statistics.median(times["scraper --help"]) - floor
    print(f"scraper --help - floor = {over:.3f} s (target <= 0.15)")


if __name__ == "__main__":
    main()
