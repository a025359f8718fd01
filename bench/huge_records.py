"""Peak memory of sync, render and site build when each record is huge: 24 Hub repos whose
READMEs are 40 MB each (960 MB in all). Target: under 600 MiB each, i.e. a record costs its
own size, not the page's or the batch's. The floor is the interpreter with the command's
modules imported. The server runs in its own process and is not counted.
Usage: python bench/huge_records.py
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import ROOT, env_with, run_measured, scraper_cmd, table

README_MB = 40
REPOS = 24


def _serve(ready: Any) -> None:
    sys.path.insert(0, str(ROOT))
    from scraper.demo.hub import FakeHuggingFace
    from scraper.demo.recorded import hf_repos

    infos, _ = hf_repos(loras=REPOS)
    line = "# big\n" + "lorem ipsum dolor sit amet " * 40 + "\n"
    big = line * (README_MB * 1_000_000 // len(line))
    server = FakeHuggingFace(infos, readmes={i["id"]: big for i in infos})
    ready.send(server.base_url)
    server._server.serve_forever()


def main() -> None:
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(there,), daemon=True)
    server.start()
    base = here.recv()
    rows = [("command", "seconds", "peak MiB")]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = env_with(HF_ENDPOINT=base, SCRAPER_DB=str(Path(tmp) / "m.db"))
            commands = {
                "sync hf": ("sync", "hf", "--filter", "lora", "--rps", "0"),
                "render --lang en": ("render", "--lang", "en", "--out", f"{tmp}/cards"),
                "site build": ("site", "build", "--out", f"{tmp}/site", "--jobs", "1"),
            }
            for name, args in commands.items():
                seconds, peak = run_measured(scraper_cmd(*args), env)
                rows.append((name, f"{seconds:.1f}", str(peak)))
    finally:
        server.terminate()
    table(rows)
    _, floor = run_measured(
        [sys.executable, "-c", "import scraper.cli, scraper.jobs.sync, scraper.site.build"]
    )
    print(f"floor: the interpreter with the modules imported, {floor} MiB; target < 600 MiB")


if __name__ == "__main__":
    main()
