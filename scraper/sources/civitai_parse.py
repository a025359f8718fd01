"""Civitai payloads of every era (list items, /models/{id}, version bodies) into records."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..records import File, Image, Model, RecordError, Version

NAME = "civitai"

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


def model_items(payload: Any) -> list[Any] | None:
    """A saved response may be one model, a list page, a bare list of items, or a version
    (/model-versions/{id} or by-hash, which Civitai Helper-style tools save as .civitai.info):
    that one is made a model with that version."""
    if isinstance(payload, list):
        return [from_version(i) if is_version(i) else i for i in payload]
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, dict) and isinstance(payload.get("modelVersions"), list):
        return [payload]
    if is_version(payload):
        return [from_version(payload)]
    return None


def is_version(payload: Any) -> bool:
    """A /model-versions answer: a version with its model's {name, type} and modelId."""
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("model"), dict)
        and "modelId" in payload
        and "modelVersions" not in payload
        and any(isinstance(payload.get(k), list) for k in ("files", "images"))
    )


def from_version(body: dict[str, Any]) -> dict[str, Any]:
    """A model payload holding the one version of a /model-versions answer."""
    model = body["model"]
    version = {k: v for k, v in body.items() if k not in ("model", "modelId")}
    payload = {"id": body["modelId"], "name": model.get("name")}
    payload.update({k: model[k] for k in ("type", "nsfw", "poi", "mode") if k in model})
    payload["modelVersions"] = [version]
    return payload


def parse_model(raw: Any) -> Model:
    """Read a list item or a /models/{id} body of any era; a missing key is absent, never 0."""
    if not isinstance(raw, dict):
        raise RecordError("a model must be a JSON object")
    model_id = _model_id(raw.get("id"))
    name = raw.get("name")
    if not isinstance(name, str):
        raise RecordError(f"model {model_id} has no name")
    versions = _list(raw, "modelVersions")
    if not isinstance(versions, list):
        raise RecordError(f"model {model_id}: modelVersions is not a list")
    creator = raw.get("creator") if isinstance(raw.get("creator"), dict) else {}
    return Model(
        source=NAME,
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
        name=_str(raw.get("name")) or "",
        base_model=_str(raw.get("baseModel")),
        created_at=_str(raw.get("createdAt")),
        updated_at=_str(raw.get("updatedAt")),
        published_at=_str(raw.get("publishedAt")),
        stats=_stats(raw.get("stats")),
        trained_words=[w for w in raw.get("trainedWords") or [] if isinstance(w, str)],
        description=raw.get("description") if isinstance(raw.get("description"), str) else None,
        download_url=_str(raw.get("downloadUrl")),
        files=[_file(f, version_id) for f in files],
        # An image without a url is kept (stored, not shown) so nothing the API sent is lost.
        images=[_image(i) for i in images if isinstance(i, dict)],
        raw=raw,
    )


def _file(raw: Any, version_id: str) -> File:
    if raw.__class__ is not dict or raw.get("name").__class__ is not str:
        raise RecordError(f"version {version_id}: a file has no name")
    get = raw.get
    meta = get("metadata")
    if meta.__class__ is not dict:
        meta = {}
    hashes = get("hashes")
    hashes = {str(k): str(v) for k, v in hashes.items() if v} if hashes.__class__ is dict else {}
    size = get("sizeKB")
    return File(
        raw["name"],
        _str(get("downloadUrl")),
        _str(get("id")),
        _str(get("type")),
        float(size) if isinstance(size, int | float) else None,
        _str(meta.get("format")),
        _str(meta.get("fp")),
        _str(meta.get("size")),
        get("primary") is True,
        hashes.get("SHA256"),
        hashes,
        _str(get("pickleScanResult")),
        _str(get("virusScanResult")),
        raw,
    )


def _image(raw: dict[str, Any]) -> Image:
    """Called for every image of every version: plain type checks, positional fields."""
    get = raw.get
    url = get("url")
    if url.__class__ is not str:
        url = ""
    image_id = _str(get("id"))
    if image_id is None:
        # Detail payloads drop the image id; it survives as the URL's file name.
        stem = urlsplit(url).path.rsplit("/", 1)[-1].split(".", 1)[0]
        image_id = stem if stem.isdigit() else None
    level = get("nsfwLevel")
    if level.__class__ is not int:
        nsfw = get("nsfw")
        level = _NSFW_STRINGS.get(nsfw) if nsfw.__class__ is str else (1 if nsfw is False else None)
    width, height = get("width"), get("height")
    return Image(
        url,
        image_id,
        level,
        width if width.__class__ is int else None,
        height if height.__class__ is int else None,
        _str(get("type")),
        raw,
    )


def _str(value: Any) -> str | None:
    """_text with the common case (a string) first."""
    return value if value.__class__ is str else _text(value)


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


_PERMISSIONS = (  # flag, what True means, what False means
    ("allowNoCredit", "no credit needed", "credit required"),
    ("allowDerivatives", "derivatives allowed", "no derivatives"),
    ("allowDifferentLicense", "relicensing allowed", "same licence required"),
)


def _license(raw: dict[str, Any]) -> str | None:
    """Civitai's permissions as a person reads them: "commercial use: none; credit required;
    no derivatives". allowCommercialUse is a string, an array or "{A,B}" by era; "None" and
    an empty list both mean none."""
    value = raw.get("allowCommercialUse")
    parts = []
    if isinstance(value, str):
        value = value.strip("{}").split(",")
    if isinstance(value, list):
        uses = [str(v).strip() for v in value if isinstance(v, str) and v.strip()]
        uses = [u for u in uses if u != "None"]
        parts.append(f"commercial use: {', '.join(uses) or 'none'}")
    for key, yes, no in _PERMISSIONS:
        if isinstance(raw.get(key), bool):
            parts.append(yes if raw[key] else no)
    return "; ".join(parts) or None


def _list(raw: dict[str, Any], key: str) -> Any:
    value = raw.get(key)
    return [] if value is None else value


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise RecordError(f"{what} has no id")
    return str(value)


def _model_id(value: Any) -> str:
    """Civitai's model ids are positive integers; anything else (5., 5-x, ../x) is refused
    here, so that it names no file and joins no batch request."""
    text = _id(value, "model")
    if not (text.isascii() and text.isdigit() and len(text) <= 18 and int(text) > 0):
        raise RecordError(f"model id {text[:40]!r} is not a Civitai model id (a whole number)")
    return str(int(text))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
