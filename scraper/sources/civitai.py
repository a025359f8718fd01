"""Civitai API v1: endpoints, the cursor crawl, and parsing every payload era into records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..http import ApiClient, HostPolicy, NotFound
from ..paging import CursorPaging
from ..records import File, Image, Model, Page, RecordError, Version
from . import base
from .base import Option

DEFAULT_BASE = "https://civitai.com/api/v1"
PAGE_SIZE = 100


_STAT_KEYS = {
    "downloadCount": "downloads",
    "favoriteCount": "favorites",
    "commentCount": "comments",
    "ratingCount": "ratings",
    "rating": "rating",
    "thumbsUpCount": "likes",
    "thumbsDownCount": "dislikes",
    "tippedAmountCount": "tips",
}
# Frozen at 0 from 2024-03 until their removal in 2025-11: a 0 next to thumbsUpCount means unknown.
_FROZEN_STATS = ("favorites", "ratings", "rating")
_NSFW_STRINGS = {"None": 1, "Soft": 2, "Mature": 4, "X": 8}
_IMAGE_HOSTS = ("image.civitai.com", "imagecache.civitai.com")


def _is_page_cap(body: Any) -> bool:
    return isinstance(body, dict) and "too many pages" in str(body.get("error", ""))


def _says_not_found(status: int, body: Any) -> bool:
    """Civitai's own 404s: {"error": "No model with id N" | "Model not found" | ...}."""
    return isinstance(body, dict) and isinstance(body.get("error"), str)


POLICY = HostPolicy(
    name="civitai",
    rps=1.0,
    burst=1,
    token_env="CIVITAI_TOKEN",
    page_cap=_is_page_cap,
    not_found=_says_not_found,
)


@dataclass(slots=True)
class Filters(base.Filters):
    """The /models query a crawl repeats on every page; also the crawl's resume key."""

    types: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    tag: str | None = None
    username: str | None = None
    query: str | None = None
    sort: str | None = None
    period: str | None = None
    nsfw: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
        params += [("types", t) for t in self.types]
        params += [("baseModels", b) for b in self.base_models]
        for key, value in (
            ("tag", self.tag),
            ("username", self.username),
            ("query", self.query),
            ("sort", self.sort),
            ("period", self.period),
        ):
            if value:
                params.append((key, value))
        params.append(("nsfw", "true" if self.nsfw else "false"))
        params += sorted(self.extra.items())
        return params


def _page_items(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise RecordError("a /models page without an items list")
    return body["items"]


def _next_cursor(body: dict[str, Any]) -> str | None:
    """Opaque: a number in 2023, an ISO date or "a|b|c" today; kept as text. An empty page
    with a cursor is not the end (#1848): only a missing cursor is."""
    meta = body.get("metadata") or {}
    following = meta.get("nextCursor") if isinstance(meta, dict) else None
    return None if following is None or following == "" else str(following)


@dataclass
class RecoverSkipped:
    """Civitai skips the item a multi-part cursor names (#1111, #1372): fetch it by id.

    "…|<id>" names the first item of the next page; when the page does not start with it and
    the last page did not hold it, the item was skipped and is asked for directly.
    """

    inner: CursorPaging
    api: ApiClient

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        previous: set[str] = set()
        for page in self.inner.pages(cursor):
            if page.cursor is not None:
                page.items = self._recover(page.cursor, page.items, previous)
            yield page
            previous = {str(i.get("id")) for i in page.items if isinstance(i, dict)}

    def _recover(self, cursor: str, items: list, previous: set[str]) -> list:
        if "|" not in cursor:
            return items
        wanted = cursor.rsplit("|", 1)[1]
        first = str(items[0].get("id")) if items and isinstance(items[0], dict) else None
        if not wanted.isdigit() or wanted == first or wanted in previous:
            return items
        try:
            return [get_model(self.api, wanted), *items]
        except NotFound:
            return items  # gone between two pages: nothing to recover


def get_models(api: ApiClient, ids: list[str]) -> list[Any]:
    """Up to 100 known models in one request (long id lists fail with 400 upstream)."""
    params = [("ids", ",".join(str(int(i)) for i in ids)), ("limit", str(PAGE_SIZE))]
    body = api.get_json("/models", params=[*params, ("nsfw", "true")])
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise RecordError("a /models?ids= answer without an items list")
    return body["items"]


def get_model(api: ApiClient, model_id: str | int) -> Any:
    return api.get_json(f"/models/{int(model_id)}")


def get_version(api: ApiClient, version_id: str | int) -> Any:
    return api.get_json(f"/model-versions/{int(version_id)}")


def get_version_by_hash(api: ApiClient, file_hash: str) -> Any:
    if not file_hash.isalnum():
        raise ValueError(f"not a file hash: {file_hash!r}")
    return api.get_json(f"/model-versions/by-hash/{file_hash}")


def model_items(payload: Any) -> list[Any] | None:
    """A saved response may be one model, a list page, or a bare list of items."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, dict) and isinstance(payload.get("modelVersions"), list):
        return [payload]
    return None


# --- parsing ---------------------------------------------------------------------------


def parse_model(raw: Any) -> Model:
    """Read a list item or a /models/{id} body of any era; a missing key is absent, never 0."""
    if not isinstance(raw, dict):
        raise RecordError("a model must be a JSON object")
    model_id = _id(raw.get("id"), "model")
    name = raw.get("name")
    if not isinstance(name, str):
        raise RecordError(f"model {model_id} has no name")
    versions = _list(raw, "modelVersions")
    if not isinstance(versions, list):
        raise RecordError(f"model {model_id}: modelVersions is not a list")
    creator = raw.get("creator") if isinstance(raw.get("creator"), dict) else {}
    return Model(
        source=Civitai.name,
        id=model_id,
        name=name,
        type=_text(raw.get("type")),
        description=raw.get("description") if isinstance(raw.get("description"), str) else None,
        tags=_tags(raw.get("tags")),
        stats=_stats(raw.get("stats")),
        nsfw=raw.get("nsfw") if isinstance(raw.get("nsfw"), bool) else None,
        nsfw_level=_int(raw.get("nsfwLevel")),
        creator=_text(creator.get("username")),
        creator_image=_text(creator.get("image")),
        mode=_text(raw.get("mode")),
        license=_license(raw),
        url=f"https://civitai.com/models/{model_id}",
        created_at=_text(raw.get("createdAt")),
        updated_at=_text(raw.get("updatedAt")),
        versions=[_version(v, model_id) for v in versions],
        raw=raw,
    )


def _version(raw: Any, model_id: str) -> Version:
    if not isinstance(raw, dict):
        raise RecordError(f"model {model_id}: a version is not a JSON object")
    version_id = _id(raw.get("id"), f"model {model_id} version")
    files = _list(raw, "files")
    images = _list(raw, "images")
    if not isinstance(files, list) or not isinstance(images, list):
        raise RecordError(f"version {version_id}: files or images is not a list")
    return Version(
        id=version_id,
        name=_text(raw.get("name")) or "",
        base_model=_text(raw.get("baseModel")),
        created_at=_text(raw.get("createdAt")),
        updated_at=_text(raw.get("updatedAt")),
        published_at=_text(raw.get("publishedAt")),
        stats=_stats(raw.get("stats")),
        trained_words=[w for w in raw.get("trainedWords") or [] if isinstance(w, str)],
        description=raw.get("description") if isinstance(raw.get("description"), str) else None,
        download_url=_text(raw.get("downloadUrl")),
        files=[_file(f, version_id) for f in files],
        # An image without a url is kept (stored, not shown) so nothing the API sent is lost.
        images=[_image(i) for i in images if isinstance(i, dict)],
        raw=raw,
    )


def _file(raw: Any, version_id: str) -> File:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise RecordError(f"version {version_id}: a file has no name")
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    hashes = raw.get("hashes") if isinstance(raw.get("hashes"), dict) else {}
    hashes = {str(k): str(v) for k, v in hashes.items() if v}
    size = raw.get("sizeKB")
    return File(
        name=raw["name"],
        url=_text(raw.get("downloadUrl")),
        id=_text(raw.get("id")),
        kind=_text(raw.get("type")),
        size_kb=float(size) if isinstance(size, int | float) else None,
        format=_text(meta.get("format")),
        precision=_text(meta.get("fp")),
        size_type=_text(meta.get("size")),
        primary=raw.get("primary") is True,
        sha256=hashes.get("SHA256"),
        hashes=hashes,
        pickle_scan=_text(raw.get("pickleScanResult")),
        virus_scan=_text(raw.get("virusScanResult")),
        raw=raw,
    )


def _image(raw: dict[str, Any]) -> Image:
    url = raw.get("url") if isinstance(raw.get("url"), str) else ""
    image_id = _text(raw.get("id"))
    if image_id is None:
        # Detail payloads drop the image id; it survives as the URL's file name.
        stem = urlsplit(url).path.rsplit("/", 1)[-1].split(".", 1)[0]
        image_id = stem if stem.isdigit() else None
    level = _int(raw.get("nsfwLevel"))
    if level is None:
        nsfw = raw.get("nsfw")
        level = _NSFW_STRINGS.get(nsfw) if isinstance(nsfw, str) else (1 if nsfw is False else None)
    return Image(
        url=url,
        id=image_id,
        nsfw_level=level,
        width=_int(raw.get("width")),
        height=_int(raw.get("height")),
        kind=_text(raw.get("type")),
        raw=raw,
    )


def thumbnail(url: str, options: str = "width=450") -> str:
    """Point a Civitai image URL at a 450 px variant instead of the multi-megabyte original."""
    host_end = url.find("/", 8)
    if not url.startswith("https://") or url[8:host_end] not in _IMAGE_HOSTS or "?" in url:
        return _thumbnail_slow(url, options) if url.startswith("http") else url
    segments = url[host_end:].split("/")  # ['', account, uuid, options, name]
    return _with_options(url[:host_end], segments, options)


def _thumbnail_slow(url: str, options: str) -> str:
    parts = urlsplit(url)
    if parts.hostname not in _IMAGE_HOSTS:
        return url
    rebuilt = _with_options("", parts.path.split("/"), options)
    return urlunsplit(parts._replace(path=rebuilt))


def _with_options(prefix: str, segments: list[str], options: str) -> str:
    if len(segments) >= 5 and "=" in segments[-2]:
        segments[-2] = options
    elif len(segments) == 4:
        segments.insert(3, options)
    return prefix + "/".join(segments)


def _stats(raw: Any) -> dict[str, int | float]:
    if not isinstance(raw, dict):
        return {}
    stats = {
        _STAT_KEYS[k]: v
        for k, v in raw.items()
        if k in _STAT_KEYS and isinstance(v, int | float) and not isinstance(v, bool)
    }
    if "likes" in stats:
        for key in _FROZEN_STATS:
            if stats.get(key) == 0:
                del stats[key]
    return stats


def _tags(raw: Any) -> list[str]:
    """Strings in lists; objects {"name": ...} in 2023 detail bodies."""
    tags = []
    for tag in raw or []:
        if isinstance(tag, dict):
            tag = tag.get("name")
        if isinstance(tag, str):
            tags.append(tag)
    return tags


def _license(raw: dict[str, Any]) -> str | None:
    """Civitai's permissions, from allowCommercialUse: a string, an array, or "{A,B}"
    depending on the era."""
    value = raw.get("allowCommercialUse")
    if isinstance(value, str):
        value = [v for v in value.strip("{}").split(",") if v]
    if not isinstance(value, list):
        return None
    return f"commercial use: {','.join(str(v) for v in value) or 'None'}"


def _list(raw: dict[str, Any], key: str) -> Any:
    value = raw.get(key)
    return [] if value is None else value


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise RecordError(f"{what} has no id")
    return str(value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Civitai(base.Source):
    name = cli_name = "civitai"
    title = "Civitai"
    base_env = "CIVITAI_API_BASE"
    default_base = DEFAULT_BASE
    policy = POLICY
    sync_help = "Crawl Civitai /models with cursor pagination into the database."
    sync_example = 'scraper sync civitai --types LORA --base-models "SD 1.5" --limit 500'
    export_help = (
        "Fetch /models/MODEL_ID (or the model of a version or file hash), store it, print its card."
    )
    export_example = "scraper export civitai 4823 --lang en"
    saved_help = "a Civitai model, list item or list page"
    sync_options = (
        Option("types", "Model type, repeatable: LORA, Checkpoint, ...", multiple=True),
        Option("base_models", "Base model, repeatable: 'SD 1.5', ...", multiple=True),
        Option("tag", "Only models with this tag."),
        Option("username", "Only models by this creator."),
        Option("query", "Search text."),
        Option("sort", "'Highest Rated', 'Most Downloaded', 'Newest', ... (--incremental: Newest)"),
        Option("period", choices=("AllTime", "Year", "Month", "Week", "Day")),
        Option(
            "nsfw",
            "Include NSFW models (the level is stored either way).",
            kind=bool,
            default=True,
            negative=True,
        ),
    )
    export_argument = Option("model_id", kind=int, argument=True)
    export_options = (
        Option("version", "Find the model by one of its version ids instead.", kind=int),
        Option("hash", "Find the model by a file hash (SHA256, AutoV2, ...)."),
    )
    nesting = ("modelVersions", "files", "images")
    volatile = ("stats",)
    refresh_batch = PAGE_SIZE
    incremental = True
    exact_zh = True
    html_description = True

    def filters(self, options: dict[str, Any]) -> Filters:
        sort = options.get("sort") or ("Newest" if options.get("incremental") else None)
        return Filters(
            types=tuple(options.get("types") or ()),
            base_models=tuple(options.get("base_models") or ()),
            tag=options.get("tag"),
            username=options.get("username"),
            query=options.get("query"),
            sort=sort,
            period=options.get("period"),
            nsfw=options.get("nsfw", True) is not False,
        )

    def pages(self, api: ApiClient, filters: base.Filters, cursor: str | None) -> Iterator[Page]:
        assert isinstance(filters, Filters)
        paging = CursorPaging(api, "/models", filters.params(), _page_items, _next_cursor)
        # With `query` the cursor is a plain offset, which names no item to recover.
        crawl = paging if filters.query else RecoverSkipped(paging, api)
        return crawl.pages(cursor)

    def fetch_many(self, api: ApiClient, ids: list[str]) -> list[Any]:
        return get_models(api, ids)

    def locate(self, api: ApiClient, key: str | None, options: dict[str, Any]) -> str:
        """The model behind a version id or a file hash, when one of those is given."""
        version, file_hash = options.get("version"), options.get("hash")
        if [key, version, file_hash].count(None) != 2:
            raise ValueError("give exactly one of MODEL_ID, --version or --hash")
        if key is not None:
            return str(int(key))
        if file_hash is not None and not str(file_hash).isalnum():
            raise ValueError(f"{file_hash!r} is not a file hash")
        body = (
            get_version(api, version)
            if version is not None
            else get_version_by_hash(api, str(file_hash))
        )
        model_id = body.get("modelId") if isinstance(body, dict) else None
        if not isinstance(model_id, int):
            raise RecordError("the version answer names no modelId")
        return str(model_id)

    def fetch(self, api: ApiClient, key: str) -> Any:
        return get_model(api, key)

    def parse(self, raw: Any) -> Model:
        return parse_model(raw)

    def saved_items(self, payload: Any) -> list[Any] | None:
        return model_items(payload)

    def thumbnail(self, url: str) -> str:
        return thumbnail(url)


SOURCE = Civitai()
