"""`scraper render` from a database of N replicated models (default 10,000): written, unchanged,
and after 1% of the models changed; against the floor of reading every stored hash.

Targets: unchanged at >= 20,000 models/s (a 500,000-model catalog checked in under 30 s); a 1%
change renders about 1% of the cards. The database is built through the store's write path.
Usage: python bench/render_db.py [--models N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import Replicas, floor_cmd, run_measured, scraper_cmd, table

from scraper.catalog import open_store
from scraper.sources.civitai import parse_model
from scraper.store import Counts


def build(db: Path, n: int, bump: int = 0, every: int = 1) -> float:
    """Store models 1..n (every `every`-th one only), their download counts raised by bump."""
    store = open_store(db)
    models = Replicas(n)
    started = time.perf_counter()
    for start in range(0, n, 100):
        batch = [m for m in models[start : start + 100] if (m["id"] - 1) % every == 0]
        for m in batch:
            m["stats"]["downloadCount"] += bump
        store.save_models([parse_model(m) for m in batch], Counts())
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
        render = scraper_cmd("render", "--db", str(db), "--out", str(out))
        rows = [("run", "models", "seconds", "models/s", "peak MiB")]
        for label in ("render, all written", "render, all unchanged"):
            seconds, rss = run_measured(render)
            rows.append((label, str(n), f"{seconds:.2f}", f"{n / seconds:,.0f}", str(rss)))
        unchanged = seconds
        floor, rss = run_measured(floor_cmd("hashes", str(db)))
        rows.append(
            ("floor: read every hash", str(n), f"{floor:.2f}", f"{n / floor:,.0f}", str(rss))
        )
        build(db, n, bump=1, every=100)
        before = {p: p.stat().st_mtime_ns for p in (out / "civitai").glob("*.md")}
        seconds, rss = run_measured(render)
        rows.append(
            ("render, 1% changed", str(n), f"{seconds:.2f}", f"{n / seconds:,.0f}", str(rss))
        )
        rewritten = sum(1 for p, t in before.items() if p.stat().st_mtime_ns != t)
    print(f"database built through Store.save_models: {n / store_seconds:,.0f} models/s")
    table(rows)
    print(
        f"unchanged: {n / unchanged:,.0f} models/s (target >= 20,000), "
        f"{unchanged / floor:.2f} x the floor; after a 1% change {rewritten} cards rewritten"
    )


if __name__ == "__main__":
    main()
