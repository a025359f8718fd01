"""Full-text search over models (SQLite FTS5): names, tags, authors and descriptions.

`models_fts` is an external-content FTS5 table over columns of `models`, kept in step by
triggers in the writer's own transaction, and shaped as sqlite-utils' `enable_fts` makes it, so
`sqlite-utils search` and Datasette find it with no setup.
"""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

import sqlite_utils

from .. import jsonio
from ..records import Model, RecordError
from . import codec
from .layout import Layouts

COLUMNS = ("name", "tags", "creator", "description")
ADDED = ("tags", "description")  # columns of `models` that exist for the index
_MARKUP = re.compile(r"<[^>]*>")


def columns(m: Model) -> dict[str, Any]:
    """The searchable text of a model: tags as a JSON list, the description as plain text."""
    description = m.description
    if description and m.description_format == "html":
        # Tags out, entities decoded; runs of spaces stay (the tokenizer skips them, and
        # collapsing them costs four times the rest).
        description = html.unescape(_MARKUP.sub(" ", description)).strip()
    return {"tags": jsonio.dumps(m.tags) if m.tags else None, "description": description or None}


def install(db: sqlite_utils.Database, layouts: Layouts) -> None:
    """Migration step: the added columns filled for existing rows, the index and its triggers."""
    table = db.table("models")
    for column in ADDED:
        if column not in table.columns_dict:
            db.execute(f"ALTER TABLE models ADD COLUMN [{column}] TEXT")
    _fill(db, layouts)
    cols = ", ".join(f"[{c}]" for c in COLUMNS)
    old = ", ".join(f"old.[{c}]" for c in COLUMNS)
    new = ", ".join(f"new.[{c}]" for c in COLUMNS)
    db.execute(
        f"CREATE VIRTUAL TABLE [models_fts] USING FTS5 (\n    {cols},\n    content=[models]\n)"
    )
    db.execute("INSERT INTO [models_fts] ([models_fts]) VALUES ('rebuild')")
    delete = (
        f"INSERT INTO [models_fts] ([models_fts], rowid, {cols}) "
        f"VALUES ('delete', old.rowid, {old});"
    )
    insert = f"INSERT INTO [models_fts] (rowid, {cols}) VALUES (new.rowid, {new});"
    db.execute(f"CREATE TRIGGER [models_ai] AFTER INSERT ON [models] BEGIN\n  {insert}\nEND")
    db.execute(f"CREATE TRIGGER [models_ad] AFTER DELETE ON [models] BEGIN\n  {delete}\nEND")
    # Only a change of an indexed column touches the index: a counters refresh does not.
    db.execute(
        f"CREATE TRIGGER [models_au] AFTER UPDATE OF {cols} ON [models] BEGIN\n"
        f"  {delete}\n  {insert}\nEND"
    )


def _fill(db: sqlite_utils.Database, layouts: Layouts, chunk: int = 500) -> None:
    """Tags and descriptions of the rows already stored, read back through their layouts'
    parsers."""
    from .reader import assemble

    conn = db.conn
    last = 0
    while rows := conn.execute(
        "SELECT rowid, source, id, CAST(raw AS BLOB), raw_size FROM models WHERE rowid > ? "
        "ORDER BY rowid LIMIT ?",
        [last, chunk],
    ).fetchall():
        last = rows[-1][0]
        updates = []
        ordered = sorted(
            ((s, i, codec.unpack_bytes(r, n)) for _, s, i, r, n in rows), key=lambda r: r[0]
        )
        for source, group in itertools.groupby(ordered, key=lambda r: r[0]):
            parse = layouts[source].parse if source in layouts else None
            for _, model_id, payload in assemble(conn, layouts, source, list(group)):
                try:
                    if parse is None or isinstance(payload, RecordError):
                        continue
                    found = columns(parse(payload))
                except (RecordError, KeyError):
                    continue  # unreadable rows stay unindexed; the reader reports them
                updates.append((found["tags"], found["description"], source, model_id))
        conn.executemany(
            "UPDATE models SET tags = ?, description = ? WHERE source = ? AND id = ?", updates
        )
