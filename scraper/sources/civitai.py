"""Civitai API v1: endpoints, the cursor crawl and export lookups (parsing: civitai_parse)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..net.client import ApiClient, HostPolicy, NotFound
from ..net.paging import CursorPaging, inclusive_date_cursor
from ..records import Image, Model, Page, RecordError
from . import base
from .base import Option
from .civitai_parse import model_items, parse_model, thumbnail

__all__ = ["SOURCE", "Civitai", "model_items", "parse_model", "thumbnail"]

DEFAULT_BASE = "https://civitai.com/api/v1"
PAGE_SIZE = 100
HASH_BATCH = 100  # POST /model-versions/by-hash takes up to 100 hashes


# GET /models' enumerations (shared/api/CIVITAI.md sections 2 and 5: the ModelType enum of
# the civitai schema, 23 values; the sort orders the server accepts).
MODEL_TYPES = (
    "Checkpoint",
    "TextualInversion",
    "Hypernetwork",
    "AestheticGradient",
    "LORA",
    "LoCon",
    "DoRA",
    "Controlnet",
    "Upscaler",
    "MotionModule",
    "VAE",
    "Poses",
    "Wildcards",
    "Workflows",
    "ComfyWorkflows",
    "Other",
    "TextEncoder",
    "UNet",
    "CLIPVision",
    "CLIP",
    "Detection",
    "VisionLanguage",
    "LLM",
)
SORTS = (
    "Highest Rated",
    "Most Downloaded",
    "Most Liked",
    "Most Discussed",
    "Most Collected",
    "Most Images",
    "Newest",
    "Oldest",
)


def _is_page_cap(body: Any) -> bool:
    return isinstance(body, dict) and "too many pages" in str(body.get("error", ""))


def _says_not_found(status: int, headers: Mapping[str, str], body: Any) -> bool:
    """Civitai's own errors: {"error": "No model with id N" | "Model not found" | ...}."""
    return isinstance(body, dict) and isinstance(body.get("error"), str)


POLICY = HostPolicy(
    name="civitai",
    rps=1.0,
    burst=1,
    token_env="CIVITAI_TOKEN",
    page_cap=_is_page_cap,
    own_error=_says_not_found,
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
    the last page did not hold it, the item was skipped and is asked for directly. (A bare
    date cursor names no id: CursorPaging sends it 1 ms later, see inclusive_date_cursor.)
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
        except (NotFound, RecordError):
            return items  # gone between two pages, or a damaged answer: nothing to recover


def get_models(api: ApiClient, ids: list[str]) -> list[Any]:
    """Up to 100 known models in one request (long id lists fail with 400 upstream)."""
    # A stored id that is not a number (an older release kept any) is left out of the batch:
    # asked for alone later, it fails alone.
    numbers = [str(int(i)) for i in ids if _numeric(i)]
    if not numbers:
        return []
    params = [("ids", ",".join(numbers)), ("limit", str(PAGE_SIZE))]
    body = api.get_json("/models", params=[*params, ("nsfw", "true")])
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise RecordError("a /models?ids= answer without an items list")
    return body["items"]


def get_model(api: ApiClient, model_id: str | int) -> Any:
    if not _numeric(model_id):
        raise RecordError(f"{str(model_id)[:40]!r} is not a Civitai model id (a whole number)")
    return api.get_json(f"/models/{int(model_id)}")


def _numeric(value: str | int) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 18


def get_version(api: ApiClient, version_id: str | int) -> Any:
    return api.get_json(f"/model-versions/{int(version_id)}")


def get_version_by_hash(api: ApiClient, file_hash: str) -> Any:
    if not file_hash.isalnum():
        raise ValueError(f"not a file hash: {file_hash!r}")
    return api.get_json(f"/model-versions/by-hash/{file_hash}")


def get_versions_by_hashes(api: ApiClient, shas: list[str]) -> dict[str, Any]:
    """POST /model-versions/by-hash: up to 100 full SHA256s in one request, each matched to
    the version answer whose files name it (CIVITAI.md section 4, "Bulk and mini lookups":
    unmatched hashes are dropped, so a hash no version names is unknown). Where several
    versions name one hash, the oldest publishedAt wins, as the single lookup decides.
    RecordError when the answer is not a list."""
    wanted = {sha.upper(): sha for sha in shas}
    if len(wanted) > HASH_BATCH or not all(len(k) == 64 and k.isalnum() for k in wanted):
        raise ValueError("up to 100 full SHA256 hashes")
    body = api.fetch("/model-versions/by-hash", method="POST", json=list(wanted)).body
    if not isinstance(body, list):
        raise RecordError(f"the by-hash answer is a {type(body).__name__}, not a list")
    found: dict[str, Any] = {}
    for version in body:
        for sha in _file_hashes(version) & wanted.keys():
            held = found.get(wanted[sha])
            if held is None or _published(version) < _published(held):
                found[wanted[sha]] = version
    return found


def _file_hashes(version: Any) -> set[str]:
    """The upper-cased SHA256 of each file of a version answer (the API upper-cases them)."""
    files = version.get("files") if isinstance(version, dict) else None
    hashes = (
        [f.get("hashes") for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    )
    return {str(h["SHA256"]).upper() for h in hashes if isinstance(h, dict) and h.get("SHA256")}


def _published(version: dict[str, Any]) -> str:
    return str(version.get("publishedAt") or version.get("createdAt") or "")


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
    saved_help = "a Civitai model, list item, list page or model version (*.civitai.info)"
    saved_suffixes = (".json", ".civitai.info")  # Civitai Helper-style tools save versions
    sync_options = (
        Option("types", "Model type, repeatable.", choices=MODEL_TYPES, multiple=True),
        Option("base_models", "Base model, repeatable: 'SD 1.5', ...", multiple=True),
        Option("tag", "Only models with this tag."),
        Option("username", "Only models by this creator."),
        Option("query", "Search text."),
        Option("sort", "--incremental reads by Newest.", choices=SORTS),
        Option("period", choices=("AllTime", "Year", "Month", "Week", "Day")),
        Option(
            "nsfw",
            "Include NSFW models (the level is stored either way).",
            kind=bool,
            default=True,
            negative=True,
        ),
    )
    export_argument = Option("model_id", "A model id, or its page URL.", argument=True)
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
    hash_lookup = True
    # Civitai Helper's name for the by-hash answer beside a model file: base + ".civitai" +
    # ".info", written json.dumps(info, indent=4) (butaixianran/Stable-Diffusion-Webui-
    # Civitai-Helper, scripts/ch_lib/civitai.py `suffix`, scripts/ch_lib/model.py `info_ext`,
    # `write_model_info`); sd-civitai-browser-plus writes the same name
    # (BlafKing/sd-civitai-browser-plus, scripts/civitai_file_manage.py `save_images`).
    info_suffix = ".civitai.info"
    hash_batch = HASH_BATCH

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
        paging.send = inclusive_date_cursor  # sort=Newest's date cursors skip an item too
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
            if not key.strip().isdigit():
                raise ValueError(
                    f"{key!r} is not a model id (a number) or a model page URL "
                    "(https://civitai.com/models/4468/...)"
                )
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

    def key_of_url(self, url: str) -> str | None:
        """https://civitai.com/models/4468/counterfeit-v30?modelVersionId=57618 -> 4468."""
        found = re.match(r"/models/(\d+)(?:/|$)", urlsplit(url).path)
        return found.group(1) if found else None

    def fetch(self, api: ApiClient, key: str) -> Any:
        return get_model(api, key)

    def parse(self, raw: Any) -> Model:
        return parse_model(raw)

    def saved_items(self, payload: Any) -> list[Any] | None:
        return model_items(payload)

    def thumbnail(self, url: str, width: int = 450) -> str:
        return thumbnail(url, f"width={width}")

    def version_by_hash(self, api: ApiClient, sha256: str) -> Any:
        return get_version_by_hash(api, sha256)

    def versions_by_hashes(self, api: ApiClient, shas: list[str]) -> dict[str, Any]:
        return get_versions_by_hashes(api, shas)

    def version_keys(self, body: Any) -> tuple[str, str]:
        model_id = body.get("modelId") if isinstance(body, dict) else None
        version_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(model_id, int) or not isinstance(version_id, int):
            raise RecordError("the by-hash answer names no modelId or id")
        return str(model_id), str(version_id)

    def generation(self, image: Image) -> dict[str, str]:
        """An image's `meta` (A1111's names, camelCased by Civitai), when the answer had it."""
        meta = image.raw.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("meta"), dict):
            meta = meta["meta"]  # /images nests it unless flatMeta=true
        if not isinstance(meta, dict):
            return {}
        found = {}
        for name, keys in _GENERATION:
            for k in keys:
                value = meta.get(k)
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    text = str(value).strip()
                    if text:
                        found[name] = text[:5000]
                        break
        return found


_GENERATION = (  # our name, Civitai's keys in order of preference
    ("prompt", ("prompt",)),
    ("negative_prompt", ("negativePrompt",)),
    ("sampler", ("sampler",)),
    ("steps", ("steps",)),
    ("cfg", ("cfgScale",)),
    ("seed", ("seed",)),
    ("model", ("Model",)),
    ("size", ("Size",)),
)


SOURCE = Civitai()
