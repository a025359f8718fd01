"""HTML pages from templates/site: one autoescaping Jinja environment, a model's page, and the
context every page shares (language, the other language's page, relative links).

Scraped text reaches a page only as a template value (escaped) or through
`scraper.sanitize.clean_html` (descriptions and READMEs); scraped URLs only through
`safe_url`.
"""

from __future__ import annotations

import html
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import escape

from ..cards import render
from ..records import Model
from ..sanitize import IMG_TAG, capped, clean_html, visible
from . import paths, taxonomy
from .feedlinks import links as feeds_links
from .summary import image_src, split_bases

# A second wall behind the sanitizer: only our own script file runs, nothing may be framed,
# posted or embedded; images come from https (the sources' CDNs) or the site itself (only the
# site itself when images are mirrored).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; "
    "frame-src 'none'"
)
CSP_MIRROR = CSP.replace("img-src 'self' https:", "img-src 'self'")
ASSETS = ("site.css", "search.js", "browse.js", "favicon.svg", "model.css", "model.js")
_BUILD = {"images": "link", "archive": False}  # set once per build process by configure()


def configure(images: str, archive: bool = False) -> None:
    """This build's settings that every page shows: with images "mirror" the CSP allows only
    the site's own images; with an archive, the menu links it."""
    _BUILD.update(images=images, archive=archive)


def templates_dir() -> Path:
    return Path(str(resources.files("scraper.templates"))) / "site"


def group_key(value: str) -> str:
    """The key one index groups by: a type, base model or tag regardless of case."""
    return value.strip().lower()


def group_page(kind: str, value: str, number: int = 1) -> str:
    """The index page a raw value belongs on: a source's own type or base model goes to its
    normalized type (or task) and family (taxonomy.toml), a tag to its own page."""
    vocabulary = taxonomy.load()
    if kind == "type":
        key = vocabulary.type_values.get(value.strip().lower())
        if key is None and value.strip().lower() in vocabulary.task_values:
            return paths.group_page("task", vocabulary.task_values[value.strip().lower()], number)
        return paths.group_page("type", key or taxonomy.OTHER, number)
    if kind == "base":
        return paths.group_page("base", vocabulary.family_of(value) or taxonomy.OTHER, number)
    return paths.group_page(kind, group_key(value), number)


@cache
def environment() -> jinja2.Environment:
    """HTML templates, autoescaped: a scraped value is text wherever it lands."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        # Plain text (names, tags, authors) without bidi overrides or zero-width characters;
        # Markup (sanitized HTML) as it is.
        finalize=lambda value: visible(value) if type(value) is str else value,
    )
    env.globals.update(
        group_page=group_page, index_page=paths.group_page, directory_page=paths.directory_page
    )
    env.globals["library_link"] = None  # set by site.library when files were scanned
    env.filters["thousands"] = thousands
    return env


def thousands(value: Any) -> str:
    """1234567 -> 1,234,567; nothing for a missing count."""
    return "" if value is None else f"{value:,}"


@cache
def site_labels(lang: str) -> render.Labels:
    words = {}
    for name in ("labels.toml", "model-labels.toml"):
        table = tomllib.loads((templates_dir() / name).read_text(encoding="utf-8"))
        words.update(table[lang])
    return render.Labels(words)


_SITE = {"base_url": ""}  # set once per process by configure()


def set_base_url(base_url: str) -> None:
    """Where the site will be served (`[site] base_url`): canonical, OpenGraph, feed and
    sitemap addresses become absolute. Empty: relative ones."""
    _SITE["base_url"] = base_url.rstrip("/")


def absolute(path: str) -> str:
    """A site path as a URL: under base_url when set, else the path itself (relative)."""
    return f"{_SITE['base_url']}/{path}" if _SITE["base_url"] else path


def meta(
    description: str, image: str | None = None, feeds: Any = (), kind: str = "website"
) -> dict[str, Any]:
    """What a page says about itself in <head>: description, OpenGraph image (an already
    checked https URL), its Atom feeds as (title, href)."""
    text = " ".join(description.split())
    return {"description": text[:300], "image": image, "feeds": list(feeds), "type": kind}


@cache
def names(lang: str) -> dict[str, dict[str, str]]:
    """The normalized type, family and task names in a language, by key."""
    vocabulary = taxonomy.load()
    return {
        kind: {k: e.name(lang) for k, e in vocabulary.names(kind).items()}
        for kind in ("type", "base", "task")
    }


def context(path: str, lang: str, title: str) -> dict[str, Any]:
    """What the layout needs: `root` leads to the site root, `base` to this language's root,
    `alt_href` to the same page in the other language."""
    here = paths.localized(path, lang)
    root = paths.root_of(here)
    other = "en" if lang == "zh" else "zh"
    S = site_labels(lang)  # noqa: N806
    return {
        "canonical": absolute(here) if _SITE["base_url"] else root + here,
        "abs_url": absolute(here) if _SITE["base_url"] else None,
        "abs_alt": absolute(paths.localized(path, other)) if _SITE["base_url"] else None,
        "meta": meta(S.tagline),
        "lang": lang,
        "html_lang": paths.HTML_LANG[lang],
        "alt_lang": paths.HTML_LANG[other],
        "root": root,
        "base": paths.root_of(path),  # the English tree mirrors the Chinese one
        "self_href": root + here,
        "alt_href": root + paths.localized(path, other),
        "title": title,
        "csp": CSP_MIRROR if _BUILD["images"] == "mirror" else CSP,
        "archive": _BUILD["archive"],
        "S": site_labels(lang),
        "L": render.labels(lang),
    }


def render_page(template: str, path: str, lang: str, title: str, **values: Any) -> str:
    return environment().get_template(template).render(context(path, lang, title), **values)


_TAG = re.compile(r"<[^>]*>")


def model_meta(model: Model, lang: str, description: str, first: Any) -> dict[str, Any]:
    """<head> facts of a model page: a one-line description (its kind, base, author, then the
    start of its description as text) and the first image shown unblurred, for link previews."""
    bases = list(dict.fromkeys(b for v in model.versions for b in split_bases(v.base_model)))
    facts = [model.type or "", ", ".join(bases[:3]), model.creator or ""]
    text = html.unescape(_TAG.sub(" ", description))
    line = " · ".join(f for f in facts if f)
    image = image_src(model.source, first[0]) if first and not first[1] else None
    if image and "://" not in image:  # a copy inside the site: only with an absolute address
        image = absolute(image) if _SITE["base_url"] else None
    root = paths.root_of(paths.localized(paths.model_page(model.source, model.id), lang))
    return meta(
        f"{line}. {text}" if line else text or model.name,
        image=image,
        feeds=feeds_links("all", "", root, lang),
        kind="article",
    )


# --- descriptions --------------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_HEADING = re.compile(r"<(/?)h([1-6])>")


def description_html(model: Model) -> str:
    """The description (HTML where the source sends HTML, else a markdown README) made safe:
    sanitized, its headings moved below the page's own."""
    text = capped(model.description or "", render.CUT_NOTE)
    if model.description_format != "html":
        text = _MARKDOWN.render(text)
    return shift_headings(clean_html(text))


def shift_headings(html: str, by: int = 2) -> str:
    """h1 -> h3 and so on (h6 at most): the page has its own h1 and h2."""
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + by)}>", html)


def blur_images(html: str, label: str) -> str:
    """Wrap each image of sanitized HTML in the click-to-show toggle."""
    text = escape(label)
    return IMG_TAG.sub(
        lambda m: (
            f'<label class="nsfw"><input type="checkbox" aria-label="{text}">{m[0]}'
            f"<span>{text}</span></label>"
        ),
        html,
    )
