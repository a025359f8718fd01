"""The one record shape every source is normalized to, so store and render never see raw APIs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Number = int | float

# Counter names shared by every source, in the order cards print them.
MODEL_STATS = (
    "downloads",
    "favorites",
    "comments",
    "ratings",
    "rating",
    "likes",
    "dislikes",
    "tips",
)
VERSION_STATS = ("downloads", "ratings", "rating", "likes", "dislikes")


@dataclass(slots=True)
class Image:
    url: str
    id: str | None = None
    nsfw_level: int | None = None
    width: int | None = None
    height: int | None = None
    kind: str | None = None  # image, video, audio
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class File:
    name: str
    url: str | None = None
    id: str | None = None
    kind: str | None = None  # Model, VAE, Config, ...
    size_kb: float | None = None
    format: str | None = None  # SafeTensor, PickleTensor, GGUF, ...
    precision: str | None = None  # fp16, fp32, bf16, ...
    size_type: str | None = None  # full, pruned
    primary: bool = False
    sha256: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    pickle_scan: str | None = None
    virus_scan: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class Version:
    id: str
    name: str
    base_model: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    published_at: str | None = None
    stats: dict[str, Number] = field(default_factory=dict)
    trained_words: list[str] = field(default_factory=list)
    description: str | None = None
    download_url: str | None = None
    files: list[File] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shown_date(self) -> str | None:
        """The 2023 format prints updatedAt; today's list items only carry publishedAt."""
        return self.updated_at or self.published_at or self.created_at


@dataclass(slots=True)
class Model:
    source: str
    id: str
    name: str
    type: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    stats: dict[str, Number] = field(default_factory=dict)
    nsfw: bool | None = None
    nsfw_level: int | None = None
    creator: str | None = None
    creator_image: str | None = None
    mode: str | None = None  # Archived, TakenDown
    license: str | None = None
    url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    versions: list[Version] = field(default_factory=list)
    # Readable id for file names where `id` is an opaque stable key (a database id, say).
    path_id: str | None = None
    display_name: str | None = None  # a name in Chinese beside `name`, where the API has one
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class Page:
    """One page of a listing: raw items, the opaque cursor to the next page (None: the end)
    and the cursor this page was asked for with (None: the first page)."""

    items: list[Any]
    next_cursor: str | None
    cursor: str | None = None
    damaged: str | None = None  # what a lenient read repaired in the answer (see http)


class RecordError(ValueError):
    """A payload that cannot be read as a model: kept raw and reported, never half-stored."""
