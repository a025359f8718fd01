"""Datasette reads the packed payloads too: this plugin adds `sqlar_uncompress`, so the
`models_json` and `version_images` views show JSON (`pip install datasette` beside scraper)."""

from __future__ import annotations

import sqlite3

try:
    from datasette import hookimpl
except ImportError:  # only Datasette imports this module; without it the hook is plain

    def hookimpl(function):  # type: ignore[no-redef]
        return function


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    from .store import codec

    codec.register(conn)
