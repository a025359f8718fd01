"""`scraper scan`: walk folders, hash what changed, look hashes up, write beside each file.

Work goes in chunks of files: a chunk's hashes, lookups and files are committed before the
next chunk starts, so a scan stopped by a signal loses at most the hashes in flight and the
next one goes on from there. Memory stays flat in the number of files: one chunk at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from .. import jsonio
from ..catalog import stored_models
from ..interrupt import signal_name
from ..store import Store
from ..store.library import Cached, Lookup
from ..store.runs import now
from . import beside, gguf, hashing, metacard, preview, safetensors
from .lookup import RETRY_AFTER, Lookups, hash_source, parse_body
from .report import Report
from .walk import Found, Skipped, show, walk

# Files walked, hashed, looked up and written together: a multiple of a bulk lookup's 100
# hashes, so a first scan's lookup requests are all full but the last.
CHUNK = 300


@dataclass
class Options:
    lang: str = "zh"
    info: bool = True
    card: bool = True
    force: bool = False
    out: Path | None = None
    recheck: bool = False
    retry_after: timedelta = RETRY_AFTER
    rps: float | None = None
    jobs: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    preview: bool = False  # NAME.preview.png from the version's first allowed image
    nsfw: str = "hide"  # which images a preview may use: hide (safe for work only) or show


class Meter:
    """What a progress display is told: files done, bytes hashed (from hashing threads)."""

    def start(self, files: int, nbytes: int) -> None: ...
    def files(self, count: int) -> None: ...
    def hashed(self, count: int) -> None: ...


def kind_of(path: bytes) -> str:
    lower = path.lower()
    if lower.endswith((b".safetensors", b".sft")):
        return "safetensors"
    return "gguf" if lower.endswith(b".gguf") else "other"


def scan(
    store: Store, roots: list[Path], options: Options, meter: Meter | None = None, **client: Any
) -> Report:
    """Scan each root in turn; the run is recorded in `runs` (source library, command scan)."""
    meter = meter or Meter()
    report = Report()
    params = {"roots": [show(os.fsencode(r)) for r in roots], "lang": options.lang}
    run_id = store.start_run("library", "scan", params)
    lookups = Lookups(store, run_id, options.rps, options.recheck, options.retry_after, **client)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max(1, options.jobs))
    try:
        absolute = [os.fsencode(os.path.abspath(r)) for r in roots]
        if getattr(meter, "enabled", False):  # a terminal: the totals, for time left
            meter.start(*_measure(store, absolute))
        for root in absolute:
            _scan_root(store, root, options, lookups, pool, stop, meter, report)
    except KeyboardInterrupt as exc:
        stop.set()
        report.failed.append(f"interrupted by {signal_name(exc)}; the next scan goes on")
        _finish(store, run_id, "interrupted", report, lookups)
        raise
    except Exception as exc:
        report.failed.append(f"stopped by an unexpected error: {exc!r}")
        _finish(store, run_id, "failed", report, lookups)
        raise
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        lookups.close()
    report.failed += lookups.failed
    if lookups.not_asked:
        report.failed.append(
            f"{lookups.not_asked} more hashes not asked: the host is paused after repeated "
            "failures; the next scan asks them"
        )
    _finish(store, run_id, "partial" if report.failed else "ok", report, lookups)
    report.run_id = run_id
    return report


def _finish(store: Store, run_id: int, status: str, report: Report, lookups: Lookups) -> None:
    report.requests, report.nbytes = lookups.requests, lookups.nbytes
    report.models_stored = lookups.counts.new + lookups.counts.updated
    report.status = status
    store.finish_run(run_id, status, report.counts(), lookups.requests, lookups.nbytes)


def _chunks(root: bytes, report: Report) -> Iterator[list[Found]]:
    chunk: list[Found] = []
    for item in walk(root):
        if isinstance(item, Skipped):
            report.skipped.append(item.line())
            continue
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _measure(store: Store, roots: list[bytes]) -> tuple[int, int]:
    """Files in all, and bytes to hash (not in the cache): the progress display's totals."""
    files = nbytes = 0
    for root in roots:
        for chunk in _chunks(root, Report()):
            cached = store.cached_files([f.path for f in chunk])
            files += len(chunk)
            nbytes += sum(f.size for f in chunk if not _same(cached.get(f.path), f))
    return files, nbytes


def _same(cached: Cached | None, found: Found) -> bool:
    return cached is not None and (cached.size, cached.mtime_ns, cached.inode) == (
        found.size,
        found.mtime_ns,
        found.inode,
    )


def _scan_root(
    store: Store,
    root: bytes,
    options: Options,
    lookups: Lookups,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
    meter: Meter,
    report: Report,
) -> None:
    started = now()
    out = os.fsencode(os.path.abspath(options.out)) if options.out else None
    for chunk in _chunks(root, report):
        cached = store.cached_files([f.path for f in chunk])
        todo = [f for f in chunk if not _same(cached.get(f.path), f)]
        kept = [f for f in chunk if _same(cached.get(f.path), f)]
        store.mark_seen([f.path for f in kept], root, started)
        report.cached += len(kept)
        hashes = {f.path: cached[f.path].sha256 for f in kept}
        results = pool.map(lambda f: _hash(f, stop, meter), todo)
        rows = []
        for found, (result, why) in zip(todo, results, strict=True):
            if result is not None:
                hashes[found.path] = result
                rows.append(
                    (found.path, root, found.size, found.mtime_ns, found.inode, result,
                     kind_of(found.path))
                )  # fmt: skip
                report.hashed += 1
                report.hashed_bytes += found.size
            else:
                report.skipped.append(f"{show(found.path)}: {why}")
        if rows:
            store.save_hashes(rows)
        files = [f for f in chunk if f.path in hashes]
        known = lookups.resolve(list(dict.fromkeys(hashes.values())))
        metas = _metadata(store, files, hashes, known, cached, report)
        _outputs(store, files, hashes, known, metas, options, out, report)
        meter.files(len(chunk))
    store.forget_unseen(root, started)


def _hash(found: Found, stop: threading.Event, meter: Meter) -> tuple[str | None, str]:
    """(the hash, "") or (None, why there is none: the line for the summary)."""
    try:
        return hashing.sha256(found, stop, meter.hashed), ""
    except hashing.Stopped:
        return None, "stopped before its hash was done"
    except hashing.Changed as exc:
        return None, str(exc)
    except FileNotFoundError:
        return None, "vanished during the scan; skipped"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}; skipped"


def _metadata(
    store: Store,
    files: list[Found],
    hashes: dict[bytes, str],
    known: dict[str, Lookup],
    cached: dict[bytes, Cached],
    report: Report,
) -> dict[bytes, dict[str, Any] | None]:
    """Header metadata of the files no host knows: from the cache, or read now (once)."""
    found: dict[bytes, dict[str, Any] | None] = {}
    fresh: list[tuple[str | None, bytes]] = []
    for f in files:
        lookup = known.get(hashes[f.path])
        if lookup is not None and lookup.result == "found":
            report.known += 1
            continue
        entry = cached.get(f.path)
        if entry is not None and _same(entry, f) and entry.meta is not None:
            meta = parse_body(entry.meta)
        else:
            meta = _read_meta(f)
            fresh.append((jsonio.dumps(meta), f.path))
        error = meta.get("error") if isinstance(meta, dict) else None
        if error:
            report.skipped.append(f"{show(f.path)}: {error}")
        meta = meta if isinstance(meta, dict) and meta.get("described") else None
        found[f.path] = meta
        if meta is None:
            report.unknown += 1
        else:
            report.described += 1
    if fresh:
        store.save_meta(fresh)
    return found


def _read_meta(f: Found) -> dict[str, Any]:
    kind = kind_of(f.path)
    try:
        if kind == "safetensors":
            return safetensors.summary(safetensors.read_header(f.path))
        if kind == "gguf":
            return gguf.summary(gguf.read_metadata(f.path))
    except (ValueError, OSError) as exc:
        return {"error": str(exc)}
    return {"format": kind}


def _outputs(
    store: Store,
    files: list[Found],
    hashes: dict[bytes, str],
    known: dict[str, Lookup],
    metas: dict[bytes, dict[str, Any] | None],
    options: Options,
    out: bytes | None,
    report: Report,
) -> None:
    source = hash_source()
    found = {h: k for h, k in known.items() if k.result == "found" and k.model_id}
    model_ids = sorted({k.model_id for k in found.values() if k.model_id})
    wanted = options.card or options.preview
    inputs = store.model_inputs(source.name, model_ids) if wanted else {}
    models: dict[str, Any] | None = None
    key = _render_key(options.lang)

    def model(model_id: str) -> Any:
        nonlocal models
        if models is None:  # read only when a card must be rendered
            models = stored_models(store.db.conn, source.name, model_ids)
        return models.get(model_id)

    planned: list[beside.Planned] = []
    for f in files:
        sha = hashes[f.path]
        lookup = found.get(sha)
        name = os.path.basename(f.path).decode("utf-8", "backslashreplace")
        if lookup is not None:
            if options.info and source.info_suffix:
                planned.append(_info(f, lookup, source.info_suffix, out))
            model_inputs = inputs.get(lookup.model_id or "")
            if options.preview and model_inputs is not None:
                planned.append(_preview(f, lookup, model, options.nsfw, model_inputs, out))
            if options.card and model_inputs is not None:
                card_inputs = "|".join(
                    ["card", beside.FORMAT, key, model_inputs, lookup.version_id or "", sha]
                )
                planned.append(
                    beside.Planned(
                        beside.place(f, ".md", out),
                        card_inputs + f"|{name}|{f.size}",
                        _card(f, lookup, model, name, sha, options.lang, model_inputs),
                    )
                )
        elif options.card:
            meta = metas.get(f.path)
            digest = hashlib.blake2b(jsonio.dumps_bytes(meta), digest_size=16).hexdigest()
            planned.append(
                beside.Planned(
                    beside.place(f, ".md", out),
                    "|".join(["meta", beside.FORMAT, options.lang, digest, sha, name, str(f.size)]),
                    lambda f=f, meta=meta, name=name, sha=sha: metacard.metadata_card(
                        options.lang, name, f.size, sha, meta
                    ).encode("utf-8"),
                )
            )
    done = beside.write(store, planned, options.force)
    report.written += done.written
    report.unchanged += done.unchanged
    report.kept += done.kept
    report.failed += done.failed


def _info(f: Found, lookup: Lookup, suffix: str, out: bytes | None) -> beside.Planned:
    """The version answer as the WebUI helper extensions write and read it (the source's
    info_suffix says where they look): json.dumps(body, indent=4)."""
    body = lookup.body or ""
    digest = hashlib.blake2b(body.encode(), digest_size=16).hexdigest()
    return beside.Planned(
        beside.place(f, suffix, out),
        "|".join(["info", beside.FORMAT, digest]),
        lambda: json.dumps(parse_body(body), indent=4).encode("utf-8"),
    )


def _preview(
    f: Found,
    lookup: Lookup,
    model: Callable[[str], Any],
    nsfw: str,
    model_inputs: str,
    out: bytes | None,
) -> beside.Planned:
    """Downloaded once: made again only when the model's content or the setting changes."""

    def make() -> bytes | None:
        record = model(lookup.model_id or "")
        url = record and preview.choose(record, lookup.version_id or "", nsfw)
        if not url:
            return None
        source = hash_source()
        return preview.to_png(preview.download(source.thumbnail(url, preview.SIZE)))

    inputs = "|".join(["preview", beside.FORMAT, nsfw, model_inputs, lookup.version_id or ""])
    return beside.Planned(beside.place(f, ".preview.png", out), inputs, make)


def _card(
    f: Found,
    lookup: Lookup,
    model: Callable[[str], Any],
    name: str,
    sha: str,
    lang: str,
    model_inputs: str,
) -> Callable[[], bytes]:
    def make() -> bytes:
        from ..cards.render import render_card

        record = model(lookup.model_id or "")
        if record is None:
            raise OSError(f"model {lookup.model_id} could not be read back")
        version = next((v for v in record.versions if v.id == lookup.version_id), None)
        remote = None
        if version is not None:
            remote = next(
                (
                    x.name
                    for x in version.files
                    if sha in {str(h).upper() for h in (x.sha256, *x.hashes.values()) if h}
                ),
                None,
            )
        deleted = model_inputs.rsplit("|", 1)[-1] != ""
        head = metacard.local_header(
            lang,
            name,
            f.size,
            sha,
            (version.name, version.id) if version else None,
            remote,
            deleted,
        )
        return (head + render_card(record, lang)).encode("utf-8")

    return make


_KEYS: dict[str, str] = {}


def _render_key(lang: str) -> str:
    if lang not in _KEYS:
        from ..cards.render import render_key

        _KEYS[lang] = render_key(lang, "html")
    return _KEYS[lang]
