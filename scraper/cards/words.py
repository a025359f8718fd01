"""Enumerated values the APIs send in English (licence terms, scan results, file kinds) and dates,
in a page's language: one table ([words.*] in templates/labels.toml) for the site and the cards."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from importlib import resources

COMMERCIAL = "commercial use: "


@cache
def table(lang: str) -> dict[str, object]:
    """The words of a language ('bilingual' reads as English: its values stay as sent)."""
    folder = resources.files("scraper.templates")
    words = tomllib.loads((folder / "labels.toml").read_text(encoding="utf-8")).get("words", {})
    return dict(words.get(lang if lang in words else "en", {}))


def word(value: str | None, lang: str) -> str | None:
    """One enumerated value in the language; a value the table does not know stays as it is."""
    if value is None:
        return None
    found = table(lang).get(value.strip())
    return found if isinstance(found, str) else value.strip()


def license_text(text: str | None, lang: str) -> str | None:
    """A licence as the sources' parsers write it ("commercial use: Image, Sell; no credit
    needed; ...", or a licence's id such as apache-2.0, kept as it is) with each known term in
    the language."""
    if not text:
        return text
    words = table(lang)
    parts = []
    for part in text.split("; "):
        if part.startswith(COMMERCIAL):
            uses = [word(u, lang) or u for u in part[len(COMMERCIAL) :].split(", ")]
            label = words.get("commercial use", "commercial use")
            colon = "：" if lang == "zh" else ": "
            joiner = "、" if lang == "zh" else ", "
            parts.append(f"{label}{colon}{joiner.join(uses)}")
        else:
            parts.append(word(part, lang) or part)
    return ("；" if lang == "zh" else "; ").join(parts)


def parse_time(stamp: str | None) -> datetime | None:
    """An ISO 8601 stamp as the APIs send it (a trailing Z, fractions of any length)."""
    if not stamp or not isinstance(stamp, str):
        return None
    text = stamp.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text[:10])
        except ValueError:
            return None


def date_text(stamp: str | None, lang: str) -> str | None:
    """The day of a stamp written as the language writes dates (2023年4月28日, Apr 28, 2023);
    a value that is not a date is shown as it came."""
    when = parse_time(stamp)
    if when is None:
        return stamp.strip() if isinstance(stamp, str) and stamp.strip() else None
    words = table(lang)
    months = words.get("months") or [str(i) for i in range(1, 13)]
    pattern = str(words.get("date") or "{y}-{m:02}-{d:02}")
    return pattern.format(y=when.year, m=when.month, d=when.day, mon=months[when.month - 1])
