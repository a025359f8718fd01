"""The `scraper` command's entry point: Ctrl-C while the program is still starting (importing
its modules) ends in one line and exit status 130, not a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("scraper: interrupted\n")
        sys.exit(130)
    cli()
