"""What a config's values are checked against, in words a user can act on."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..net.settings import SettingError
from ..net.settings import rps as checked_rps

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def unknown_choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    """`key must be one of ..., not 'x' (did you mean 'X'?)`: the allowed values named, and
    the closest one when a value is only misspelled or in the wrong case."""
    import difflib

    message = f"{key} must be one of {', '.join(choices)}, not {value!r}"
    if not isinstance(value, str):
        return message
    folded = {c.lower(): c for c in choices}
    close = [folded[value.lower()]] if value.lower() in folded else []
    close = close or difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        lowered = difflib.get_close_matches(value.lower(), list(folded), n=1, cutoff=0.6)
        close = [folded[c] for c in lowered]
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def unwritable(folder: Path) -> str | None:
    """Why `folder` cannot be written, or None: it, or the nearest folder that exists above
    it, must be a folder this user can write."""
    found = folder
    while not found.exists() and found.parent != found:
        found = found.parent
    if not found.is_dir():
        return f"{found} is not a folder, so {folder} cannot be written"
    if not os.access(found, os.W_OK | os.X_OK):
        return f"{found} is not writable, so {folder} cannot be written"
    return None


MAX_DURATION = timedelta(days=3650)  # longer is a typo, and past what timedelta can hold


def valid_rps(value: float) -> bool:
    """0 (no limit) or 0.001 to 1000, as the client checks it."""
    try:
        checked_rps(value)
    except SettingError:
        return False
    return True


def parse_duration(text: str) -> timedelta:
    """24h, 30m, 7d, 90s, up to 3650d; ValueError for anything else."""
    value = str(text).strip().lower()
    if len(value) >= 2 and value[-1] in _UNITS and value[:-1].replace(".", "", 1).isdigit():
        seconds = float(value[:-1]) * _UNITS[value[-1]]
        if seconds <= MAX_DURATION.total_seconds():
            return timedelta(seconds=seconds)
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days}d")
    raise ValueError(f"{text!r} is not a duration like 24h, 30m or 7d")


def span(delta: timedelta) -> str:
    """1d 2h, 3h 5m, 40s: a duration for people."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" * bool(days), f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes)]
    return " ".join(p for p in parts if p) or f"{seconds}s"
