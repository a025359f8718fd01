"""What the index pages, the home page, the guide and search need of a model, kept small.

A summary is made once per changed model (in the worker that renders its pages) and kept in
the build manifest, so an incremental build re-reads only the models that changed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from typing import Any

from .. import sources
from ..records import File, Model, Version
from ..sanitize import safe_url, visible
from . import nsfw as nsfw_rules
from . import taxonomy
from .paths import model_page

MAX_WORDS = 20
MAX_TAGS = 50  # a model's first tags get index pages and search entries; its page shows all
THUMB = 200  # px: index tables show 80-96 px previews, 200 covers 2x screens
GALLERY = 450  # px: model pages, as on the cards


@dataclass(slots=True)
class Summary:
    source: str
    id: str
    name: str
    display_name: str | None = None
    type: str | None = None
    bases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    creator: str | None = None
    words: list[str] = field(default_factory=list)  # trigger words, for search
    downloads: int | None = None
    likes: int | None = None
    updated: str | None = None  # YYYY-MM-DD
    created: str | None = None  # YYYY-MM-DD, for "newest"
    # A checked http(s) URL of a small variant, or (images = "mirror") the stored copy's path
    # from the site root, "assets/img/...": pages put their root before such a path.
    thumb: str | None = None
    thumb_blur: bool = False
    nsfw: bool = False
    path_id: str | None = None  # owner/name where the id is opaque: the guide joins on it
    moved_from: list[str] = field(default_factory=list)  # earlier pages: redirects left there
    kind: str = taxonomy.OTHER  # the normalized type (taxonomy.toml)
    task: str | None = None  # the pipeline / task facet
    families: list[str] = field(default_factory=list)  # base families, set by the parent
    rating: int = 0  # 0 PG/PG-13, 1 R, 2 X and above (nsfw.rating)

    @property
    def key(self) -> str:
        return model_key(self.source, self.id)

    @property
    def page(self) -> str:
        """The Chinese page's path; the English one adds en/."""
        return model_page(self.source, self.id, self.path_id)

    @property
    def ref(self) -> str:
        """The id people know: a model id, or a repo's owner/name (path_id)."""
        return self.path_id or self.id

    def to_row(self) -> list[Any]:
        return [getattr(self, name) for name in FIELDS]

    @classmethod
    def from_row(cls, row: list[Any]) -> Summary:
        """A row of this release or an older one (fewer fields: the new ones take defaults)."""
        return cls(*row[: len(FIELDS)])


FIELDS = tuple(f.name for f in fields(Summary))
# Fields whose values repeat across models: one string object each, not one per model
# (a 100,000-model manifest holds about half a million such strings).
_SHARED = {
    FIELDS.index(name)
    for name in ("source", "type", "creator", "updated", "created", "kind", "task")
}
_SHARED_LISTS = {FIELDS.index(name) for name in ("bases", "tags", "families")}


def compact(row: list[Any]) -> list[Any]:
    """Intern a summary row's repeating strings in place; returns the row."""
    for i in _SHARED:
        if isinstance(row[i], str):
            row[i] = sys.intern(row[i])
    for i in _SHARED_LISTS:
        if isinstance(row[i], list):
            row[i] = [sys.intern(v) if isinstance(v, str) else v for v in row[i]]
    return row


def model_key(source: str, model_id: str) -> str:
    return f"{source}:{model_id}"


def summarize(model: Model, mode: str, pictures: Any = None) -> Summary | None:
    """The summary of a model as the site shows it; None when the NSFW setting hides it.
    `pictures` (site.pictures.Pictures) makes the thumbnail a stored copy when mirroring."""
    is_nsfw = nsfw_rules.model_is_nsfw(model)
    if is_nsfw and mode == "hide":
        return None
    first = first_image(model, is_nsfw, mode)
    if first and pictures is not None:
        thumb = pictures.src(model.source, first[0], THUMB)
    else:
        thumb = image_src(model.source, first[0], THUMB) if first else None
    vocabulary = taxonomy.load()
    raw_tags = [t.strip() for t in model.tags if t.strip()]
    return Summary(
        source=model.source,
        id=model.id,
        # Names as the search index and the lists show them: trimmed, no bidi or zero-width
        # tricks.
        name=visible(model.name).strip(),
        display_name=visible(model.display_name).strip() or None if model.display_name else None,
        type=model.type,
        bases=list(dict.fromkeys([*base_models(model), *taxonomy.bases_from_tags(raw_tags)])),
        tags=vocabulary.visible_tags(visible(t) for t in raw_tags)[:MAX_TAGS],
        creator=visible(model.creator).strip() or None if model.creator else None,
        words=_trigger_words(model),
        downloads=_count(model.stats.get("downloads")),
        likes=_count(model.stats.get("likes")),
        updated=_day(model.updated_at or _latest_date(model.versions)),
        created=_day(model.created_at or _first_date(model.versions)),
        thumb=thumb,
        thumb_blur=first[1] if first else False,
        nsfw=is_nsfw,
        path_id=model.path_id if model.path_id != model.id else None,
        kind=vocabulary.type_of(model.type, raw_tags),
        task=vocabulary.task_of(model.type, raw_tags),
        rating=nsfw_rules.rating(model, is_nsfw),
    )


def base_models(model: Model) -> list[str]:
    """Every version's base model once."""
    return list(dict.fromkeys(b for v in model.versions for b in split_bases(v.base_model)))


def split_bases(value: str | None) -> list[str]:
    """Hub cards may name several base models, joined by ', ' in the record."""
    return [name.strip() for name in (value or "").split(", ") if name.strip()]


def image_src(source: str, url: str, width: int = GALLERY) -> str | None:
    """A checked image URL, pointing at a small variant where the host makes one."""
    checked = safe_url(url)
    return sources.get(source).thumbnail(checked, width) if checked else None


def first_image(model: Model, is_nsfw: bool, mode: str) -> tuple[str, bool] | None:
    """(checked URL, blurred) of the first sample image the setting allows; with blur, a
    blurred NSFW one when there is no other."""
    fallback = None
    for version in model.versions:
        for image, blurred in nsfw_rules.visible_images(version.images, is_nsfw, mode):
            url = safe_url(image.url) if image.kind != "video" else None
            if not url:
                continue
            if not blurred:
                return url, False
            fallback = fallback or url
    return (fallback, True) if fallback else None


def main_file(version: Version) -> File | None:
    """The file to offer: the primary one, else a weight file at the top of the repository
    (safetensors first), else any weight file, else the first."""
    files = version.files
    rules = (
        lambda f: f.primary,
        lambda f: f.format == "SafeTensor" and "/" not in f.name,
        lambda f: f.format is not None and "/" not in f.name,
        lambda f: f.format == "SafeTensor",
        lambda f: f.format is not None,
        lambda f: True,
    )
    for rule in rules:
        for f in files:
            if rule(f):
                return f
    return None


def _trigger_words(model: Model) -> list[str]:
    words: dict[str, None] = {}
    for version in model.versions:
        for word in version.trained_words:
            if word.strip():
                words[word.strip()[:100]] = None
    return list(words)[:MAX_WORDS]


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _day(stamp: str | None) -> str | None:
    return stamp[:10] if stamp and len(stamp) >= 10 else None


def _latest_date(versions: list[Version]) -> str | None:
    dates = [d for d in (v.shown_date for v in versions) if d]
    return max(dates) if dates else None


def _first_date(versions: list[Version]) -> str | None:
    dates = [d for d in (v.created_at or v.published_at for v in versions) if d]
    return min(dates) if dates else None
