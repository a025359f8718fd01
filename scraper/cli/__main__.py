"""`python -m scraper.cli`: the same command, for tests that run it as its own process."""

from . import main

main()
