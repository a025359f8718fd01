"""`scraper scan` over a folder of small safetensors files, then again with nothing changed:
the rescan's seconds (target under 3 s at 5,000 files, no lookup) and peak memory at two
sizes (flat in the number of files), and the first scan's lookup requests (floor: one per 100
hashes, the bulk lookup's batch). Each scan is its own process, timed whole.

Usage: python bench/rescan.py [FILES...]   (default 1000 5000)
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_with, run_measured, scraper_cmd, table  # noqa: E402
from scraper.demo.civitai import FakeCivitai  # noqa: E402

TARGET = 3.0


def make_files(root: Path, count: int) -> None:
    """`count` LoRA-shaped safetensors files with kohya metadata, 100 to a folder."""
    for i in range(count):
        meta = {"ss_output_name": f"style_{i}", "ss_network_dim": "16"}
        header = {"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}}
        text = json.dumps({**header, "__metadata__": meta}).encode()
        text += b" " * (-len(text) % 8)
        folder = root / f"set{i // 100:03}"
        folder.mkdir(parents=True, exist_ok=True)
        data = struct.pack("<Q", len(text)) + text + i.to_bytes(8, "little")
        (folder / f"lora_{i}.safetensors").write_bytes(data)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 5000]
    rows = [
        (
            "files",
            "first scan s",
            "first scan requests",
            "rescan s",
            "rescan MiB",
            "rescan requests",
        )
    ]
    worst = 0.0
    with FakeCivitai([]) as server:  # no file is known: each hash is asked once, then not
        for count in sizes:
            folder = Path(tempfile.mkdtemp(prefix="bench-rescan-"))
            try:
                make_files(folder / "models", count)
                env = env_with(
                    SCRAPER_DB=str(folder / "models.db"), CIVITAI_API_BASE=server.base_url
                )
                command = scraper_cmd("scan", str(folder / "models"), "--rps", "0")
                before = len(server.requests)
                first, _ = run_measured(command, env)
                lookups = len(server.requests) - before
                before = len(server.requests)
                again, rss = run_measured(command, env)
                asked = len(server.requests) - before
                rows.append(
                    (
                        f"{count:,}",
                        f"{first:.2f}",
                        str(lookups),
                        f"{again:.2f}",
                        str(rss),
                        str(asked),
                    )
                )
                if lookups > -(-count // 100):
                    raise SystemExit(f"the first scan of {count} files sent {lookups} requests")
                if count >= 5000:
                    worst = max(worst, again)
                if asked:
                    raise SystemExit(f"the rescan of {count} files asked {asked} requests")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    table(rows)
    print(f"target: a rescan of 5,000 unchanged files under {TARGET:.0f} s; cores {os.cpu_count()}")
    if worst > TARGET:
        raise SystemExit(f"rescan took {worst:.2f}s (target < {TARGET})")


if __name__ == "__main__":
    main()
