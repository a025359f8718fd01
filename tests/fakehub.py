"""A fourth source, in one file, to prove the recipe of docs/ARCHITECTURE.md: a `Source`
subclass and one registry line (`sources.register(SOURCE)`), no shipped file edited.

"FakeHub" is not a real host; its small JSON API, served here by FakeHubServer, is this:

- `POST /api/search` with the JSON body `{"page": "N", "size": "K", "tag": "T"}` (tag
  optional) answers `{"items": [MODEL, ...], "more": true|false}`: a listing that is not a GET.
- `GET /api/models/ID` answers one MODEL, or 404 `{"error": "no such model"}`.
- MODEL is `{"id": 7, "title": "...", "readme": "markdown", "tags": [...], "author": "...",
  "downloads": 3, "stars": 1, "updated": "2026-01-02T03:04:05Z", "file": "x.safetensors"}`.
- With a key configured, every request carries `X-Fakehub-Signature`: the hex HMAC-SHA256,
  under the key, of `METHOD PATH` (a request signed with a key, as LiblibAI's API asks); an
  unsigned or wrongly signed request is 401 `{"error": "bad signature"}`. Keys look like
  `fk-` and 24 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from scraper.demo.server import Answer, FakeServer
from scraper.net.client import ApiClient, HostPolicy
from scraper.net.paging import PageNumberPaging
from scraper.records import File, Model, Page, RecordError, Version
from scraper.sources import base

SIGNATURE = "X-Fakehub-Signature"


def signature(key: str, method: str, path: str) -> str:
    return hmac.new(key.encode(), f"{method} {path}".encode(), hashlib.sha256).hexdigest()


class SignedAuth(httpx.Auth):
    """The credential as FakeHub takes it: each request signed, the key itself never sent."""

    def __init__(self, key: str) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers[SIGNATURE] = signature(self.key, request.method, request.url.path)
        yield request


POLICY = HostPolicy(
    name="fakehub",
    rps=1.0,
    burst=1,
    token_env="FAKEHUB_KEY",
    token_format=r"fk-[0-9a-f]{24}",
    auth=SignedAuth,
    own_error=lambda status, headers, body: isinstance(body, dict) and "error" in body,
)


@dataclass(frozen=True)
class Filters(base.Filters):
    tag: str | None = None

    def params(self) -> list[tuple[str, str]]:
        return [("size", "2"), *([("tag", self.tag)] if self.tag else [])]


def parse(raw: Any) -> Model:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise RecordError("a FakeHub model without an id")
    model_id = str(raw["id"])
    return Model(
        source="fakehub",
        id=model_id,
        name=str(raw.get("title") or model_id),
        description=raw.get("readme"),
        description_format="markdown",
        tags=[str(t) for t in raw.get("tags") or []],
        stats={"downloads": raw.get("downloads", 0), "likes": raw.get("stars", 0)},
        creator=raw.get("author"),
        url=f"https://fakehub.invalid/models/{model_id}",
        updated_at=raw.get("updated"),
        versions=[Version(id=model_id, name="main", files=[File(name=str(raw.get("file")))])],
        raw=raw,
    )


class FakeHub(base.Source):
    name = "fakehub"
    cli_name = "fake"
    title = "FakeHub"
    base_env = "FAKEHUB_API_BASE"
    default_base = "https://fakehub.invalid/api"
    policy = POLICY
    sync_help = "Crawl FakeHub's search into the database."
    sync_example = "scraper sync fake --tag lora"
    export_help = "Fetch one FakeHub model, store it, print its card."
    export_example = "scraper export fake 7"
    saved_help = "a FakeHub model"
    sync_options = (base.Option("tag", "Only models with this tag."),)

    def filters(self, options: dict[str, Any]) -> Filters:
        return Filters(options.get("tag"))

    def pages(self, api: ApiClient, filters: base.Filters, cursor: str | None) -> Iterator[Page]:
        paging = PageNumberPaging(
            api,
            "/search",
            filters.params(),
            lambda body: body["items"],
            lambda body, number, items: bool(body.get("more")),
            param="page",
            method="POST",
            body=dict,  # the query, page number included, as a JSON object
        )
        return paging.pages(cursor)

    def fetch(self, api: ApiClient, key: str) -> Any:
        return api.get_json(f"/models/{int(key)}")

    def parse(self, raw: Any) -> Model:
        return parse(raw)

    def saved_items(self, payload: Any) -> list[Any] | None:
        if isinstance(payload, dict) and "stars" in payload and "title" in payload:
            return [payload]
        return None


SOURCE = FakeHub()


class FakeHubServer(FakeServer):
    """FakeHub's API, as the docstring above describes it, over `models`."""

    def __init__(self, models: list[dict[str, Any]], key: str | None = None) -> None:
        super().__init__()
        self.models = models
        self.key = key

    @property
    def base_url(self) -> str:
        return f"{self.root}/api"

    def respond(self, request: dict[str, Any]) -> Answer:
        path, method = request["path"], request["method"]
        if self.key and request["headers"].get(SIGNATURE) != signature(self.key, method, path):
            return 401, {"error": "bad signature"}
        if method == "POST" and path == "/api/search":
            ask = request["body"] or {}
            size, number = int(ask.get("size", 10)), int(ask.get("page", 1))
            found = [m for m in self.models if not ask.get("tag") or ask["tag"] in m["tags"]]
            page = found[(number - 1) * size : number * size]
            return 200, {"items": page, "more": number * size < len(found)}
        if method == "GET" and path.startswith("/api/models/"):
            wanted = path.rsplit("/", 1)[1]
            for model in self.models:
                if str(model["id"]) == wanted:
                    return 200, model
            return 404, {"error": "no such model"}
        return 404, {"error": "no such endpoint"}
