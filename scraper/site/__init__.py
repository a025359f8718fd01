"""The static catalog site: pages, search, charts, built from the database."""

from pathlib import Path

DEFAULT_OUT = Path("output") / "site"
