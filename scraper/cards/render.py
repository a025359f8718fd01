"""Records to markdown cards: one Jinja environment, the labels, the card file names."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .. import sanitize, sources
from ..records import MODEL_STATS, VERSION_STATS, File, Image, Model
from . import escape, words
from .escape import Safe

if TYPE_CHECKING:
    import jinja2

LANGS = ("zh", "en", "bilingual")
DETAILS = ("html", "markdown")


@cache
def environment(templates_dir: str | None = None, strict: bool = True) -> jinja2.Environment:
    """Markdown templates: scraped values are only ever context, never template source, and
    every printed value is escaped for markdown (escape.finalizer) unless a filter marked it
    Safe for its place; the reference format escapes only what could be live (strict False)."""
    import jinja2  # imported when a card is rendered, not for --help

    path = templates_dir or str(resources.files("scraper.templates"))
    env = jinja2.Environment(
        finalize=escape.finalizer(strict),
        loader=jinja2.FileSystemLoader(path),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # no stat() per card: templates do not change during a run
    )
    env.filters.update(
        tag_list=tag_list,
        gallery=gallery,
        img_cells=img_cells,
        separator_row=separator_row,
        file_facts=file_facts,
        license_words=lambda text, L: words.license_text(text, L.get("lang", "en")),
        link_text=escape.link_text,
        url=escape.url,
    )
    return env


class Labels(dict):
    """Labels read as L.colon in templates without Jinja's getattr-then-getitem detour."""

    __getattr__ = dict.__getitem__


@cache
def labels(lang: str, templates_dir: str | None = None) -> Labels:
    """The card labels of a language from labels.toml; bilingual pairs en and zh."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    folder = Path(templates_dir) if templates_dir else resources.files("scraper.templates")
    table = tomllib.loads((folder / "labels.toml").read_text(encoding="utf-8"))
    if lang != "bilingual":
        return Labels({key: Safe(value) for key, value in table[lang].items()}, lang=lang)
    en, zh = table["en"], table["zh"]
    pairs = Labels({key: Safe(f"{en[key]}  {zh[key]}") for key in en}, lang=lang)
    pairs.update(colon=Safe(en["colon"]), pickle=Safe(f"{en['pickle']} / {zh['pickle']}"))
    return pairs


# Filters in Python rather than chains of Jinja map(): cards are rendered by the thousand.


def tag_list(tags: list[str]) -> Safe:
    """`a`, `b`: every tag in a code span (a longer fence when it holds a backtick)."""
    return Safe(", ".join([escape.code(t) for t in tags]))


def gallery(images: list[Image], limit: int) -> list[Image]:
    """The first `limit` images that have an http(s) URL, in API order."""
    shown: list[Image] = []
    for image in images:
        url = image.url
        if url and (url.startswith(("https://", "http://")) or sanitize.safe_url(url)):
            shown.append(image)
            if len(shown) == limit:
                break
    return shown


def img_cells(images: list[Image], thumbnail: Callable[[str], str]) -> Safe:
    """<img> cells of a one-row table, pointing at small variants where the host makes them;
    a URL that is not http(s) leaves its cell empty."""
    cells = [escape.url(thumbnail(i.url)) for i in images]
    return Safe(" | ".join(f'<img src="{src}" />' if src else "" for src in cells))


def separator_row(images: list[Image]) -> Safe:
    return Safe(" | ".join(["----"] * len(images)))


def file_facts(f: File, L: dict[str, str]) -> str:  # noqa: N803 (L is the templates' name)
    """What matters for choosing a file, after its link: format, size, precision, pruned or
    full, scan results (once each); a pickle file carries a warning."""
    lang = L.get("lang", "en")
    size_type = words.word(f.size_type, lang)
    values = (f.format, human_size(f.size_kb), f.precision, size_type)
    facts = [escape.text(fact) for fact in values if fact]
    scans = dict.fromkeys(words.word(s, lang) or s for s in (f.pickle_scan, f.virus_scan) if s)
    if scans:
        facts.append(f"{L['scan']}{L['colon']}{'/'.join(escape.text(s) for s in scans)}")
    text = "".join(f" · {fact}" for fact in facts)
    if f.format == "PickleTensor":
        text += f" · {L['pickle']}"
    return Safe(text)


def human_size(size_kb: float | None) -> str | None:
    if size_kb is None:
        return None
    size = size_kb * 1024
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return None


def render_card(
    model: Model, lang: str = "zh", details: str = "html", templates_dir: str | None = None
) -> str:
    """A card; `<source>.<lang>.md.j2` or `<source>.md.j2` in the templates folder override
    the shared card.md.j2. details="markdown" turns an HTML description into Markdown."""
    source = sources.get(model.source)
    reference = source.exact_zh and lang == "zh"
    template = _template(model.source, lang, templates_dir, not reference)
    return template.render(
        model=model,
        L=labels(lang, templates_dir),
        reference=reference,
        status=status_label(model, labels(lang, templates_dir)),
        description=details_text(model, source, reference, details),
        thumbnail=source.thumbnail,
        model_stats=MODEL_STATS,
        version_stats=VERSION_STATS,
    )


# After a description or README cut at sanitize.MAX_TEXT characters: plain text, safe as
# Markdown and as HTML.
CUT_NOTE = (
    "\n\n(cut here: the first {shown:,} of {total:,} characters are shown; "
    "the database keeps the whole text)\n"
)


def details_text(model: Model, source: sources.Source, reference: bool, details: str) -> Safe:
    """The details section: the reference format keeps its HTML as it is (the 2023 cards do);
    every other card gets the allow-list (HTML kept as HTML, or converted to Markdown), and a
    markdown body (a README) is cleaned as Markdown; headings sit below the card's own."""
    description = sanitize.capped(model.description or "", CUT_NOTE)
    if not description or (reference and details == "html"):
        return Safe(description)
    from . import markdown  # not for --help, nor for the reference cards

    if model.description_format != "html":
        return Safe(markdown.clean_markdown(description))  # its links resolved by its parser
    if details == "markdown":
        return Safe(markdown.html_to_markdown(description))
    # nh3's output holds no raw HTML but the allow-list; only markdown links in its text
    # (outside an HTML block a renderer reads them as links) are left to check.
    clean = markdown.shift_html_headings(sanitize.clean_html(description))
    return Safe(markdown.check_links(clean))


@cache
def _template(source: str, lang: str, templates_dir: str | None, strict: bool) -> jinja2.Template:
    names = [f"{source}.{lang}.md.j2", f"{source}.md.j2", "card.md.j2"]
    return environment(templates_dir, strict).select_template(names)


def status_label(model: Model, L: dict[str, str]) -> str | None:  # noqa: N803
    marks = {
        "Gated": L["gated"],
        "Private": L["private"],
        "Archived": L["archived"],
        "TakenDown": L["takendown"],
    }
    return marks.get(model.mode or "", model.mode)


def render_key(lang: str, details: str, templates_dir: str | None = None) -> str:
    """What every card of a language depends on besides its model: the templates, the labels,
    this release and the options. A card rendered under another key is rendered again."""
    from .. import __version__

    folder = (
        Path(templates_dir) if templates_dir else Path(str(resources.files("scraper.templates")))
    )
    h = hashlib.sha256(f"{__version__}|{lang}|{details}".encode())
    for path in sorted(folder.glob("*.j2")) + [folder / "labels.toml"]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]
