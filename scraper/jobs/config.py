"""The run config: TOML read with tomllib, checked key by key, errors naming the file's line.

A source's keys are its sync options (the same `Option` specs the CLI is built from) plus the
shared ones below, so a new source needs no config code. Tokens are never read from here: a
config that holds something that looks like one is refused.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from .. import sources
from ..cards.render import DETAILS, LANGS
from ..net.settings import SettingError
from ..site.nsfw import MODES
from ..site.paths import base_url_problem
from ..sources import Option, Source
from .validate import (
    SECRET_KEY,
    parse_duration,
    secret_value,
    span,
    unknown_choice,
    unwritable,
    valid_rps,
)

__all__ = ["parse_duration", "span"]  # (where the CLI and the status read them)

DEFAULT = Path("scraper.toml")
STALE_AFTER = timedelta(hours=24)  # a source not synced for this long is stale


class ConfigError(SettingError):
    """A config that cannot run, in one line: `file:line: what is wrong`."""


@dataclass(frozen=True)
class SourceConfig:
    """One [[sources]] entry: what `scraper sync NAME` would be given, and when it is stale."""

    source: Source
    options: dict[str, Any]  # sync option values by Option.name, defaults filled in
    limit: int | None = None
    rps: float | None = None
    incremental: bool = False
    refresh: timedelta | None = None  # refresh_stats_older_than
    stale_after: timedelta = STALE_AFTER
    public_url: str | None = None  # the web host cards and pages link to (Source.public_url)

    def filters(self) -> sources.Filters:
        return self.source.filters({**self.options, "incremental": self.incremental})


@dataclass(frozen=True)
class SiteConfig:
    out: Path
    nsfw: str = "blur"
    images: str = "link"  # or "mirror": scraper/site/mirror.py
    deleted: str = "hide"  # or "archive"
    base_url: str = ""  # where the site is served (absolute canonical, feeds, sitemap)


@dataclass(frozen=True)
class LibraryConfig:
    """One [[library]] entry: what `scraper scan PATH` would be given."""

    path: Path
    lang: str = "zh"
    info: bool = True
    card: bool = True
    force: bool = False
    out: Path | None = None
    rps: float | None = None
    retry_after: timedelta = timedelta(days=7)
    preview: bool = False
    nsfw: str = "hide"
    jobs: int | None = None  # files hashed at once (None: the cores, up to 4)


LIBRARY_KEYS = (
    "path", "lang", "info", "card", "force", "out", "rps", "retry_after", "preview", "nsfw",
    "jobs",
)  # fmt: skip


@dataclass(frozen=True)
class Config:
    path: Path
    db: Path
    out: Path
    languages: tuple[str, ...]
    details: str
    site: SiteConfig | None
    sources: tuple[SourceConfig, ...]
    libraries: tuple[LibraryConfig, ...] = ()
    max_wait: float | None = None  # seconds; None: SCRAPER_MAX_WAIT or its default


def default_path() -> Path:
    return Path(os.environ.get("SCRAPER_CONFIG") or DEFAULT)


def load(path: Path) -> Config:
    """Read and check a config file; ConfigError names the line of the first problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file; give --config FILE or set SCRAPER_CONFIG "
            "(README shows an example)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at .*\)$", "", str(exc))
        if found:
            raise ConfigError(f"{path}:{found[1]}: {message} (column {found[2]})") from None
        raise ConfigError(f"{path}: {exc}") from None
    return _Checker(Path(path), key_lines(text)).config(data)


class _Checker:
    """Turns parsed TOML into a Config, failing with the line of the offending key."""

    def __init__(self, path: Path, lines: dict[tuple, int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, where: tuple, message: str) -> NoReturn:
        for end in range(len(where), 0, -1):
            if where[:end] in self.lines:
                raise ConfigError(f"{self.path}:{self.lines[where[:end]]}: {message}")
        raise ConfigError(f"{self.path}: {message}")

    def config(self, data: dict[str, Any]) -> Config:
        self.secrets(data, ())
        known = ("db", "out", "languages", "details", "stale_after", "max_wait", "site")
        known += ("sources", "library")
        self.unknown(data, (), known, "at the top level")
        base = self.path.parent
        if "db" in data:
            db = self.path_of(data, "db", base)
        else:
            db = Path(os.environ["SCRAPER_DB"]) if os.environ.get("SCRAPER_DB") else None
            db = db or self.relative(Path("output") / "models.db", base)
        languages = data.get("languages", ["zh"])
        known_languages = isinstance(languages, list) and all(x in LANGS for x in languages)
        if not languages or not known_languages:
            self.fail(("languages",), f"languages must be a list of {', '.join(LANGS)}")
        details = self.choice(data, ("details",), DETAILS, "html")
        stale = self.duration(data, ("stale_after",), STALE_AFTER)
        max_wait = self.duration(data, ("max_wait",), None)
        libraries = data.get("library", [])
        if not isinstance(libraries, list):
            self.fail(("library",), "library must be an array of tables: [[library]] path = ...")
        entries = data.get("sources", [] if libraries else None)
        if not isinstance(entries, list) or not (entries or libraries):
            names = ", ".join(s.cli_name for s in sources.SOURCES)
            self.fail(
                ("sources",),
                f"no [[sources]] and no [[library]]: add one per source to sync ({names}) "
                "or a folder of model files to scan",
            )
        seen: dict[str, int] = {}
        configured = tuple(self.source(i, entry, stale, seen) for i, entry in enumerate(entries))
        out = self.path_of(data, "out", base) if "out" in data else self.relative("output", base)
        self.writable(("out",) if "out" in data else (), out)
        # A db folder that does not exist is a typo, not a wish: refused, unless it is the
        # default output/ or the cards' folder, which the run makes anyway.
        made = (self.relative("output", base), out)
        if "db" in data and not db.parent.is_dir() and db.parent not in made:
            self.fail(("db",), f"db: the folder {db.parent} does not exist; create it first")
        return Config(
            path=self.path,
            db=db,
            out=out,
            languages=tuple(dict.fromkeys(languages)),
            details=details,
            site=self.site(data["site"], base) if "site" in data else None,
            sources=configured,
            libraries=tuple(self.library(i, entry, base) for i, entry in enumerate(libraries)),
            max_wait=None if max_wait is None else max_wait.total_seconds(),
        )

    def library(self, index: int, entry: Any, base: Path) -> LibraryConfig:
        where: tuple = ("library", index)
        if not isinstance(entry, dict):
            self.fail(where, "each [[library]] entry must be a table")
        self.unknown(entry, where, LIBRARY_KEYS, "in [[library]]")
        if "path" not in entry:
            self.fail(where, "[[library]] needs path = the folder of model files to scan")
        for key in ("info", "card", "force", "preview"):
            if not isinstance(entry.get(key, True), bool):
                self.fail((*where, key), f"{key} must be true or false")
        rps = self.rps(entry, where)
        jobs = entry.get("jobs")
        if jobs is not None and (type(jobs) is not int or jobs < 1):
            self.fail((*where, "jobs"), f"jobs must be a positive integer, not {jobs!r}")
        return LibraryConfig(
            path=self.path_of(entry, "path", base, where),
            lang=self.choice(entry, (*where, "lang"), LANGS, "zh"),
            info=entry.get("info", True),
            card=entry.get("card", True),
            force=entry.get("force", False),
            out=self.path_of(entry, "out", base, where) if "out" in entry else None,
            rps=None if rps is None else float(rps),
            retry_after=self.duration(entry, (*where, "retry_after"), timedelta(days=7)),
            preview=entry.get("preview", False),
            nsfw=self.choice(entry, (*where, "nsfw"), ("hide", "show"), "hide"),
            jobs=jobs,
        )

    def site(self, table: Any, base: Path) -> SiteConfig:
        if not isinstance(table, dict):
            self.fail(("site",), "site must be a table: [site] with out and nsfw")
        self.unknown(table, ("site",), tuple(SiteConfig.__dataclass_fields__), "in [site]")
        out = self.path_of(table, "out", base, ("site",)) if "out" in table else None
        self.writable(("site", "out"), out)
        if problem := base_url_problem(table.get("base_url", "")):
            self.fail(("site", "base_url"), problem)
        return SiteConfig(
            out=out or self.relative(Path("output") / "site", base),
            nsfw=self.choice(table, ("site", "nsfw"), MODES, "blur"),
            images=self.choice(table, ("site", "images"), ("link", "mirror"), "link"),
            deleted=self.choice(table, ("site", "deleted"), ("hide", "archive"), "hide"),
            base_url=str(table.get("base_url", "")).strip().rstrip("/"),
        )

    def source(
        self, index: int, entry: Any, stale: timedelta, seen: dict[str, int]
    ) -> SourceConfig:
        where: tuple = ("sources", index)
        if not isinstance(entry, dict):
            self.fail(where, "each [[sources]] entry must be a table")
        name = entry.get("name")
        if not isinstance(name, str):
            names = ", ".join(s.cli_name for s in sources.SOURCES)
            self.fail((*where, "name"), f"[[sources]] needs name = one of {names}")
        try:
            source = sources.get(name)
        except sources.UnknownSource as exc:
            self.fail((*where, "name"), str(exc))
        if source.name in seen:
            self.fail(
                (*where, "name"),
                f"source {source.cli_name} is configured twice (also [[sources]] "
                f"#{seen[source.name] + 1}); give each source one entry",
            )
        seen[source.name] = index
        specs = {o.name: o for o in source.sync_options}
        shared = ["limit", "rps", "stale_after"]
        shared += ["incremental"] if source.incremental else []
        shared += ["refresh_stats_older_than"] if source.refresh_batch else []
        shared += ["public_url"] if source.public_env else []
        self.unknown(entry, where, ("name", *specs, *shared), f"for source {source.cli_name}")
        options = {o.name: () if o.multiple else o.default for o in source.sync_options}
        for key, option in specs.items():
            if key in entry:
                options[key] = self.option((*where, key), option, entry[key])
        limit = entry.get("limit")
        if limit is not None and (type(limit) is not int or limit < 1):
            self.fail((*where, "limit"), f"limit must be a positive integer, not {limit!r}")
        rps = self.rps(entry, where)
        incremental = entry.get("incremental", False)
        if not isinstance(incremental, bool):
            self.fail((*where, "incremental"), "incremental must be true or false")
        refresh = self.duration(entry, (*where, "refresh_stats_older_than"), None)
        public_url = entry.get("public_url")
        if public_url is not None:
            try:
                source.public_url(str(public_url) if isinstance(public_url, str) else "-")
            except SettingError as exc:
                self.fail((*where, "public_url"), str(exc))
        found = SourceConfig(
            source,
            options,
            limit,
            None if rps is None else float(rps),
            incremental,
            refresh,
            self.duration(entry, (*where, "stale_after"), stale),
            public_url,
        )
        try:
            found.filters()
        except ValueError as exc:
            self.fail(where, f"source {source.cli_name}: {exc}")
        return found

    def option(self, where: tuple, option: Option, value: Any) -> Any:
        """A sync option's value, of its Option's kind (a list of them when it repeats)."""
        if option.multiple:
            if not isinstance(value, list):
                self.fail(where, f"{where[-1]} must be a list, e.g. {where[-1]} = [...]")
            return tuple(self.one(where, option, item) for item in value)
        return self.one(where, option, value)

    def one(self, where: tuple, option: Option, value: Any) -> Any:
        kinds = {bool: "true or false", int: "a positive integer", float: "a number"}
        ok = {
            bool: isinstance(value, bool),
            int: type(value) is int and value >= 1,
            float: type(value) in (int, float),
        }.get(option.kind, isinstance(value, str))
        if not ok:
            noun = kinds.get(option.kind, "a string")
            self.fail(where, f"{where[-1]} must be {noun}, not {value!r}")
        if option.choices and value not in option.choices:
            self.fail(where, unknown_choice(where[-1], value, option.choices))
        return value

    def rps(self, entry: dict, where: tuple) -> float | None:
        rps = entry.get("rps")
        if rps is not None and (type(rps) not in (int, float) or not valid_rps(rps)):
            self.fail(
                (*where, "rps"),
                f"rps must be a number >= 0 (0: no limit, else 0.001 to 1000), not {rps!r}",
            )
        return rps

    def choice(self, table: dict, where: tuple, choices: tuple[str, ...], default: str) -> str:
        value = table.get(where[-1], default)
        if value not in choices:
            self.fail(where, unknown_choice(where[-1], value, choices))
        return value

    def duration(self, table: dict, where: tuple, default: Any) -> Any:
        if where[-1] not in table:
            return default
        value = table[where[-1]]
        try:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not a duration like 24h, 30m or 7d")
            return parse_duration(value)
        except ValueError as exc:
            self.fail(where, f"{where[-1]}: {exc}")

    def writable(self, where: tuple, folder: Path | None) -> None:
        """A folder the run will write (cards, the site): refused before any request."""
        if folder is not None and (why := unwritable(folder)):
            self.fail(where, f"{'.'.join(where) or 'out'}: {why}")

    def path_of(self, table: dict, key: str, base: Path, where: tuple = ()) -> Path:
        value = table[key]
        if not isinstance(value, str) or not value:
            self.fail((*where, key), f"{key} must be a path (a string), not {value!r}")
        return self.relative(Path(value).expanduser(), base)

    @staticmethod
    def relative(path: Path | str, base: Path) -> Path:
        """A path of the config: relative ones are taken from the config file's folder."""
        path = Path(path)
        return path if path.is_absolute() or base == Path(".") else base / path

    def unknown(self, table: dict, where: tuple, known: tuple[str, ...], place: str) -> None:
        for key in table:
            if key not in known:
                names = ", ".join(known)
                self.fail((*where, key), f"unknown key {key!r} {place}; known: {names}")

    def secrets(self, value: Any, where: tuple) -> None:
        """Refuse anything that looks like a token: by its key's name or by its shape."""
        envs = sorted({s.policy.token_env for s in sources.SOURCES})
        values = {os.environ.get(e) for e in envs} - {None, ""}
        why = f"tokens are read from the environment only ({', '.join(envs)}), never from here"
        if isinstance(value, dict):
            for key, item in value.items():
                if SECRET_KEY.search(key.lower()):
                    self.fail((*where, key), f"{key!r} looks like a secret: {why}")
                self.secrets(item, (*where, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.secrets(item, (*where, index) if isinstance(item, dict) else where)
        elif isinstance(value, str) and (value in values or secret_value().fullmatch(value)):
            self.fail(where, f"the value of {where[-1]!r} looks like a token: {why}")


_TABLE = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""\s*([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*[.=]""")


def key_lines(text: str) -> dict[tuple, int]:
    """Where each key and table starts: ("db",), ("site", "out"), ("sources", 0, "name")...

    A small scan beside tomllib (which keeps no positions): tables, arrays of tables and the
    first key of each line, skipping multi-line strings and values that span lines.
    """
    found: dict[tuple, int] = {}
    table: tuple = ()
    arrays: dict[str, int] = {}
    closing: str | None = None  # the quotes that end a multi-line string
    depth = 0  # open brackets of a value that spans lines
    for number, line in enumerate(text.splitlines(), 1):
        if closing:
            closing = None if closing in line else closing
            continue
        if depth:
            depth = max(0, depth + _depth(line))
            continue
        header = _TABLE.match(line)
        if header:
            name = header[2].strip().strip("\"'")
            if header[1] == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                table = (name, arrays[name])
            else:
                table = (name,)
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*table, key[1].strip("\"'")), number)
            rest = line.split("=", 1)[1] if "=" in line else ""
            for quotes in ('"""', "'''"):
                if rest.count(quotes) % 2:
                    closing = quotes
            depth = max(0, _depth(rest))
    return found


def _depth(text: str) -> int:
    """Brackets opened minus closed, outside strings and comments."""
    depth, quote, escaped = 0, "", False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth
