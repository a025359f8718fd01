"""The database's tables and their versioned migrations (PRAGMA user_version)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from .checks import DatabaseProblem

# fmt: off
SCHEMA: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "models": ({
        "source": str, "id": str, "name": str, "type": str, "nsfw": int, "nsfw_level": int,
        "creator": str, "mode": str, "license": str, "url": str, "downloads": int, "likes": int,
        "stats": str, "stats_hash": str, "stats_at": str,
        "version_count": int, "created_at": str, "updated_at": str,
        "content_hash": str, "first_seen_at": str, "changed_at": str, "deleted_at": str,
        "raw": str,
    }, ("source", "id")),
    "versions": ({
        "source": str, "id": str, "model_id": str, "position": int, "name": str,
        "base_model": str, "created_at": str, "updated_at": str, "published_at": str,
        "downloads": int, "likes": int, "stats": str, "trained_words": str,
        "download_url": str, "removed_at": str, "raw": str,
    }, ("source", "id")),
    "files": ({
        "source": str, "version_id": str, "position": int, "id": str, "name": str, "kind": str,
        "size_kb": float, "format": str, "precision": str, "size_type": str, "is_primary": int,
        "sha256": str, "download_url": str, "pickle_scan": str, "virus_scan": str, "raw": str,
    }, ("source", "version_id", "position")),
    "images": ({
        "source": str, "version_id": str, "position": int, "id": str, "url": str,
        "nsfw_level": int, "width": int, "height": int, "kind": str, "raw": str,
    }, ("source", "version_id", "position")),
    "tags": ({
        "source": str, "model_id": str, "position": int, "tag": str,
    }, ("source", "model_id", "position")),
    "creators": ({"source": str, "username": str, "image": str}, ("source", "username")),
    "runs": ({
        "id": int, "source": str, "command": str, "params": str, "started_at": str,
        "finished_at": str, "status": str, "requests": int, "bytes": int, "new": int,
        "updated": int, "refreshed": int, "unchanged": int, "deleted": int, "failed": int,
        "seconds": float, "errors": str,
    }, ("id",)),
    "stats_history": ({
        "source": str, "model_id": str, "version_id": str, "taken_at": str, "run_id": int,
        "downloads": int, "favorites": int, "comments": int, "ratings": int, "rating": float,
        "likes": int, "dislikes": int, "tips": int,
    }, ("source", "model_id", "version_id", "taken_at")),
    "checks": ({"source": str, "model_id": str, "checked_at": str}, ("source", "model_id")),
    "checkpoints": ({
        "key": str, "source": str, "params": str, "cursor": str, "pages": int, "models": int,
        "run_id": int, "updated_at": str, "base_url": str,
    }, ("key",)),
    "quarantine": ({
        "source": str, "key": str, "error": str, "raw": str, "seen_at": str, "run_id": int,
    }, ("source", "key")),
}
# fmt: on

INDEXES = (
    ("versions", ("source", "model_id")),
    ("files", ("sha256",)),
    ("tags", ("tag",)),
)


class SchemaError(DatabaseProblem):
    """A database this release cannot use (written by a newer one)."""


def _baseline(db: sqlite_utils.Database) -> None:
    """Version 1: every table of SCHEMA, created or completed with its missing columns.

    Databases written before versioning (user_version 0) hold a subset of these tables and
    columns; this brings them, and a new file, to the same place.
    """
    existing = set(db.table_names())
    for name, (columns, pk) in SCHEMA.items():
        table = db.table(name)
        if name not in existing:
            table.create(columns, pk=pk[0] if len(pk) == 1 else pk, not_null=set(pk))
            continue
        for column, kind in columns.items():
            if column not in table.columns_dict:
                table.add_column(column, kind)
    for name, cols in INDEXES:
        db.table(name).create_index(cols, if_not_exists=True)


def _checkpoint_base(db: sqlite_utils.Database) -> None:
    """Version 2: a checkpoint keeps the base URL it was made under, so a crawl resumed against
    another host re-bases its saved cursor instead of replaying the old host's URL."""
    table = db.table("checkpoints")
    if "base_url" not in table.columns_dict:
        table.add_column("base_url", str)


# Migration N brings a database from user_version N-1 to N; append, never edit a released one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_baseline, _checkpoint_base]
VERSION = len(MIGRATIONS)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks, each in its own transaction; its version."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > VERSION:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this scraper's "
            f"{VERSION}; upgrade scraper (pip install -U) or use another --db"
        )
    for number in range(current + 1, VERSION + 1):
        with db.atomic():
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
    return VERSION
