"""The registry of sources: the one list of them, so shared code loops and never names one.

A source is one module with a `Source` subclass and one line here; one from outside the
package (a plugin, a test's fake) is added with register(), no shipped file edited.
"""

from __future__ import annotations

from typing import Any

from ..records import RecordError
from . import civitai, huggingface, modelscope
from .base import Filters, Option, Source

SOURCES: tuple[Source, ...] = (civitai.SOURCE, huggingface.SOURCE, modelscope.SOURCE)

__all__ = [
    "SOURCES",
    "Filters",
    "Option",
    "Source",
    "get",
    "register",
    "saved_items",
    "titles",
    "unregister",
]


def register(source: Source) -> Source:
    """Add a source to the registry: the CLI, the run config, the store's layouts and the
    cards then know it. Its names must be new."""
    global SOURCES
    taken = {n for s in SOURCES for n in (s.name, s.cli_name, *s.aliases)}
    clash = taken & {source.name, source.cli_name, *source.aliases}
    if clash:
        raise ValueError(f"a source is already registered as {', '.join(sorted(clash))}")
    SOURCES = (*SOURCES, source)
    return source


def unregister(name: str) -> None:
    """Take a source registered with register() out again (a test's fake, when it is done)."""
    global SOURCES
    SOURCES = tuple(s for s in SOURCES if s.name != name)


class UnknownSource(KeyError):
    """A source name that is not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0])


def get(name: str) -> Source:
    """A source by its stored name, its CLI name or an alias."""
    for source in SOURCES:
        if name in (source.name, source.cli_name, *source.aliases):
            return source
    names = ", ".join(s.cli_name for s in SOURCES)
    raise UnknownSource(f"unknown source {name!r}: use one of {names}")


def titles(which: tuple[Source, ...] | None = None) -> str:
    """The sources' names for help and messages, e.g. "A, B or C"."""
    names = [s.title for s in (SOURCES if which is None else which)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def saved_items(payload: Any) -> tuple[Source, list[Any]]:
    """Which source a saved API response comes from, by its shape, and its model payloads."""
    for source in SOURCES:
        items = source.saved_items(payload)
        if items is not None:
            return source, items
    raise RecordError(f"not a saved {titles()} response")
