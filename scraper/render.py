"""Records to markdown cards: one Jinja environment, safe file names, atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from .records import Image, Model
from .sources.civitai import thumbnail

LANGS = ("zh",)
SLUG_MAX = 60


@cache
def environment(templates_dir: str | None = None) -> jinja2.Environment:
    """Markdown templates: no autoescape (cards are byte-exact raw text); scraped values are
    only ever context, never template source."""
    path = templates_dir or str(resources.files("scraper.templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(path),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(tag_list=tag_list, gallery=gallery, img_cells=img_cells)
    return env


# Filters in Python rather than chains of Jinja map(): cards are rendered by the thousand.


def tag_list(tags: list[str]) -> str:
    """`a`, `b`: every tag in backticks, verbatim."""
    return ", ".join(f"`{t}`" for t in tags)


def gallery(images: list[Image], limit: int) -> list[Image]:
    """The first `limit` images that have a URL, in API order."""
    return [i for i in images if i.url][:limit]


def img_cells(images: list[Image]) -> str:
    """<img> cells of a one-row table, pointing at 450 px thumbnails."""
    return " | ".join(f'<img src="{thumbnail(i.url)}" />' for i in images)


def render_card(model: Model, lang: str = "zh", templates_dir: str | None = None) -> str:
    template = environment(templates_dir).get_template(f"{model.source}.{lang}.md.j2")
    return template.render(model=model)


def slugify(name: str) -> str:
    """Lower-case ASCII words of a name: safe on every file system, possibly empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_name.lower()))
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug


def safe_id(model_id: str) -> str:
    """Ids become path parts: 'owner/name' -> 'owner--name', nothing else but [A-Za-z0-9._-]."""
    text = model_id.replace("/", "--")
    text = re.sub(r"[^A-Za-z0-9._-]", "_", text).strip(".")
    return text or "_"


def card_name(model: Model) -> str:
    slug = slugify(model.name)
    stem = safe_id(model.id)
    return f"{stem}-{slug}.md" if slug else f"{stem}.md"


def write_atomic(path: Path, text: str) -> bool:
    """Write via a temp file and rename, so a reader never sees half a card; False if unchanged."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".md")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


@dataclass
class RenderReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[str] = field(default_factory=list)


def render_all(
    models: Iterable[Model], out_dir: Path, lang: str = "zh", templates_dir: str | None = None
) -> RenderReport:
    """Write DIR/<source>/<id>-<slug>.md for each model; drop a card left under an old name."""
    report = RenderReport()
    existing: dict[Path, dict[str, list[Path]]] = {}
    for model in models:
        folder = out_dir / model.source
        if folder not in existing:
            existing[folder] = _cards_by_id(folder)
        path = folder / card_name(model)
        try:
            text = render_card(model, lang, templates_dir)
        except Exception as exc:  # a template bug or odd record must not stop the other cards
            report.failed.append(f"{model.source} {model.id}: {exc}")
            continue
        if write_atomic(path, text):
            report.written += 1
        else:
            report.unchanged += 1
        for old in existing[folder].pop(safe_id(model.id), []):
            if old != path:
                old.unlink(missing_ok=True)
                report.removed += 1
    return report


def _cards_by_id(folder: Path) -> dict[str, list[Path]]:
    cards: dict[str, list[Path]] = {}
    if folder.is_dir():
        for path in folder.glob("*.md"):
            stem = path.stem
            key = stem.split("-", 1)[0] if not stem.startswith("-") else stem
            cards.setdefault(key, []).append(path)
    return cards
