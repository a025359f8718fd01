"""ModelScope: OpenAPI listing by owner or task, legacy detail (with README) and file list."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..net.client import ApiClient, ApiError, HostPolicy, NotFound, Transient
from ..net.paging import PageNumberPaging
from ..records import File, Image, Model, Page, RecordError, Version
from . import base, hubcard, readmelinks
from .base import Option

DEFAULT_DOMAIN = "modelscope.cn"
DEFAULT_WEB = f"https://{DEFAULT_DOMAIN}"
PAGE_SIZE = 50
MAX_DEPTH = 3000  # the OpenAPI serves page_number * page_size <= 3000 per query
REVISION = "master"  # ModelScope's default branch, not main


# No published limits; the legacy API reads the token from a cookie, the OpenAPI from Bearer.
def _says_not_found(status: int, headers: Mapping[str, str], body: Any) -> bool:
    """ModelScope answers in its envelope ({Code, Message} or {code, message}) even on 404."""
    return isinstance(body, dict) and any(k in body for k in ("Code", "Message", "code", "error"))


POLICY = HostPolicy(
    name="modelscope",
    rps=1.0,
    burst=2,
    token_env="MODELSCOPE_API_TOKEN",
    cookie="m_session_id",
    own_error=_says_not_found,
)


def unwrap(body: Any) -> Any:
    """The data of an envelope; a 200 that says Success false (or a bad Code) is an error."""
    if not isinstance(body, dict):
        raise ApiError("modelscope: an answer that is not a JSON object")
    if "Success" in body or "Code" in body:  # legacy: {Code, Success, Data, Message}
        ok = body.get("Success") is True and body.get("Code") in (200, "200", None)
        data, message, code = body.get("Data"), body.get("Message"), body.get("Code")
    else:  # OpenAPI: {success, data, message, code?}
        ok = body.get("success", True) is not False
        data, message, code = body.get("data"), body.get("message"), body.get("code")
    if ok:
        return data
    text = f"modelscope: {message or 'request failed'} (Code {code})"
    if code == "RateLimitExceed" or "RateLimit" in str(message):
        raise Transient(text)
    if isinstance(code, int) and code >= 500 and code < 600:
        raise Transient(text)  # a server error wrapped in a 200
    if code in (404, "404", "NotExist") or "not exist" in str(message).lower():
        raise NotFound(text, 404)
    raise ApiError(text, code if isinstance(code, int) else None)


@dataclass(slots=True)
class Filters(base.Filters):
    owner: str | None = None
    task: str | None = None
    search: str | None = None
    sort: str | None = None
    names: tuple[str, ...] = ()  # named models instead of a listing

    def params(self) -> list[tuple[str, str]]:
        return [("model", n) for n in self.names] or self.listing()

    def listing(self) -> list[tuple[str, str]]:
        params = [
            (key, value)
            for key, value in (
                ("owner", self.owner),
                ("filter.task", self.task),
                ("search", self.search),
                ("sort", self.sort),
            )
            if value
        ]
        return [*params, ("page_size", str(PAGE_SIZE))]


def _page_models(data: Any) -> list[Any]:
    items = data.get("models") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RecordError("a modelscope listing without a models list")
    return items


def _more(data: dict[str, Any], number: int, items: list[Any]) -> bool:
    """Whether page number+1 exists; the service stops at 3000 results per query."""
    total = data.get("total_count") if isinstance(data.get("total_count"), int) else None
    size = data.get("page_size") if isinstance(data.get("page_size"), int) else PAGE_SIZE
    seen = number * size  # the service may serve fewer per page than asked
    full = len(items) >= size if total is None else seen < total
    return bool(items) and full and seen < MAX_DEPTH


def named_pages(names: list[str]) -> Iterator[Page]:
    """Named models as one page, so they go through the same checkpointed crawl."""
    yield Page([{"id": n} for n in names], None)


def fetch_model(api: ApiClient, model_id: str) -> dict[str, Any]:
    """Detail (README inline) and file list, as one raw record."""
    path = _model_path(model_id)
    detail = api.fetch(f"/api/v1/models/{path}", [("Revision", REVISION)], check=unwrap).body
    if not isinstance(detail, dict):
        raise RecordError(f"modelscope {model_id}: detail without data")
    files = api.fetch(
        f"/api/v1/models/{path}/repo/files",
        [("Revision", REVISION), ("Recursive", "True")],
        check=unwrap,
    ).body
    listed = files.get("Files") if isinstance(files, dict) else None
    return {
        "detail": detail,
        "files": listed or [],
        "id": model_id,
        "endpoint": api.base_url,
        "web": api.public_url,
    }


def parse_model(raw: Any, web: str | None = None) -> Model:
    """From a stored record ({detail, files, ...}) or a saved legacy detail answer.

    Pure: links go to the public host stored with the payload ("web", else the "endpoint" it
    was fetched from), else to `web`, else to modelscope.cn; never to the environment's."""
    if isinstance(raw, dict) and "Data" in raw and "detail" not in raw:
        raw = {"detail": unwrap(raw), "files": [], "id": None}
    if not isinstance(raw, dict) or not isinstance(raw.get("detail"), dict):
        raise RecordError("not a ModelScope model")
    d = raw["detail"]
    owner = _text(d.get("Path")) or _owner(d)
    name = _text(d.get("Name"))
    model_id = _text(raw.get("id")) or (f"{owner}/{name}" if owner and name else None)
    if not model_id:
        raise RecordError("modelscope model without a name")
    base = str(raw.get("web") or raw.get("endpoint") or web or DEFAULT_WEB).rstrip("/")
    front, body, _error = hubcard.split(d.get("ReadMeContent") or "")
    path = _model_path(model_id)
    links = _links(base, model_id, _text(d.get("Revision")) or REVISION)
    body = readmelinks.resolve(body, links)
    download = f"{base}/api/v1/models/{path}/repo?Revision={REVISION}&FilePath="
    files = [
        _file(f, download)
        for f in raw.get("files") or []
        if isinstance(f, dict)
        and f.get("Type", "blob") == "blob"
        and isinstance(f.get("Path"), str)
        and f["Path"] not in (".gitignore", ".gitattributes")
    ]
    images = [Image(url=u) for u in hubcard.images(body, front.get("widget"), links)]
    version = Version(
        id=f"{model_id}@{_text(d.get('Revision')) or REVISION}",
        name=_text(d.get("Revision")) or REVISION,
        base_model=", ".join(hubcard.text_list(front.get("base_model"))) or None,
        updated_at=_iso(d.get("LastUpdatedTime")),
        created_at=_iso(d.get("CreatedTime")),
        trained_words=hubcard.text_list(front.get("instance_prompt")),
        download_url=f"{base}/models/{model_id}/files",
        files=files,
        images=images,
    )
    stats = {"downloads": d.get("Downloads"), "likes": d.get("Stars", d.get("Likes"))}
    return Model(
        source=ModelScope.name,
        id=str(d.get("Id") or model_id),
        name=model_id,
        type=", ".join(_task_names(d.get("Tasks"))) or None,
        description=body or _text(d.get("Description")),
        tags=[
            t if isinstance(t, str) else str(t.get("Name"))
            for t in d.get("Tags") or []
            if isinstance(t, str) or isinstance(t, dict) and t.get("Name")
        ],
        stats={k: v for k, v in stats.items() if isinstance(v, int) and not isinstance(v, bool)},
        creator=_text(d.get("CreatedBy")) or owner,
        mode="Private" if d.get("Visibility") == 1 else None,
        license=_text(d.get("License"))
        or ", ".join(hubcard.text_list(front.get("license")))
        or None,
        url=f"{base}/models/{model_id}",
        created_at=_iso(d.get("CreatedTime")),
        updated_at=_iso(d.get("LastUpdatedTime")),
        versions=[version],
        path_id=model_id,
        display_name=_text(d.get("ChineseName")),
        raw=raw,
    )


def _links(host: str, model_id: str, revision: str) -> readmelinks.Resolver:
    """Where ModelScope's model page sends a README's relative targets: images (markdown or
    <img src>) to the file endpoint with the path as one encoded query value, links to the
    file's page on the web host (shared/api/MODELSCOPE.md pitfall 12)."""
    owner_name = _model_path(model_id)
    rev = quote(revision, safe="")

    def resolve(target: str, image: bool) -> str:
        if target.startswith("/"):
            return host + target
        path, rest = readmelinks.split(target)
        path = readmelinks.in_repo(path)
        if not path:
            return f"{host}/models/{owner_name}{rest}"
        if image:
            file = readmelinks.encoded(path, safe="")
            return f"{host}/api/v1/models/{owner_name}/repo?Revision={rev}&FilePath={file}"
        page = f"{host}/models/{owner_name}/file/view/{rev}/{readmelinks.encoded(path)}"
        return page + rest

    return resolve


def _file(f: dict[str, Any], download: str) -> File:
    name = f["Path"]
    fmt = hubcard.weight_format(name)
    size = f.get("Size")
    return File(
        name=name,
        url=download + quote(name, safe=""),
        kind="Model" if fmt else None,
        size_kb=size / 1024 if isinstance(size, int) else None,
        format=fmt,
        precision=hubcard.precision(name) if fmt else None,
        size_type=hubcard.size_type(name) if fmt else None,
        sha256=_text(f.get("Sha256")),
        hashes={"SHA256": f["Sha256"]} if isinstance(f.get("Sha256"), str) else {},
        raw=f,
    )


def _task_names(tasks: Any) -> list[str]:
    names = []
    for task in tasks if isinstance(tasks, list) else []:
        name = task.get("Name") if isinstance(task, dict) else task
        if isinstance(name, str):
            names.append(name)
    return names


def _owner(d: dict[str, Any]) -> str | None:
    org = d.get("Organization")
    return _text(org.get("Name")) if isinstance(org, dict) else None


def _model_path(model_id: str) -> str:
    parts = model_id.strip("/").split("/")
    if len(parts) != 2 or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a ModelScope model id: {model_id!r} (expected OWNER/NAME)")
    return "/".join(quote(p, safe="") for p in parts)


def _iso(seconds: Any) -> str | None:
    """ModelScope times are Unix seconds."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _same_update(item: dict[str, Any], stored: Any) -> bool:
    """Whether a listing item's last_modified (Unix seconds or an ISO date) is the stored
    detail's LastUpdatedTime; unknown on either side means no."""
    detail = stored.get("detail") if isinstance(stored, dict) else None
    ours = _iso(detail.get("LastUpdatedTime")) if isinstance(detail, dict) else None
    theirs = item.get("last_modified")
    if isinstance(theirs, str) and not theirs.isdigit():
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(theirs)
            theirs = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if isinstance(theirs, str):
        theirs = int(theirs) if theirs.isdigit() else None
    return ours is not None and _iso(theirs) == ours


class ModelScope(base.Source):
    name = cli_name = "modelscope"
    title = "ModelScope"
    base_env = "MODELSCOPE_DOMAIN"
    default_base = DEFAULT_DOMAIN
    public_env = "MODELSCOPE_PUBLIC_URL"
    policy = POLICY
    sync_help = "Fetch named ModelScope models (OWNER/NAME ...), or list them by --owner or --task."
    sync_example = "scraper sync modelscope --owner damo --limit 100"
    export_help = (
        "Fetch a ModelScope model (OWNER/NAME): detail, README, files; store, print its card."
    )
    export_example = "scraper export modelscope damo/cv_cartoon_stable_diffusion_design"
    saved_help = "a ModelScope model detail"
    sync_options = (
        Option("models", "OWNER/NAME of models to fetch.", argument=True, multiple=True),
        Option("owner", "List the models of this owner."),
        Option("task", "List the models of this task, e.g. text-to-image-synthesis."),
        Option("search", "Search text (with --owner or --task)."),
        Option("sort", choices=("default", "downloads", "likes", "last_modified")),
    )
    export_argument = Option("model_id", "OWNER/NAME", argument=True)
    volatile = ("Downloads", "Stars", "Likes")
    workers = 2
    incremental = True  # a listing sorted by last_modified is newest first
    stored_by = "name"  # listing items carry OWNER/NAME, rows are keyed by the numeric Id

    def base_url(self) -> str:
        domain = super().base_url()
        return domain if domain.startswith(("http://", "https://")) else f"https://{domain}"

    def filters(self, options: dict[str, Any]) -> Filters:
        names = tuple(options.get("models") or ())
        if not names and not (options.get("owner") or options.get("task") or options.get("search")):
            raise ValueError("name models as OWNER/NAME, or give --owner, --task or --search")
        for name in names:
            _model_path(name)
        sort = options.get("sort")
        if options.get("incremental") and not names:
            if sort not in (None, "last_modified"):
                raise ValueError(f"--incremental reads by last_modified, not by {sort}")
            sort = "last_modified"
        return Filters(
            options.get("owner"), options.get("task"), options.get("search"), sort, names
        )

    def pages(self, api: ApiClient, filters: base.Filters, cursor: str | None) -> Iterator[Page]:
        assert isinstance(filters, Filters)
        if filters.names:
            return named_pages(list(filters.names))
        paging = PageNumberPaging(
            api, "/openapi/v1/models", filters.listing(), _page_models, _more, check=unwrap
        )
        paging.last = MAX_DEPTH // PAGE_SIZE  # the cap, whatever page_size the answers say
        return paging.pages(cursor)

    def item_keys(self, items: list[Any]) -> list[str | None]:
        return [i.get("id") if isinstance(i, dict) else None for i in items]

    def reader(self, api: ApiClient) -> base.Reader:
        """A listed model whose last update is the stored one costs no request."""

        def read(item: Any, stored: Any) -> Model:
            key = item.get("id") or item.get("Path") if isinstance(item, dict) else None
            if not isinstance(key, str):
                raise RecordError("a modelscope listing item without an id")
            if stored and _same_update(item, stored):
                detail = dict(stored["detail"])
                for ours, theirs in (("Downloads", "downloads"), ("Stars", "likes")):
                    if isinstance(item.get(theirs), int):
                        detail[ours] = item[theirs]
                return parse_model(dict(stored, detail=detail))
            return parse_model(fetch_model(api, key))

        return read

    def key_of_url(self, url: str) -> str | None:
        """https://modelscope.cn/models/owner/name[/summary] -> owner/name."""
        parts = [p for p in urlsplit(url).path.split("/") if p]
        if len(parts) < 3 or parts[0] != "models":
            return None
        return f"{unquote(parts[1])}/{unquote(parts[2])}"

    def fetch(self, api: ApiClient, key: str) -> Any:
        return fetch_model(api, key)

    def parse(self, raw: Any) -> Model:
        return parse_model(raw)

    def saved_items(self, payload: Any) -> list[Any] | None:
        if isinstance(payload, dict) and ("Data" in payload or "detail" in payload):
            return [payload]
        return None


SOURCE = ModelScope()
