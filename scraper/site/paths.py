"""Where every page of the site lives: names from ids, safe on every file system, relative links.

Chinese pages sit at the site root and English ones under `en/`, at the same relative path, so
the language switch is a fixed prefix. Links are relative, so the site works under any path.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from urllib.parse import urlsplit

from ..files import slugify

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
KINDS = ("source", "type", "base", "task", "tag", "author")  # index pages: a group per value
ALL = "all"  # the index of every model: list/all/all/<n>.html, no directory of its own

# A name kept as it is: lower-case ASCII letters, digits and '-', no dot, no '_' (changed
# names carry '_' + hash, so the two sets never meet), short.
_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in "0123456789¹²³"}
    | {f"lpt{i}" for i in "0123456789¹²³"}
)
# Every path the site writes or removes: relative, lower-case, no '..' (parts start with
# [a-z0-9]), no separators or characters that Windows or a URL would read otherwise.
SAFE_PATH = re.compile(r"(?:[a-z0-9][a-z0-9_.-]{0,99}/){0,6}[a-z0-9][a-z0-9_.-]{0,99}")


@lru_cache(maxsize=1 << 16)  # tags and types repeat on every page that links them
def page_name(key: str) -> str:
    """A file name stem for an id or an index key: the key itself when it is already plain,
    else its ASCII slug plus a stable hash of the exact key (collision-free, also where the
    file system ignores case)."""
    if _PLAIN.fullmatch(key) and key not in _WINDOWS_RESERVED:
        return key
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    tag = base64.b32encode(digest).decode().rstrip("=").lower()
    return f"{slugify(key)[:40].strip('-') or 'x'}_{tag}"


def model_page(source: str, model_id: str, path_id: str | None = None) -> str:
    """A model's page: named by its readable id where the stored one is opaque (a Hub repo's
    `owner/name` as `owner--name`, the cards' naming), else by its id."""
    name = path_id.replace("/", "--") if path_id else model_id
    return f"models/{page_name(source)}/{page_name(name)}.html"


def redirect_page(path: str, target: str) -> str:
    """A page left at a model's old address (a renamed repo) that sends the browser on."""
    from html import escape

    href = escape(root_of(path) + target, quote=True)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={href}">'
        f'<link rel="canonical" href="{href}"><meta name="robots" content="noindex">'
        f'<title>Moved</title></head><body><p><a href="{href}">{href}</a></p></body></html>\n'
    )


def group_page(kind: str, key: str, number: int = 1) -> str:
    """Page `number` (from 1) of the index of one source, type, base model or tag."""
    return f"list/{kind}/{page_name(key)}/{number}.html"


def group_json(kind: str, key: str) -> str:
    """The compact rows of every model of one index (sorted and filtered in the browser)."""
    return f"list/{kind}/{page_name(key)}/index.json"


def feed(scope: str, key: str, name: str) -> str:
    """An Atom feed: scope 'all' (key ignored), 'source' or 'type'; name 'new' or 'updated'."""
    if scope == "all":
        return f"feeds/{name}.xml"
    return f"feeds/{scope}/{page_name(key)}-{name}.xml"


def directory_page(kind: str, number: int = 1) -> str:
    """Page `number` of the list of all groups of a kind (all tags, all base models...)."""
    return f"list/{kind}.html" if number == 1 else f"list/{kind}-{number}.html"


def localized(path: str, lang: str) -> str:
    """The path of a page in a language: Chinese at the root, English under en/."""
    return path if lang == "zh" else f"en/{path}"


def root_of(path: str) -> str:
    """The relative prefix from a page back to the site root ('' at the root)."""
    return "../" * path.count("/")


def is_safe(path: str) -> bool:
    return SAFE_PATH.fullmatch(path) is not None and ".." not in path.split("/")


def check_base_url(value: object) -> str:
    """`[site] base_url` / --base-url: an http(s) address with a host, no query or fragment;
    returned without its trailing slash ("" stays ""). ValueError: one line saying what to
    give."""
    if value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError(check_message(value))
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(check_message(value))
    return value.strip().rstrip("/")


def base_url_problem(value: object) -> str | None:
    """What is wrong with a base_url setting, None when nothing is."""
    try:
        check_base_url(value)
    except ValueError as exc:
        return str(exc)
    return None


def check_message(value: object) -> str:
    return (
        "base_url must be the http(s) address the site is served at, such as "
        f"https://example.org/models, not {value!r}"
    )
