"""Cards on disk: their file names, and writing only the cards whose inputs changed.

`render_catalog` asks the manifest (manifests.py) which models changed since their card was
written, in the same read snapshot as the models themselves, and renders only those; a card
whose model is gone is removed, and one left under an old name (the model was renamed) too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..files import OutsideFolder, check_folder, remove_inside, safe_stem, slugify, write_atomic
from ..records import Model
from . import manifest as manifests
from .render import render_card, render_key


def card_name(model: Model, lang: str = "zh", hashed: bool = False) -> str:
    """<id>-<slug>.md, or owner--name.md for repo ids; other languages add .en or .bilingual.
    Names are safe and unique everywhere (files.safe_stem; `hashed` when the plain name is
    another model's ignoring case)."""
    key = f"{model.source}:{model.id}"
    if model.path_id:
        stem = safe_stem(model.path_id, key, hashed)
    else:
        slug = slugify(model.name)
        stem = safe_stem(f"{model.id}-{slug}" if slug else model.id, key, hashed)
    return f"{stem}.md" if lang == "zh" else f"{stem}.{lang}.md"


@dataclass
class RenderReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0  # left under an old name, or their model is gone
    failed: list[str] = field(default_factory=list)


def render_catalog(
    db: Path,
    out: Path,
    lang: str = "zh",
    details: str = "html",
    source: str | None = None,
    force: bool = False,
    templates_dir: str | None = None,
) -> RenderReport:
    """OUT/<source>/<card name> for every stored model whose inputs changed (every model of a
    source with force, or when the templates, labels, release or options changed)."""
    from ..store import snapshot

    report = RenderReport()
    key = render_key(lang, details, templates_dir)
    _first_render(out, _folders(source), lang, force)
    with snapshot(db) as snap, manifests.Manifest(out) as manifest:
        attached = manifest.uri()
        if attached:
            snap.attach(attached, "man")
        for src in _folders(source):
            check_folder(out, out / src)
            manifest.import_legacy(out / src, src, lang)
            for _, model_id, name in manifests.gone(snap.conn, lang, src) if attached else ():
                _remove(out, out / src, name)
                manifest.forget(src, model_id, lang)
                report.removed += 1
            full = force or not attached or manifest.key(lang, src) != key
            todo = None if full else manifests.changed(snap.conn, lang, src)
            if todo is not None:
                todo += _missing(out, manifest, lang, src, set(todo))
            done = 0
            for model in snap.models(src, report.failed, keys=todo):
                done += 1
                inputs = manifests.inputs(snap.conn, model.source, model.id)
                _write(model, out, lang, details, templates_dir, manifest, inputs, report)
            report.unchanged += manifests.count(snap.conn, src) - done
            if not report.failed:
                manifest.set_key(lang, src, key)
        manifest.flush()
        if attached:  # so that the manifest's own connection is the last, and tidies its WAL
            snap.detach("man")
        if manifest.problem:
            report.failed.append(f"the manifest {manifest.problem}")
    return report


def render_all(
    models: Iterable[Model],
    out: Path,
    lang: str = "zh",
    details: str = "html",
    templates_dir: str | None = None,
) -> RenderReport:
    """A card for each of these records (no database: no inputs to compare, so each card is
    rendered and written only if its bytes changed); renamed cards are still followed."""
    report = RenderReport()
    with manifests.Manifest(out) as manifest:
        for model in models:
            check_folder(out, out / model.source)
            _write(model, out, lang, details, templates_dir, manifest, None, report)
    return report


def _write(
    model: Model,
    out: Path,
    lang: str,
    details: str,
    templates_dir: str | None,
    manifest: manifests.Manifest,
    inputs: str | None,
    report: RenderReport,
) -> None:
    """Render and write one card; its failure is reported by id and the others go on."""
    folder = out / model.source
    old = manifest.name(model.source, model.id, lang)
    try:
        name = card_name(model, lang)
        owner = manifest.owner(model.source, lang, name)
        if owner is not None and owner != model.id:  # the same name ignoring case: the hash
            name = card_name(model, lang, hashed=True)
            owner = manifest.owner(model.source, lang, name)
        if owner is not None and owner != model.id:
            raise OutsideFolder(f"its card {name} is model {owner}'s already; not overwritten")
        text = render_card(model, lang, details, templates_dir)
        # A card never written before has no bytes to compare with.
        written = write_atomic(folder / name, text, if_changed=old is not None)
        if old and old != name:
            _remove(out, folder, old)
            report.removed += 1
    except OutsideFolder:
        raise
    except Exception as exc:  # an odd record, a template bug, a full disk: this card only
        report.failed.append(f"{model.source} {model.id}: {_reason(exc)}")
        return
    report.written += written
    report.unchanged += not written
    manifest.record(model.source, model.id, lang, name, inputs)


def _reason(exc: Exception) -> str:
    """One line: an OSError as 'cannot write NAME: why', anything else as its message."""
    if isinstance(exc, OSError):
        where = exc.filename2 or exc.filename  # a rename names its target second
        name = Path(where).name if where else "the card"
        return f"cannot write {name}: {exc.strerror or exc}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _remove(out: Path, folder: Path, name: str) -> None:
    """A card file the manifest names, never a path outside its folder nor through a link."""
    if name and "/" not in name and "\\" not in name and name not in (".", ".."):
        remove_inside(out, folder / name)


def _first_render(out: Path, folders: list[str], lang: str, force: bool) -> None:
    """A folder never rendered into (no manifest) whose source folders hold files already is
    someone else's: refused, so no file of theirs is overwritten or later removed."""
    if force or os.path.lexists(out / manifests.NAME):
        return
    for src in folders:
        check_folder(out, out / src)
        if (out / src / f".cards-{lang}.json").exists():
            continue  # rendered by a release before the manifest
        try:
            with os.scandir(out / src) as entries:
                taken = any(True for _ in entries)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if taken:
            raise OutsideFolder(
                f"{out / src} holds files this tool did not write (no {manifests.NAME} in "
                f"{out}); choose an empty --out, or give --force to write there anyway"
            )


def _missing(
    out: Path, manifest: manifests.Manifest, lang: str, src: str, already: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Cards the manifest lists but someone deleted: a count of the folder first, and a look
    at each file only when the counts differ."""
    folder = out / src
    if _cards_in(folder, lang) == manifest.count(src, lang):
        return []
    on_disk = {e.name for e in os.scandir(folder) if _is_card(e.name, lang)}
    return [
        (src, model_id)
        for model_id, name in manifest.names(src, lang)
        if name not in on_disk and (src, model_id) not in already
    ]


def _folders(source: str | None) -> list[str]:
    from .. import sources

    return [source] if source else [s.name for s in sources.SOURCES]


def _cards_in(folder: Path, lang: str) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if _is_card(e.name, lang))
    except FileNotFoundError:
        return 0


def _is_card(name: str, lang: str) -> bool:
    if not name.endswith(".md") or name.startswith("."):
        return False
    tagged = name.endswith((".en.md", ".bilingual.md"))
    return name.endswith(f".{lang}.md") if lang != "zh" else not tagged
