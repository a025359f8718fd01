"""`scraper site build` on 10,000 and 100,000 models: full build, then after changing 1%.

Targets on a 2-core machine: 100,000 models in under 10 minutes full, a 1% rebuild in under
1 minute, peak memory under 1 GB. The models are the recorded reference set replicated, each
with its own ids, a varied name, one to three extra tags from a long-tailed pool (Chinese and
English words included), varied downloads, and two stats snapshots (saved twice through the
store's real write path). The 1% change edits a model's name and description and moves its
counters (a third snapshot), as an incremental sync would.

Peak memory is sampled over the whole process tree (the build and its workers, summed);
the largest single process comes from the kernel's rusage. The floor is the least code doing
the same job: one process that reads each model's row, renders a bare Jinja2 page per
language and writes as many files as the build has, through open().write().
Usage: python bench/site.py [--sizes 10000 100000] [--work DIR]  (DIR keeps the databases)
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import Replicas, scraper_cmd, table

from scraper.catalog import open_store
from scraper.sources.civitai import parse_model
from scraper.store import Counts

ZH = ("人像", "国风", "古风", "赛博朋克", "水墨", "汉服", "机甲", "猫娘", "写实", "动漫", "风景")
EN = ("portrait", "anime", "realistic", "style", "landscape", "cyberpunk", "armor", "fantasy")
TAG_POOL = 20_000


def realistic(model: dict, i: int) -> dict:
    """A replica made less uniform: its own name words, long-tailed tags, its own downloads."""
    rng = random.Random(i)
    model["name"] = f"{model['name']} {EN[i % len(EN)]} {ZH[(i // 3) % len(ZH)]} {i}"
    extra = {f"tag-{int(rng.paretovariate(0.8)) % TAG_POOL}" for _ in range(rng.randint(1, 3))}
    model["tags"] = [*(model.get("tags") or []), *sorted(extra), ZH[i % len(ZH)]]
    stats = model.setdefault("stats", {})
    stats["downloadCount"] = int((stats.get("downloadCount") or 100) * rng.uniform(0.05, 3))
    return model


def more_downloads(model: dict, factor: float) -> dict:
    model = copy.deepcopy(model)
    stats = model["stats"]
    stats["downloadCount"] = int(stats["downloadCount"] * factor) + 1
    return model


def make_db(db: Path, n: int) -> float:
    """N models, saved twice (two snapshots); seconds taken."""
    started = time.perf_counter()
    store = open_store(db)
    models = Replicas(n)
    for factor in (1.0, 1.05):
        for start in range(0, n, 500):
            batch = [
                more_downloads(realistic(models[i], i), factor)
                for i in range(start, min(n, start + 500))
            ]
            store.save_models([parse_model(m) for m in batch], Counts())
    store.close()
    return time.perf_counter() - started


def change_one_percent(db: Path, n: int) -> int:
    """Every 100th model: a new name word, a longer description, more downloads."""
    store = open_store(db)
    models = Replicas(n)
    changed = []
    for i in range(0, n, 100):
        model = more_downloads(realistic(models[i], i), 1.3)
        model["name"] += " v2"
        model["description"] = (model.get("description") or "") + "<p>Updated: v2.</p>"
        changed.append(parse_model(model))
    for start in range(0, len(changed), 500):
        store.save_models(changed[start : start + 500], Counts())
    store.close()
    return len(changed)


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, summed."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as f:
                    stack += [int(c) for c in f.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def run(command: list[str]) -> tuple[float, float, int, str, float]:
    """(seconds, peak tree MiB sampled, peak single-process MiB from rusage, last line of
    stderr, CPU seconds of the process and its workers)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mib(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    err = process.stderr.read().decode() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status}): {err}")
    cpu = usage.ru_utime + usage.ru_stime  # wait4 counts the reaped workers too
    return seconds, peak[0], usage.ru_maxrss // 1024, (err.strip().splitlines() or [""])[-1], cpu


FLOOR = """
import sqlite3, sys, zlib, jinja2, orjson
from pathlib import Path
db, out, total = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
page = jinja2.Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html lang={{ lang }}><title>{{ m.name }}</title><h1>{{ m.name }}</h1>"
    "{{ m.description }}{% for v in m.modelVersions %}<h3>{{ v.name }}</h3>{% endfor %}")
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
written = 0
rows = conn.execute("SELECT CAST(raw AS BLOB), raw_size FROM models WHERE deleted_at IS NULL")
for raw, size in rows:
    m = orjson.loads(raw if size == len(raw) else zlib.decompress(raw))
    for lang in ("zh", "en"):
        folder = out / lang / str(written // 1000)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{written}.html", "w", encoding="utf-8") as f:
            f.write(page.render(m=m, lang=lang))
        written += 1
while written < total:
    folder = out / "rest" / str(written // 1000)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{written}.html", "w", encoding="utf-8") as f:
        f.write(page.render(m={"name": str(written), "description": ""}, lang="en"))
    written += 1
"""


QUERIES = ("动漫", "anime", "lora", "portrait", "人像", "Conterfeit", "sdxl style", "国风人像")


def download_mb(out: Path) -> str:
    """What a visitor downloads: the search files one query reads (meta, a shard per term of
    every synonym, the model chunks of the first 20 results), and for the biggest index its
    JSON plus the model chunks of its 100 newest rows (sorting by date scatters them)."""
    import json

    from scraper.site import search

    folder = out / "search"
    meta = json.loads((folder / "meta.json").read_bytes())

    def size(path: Path) -> int:
        return path.stat().st_size

    worst, worst_query = 0, ""
    for text in QUERIES:
        files = {folder / "meta.json", folder / "names.json"}
        for group in search.query_groups(text):
            for terms in group:
                files |= {
                    folder / "s" / f"{search.shard_of(t[0], meta['shards'])}.json" for t in terms
                }
        ids = search.match_ids(out, text)[:20]
        files |= {folder / "d" / f"{i // meta['chunk']}.json" for i in ids}
        total = sum(size(f) for f in files)
        if total > worst:
            worst, worst_query = total, text
    biggest = max(out.glob("list/*/*/index.json"), key=size)
    rows = json.loads(biggest.read_bytes())["rows"]
    newest = sorted(rows, key=lambda r: -r[3])[:100]
    chunks = {folder / "d" / f"{r[0] // meta['chunk']}.json" for r in newest}
    browse = size(biggest) + sum(size(c) for c in chunks)
    return (
        f"search: at most {worst / 1e6:.2f} MB per query ({worst_query!r}); "
        f"browse: {biggest.relative_to(out)} {size(biggest) / 1e6:.2f} MB, "
        f"its 100 newest rows {browse / 1e6:.2f} MB with their model chunks"
    )


def site_size(folder: Path) -> tuple[int, float]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 1e6


def bench(n: int, work: Path) -> list[tuple[str, ...]]:
    db = work / f"site-{n}.db"
    if not db.exists():
        tmp = db.with_suffix(".tmp")
        for leftover in work.glob(f"{tmp.name}*"):
            leftover.unlink()
        seconds = make_db(tmp, n)
        tmp.rename(db)
        print(f"{n:,} models stored twice through Store.save_models in {seconds:.0f}s")
    scratch = work / f"run-{n}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    db_copy = scratch / "models.db"
    shutil.copy(db, db_copy)
    out = scratch / "site"
    build = scraper_cmd("site", "build", "--db", str(db_copy), "--out", str(out))
    rows = []
    full = run(build)
    files, megabytes = site_size(out)
    rows.append(("full build", n, full, files, megabytes))
    if (out / "search" / "names.json").exists():
        print(download_mb(out))
    same = run(build)
    rows.append(("rebuild, nothing changed", n, same, files, megabytes))
    changed = change_one_percent(db_copy, n)
    partial = run(build)
    files, megabytes = site_size(out)
    rows.append((f"rebuild, {changed:,} changed (1%)", n, partial, files, megabytes))
    floor_out = scratch / "floor"
    floor = run([sys.executable, "-c", FLOOR, str(db_copy), str(floor_out), str(files)])
    shutil.rmtree(scratch)
    printed = []
    for label, models, (seconds, tree, single, summary, cpu), count, size in rows:
        printed.append(
            (
                label,
                f"{models:,}",
                f"{seconds:.1f}",
                f"{cpu:.1f}",
                f"{count / seconds:,.0f}" if label == "full build" else "-",
                f"{tree:,.0f}",
                f"{single:,}",
                f"{count:,}",
                f"{size:,.0f}",
                summary.split("; ")[1] if "; " in summary else "",
            )
        )
    printed.append(
        (
            "floor: bare Jinja2 loop, 1 process",
            f"{n:,}",
            f"{floor[0]:.1f}",
            f"{floor[4]:.1f}",
            f"{files / floor[0]:,.0f}",
            f"{floor[1]:,.0f}",
            f"{floor[2]:,}",
            f"{files:,}",
            "-",
            f"full build / floor = {full[0] / floor[0]:.2f}",
        )
    )
    return printed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, help="keep the databases here between runs")
    args = parser.parse_args()
    header = (
        "run",
        "models",
        "seconds",
        "CPU s",
        "files/s",
        "peak MiB (tree)",
        "peak MiB (1 proc)",
    )
    header += ("files", "site MB", "what")
    rows = [header]
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            print(f"load average before {n:,}: {os.getloadavg()[0]:.2f} (other processes)")
            rows += bench(n, work)
            table(rows)
            print()


if __name__ == "__main__":
    main()
