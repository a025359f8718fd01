"""Hugging Face Hub: Link-paged listing, model info with file sizes, the README, into records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..net.client import ApiClient, ApiError, HostPolicy, NotFound
from ..net.paging import LinkPaging
from ..records import File, Image, Model, Page, RecordError, Version
from . import base, hferrors, hubcard, readmelinks
from .base import Option

DEFAULT_ENDPOINT = "https://huggingface.co"
PAGE_SIZE = 100
SORTS = ("downloads", "likes", "lastModified", "createdAt", "trendingScore")


# 500 API calls per 5 minutes for anonymous users: 1.5/s stays under; RateLimit headers pace
# the rest. README downloads go through /resolve/, a separate, larger bucket.
POLICY = HostPolicy(
    name="huggingface",
    rps=1.5,
    burst=5,
    token_env="HF_TOKEN",
    other_secret_envs=("HUGGING_FACE_HUB_TOKEN",),
    own_error=hferrors.own_error,
)
# Asked of the listing so an unchanged repo (same sha) needs no further request.
LIST_EXPAND = (
    "sha",
    "lastModified",
    "downloads",
    "likes",
    "private",
    "gated",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)
# First path parts of huggingface.co pages that are not an owner's repos.
_NOT_OWNERS = frozenset(
    [
        "api",
        "datasets",
        "spaces",
        "models",
        "docs",
        "blog",
        "papers",
        "collections",
        "settings",
        "organizations",
        "login",
        "join",
        "pricing",
        "tasks",
        "learn",
        "posts",
    ]
)
UNKNOWN_CREATED = "2022-03-02T23:29:04.000Z"  # the Hub's "before dates were stored"


@dataclass(slots=True)
class Filters(base.Filters):
    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    sort: str | None = None

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for key, value in (
            ("search", self.search),
            ("author", self.author),
            ("pipeline_tag", self.pipeline_tag),
            ("sort", self.sort),
        ):
            if value:
                params.append((key, value))
        params += [("filter", f) for f in self.filters]
        params += [("expand", e) for e in LIST_EXPAND]
        params.append(("limit", str(PAGE_SIZE)))
        return params


def _page_items(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise RecordError("a /api/models page that is not a list")
    return body


def fetch_model(api: ApiClient, repo_id: str, revision: str | None = None) -> dict[str, Any]:
    """Model info with file sizes plus its README, as one raw record.

    A renamed repo answers 307 and is followed (the record keeps its stable `_id`). The README
    is optional: missing (EntryNotFound), gated (GatedRepo) or disabled, the repo is stored
    without one; a commit gone since the info was read (RevisionNotFound) reads the info again.
    """
    info = _info(api, repo_id, revision)
    for attempt in range(2):
        ref = commit(info, repo_id) or revision or "main"
        try:
            path = f"/{_repo_path(info['id'])}/resolve/{quote(ref, safe='')}/README.md"
            readme: str | None = api.fetch(path, expect="text").body
            status = 200
        except ApiError as exc:
            found = hferrors.kind(exc)
            if found == hferrors.REVISION_NOT_FOUND and attempt == 0:
                info = _info(api, info["id"], revision)
                continue
            if found not in _NO_README:
                raise
            readme, status = None, exc.status or 404
        return {
            "info": info,
            "readme": readme,
            "readme_status": status,
            "endpoint": api.base_url,
            "web": api.public_url,
        }
    raise AssertionError("unreachable")


# Answers after which a repo is stored without its README.
_NO_README = (hferrors.ENTRY_NOT_FOUND, hferrors.GATED, hferrors.DISABLED, hferrors.REPO_NOT_FOUND)


def _info(api: ApiClient, repo_id: str, revision: str | None) -> dict[str, Any]:
    """GET /api/models/{id}[/revision/{rev}]?blobs=true; the Hub's own "no such repo" (or a
    disabled repo) is NotFound, its refusal of the token one line saying so."""
    path = f"/api/models/{_repo_path(repo_id)}"
    if revision:
        path += f"/revision/{quote(revision, safe='')}"
    try:
        info = api.get_json(path, params=[("blobs", "true")])
    except ApiError as exc:
        found = hferrors.kind(exc)
        if found == hferrors.REPO_NOT_FOUND:
            raise NotFound(
                f"huggingface: {repo_id} not found or private (HTTP {exc.status}); "
                "a private repo needs HF_TOKEN",
                exc.status,
            ) from None
        if found == hferrors.REVISION_NOT_FOUND:
            raise NotFound(f"huggingface: {repo_id} has no revision {revision}", 404) from None
        if found == hferrors.DISABLED:
            raise NotFound(f"huggingface: {repo_id} is disabled by the Hub", exc.status) from None
        if found == hferrors.INVALID_TOKEN:
            raise ApiError(
                "huggingface: the Hub refuses HF_TOKEN (invalid credentials); "
                "set a valid token or unset it",
                401,
            ) from None
        raise
    if not isinstance(info, dict) or not isinstance(info.get("id"), str):
        raise RecordError(f"huggingface {repo_id}: model info without an id")
    if not REPO_ID.match(info["id"]) or "--" in info["id"] or ".." in info["id"]:
        raise RecordError(f"huggingface: {info['id'][:80]!r} is not a repo id (OWNER/NAME)")
    return info


def parse_model(raw: Any, web: str | None = None) -> Model:
    """From a stored record ({info, readme, ...}) or a bare saved /api/models/{id} body.

    Pure: links go to the public host stored with the payload ("web", else the "endpoint" it
    was fetched from), else to `web`, else to huggingface.co; never to the environment's."""
    if isinstance(raw, dict) and "info" not in raw and ("_id" in raw or "modelId" in raw):
        if not isinstance(raw.get("siblings"), list):
            raise RecordError(
                f"{raw.get('id') or raw.get('_id')}: a partial model info (no siblings: saved "
                "with ?expand=...?); save the whole /api/models/OWNER/NAME?blobs=true answer"
            )
        raw = {"info": raw, "readme": None, "readme_status": None}  # a saved model info body
    if not isinstance(raw, dict) or not isinstance(raw.get("info"), dict):
        raise RecordError("not a Hugging Face model info")
    info = raw["info"]
    repo_id = info.get("id") or info.get("modelId")
    if not isinstance(repo_id, str) or not repo_id:
        raise RecordError("huggingface model without an id")
    base = str(raw.get("web") or raw.get("endpoint") or web or DEFAULT_ENDPOINT).rstrip("/")
    card = info.get("cardData") if isinstance(info.get("cardData"), dict) else {}
    body: str | None = None
    if isinstance(raw.get("readme"), str):
        front, body, _error = hubcard.split(raw["readme"])
        card = {**card, **front}
    ref = commit(info, repo_id) or "main"
    resolve = f"{base}/{repo_id}/resolve/{ref}"
    links = _links(base, repo_id, ref)
    if body:
        body = readmelinks.resolve(body, links)
    key = str(info.get("_id") or repo_id)
    created = _text(info.get("createdAt"))
    created = None if created == UNKNOWN_CREATED else created
    version = Version(
        # A duplicated repo shares its original's commit shas: the key makes the id unique.
        id=f"{key}@{info.get('sha') or 'main'}",
        name=f"main@{str(info['sha'])[:7]}" if info.get("sha") else "main",
        base_model=", ".join(hubcard.text_list(card.get("base_model"))) or None,
        created_at=created,  # "Published" on the card; lastModified is "Updated"
        updated_at=_text(info.get("lastModified")),
        trained_words=hubcard.text_list(card.get("instance_prompt")),
        download_url=f"{base}/{repo_id}/tree/{ref}",
        files=[
            _file(s, resolve)
            for s in info.get("siblings") or []
            if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
        ],
        images=[Image(url=u) for u in hubcard.images(body or "", card.get("widget"), links)],
        raw={},
    )
    gated = info.get("gated")
    stats = {k: info[k] for k in ("downloads", "likes") if isinstance(info.get(k), int)}
    return Model(
        source=HuggingFace.name,
        id=key,
        name=repo_id,
        type=_text(info.get("pipeline_tag")) or _text(info.get("library_name")),
        description=body,
        tags=[t for t in info.get("tags") or [] if isinstance(t, str)],
        stats=stats,
        creator=_text(info.get("author")) or repo_id.split("/", 1)[0],
        nsfw="not-for-all-audiences" in (info.get("tags") or []),
        mode="Disabled"
        if info.get("disabled")
        else "Gated"
        if gated
        else "Private"
        if info.get("private")
        else None,
        license=_license(card) or _license_tag(info),
        url=f"{base}/{repo_id}",
        created_at=created,
        updated_at=_text(info.get("lastModified")),
        versions=[version],
        path_id=repo_id,
        raw=raw,
    )


def _links(host: str, repo_id: str, ref: str) -> readmelinks.Resolver:
    """Where the Hub's model page sends a README's relative targets: images to the file
    (resolve/), links to its page (blob/), tree/ and blob/ links and root-relative paths as
    written; `..` stays inside the repo (shared/api/HUGGINGFACE.md section 7)."""

    def resolve(target: str, image: bool) -> str:
        if target.startswith("/"):
            return host + target
        path, rest = readmelinks.split(target)
        path = readmelinks.in_repo(path)
        if not path:
            return f"{host}/{repo_id}{rest}"
        if path.split("/", 1)[0] in ("tree", "blob", "resolve", "raw"):
            return f"{host}/{repo_id}/{readmelinks.encoded(path)}{rest}"
        kind = "resolve" if image else "blob"
        return f"{host}/{repo_id}/{kind}/{ref}/{readmelinks.encoded(path)}{rest}"

    return resolve


def _file(sibling: dict[str, Any], resolve: str) -> File:
    name = sibling["rfilename"]
    lfs = sibling.get("lfs") if isinstance(sibling.get("lfs"), dict) else {}
    size = sibling.get("size") if isinstance(sibling.get("size"), int) else lfs.get("size")
    fmt = hubcard.weight_format(name)
    return File(
        name=name,
        url=f"{resolve}/{quote(name)}",
        kind="Model" if fmt else None,
        size_kb=size / 1024 if isinstance(size, int) else None,
        format=fmt,
        precision=hubcard.precision(name) if fmt else None,
        size_type=hubcard.size_type(name) if fmt else None,
        sha256=_text(lfs.get("sha256")),
        hashes={"SHA256": lfs["sha256"]} if isinstance(lfs.get("sha256"), str) else {},
        raw=sibling,
    )


def _license(card: dict[str, Any]) -> str | None:
    """The card's licence; for `other`, the name it gives."""
    names = hubcard.text_list(card.get("license"))
    if names == ["other"] and isinstance(card.get("license_name"), str):
        return f"other ({card['license_name']})"
    return ", ".join(names) or None


def _license_tag(info: dict[str, Any]) -> str | None:
    for tag in info.get("tags") or []:
        if isinstance(tag, str) and tag.startswith("license:"):
            return tag.split(":", 1)[1]
    return None


# huggingface_hub's validate_repo_id: [owner/]name of word characters, - and . (at most 96
# each), neither starting nor ending with - or .; "--" and ".." refused separately.
REPO_ID = re.compile(r"^(?:[\w](?:[\w.-]{0,94}[\w])?/)?[\w](?:[\w.-]{0,94}[\w])?$", re.ASCII)
SHA = re.compile(r"^[0-9a-f]{40}$")


def commit(info: dict[str, Any], repo_id: str) -> str | None:
    """The repo's commit sha (40 hex digits), None when the answer has none; anything else
    is refused for that repo: it goes into a URL path (quoting is not enough, since some
    servers decode %2F)."""
    sha = info.get("sha")
    if sha is None or sha == "":
        return None
    if not isinstance(sha, str) or not SHA.match(sha):
        raise RecordError(f"huggingface {repo_id}: sha {str(sha)[:60]!r} is not a commit id")
    return sha


def _repo_path(repo_id: str) -> str:
    """owner/name for a URL path: each part quoted, nothing else allowed through."""
    parts = repo_id.strip("/").split("/")
    if not 1 <= len(parts) <= 2 or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a Hugging Face repo id: {repo_id!r} (expected OWNER/NAME)")
    return "/".join(quote(p, safe="") for p in parts)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class HuggingFace(base.Source):
    name = "huggingface"
    cli_name = "hf"
    aliases = ("huggingface",)
    title = "Hugging Face"
    base_env = "HF_ENDPOINT"
    default_base = DEFAULT_ENDPOINT
    public_env = "HF_PUBLIC_URL"
    policy = POLICY
    sync_help = "Crawl Hugging Face /api/models (Link paging) with file sizes and READMEs."
    sync_example = "scraper sync hf --filter lora --pipeline-tag text-to-image --limit 200"
    export_help = (
        "Fetch a Hugging Face repo (OWNER/NAME): info, file sizes, README; store, print its card."
    )
    export_example = "scraper export hf stabilityai/sdxl-turbo --lang en"
    saved_help = "a Hugging Face model info"
    sync_options = (
        Option("search", "Substring of the repo name or owner."),
        Option("author", "Only repos of this user or organisation."),
        Option(
            "filter",
            "Tag, repeatable: diffusers, lora, stable-diffusion, license:mit, ...",
            multiple=True,
        ),
        Option("pipeline_tag", "Task, e.g. text-to-image."),
        Option("sort", choices=SORTS),
    )
    export_argument = Option("repo_id", "OWNER/NAME", argument=True)
    volatile = ("downloads", "likes", "trendingScore", "downloadsAllTime")
    workers = 4  # details and READMEs of a page fetched concurrently
    incremental = True  # sort=lastModified is newest first; an unchanged sha costs nothing

    def filters(self, options: dict[str, Any]) -> Filters:
        sort = options.get("sort")
        if options.get("incremental"):
            if sort not in (None, "lastModified"):
                raise ValueError(f"--incremental reads by lastModified, not by {sort}")
            sort = "lastModified"
        return Filters(
            search=options.get("search"),
            author=options.get("author"),
            filters=tuple(options.get("filter") or ()),
            pipeline_tag=options.get("pipeline_tag"),
            sort=sort,
        )

    def pages(self, api: ApiClient, filters: base.Filters, cursor: str | None) -> Iterator[Page]:
        return LinkPaging(api, "/api/models", filters.params(), _page_items).pages(cursor)

    def item_keys(self, items: list[Any]) -> list[str | None]:
        return [str(i.get("_id")) if isinstance(i, dict) else None for i in items]

    def reader(self, api: ApiClient) -> base.Reader:
        """A repo whose sha matches the stored one costs no request."""

        def read(item: Any, stored: Any) -> Model:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise RecordError("a listing item without an id")
            if stored and item.get("sha") and stored["info"].get("sha") == item["sha"]:
                info = dict(stored["info"])
                fresh = ("downloads", "likes", "lastModified")
                info.update({k: item[k] for k in fresh if k in item})
                return parse_model(dict(stored, info=info))
            return parse_model(fetch_model(api, item["id"]))

        return read

    def key_of_url(self, url: str) -> str | None:
        """https://huggingface.co/owner/name[/tree/main/...] -> owner/name (not a dataset's,
        a space's or a page of the site)."""
        parts = [p for p in urlsplit(url).path.split("/") if p]
        if len(parts) < 2 or parts[0] in _NOT_OWNERS:
            return None
        return f"{unquote(parts[0])}/{unquote(parts[1])}"

    def fetch(self, api: ApiClient, key: str) -> Any:
        return fetch_model(api, key)

    def parse(self, raw: Any) -> Model:
        return parse_model(raw)

    def saved_items(self, payload: Any) -> list[Any] | None:
        if isinstance(payload, dict) and ("_id" in payload or "info" in payload):
            return [payload]
        return None


SOURCE = HuggingFace()
