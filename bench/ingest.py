"""Ingest from a local Civitai server with the limiter off, against its floor, at two sizes.

`scraper sync civitai --rps 0` runs into an empty database, then again (everything unchanged:
a cron re-run). The floor (bench/floors.py) is json + sqlite-utils insert_all of the same list
pages, fetched beforehand. Prints the ratio to the floor (target <= 2.5), the time per model at
each size (target: flat, the larger within 1.1 of the smaller) and the database's size against
the JSON it was built from (target <= 1.0). The server runs in its own process.
Usage: python bench/ingest.py [--models 10000 50000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx
from _common import ServerProcess, env_with, floor_cmd, run_measured, scraper_cmd, table


def fetch_pages(base_url: str, folder: Path) -> int:
    """Every list page as the API sent it, into folder; their total size in bytes."""
    folder.mkdir()
    total, cursor, number = 0, None, 0
    with httpx.Client(timeout=60) as client:
        while True:
            params = {"limit": "100", "nsfw": "true", **({"cursor": cursor} if cursor else {})}
            body = client.get(f"{base_url}/models", params=params).raise_for_status().content
            number += 1
            (folder / f"{number:06d}.json").write_bytes(body)
            total += len(body)
            cursor = httpx.Response(200, content=body).json()["metadata"].get("nextCursor")
            if not cursor:
                return total


def db_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.suffix != ".lock")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, nargs="+", default=[10_000, 50_000])
    sizes = parser.parse_args().models
    rows = [("models", "floor s", "sync s", "/ floor", "µs/model", "again s", "again/s", "db/json")]
    per_model = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp, ServerProcess(n) as server:
            root = Path(tmp)
            raw = fetch_pages(server.base_url, root / "pages")
            floor, _ = run_measured(floor_cmd("ingest", str(root / "pages"), str(root / "f.db")))
            db = root / "m.db"
            env = env_with(CIVITAI_API_BASE=server.base_url)
            command = scraper_cmd("sync", "civitai", "--rps", "0", "--db", str(db))
            new, _ = run_measured(command, env)
            again, _ = run_measured(command, env)
            size = db_bytes(db)
        per_model.append(new / n)
        rows.append(
            (
                f"{n:,}",
                f"{floor:.2f}",
                f"{new:.2f}",
                f"{new / floor:.2f}",
                f"{new / n * 1e6:.0f}",
                f"{again:.2f}",
                f"{n / again:,.0f}",
                f"{size / raw:.2f} ({size / 1e6:.0f} / {raw / 1e6:.0f} MB)",
            )
        )
    table(rows)
    print("targets: sync / floor <= 2.5; database / JSON <= 1.0")
    if len(per_model) > 1:
        growth = per_model[-1] / per_model[0]
        print(f"time per model at {sizes[-1]:,} / at {sizes[0]:,} = {growth:.2f} (target <= 1.1)")


if __name__ == "__main__":
    main()
