"""Is this file a database we may use? Checked on open, before anything is written to it.

Writing runs check the whole file (PRAGMA quick_check: a damaged database must not be
written to, or synced "ok" while it stays corrupt); reading runs check the header and the
schema, which costs nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

HEADER = b"SQLite format 3\x00"


class DatabaseProblem(RuntimeError):
    """A database file that is missing, not SQLite, not ours or damaged: one line saying what
    to do, and the file left exactly as it was."""


def damaged(path: Path, detail: object) -> DatabaseProblem:
    """The line for a database SQLite could not read: damage, or (an I/O error, a lock) not."""
    first = str(detail).splitlines()[0] if str(detail) else "damaged"
    if "disk I/O" in first or "unable to open" in first or "locked" in first:
        return DatabaseProblem(
            f"cannot read the database {path} ({first}): a full disk, a file-size limit, "
            "permissions or another program holding it"
        )
    return DatabaseProblem(
        f"the database {path} is damaged ({first}); nothing was written to it. Restore a "
        f"backup, or save what is left: sqlite3 {path} .recover | sqlite3 recovered.db"
    )


def _header(path: Path, writing: bool) -> bool:
    """Whether there is an SQLite file to look into (False: none yet, or an empty file a
    writing run may start)."""
    if path.is_dir():
        raise DatabaseProblem(f"{path} is a folder, not a database file; give --db a file")
    if not path.exists():
        if writing:
            return False
        raise DatabaseProblem(f"no database at {path}")
    with path.open("rb") as handle:
        head = handle.read(len(HEADER))
    if not head:
        if writing:
            return False
        raise DatabaseProblem(f"{path} is an empty file, not a database this tool wrote")
    if head != HEADER:
        raise DatabaseProblem(
            f"{path} is not an SQLite database (its first bytes are not SQLite's header); "
            "give --db the database this tool writes"
        )
    return True


def _ours(conn: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "models" not in tables:
        raise DatabaseProblem(
            f"{path} is an SQLite database but not one this tool wrote (it has no models "
            "table); give --db another file"
        )


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection (it can neither create nor change the file) to a database
    this tool wrote; DatabaseProblem, in one line, for anything else."""
    _header(path, writing=False)
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "models" not in tables:
            raise DatabaseProblem(
                f"{path} is an SQLite database but not one this tool wrote (it has no "
                "models table); give --db the database this tool writes"
            )
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise damaged(path, exc) from None
    except DatabaseProblem:
        conn.close()
        raise
    return conn


def accepted(path: Path) -> None:
    """The cheap part of before_writing, for before anything is created beside the file (its
    lock): a folder, or a file that is not SQLite, refused in one line."""
    _header(path, writing=True)


def before_writing(path: Path) -> None:
    """Refuse, before anything is written, a path that is a folder, a file that is not
    SQLite, an SQLite database of something else, or a damaged database."""
    if not _header(path, writing=True):
        return
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise damaged(path, exc) from None
    try:
        _ours(conn, path)
        problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    finally:
        conn.close()
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))
