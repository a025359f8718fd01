"""Is this file a database we may use? Checked on open, before anything is written to it."""

from __future__ import annotations


class DatabaseProblem(RuntimeError):
    """A database file that is missing, not SQLite, not ours or damaged: one line saying what
    to do, and the file left exactly as it was."""
