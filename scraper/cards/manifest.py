"""What was rendered from what: a manifest beside the outputs, so a run renders only the models
whose inputs changed and the database stays read-only.

`OUT/.scraper-manifest.db` (SQLite) holds, per model and language, the file written and the
inputs it was written from (the model's content and counters hashes); per language, the key of
the templates, labels, code and options. Attached read-only to the database's read snapshot, it
finds the changed models with one query.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from ..files import refuse_link

NAME = ".scraper-manifest.db"
INPUTS = "m.content_hash || '|' || ifnull(m.stats_hash, '') || '|' || ifnull(m.deleted_at, '')"


TABLES = (
    "CREATE TABLE IF NOT EXISTS cards (source TEXT, id TEXT, lang TEXT, name TEXT, inputs TEXT, "
    "PRIMARY KEY (source, id, lang)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS renders (lang TEXT, source TEXT, key TEXT, "
    "PRIMARY KEY (lang, source)) WITHOUT ROWID;"
    # Which model a file name belongs to, ignoring case: two ids never share a file.
    "CREATE INDEX IF NOT EXISTS cards_by_name ON cards (source, lang, name COLLATE NOCASE);"
)


class Manifest:
    """The manifest of one output folder, open for writing. WAL, so that the read snapshot
    that has it attached does not block its writes; a run that changes nothing writes nothing
    to it (and its -wal and -shm files go when it closes).

    It only saves work: when it cannot be read or written (a full disk, a damaged file), the
    run goes on without it, renders every card, and `problem` says why.
    """

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path: Path | None = out / NAME
        refuse_link(self.path, "card manifest")  # else SQLite writes where the link points
        self.problem: str | None = None
        self._pending: list[tuple] = []
        self._names: dict[tuple[str, str, str], str] = {}  # this run's names, lower case
        try:
            new = not self.path.exists()
            self.conn = sqlite3.connect(self.path, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if new:
                self.conn.execute("PRAGMA journal_mode=WAL")  # kept in the file from then on
            self.conn.executescript(TABLES)
            self.conn.execute("SELECT count(*) FROM cards").fetchone()
        except sqlite3.Error as exc:
            self._lost(exc)

    def _lost(self, exc: sqlite3.Error) -> None:
        """Go on in memory: this run renders everything and the next one does so again."""
        self.problem = f"{self.path}: {exc}; cards were rendered without it"
        self.path = None
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.executescript(TABLES)

    def close(self) -> None:
        self.flush()
        self.conn.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def uri(self) -> str | None:
        """For ATTACH on a read-only connection; None when it could not be opened."""
        return f"file:{quote(str(self.path.resolve()))}?mode=ro" if self.path else None

    def key(self, lang: str, source: str) -> str | None:
        row = self.conn.execute(
            "SELECT key FROM renders WHERE lang = ? AND source = ?", [lang, source]
        ).fetchone()
        return row[0] if row else None

    def set_key(self, lang: str, source: str, key: str) -> None:
        self.flush()
        if self.path and self.key(lang, source) != key:
            try:
                self.conn.execute(
                    "INSERT OR REPLACE INTO renders VALUES (?, ?, ?)", [lang, source, key]
                )
            except sqlite3.Error as exc:
                self._lost(exc)

    def name(self, source: str, model_id: str, lang: str) -> str | None:
        row = self.conn.execute(
            "SELECT name FROM cards WHERE source = ? AND id = ? AND lang = ?",
            [source, model_id, lang],
        ).fetchone()
        return row[0] if row else None

    def owner(self, source: str, lang: str, name: str) -> str | None:
        """The id of the model whose card has this file name (ignoring case), if any."""
        found = self._names.get((source, lang, name.lower()))
        if found is not None:
            return found
        row = self.conn.execute(
            "SELECT id FROM cards WHERE source = ? AND lang = ? AND name = ? COLLATE NOCASE",
            [source, lang, name],
        ).fetchone()
        return row[0] if row else None

    def record(self, source: str, model_id: str, lang: str, name: str, inputs: str | None) -> None:
        """Queued, and written a thousand at a time: a crash loses only the last few, whose
        cards are then rendered again."""
        self._names[(source, lang, name.lower())] = model_id
        self._pending.append((source, model_id, lang, name, inputs))
        if len(self._pending) >= 1000:
            self.flush()

    def forget(self, source: str, model_id: str, lang: str) -> None:
        self.flush()
        try:
            self.conn.execute(
                "DELETE FROM cards WHERE source = ? AND id = ? AND lang = ?",
                [source, model_id, lang],
            )
        except sqlite3.Error as exc:
            self._lost(exc)

    def flush(self) -> None:
        if self._pending and self.path:
            try:
                with self.conn:
                    self.conn.execute("BEGIN")
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?)", self._pending
                    )
            except sqlite3.Error as exc:
                self._lost(exc)
        self._pending.clear()

    def names(self, source: str, lang: str) -> Iterator[tuple[str, str]]:
        yield from self.conn.execute(
            "SELECT id, name FROM cards WHERE source = ? AND lang = ?", [source, lang]
        )

    def count(self, source: str, lang: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM cards WHERE source = ? AND lang = ?", [source, lang]
        ).fetchone()[0]

    def import_legacy(self, folder: Path, source: str, lang: str) -> None:
        """A folder rendered before this manifest existed: its id -> file names, so renamed
        cards are still found; their inputs are unknown, so they are rendered again."""
        legacy = folder / f".cards-{lang}.json"
        try:
            data = json.loads(legacy.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return
        if isinstance(data, dict):
            for model_id, name in data.items():
                self.record(source, str(model_id), lang, str(name), None)
            self.flush()
        legacy.unlink(missing_ok=True)


def changed(conn: sqlite3.Connection, lang: str, source: str) -> list[tuple[str, str]]:
    """(source, id) of the models whose inputs differ from what their card was rendered from;
    `conn` is the database's read snapshot with the manifest attached as `man`."""
    return conn.execute(
        f"SELECT m.source, m.id FROM models m LEFT JOIN man.cards c "
        f"ON c.source = m.source AND c.id = m.id AND c.lang = ? "
        f"WHERE m.source = ? AND (c.inputs IS NULL OR c.inputs != {INPUTS}) "
        "ORDER BY length(m.id), m.id",
        [lang, source],
    ).fetchall()


def gone(conn: sqlite3.Connection, lang: str, source: str) -> list[tuple[str, str, str]]:
    """(source, id, file) of cards whose model the database no longer holds."""
    return conn.execute(
        "SELECT c.source, c.id, c.name FROM man.cards c WHERE c.lang = ? AND c.source = ? "
        "AND NOT EXISTS (SELECT 1 FROM models m WHERE m.source = c.source AND m.id = c.id)",
        [lang, source],
    ).fetchall()


def count(conn: sqlite3.Connection, source: str) -> int:
    return conn.execute("SELECT count(*) FROM models WHERE source = ?", [source]).fetchone()[0]


def inputs(conn: sqlite3.Connection, source: str, model_id: str) -> str | None:
    row = conn.execute(
        f"SELECT {INPUTS} FROM models m WHERE m.source = ? AND m.id = ?", [source, model_id]
    ).fetchone()
    return row[0] if row else None
