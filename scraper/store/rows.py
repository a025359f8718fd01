"""Rows of the data tables from records: promoted columns for queries, raw JSON kept."""

from __future__ import annotations

from typing import Any

from ..jsonio import dumps as _dumps
from ..records import MODEL_STATS, File, Image, Model, Version
from .schema import SCHEMA


def model_row(m: Model, raw_text: str, stats: str, stamp: str) -> dict[str, Any]:
    return {
        "source": m.source,
        "id": m.id,
        "name": m.name,
        "type": m.type,
        "nsfw": None if m.nsfw is None else int(m.nsfw),
        "nsfw_level": m.nsfw_level,
        "creator": m.creator,
        "mode": m.mode,
        "license": m.license,
        "url": m.url,
        "downloads": m.stats.get("downloads"),
        "likes": m.stats.get("likes"),
        "stats": _dumps(m.stats),
        "stats_hash": stats,
        "stats_at": stamp,
        "version_count": len(m.versions),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "raw": raw_text,
    }


def version_row(m: Model, position: int, v: Version, raw_text: str) -> dict[str, Any]:
    return {
        "source": m.source,
        "id": v.id,
        "model_id": m.id,
        "position": position,
        "name": v.name,
        "base_model": v.base_model,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "published_at": v.published_at,
        "downloads": v.stats.get("downloads"),
        "likes": v.stats.get("likes"),
        "stats": _dumps(v.stats),
        "trained_words": _dumps(v.trained_words),
        "download_url": v.download_url,
        "removed_at": None,
        "raw": raw_text,
    }


def file_row(source: str, version_id: str, position: int, f: File, raw_text: str) -> dict[str, Any]:
    return {
        "source": source,
        "version_id": version_id,
        "position": position,
        "id": f.id,
        "name": f.name,
        "kind": f.kind,
        "size_kb": f.size_kb,
        "format": f.format,
        "precision": f.precision,
        "size_type": f.size_type,
        "is_primary": int(f.primary),
        "sha256": f.sha256,
        "download_url": f.url,
        "pickle_scan": f.pickle_scan,
        "virus_scan": f.virus_scan,
        "raw": raw_text,
    }


def image_row(
    source: str, version_id: str, position: int, img: Image, raw_text: str
) -> dict[str, Any]:
    return {
        "source": source,
        "version_id": version_id,
        "position": position,
        "id": img.id,
        "url": img.url,
        "nsfw_level": img.nsfw_level,
        "width": img.width,
        "height": img.height,
        "kind": img.kind,
        "raw": raw_text,
    }


def stats_row(
    source: str, model_id: str, version_id: str, stats: dict, stamp: str, run_id: int | None
) -> dict[str, Any]:
    row = {
        "source": source,
        "model_id": model_id,
        "version_id": version_id,
        "taken_at": stamp,
        "run_id": run_id,
    }
    row.update({key: stats.get(key) for key in MODEL_STATS})
    return row


def upsert_sql(table: str, columns: tuple[str, ...]) -> str:
    pk = SCHEMA[table][1]
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
    return (
        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
    )
