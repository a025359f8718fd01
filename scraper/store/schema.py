"""The database's tables and their versioned migrations (PRAGMA user_version)."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Callable

import sqlite_utils

from .checks import DatabaseProblem

log = logging.getLogger("scraper.store")

# Version 1's tables, as released; later versions change them only through MIGRATIONS.
# fmt: off
SCHEMA_V1: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
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
PRIMARY_KEYS = {name: pk for name, (_, pk) in SCHEMA_V1.items()}
for _name in ("files", "images"):  # since version 5
    PRIMARY_KEYS[_name] = ("source", "model_id", "version_id", "position")
# Rows of a few KB (versions with their packed images, models with their READMEs) waste less
# of a 16 KiB page than of 4 KiB ones.
PAGE_SIZE = 16384


class SchemaError(DatabaseProblem):
    """A database this release cannot use (written by a newer one)."""


def _baseline(db: sqlite_utils.Database) -> None:
    """Version 1: every table of SCHEMA_V1, created or completed with its missing columns.

    Databases written before versioning (user_version 0) hold a subset of these tables and
    columns; this brings them, and a new file, to the same place.
    """
    existing = set(db.table_names())
    for name, (columns, pk) in SCHEMA_V1.items():
        table = db.table(name)
        if name not in existing:
            table.create(columns, pk=pk[0] if len(pk) == 1 else pk, not_null=set(pk))
            continue
        for column, kind in columns.items():
            if column not in table.columns_dict:
                table.add_column(column, kind)
    for name, cols in INDEXES:
        db.table(name).create_index(cols, if_not_exists=True)


def _images_once(db: sqlite_utils.Database) -> bool:
    """Version 2: a version's image objects stored once, as one packed array on the version
    (the images table keeps what cards and pages show), model payloads packed too; files rows
    of sources whose payload is stored whole no longer copy it; content hashes of the scheme
    that needs no re-serialising.
    """
    from .. import sources
    from . import codec, reader

    conn = db.conn
    conn.execute("ALTER TABLE models ADD COLUMN raw_size INTEGER")
    packed = []
    for source, model_id, raw in conn.execute("SELECT source, id, raw FROM models"):
        packed.append((*codec.pack(raw), source, model_id))
    conn.executemany("UPDATE models SET raw = ?, raw_size = ? WHERE source = ? AND id = ?", packed)
    conn.execute("ALTER TABLE versions ADD COLUMN images_raw BLOB")
    conn.execute("ALTER TABLE versions ADD COLUMN images_size INTEGER")
    nested = [s.name for s in sources.SOURCES if s.nesting]
    marks = ",".join("?" * len(nested))
    rows = conn.execute(
        f"SELECT source, version_id, raw FROM images WHERE source IN ({marks}) "
        "ORDER BY source, version_id, position",
        nested,
    )
    arrays = []
    for (source, version_id), group in itertools.groupby(rows, key=lambda r: r[:2]):
        value, size = codec.pack("[" + ",".join(r[2] for r in group) + "]")
        arrays.append((value, size, source, version_id))
    conn.executemany(
        "UPDATE versions SET images_raw = ?, images_size = ? WHERE source = ? AND id = ?", arrays
    )
    _rebuild(db, "images", drop="raw")
    for name in ("tags", "stats_history", "checks"):
        _rebuild(db, name)
    whole = [s.name for s in sources.SOURCES if not s.nesting]
    conn.execute(
        f"UPDATE files SET raw = NULL WHERE source IN ({','.join('?' * len(whole))})", whole
    )
    conn.execute(
        "CREATE VIEW version_images AS SELECT source, id AS version_id, model_id, "
        "CAST(sqlar_uncompress(images_raw, images_size) AS TEXT) AS images "
        "FROM versions WHERE images_raw IS NOT NULL"
    )
    conn.execute(
        "CREATE VIEW models_json AS SELECT source, id, name, "
        "CAST(sqlar_uncompress(raw, raw_size) AS TEXT) AS raw FROM models"
    )
    codec.register(conn)
    shapes = {s.name: (s.nesting, frozenset(s.volatile)) for s in sources.SOURCES}
    hashes = [
        (codec.content_digest(payload, *shapes[src]), src, model_id)
        for src, model_id, payload in reader.iter_payloads(conn)
    ]
    conn.executemany("UPDATE models SET content_hash = ? WHERE source = ? AND id = ?", hashes)
    return True  # space to give back: VACUUM


def _rebuild(db: sqlite_utils.Database, name: str, drop: str | None = None) -> None:
    """A table of small rows as WITHOUT ROWID: its primary key is the table, with no second
    index beside it (smaller, and each row written once)."""
    columns = {c: t for c, t in SCHEMA_V1[name][0].items() if c != drop}
    pk = SCHEMA_V1[name][1]  # the keys of their time (later versions change some)
    kinds = {str: "TEXT", int: "INTEGER", float: "FLOAT"}
    definitions = ", ".join(
        f"[{c}] {kinds[t]}{' NOT NULL' if c in pk else ''}" for c, t in columns.items()
    )
    names = ", ".join(f"[{c}]" for c in columns)
    indexes = [  # its own, made again on the new table (the old go with the old table)
        sql
        for (sql,) in db.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            [name],
        )
    ]
    db.conn.execute(f"ALTER TABLE [{name}] RENAME TO [{name}_v1]")
    db.conn.execute(
        f"CREATE TABLE [{name}] ({definitions}, PRIMARY KEY ({', '.join(pk)})) WITHOUT ROWID"
    )
    db.conn.execute(f"INSERT INTO [{name}] ({names}) SELECT {names} FROM [{name}_v1]")
    db.conn.execute(f"DROP TABLE [{name}_v1]")
    for sql in indexes:
        db.conn.execute(sql)


def _search_and_status(db: sqlite_utils.Database) -> None:
    """Version 3: full-text search over models, and indexes that keep `scraper status` to
    indexed counts. `checks` holds live models only, so counting stale counters is one range."""
    from . import search

    search.install(db)
    db.execute(
        "DELETE FROM checks WHERE EXISTS (SELECT 1 FROM models m WHERE m.source = checks.source "
        "AND m.id = checks.model_id AND m.deleted_at IS NOT NULL)"
    )
    db.execute(
        "INSERT OR IGNORE INTO checks (source, model_id, checked_at) "
        "SELECT source, id, coalesce(stats_at, changed_at, first_seen_at, '') FROM models "
        "WHERE deleted_at IS NULL"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_checks_due ON checks (source, checked_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_runs_last ON runs (source, command, id)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_models_deleted ON models (source) "
        "WHERE deleted_at IS NOT NULL"
    )


# Migration N brings a database from user_version N-1 to N; append, never edit a released one.
# One that returns True leaves free pages worth a VACUUM.
def _checkpoint_base(db: sqlite_utils.Database) -> None:
    """Version 4: a checkpoint keeps the base URL it was made under, so a crawl resumed against
    another host re-bases its saved cursor instead of replaying the old host's URL."""
    table = db.table("checkpoints")
    if "base_url" not in table.columns_dict:
        table.add_column("base_url", str)


def _rows_by_model(db: sqlite_utils.Database) -> None:
    """Version 5: file and image rows keyed by model first, then version. A page of models
    writes them in one place per model, not one per version scattered over both tables and the
    files' key index (at 10,000 models a page's commit wrote 1,057 pages, 614 of them these);
    the reader reads a model's rows from one place too."""
    conn = db.conn
    kinds = {str: "TEXT", int: "INTEGER", float: "FLOAT"}
    for name in ("images", "files"):
        columns = {c: t for c, t in SCHEMA_V1[name][0].items() if c != "raw" or name == "files"}
        names = [c for c in columns if c != "source"]
        key = ("source", "model_id", "version_id", "position")
        definitions = ", ".join(
            f"[{c}] {kinds[columns.get(c, str)]}{' NOT NULL' if c in key else ''}"
            for c in ("source", "model_id", *names)
        )
        conn.execute(f"ALTER TABLE [{name}] RENAME TO [{name}_v4]")
        # files keep their rowid: their sha256 index then holds a rowid, not the whole key
        small = " WITHOUT ROWID" if name == "images" else ""
        conn.execute(
            f"CREATE TABLE [{name}] ({definitions}, PRIMARY KEY ({', '.join(key)})){small}"
        )
        conn.execute(  # rows of no stored version (none are written) are left behind
            f"INSERT INTO [{name}] SELECT r.source, v.model_id, "
            f"{', '.join(f'r.[{c}]' for c in names)} FROM [{name}_v4] r "
            "JOIN versions v ON v.source = r.source AND v.id = r.version_id"
        )
        conn.execute(f"DROP TABLE [{name}_v4]")
    conn.execute("CREATE INDEX idx_files_sha256 ON files (sha256)")


def _library(db: sqlite_utils.Database) -> None:
    """`scraper scan`: local model files and what is known of them. A file's hash is kept by
    (path, size, mtime_ns, inode), so an unchanged file is never hashed again; each hash asked
    of a host is kept with when and what it answered, so an unknown one is not asked again
    before its retry interval; the files a scan wrote beside the models, with their stat, so a
    file it did not write (or one edited since) is never overwritten. Paths are the file
    system's bytes (a name need not be UTF-8)."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE library_files (path BLOB PRIMARY KEY, root BLOB NOT NULL, "
        "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, "
        "sha256 TEXT NOT NULL, hashed_at TEXT NOT NULL, seen_at TEXT NOT NULL, kind TEXT, "
        "meta TEXT) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX idx_library_files_sha256 ON library_files (sha256)")
    conn.execute("CREATE INDEX idx_library_files_root ON library_files (root, seen_at)")
    conn.execute(
        "CREATE TABLE hash_lookups (source TEXT NOT NULL, sha256 TEXT NOT NULL, "
        "asked_at TEXT NOT NULL, result TEXT NOT NULL, model_id TEXT, version_id TEXT, "
        "body TEXT, found_at TEXT, PRIMARY KEY (source, sha256)) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX idx_hash_lookups_sha256 ON hash_lookups (sha256, result)")
    conn.execute(
        "CREATE TABLE library_outputs (path BLOB PRIMARY KEY, inputs TEXT NOT NULL, "
        "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, written_at TEXT NOT NULL) "
        "WITHOUT ROWID"
    )


def _repo_ids(db: sqlite_utils.Database) -> None:
    """Models found by their readable id (a Hub repo's `owner/name`) next to the stable key
    (`_id`): the view `repo_ids` holds each model whose page URL ends with its name, and an
    index finds a model by name (`SELECT * FROM repo_ids WHERE repo_id = 'owner/name'`)."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_models_name ON models (source, name)")
    db.execute(
        "CREATE VIEW IF NOT EXISTS repo_ids AS SELECT source, name AS repo_id, id, url, "
        "updated_at, deleted_at FROM models WHERE instr(name, '/') > 0 "
        "AND substr(url, -length(name) - 1) = '/' || name"
    )


# Migrations 2 and 3 read payloads back through today's reader (store/reader.py): a change of the
# storage layout must keep them working (the reader reads files by version before version 5),
# or an old database can no longer be upgraded.
MIGRATIONS: list[Callable[[sqlite_utils.Database], bool | None]] = [
    _baseline,
    _images_once,
    _search_and_status,
    _checkpoint_base,
    _rows_by_model,
    _library,
    _repo_ids,
]
VERSION = len(MIGRATIONS)


def _vacuum(db: sqlite_utils.Database) -> None:
    """Give the space back, with the page size and auto-vacuum of a new database; with other
    connections open (the page size changes only outside WAL, which needs the file alone), in
    WAL, or not at all: the data is complete either way, and `sqlite3 DB VACUUM` finishes it."""
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    try:
        if db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete":
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        log.warning("VACUUM skipped (%s): the database is in use; run it later", exc)
    finally:
        db.execute(f"PRAGMA journal_mode = {mode}")


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks, each in its own transaction; its version."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > VERSION:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this scraper's "
            f"{VERSION}; upgrade scraper (pip install -U) or use another --db"
        )
    fresh = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    if not fresh and current < VERSION:
        log.warning(
            "upgrading the database to schema version %d (once; a big one takes minutes)", VERSION
        )
    vacuum = False
    for number in range(current + 1, VERSION + 1):
        with db.atomic():
            vacuum |= bool(MIGRATIONS[number - 1](db)) and not fresh
            db.execute(f"PRAGMA user_version = {number}")
    if vacuum:
        _vacuum(db)
    return VERSION
