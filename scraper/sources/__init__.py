"""The registry of sources: the one list of them, so shared code loops and never names one."""

from __future__ import annotations

from typing import Any

from ..records import RecordError
from . import civitai, huggingface, modelscope
from .base import Filters, Option, Source

SOURCES: tuple[Source, ...] = (civitai.SOURCE, huggingface.SOURCE, modelscope.SOURCE)

__all__ = ["SOURCES", "Filters", "Option", "Source", "get", "saved_items", "titles"]


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


def titles(which: tuple[Source, ...] = SOURCES) -> str:
    """The sources' names for help and messages, e.g. "A, B or C"."""
    names = [s.title for s in which]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def saved_items(payload: Any) -> tuple[Source, list[Any]]:
    """Which source a saved API response comes from, by its shape, and its model payloads."""
    for source in SOURCES:
        items = source.saved_items(payload)
        if items is not None:
            return source, items
    raise RecordError(f"not a saved {titles()} response")
