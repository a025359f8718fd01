"""A stand-in for the Civitai API: recorded models under /api/v1, with Civitai's paging."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .server import Answer, FakeServer, Faults


class FakeCivitai(FakeServer):
    """Serve models (2023 list items or any era) under /api/v1, with Civitai's paging."""

    def __init__(
        self,
        models: Iterable[dict[str, Any]],
        page_size: int = 100,
        faults: Faults | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(faults, port)
        self.models: list[dict[str, Any]] = list(models)
        self.page_size = page_size
        self.first_cursor: str | None = None
        self._index()

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v1"

    def _index(self) -> None:
        self.by_id = {str(m["id"]): m for m in self.models}
        self.versions: dict[str, tuple[dict, dict]] = {}
        self.hashes: dict[str, tuple[dict, dict]] = {}
        self.sha256s: dict[str, tuple[dict, dict]] = {}  # the bulk lookup takes SHA256 only
        for model in self.models:
            versions = model.get("modelVersions")
            for version in versions if isinstance(versions, list) else []:
                self.versions[str(version["id"])] = (model, version)
                for file in version.get("files") or []:
                    for kind, value in (file.get("hashes") or {}).items():
                        # Several files with one hash: the oldest publishedAt wins (by-hash
                        # handler, /work/shared/api/CIVITAI.md section 4).
                        key = str(value).upper()
                        _hold(self.hashes, key, model, version)
                        if kind == "SHA256":
                            _hold(self.sha256s, key, model, version)

    def respond(self, request: dict[str, Any]) -> Answer:
        if request["method"] == "POST" and request["path"] == "/api/v1/model-versions/by-hash":
            return self.versions_by_hashes(request["body"])
        return super().respond(request)

    def versions_by_hashes(self, hashes: Any) -> Answer:
        """POST /model-versions/by-hash (CIVITAI.md section 4, "Bulk and mini lookups"): a
        JSON array of up to 100 full SHA256 hashes in, the version objects (the single
        lookup's shape) of those it knows out, the unmatched dropped; a bad body is a 400
        in Civitai's {"error": ...} shape (section 9; the wording is ours). A version is sent
        once however many of the hashes name it."""
        if not isinstance(hashes, list) or len(hashes) > 100:
            return 400, {"error": "Expected an array of up to 100 hashes"}
        if not all(isinstance(h, str) for h in hashes):
            return 400, {"error": "Expected an array of hash strings"}
        answers: dict[Any, Any] = {}
        for value in hashes:  # full SHA256 only: an AutoV2 or a CRC32 matches nothing
            status, body = self.version_body(self.sha256s.get(value.upper()))
            if status == 200:
                answers.setdefault(body["id"], body)
        return 200, list(answers.values())

    def route(self, path: str, query: dict[str, list[str]]) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["api", "v1"]:
            return 404, {"error": "Not found"}
        parts = parts[2:]
        if parts == ["models"]:
            return self.list_models(query)
        if len(parts) == 2 and parts[0] == "models":
            model = self.by_id.get(parts[1])
            if not parts[1].isdigit():
                return 400, {"error": "Invalid id"}
            return (200, model) if model else (404, {"error": f"No model with id {parts[1]}"})
        if len(parts) == 2 and parts[0] == "model-versions":
            return self.version_body(self.versions.get(parts[1]))
        if len(parts) == 3 and parts[:2] == ["model-versions", "by-hash"]:
            return self.version_body(self.hashes.get(parts[2].upper()))
        return 404, {"error": "Not found"}

    def version_body(self, found: tuple[dict, dict] | None) -> tuple[int, Any]:
        """`/model-versions/{id}` and `/model-versions/by-hash/{hash}` share a handler and
        their answers (CIVITAI.md section 4, civitai/civitai src/pages/api/v1/model-versions/
        by-hash/[hash].ts): the version with `modelId` and `model {name, type, nsfw, poi,
        mode?}`, files' `primary` always a boolean; 404 {"error": "Model not found"} for an
        unknown hash or version, {"error": "Missing model file"} without a primary file.
        A by-hash hash is upper-cased first, so any case and AutoV1/V2/V3, SHA256, CRC32 and
        BLAKE3 values are found."""
        if not found:
            return 404, {"error": "Model not found"}
        model, version = found
        files = [dict(f, primary=bool(f.get("primary"))) for f in version.get("files") or []]
        if files and not any(f["primary"] for f in files):
            return 404, {"error": "Missing model file"}
        body = dict(version, modelId=model["id"], files=files)
        keys = ("name", "type", "nsfw", "poi") + (("mode",) if model.get("mode") else ())
        body["model"] = {k: model.get(k) for k in keys}
        return 200, body

    def list_models(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        # Like Civitai's search (#1848), `query` filters after paging: pages can come back empty.
        text = query.get("query", [None])[0]
        items = self.filtered({k: v for k, v in query.items() if k != "query"})
        limit = min(int(query.get("limit", ["100"])[0]), 100, self.page_size)
        cursor = query.get("cursor", [None])[0]
        if query.get("sort", [None])[0] == "Newest" and not text:
            return self.newest_page(items, limit, cursor)
        start = 0
        if cursor is not None:
            try:
                start = int(cursor.split("|", 1)[0])
            except ValueError:
                return 400, {"error": "Invalid cursor"}
        if self.faults.skip_boundary and cursor is not None:
            start += 1
        page = items[start : start + limit]
        if text:
            page = [m for m in page if text.lower() in m.get("name", "").lower()]
        metadata: dict[str, Any] = {}
        end = start + limit
        if end < len(items):
            metadata["nextCursor"] = f"{end}|{items[end]['id']}"
        self._repeat(cursor, metadata)
        return 200, {"items": page, "metadata": metadata}

    def _repeat(self, cursor: str | None, metadata: dict[str, Any]) -> None:
        """Faults.repeat_cursor: every page after the first names the first page's next
        cursor again, so the listing never ends for a client that trusts it."""
        if not self.faults.repeat_cursor:
            return
        if cursor is None:
            self.first_cursor = metadata.get("nextCursor")
        else:
            metadata["nextCursor"] = self.first_cursor

    def newest_page(self, items: list[dict], limit: int, cursor: str | None) -> Answer:
        """sort=Newest as Civitai pages it (2024-09, #1372): the next cursor is the ISO date of
        the item after the page (the lookahead), and the next page holds the items dated
        strictly before it, so with skip_boundary the item the cursor names is skipped;
        without, the next page starts at it."""
        start = 0
        if cursor is not None:
            try:
                bound = _parse_date(cursor)
            except ValueError:
                return 400, {"error": "Invalid cursor"}
            later = (lambda d: d >= bound) if self.faults.skip_boundary else (lambda d: d > bound)
            start = sum(1 for m in items if later(_date(m)))
        metadata: dict[str, Any] = {}
        if start + limit < len(items):
            metadata["nextCursor"] = _format_date(_date(items[start + limit]))
        self._repeat(cursor, metadata)
        return 200, {"items": items[start : start + limit], "metadata": metadata}

    def filtered(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        items = self.models
        if query.get("nsfw", ["false"])[0] != "true":
            items = [m for m in items if not m.get("nsfw")]
        if ids := query.get("ids"):
            wanted = set(ids[0].split(","))
            items = [m for m in items if str(m.get("id")) in wanted]
        if types := query.get("types"):
            items = [m for m in items if m.get("type") in types]
        if bases := query.get("baseModels"):
            items = [
                m
                for m in items
                if any(v.get("baseModel") in bases for v in m.get("modelVersions") or [])
            ]
        if tag := query.get("tag", [None])[0]:
            items = [m for m in items if tag.lower() in _tag_names(m)]
        if user := query.get("username", [None])[0]:
            items = [m for m in items if (m.get("creator") or {}).get("username") == user]
        if query.get("sort", [None])[0] == "Newest":
            items = sorted(items, key=lambda m: (_date(m), int(m["id"])), reverse=True)
        return items


def _hold(index: dict[str, tuple[dict, dict]], key: str, model: dict, version: dict) -> None:
    """The version a hash finds: the oldest published of those whose files have it."""
    held = index.get(key)
    if held is None or _published(version) < _published(held[1]):
        index[key] = (model, version)


def _published(version: dict[str, Any]) -> str:
    return str(version.get("publishedAt") or version.get("createdAt") or "")


def _tag_names(model: dict[str, Any]) -> set[str]:
    return {
        (t.get("name") if isinstance(t, dict) else str(t)).lower() for t in model.get("tags") or []
    }


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _date(model: dict[str, Any]) -> datetime:
    """Civitai's lastVersionAt: the newest version's date (a model with none sorts last)."""
    dates = [
        _parse_date(d)
        for v in model.get("modelVersions") or []
        if (d := v.get("publishedAt") or v.get("createdAt"))
    ]
    return max(dates, default=EPOCH)


def _parse_date(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _format_date(when: datetime) -> str:
    """As the API writes them: milliseconds and a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def read_models(folder: Path) -> list[dict[str, Any]]:
    """Every *.json in a folder: a model, a list page or a list of models."""
    models: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json"), key=lambda p: (len(p.stem), p.stem)):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "items" in data:
            models.extend(data["items"])
        elif isinstance(data, list):
            models.extend(data)
        else:
            models.append(data)
    return models
