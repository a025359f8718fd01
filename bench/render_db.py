"""`scraper render` from a database of N replicated models (default 10,000): cards/s.

Target: at least 2,000 cards/s on one core. The database is built through the store's real
write path; then render runs twice: into an empty folder (every card written) and again
(every card unchanged, nothing rewritten).
Usage: python bench/render_db.py [--models N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import Replicas, run_measured, scraper_cmd, table

from scraper.sources.civitai import parse_model
from scraper.store import Counts, Store


def build(db: Path, n: int) -> float:
    store = Store(db)
    models = Replicas(n)
    started = time.perf_counter()
    for start in range(0, n, 100):
        store.save_models([parse_model(m) for m in models[start : start + 100]], Counts())
    store.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    n = parser.parse_args().models
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "models.db"
        store_seconds = build(db, n)
        out = Path(tmp) / "out"
        rows = [("run", "models", "seconds", "cards/s", "peak MiB")]
        for label in ("render, all written", "render, all unchanged"):
            seconds, rss = run_measured(scraper_cmd("render", "--db", str(db), "--out", str(out)))
            rows.append((label, str(n), f"{seconds:.2f}", f"{n / seconds:,.0f}", str(rss)))
        written = sum(1 for _ in (out / "civitai").glob("*.md"))
    print(f"database built through Store.save_models: {n / store_seconds:,.0f} models/s")
    table(rows)
    assert written == n, written


if __name__ == "__main__":
    main()
