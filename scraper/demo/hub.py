"""Stand-ins for the Hugging Face Hub and ModelScope APIs.

They answer the way the real services do where it matters to a client: Link paging, 307 for a
renamed repo, the Hub's own errors (status, X-Error-Code/X-Error-Message and body, recorded in
data/huggingface/hub-errors.json), RateLimit headers in 5-minute-style windows, and
ModelScope's HTTP 200 answers whose envelope says Success false.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .server import Answer, FakeServer, Faults


@functools.cache
def _hub_errors() -> dict[str, Any]:
    path = Path(__file__).parent / "data" / "huggingface" / "hub-errors.json"
    return json.loads(path.read_text(encoding="utf-8"))


def hub_error(name: str, repo: str = "", revision: str = "") -> Answer:
    """One of the Hub's recorded error answers (hub-errors.json), exactly: status, headers and
    body (bytes when the Hub sends text), with the repo and revision filled in."""
    entry = _hub_errors()[name]

    def fill(text: str) -> str:
        return text.replace("{repo}", repo).replace("{revision}", revision)

    headers = {k: fill(v) for k, v in entry["headers"].items()}
    body = entry["body"]
    if isinstance(body, str):
        return entry["status"], fill(body).encode(), headers
    return entry["status"], json.loads(fill(json.dumps(body))), headers


class FakeHuggingFace(FakeServer):
    """Repos as model-info bodies (with siblings and sizes), READMEs as text."""

    def __init__(
        self,
        infos: list[dict[str, Any]],
        readmes: dict[str, str] | None = None,
        gated: set[str] | None = None,
        renamed: dict[str, str] | None = None,
        page_size: int = 100,
        quota: tuple[int, float] | None = None,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(faults)
        self.infos = {i["id"]: i for i in infos}
        self.readmes = readmes or {}
        self.gated = gated or set()
        self.renamed = renamed or {}
        self.page_size = page_size
        self.quota = quota  # (requests, window seconds): RateLimit headers, 429 past it
        self._window_start = time.monotonic()
        self._used = 0
        self._quota_lock = threading.Lock()
        self.disabled: set[str] = set()  # repos the Hub has disabled
        self.gone_revisions: set[str] = set()  # shas answered RevisionNotFound under /resolve/

    @property
    def base_url(self) -> str:
        return self.root

    def respond(self, request: dict[str, Any]) -> Answer:
        path, query = request["path"], request["query"]
        limited = self._rate_limit(path)
        if limited is not None and limited[0] == 429:
            return limited
        token = "authorization" in {k.lower() for k in request["headers"]}
        status, body, *extra = self._answer(path, query, token)
        headers = dict(extra[0]) if extra else {}
        if limited is not None:
            headers.update(limited[2])
        return status, body, headers

    def route(self, path: str, query: dict[str, list[str]]) -> Answer:
        return self.respond({"path": path, "query": query, "headers": {}})

    def _answer(self, path: str, query: dict[str, list[str]], token: bool) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts == ["api", "models"]:
            return self.listing(query)
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo = "/".join(parts[2:4])
            if repo in self.renamed:
                target = f"/api/models/{self.renamed[repo]}"
                body = f"Temporary Redirect. Redirecting to {target}".encode()
                return 307, body, {"Location": target}
            if repo in self.disabled:
                return hub_error("disabled", repo)
            if repo not in self.infos:
                # Without a token a private or missing repo is 401, with one 404.
                return hub_error("repo_not_found" if token else "repo_not_found_401", repo)
            return 200, self.infos[repo]
        if len(parts) >= 5 and parts[2] == "resolve":
            repo, revision = "/".join(parts[:2]), parts[3]
            if repo in self.disabled:
                return hub_error("disabled", repo)
            if repo not in self.infos:
                return hub_error("repo_not_found" if token else "repo_not_found_401", repo)
            if revision in self.gone_revisions:
                return hub_error("revision_not_found", repo, revision)
            if repo in self.gated:
                return hub_error("gated_403" if token else "gated_401", repo)
            if parts[4:] != ["README.md"] or repo not in self.readmes:
                return hub_error("entry_not_found", repo)
            return 200, self.readmes[repo].encode(), {"Content-Type": "text/plain; charset=utf-8"}
        return 404, b"Not Found", {"Content-Type": "text/plain; charset=utf-8"}

    def listing(self, query: dict[str, list[str]]) -> Answer:
        items = list(self.infos.values())
        for tag in query.get("filter", []):
            items = [i for i in items if tag in (i.get("tags") or [])]
        if search := query.get("search", [None])[0]:
            items = [i for i in items if search.lower() in i["id"].lower()]
        if author := query.get("author", [None])[0]:
            items = [i for i in items if i["id"].split("/")[0] == author]
        if task := query.get("pipeline_tag", [None])[0]:
            items = [i for i in items if i.get("pipeline_tag") == task]
        if sort := query.get("sort", [None])[0]:  # always descending, as the Hub sorts
            items.sort(key=lambda i: (i.get(sort) or 0, i["_id"]), reverse=True)
        limit = min(int(query.get("limit", ["1000"])[0]), self.page_size)
        start = int(query.get("cursor", ["0"])[0])
        expand = query.get("expand")
        page = [self._expanded(i, expand) for i in items[start : start + limit]]
        headers = {}
        if start + limit < len(items):
            rest = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            following = start if self.faults.repeat_cursor and start else start + limit
            url = f"{self.root}/api/models?{urlencode([*rest, ('cursor', following)])}"
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, page, headers

    @staticmethod
    def _expanded(info: dict[str, Any], expand: list[str] | None) -> dict[str, Any]:
        keys = expand or ["likes", "private", "downloads", "tags", "pipeline_tag", "createdAt"]
        return {"_id": info["_id"], "id": info["id"], **{k: info[k] for k in keys if k in info}}

    def _rate_limit(self, path: str) -> Answer | None:
        if self.quota is None or not path.startswith("/api/"):
            return None
        allowed, window = self.quota
        with self._quota_lock:
            now = time.monotonic()
            if now - self._window_start >= window:
                self._window_start, self._used = now, 0
            reset = max(1, int(window - (now - self._window_start) + 0.999))
            if self._used >= allowed:
                self.throttled += 1
                headers = _ratelimit(0, reset, allowed, window)
                return 429, {"error": "Too many requests"}, headers
            self._used += 1
            return 200, None, _ratelimit(allowed - self._used, reset, allowed, window)


def _ratelimit(remaining: int, reset: int, allowed: int, window: float) -> dict[str, str]:
    return {
        "RateLimit": f'"api";r={remaining};t={reset}',
        "RateLimit-Policy": f'"fixed window";"api";q={allowed};w={int(window)}',
    }


class FakeModelScope(FakeServer):
    """Models as legacy detail objects (`Data`) plus file lists; OpenAPI listing."""

    def __init__(
        self,
        details: dict[str, dict[str, Any]],
        files: dict[str, list[dict[str, Any]]] | None = None,
        page_size: int = 50,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(faults)
        self.details = details
        self.files = files or {}
        self.page_size = page_size
        self.envelope_errors: set[str] = set()  # ids answered 200 with Success false, Code 500

    @property
    def base_url(self) -> str:
        return self.root

    def route(self, path: str, query: dict[str, list[str]]) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts == ["openapi", "v1", "models"]:
            return self.listing(query)
        if parts[:3] == ["api", "v1", "models"] and len(parts) >= 5:
            model_id = "/".join(parts[3:5])
            if model_id in self.envelope_errors:
                return 200, _legacy(None, ok=False, code=500, message="system error")
            if model_id not in self.details:
                return 200, _legacy(None, ok=False, code=10010101, message="model not exist")
            if parts[5:] == ["repo", "files"]:
                return 200, _legacy({"Files": self.files.get(model_id, [])})
            if not parts[5:]:
                return 200, _legacy(self.details[model_id])
        return 404, {"error": "Not found"}

    def listing(self, query: dict[str, list[str]]) -> Answer:
        items = list(self.details.items())
        if owner := query.get("owner", [None])[0]:
            items = [(k, d) for k, d in items if k.split("/")[0] == owner]
        if task := query.get("filter.task", [None])[0]:
            items = [
                (k, d) for k, d in items if task in [t.get("Name") for t in d.get("Tasks", [])]
            ]
        if query.get("sort", [None])[0] == "last_modified":
            items.sort(key=lambda kd: (kd[1].get("LastUpdatedTime") or 0, kd[0]), reverse=True)
        size = min(int(query.get("page_size", ["10"])[0]), self.page_size)
        number = int(query.get("page_number", ["1"])[0])
        page = items[(number - 1) * size : number * size]
        models = [
            {
                "id": k,
                "display_name": d.get("ChineseName"),
                "downloads": d.get("Downloads"),
                "likes": d.get("Stars"),
                "last_modified": d.get("LastUpdatedTime"),
            }
            for k, d in page
        ]
        data = {
            "models": models,
            "total_count": len(items),
            "page_number": number,
            "page_size": size if (stated := self.faults.stated_page_size) is None else stated,
        }
        return 200, {"success": True, "data": data, "message": "ok"}


def _legacy(data: Any, ok: bool = True, code: int = 200, message: str = "success") -> dict:
    return {"Code": code, "Data": data, "Message": message, "RequestId": "fake", "Success": ok}
