"""A model's page, laid out as the hubs lay theirs: the gallery first (a lightbox shows each
image larger with what made it), the description, then each version with its files (hashes to
copy, scan results, download links) and trigger words; a facts box beside them.

Everything scraped reaches the page as a template value (autoescaped), as a value escaped with
markupsafe.escape in the two row writers here (gallery items, file rows), or, for descriptions,
through the sanitizer (pages.description_html); image URLs only through Pictures.
"""

from __future__ import annotations

from types import SimpleNamespace as View  # attributes: Jinja reads them without a KeyError detour
from typing import Any

from markupsafe import Markup, escape

from .. import sources
from ..cards import render, words
from ..records import MODEL_STATS, VERSION_STATS, File, Model, Version
from ..sanitize import safe_url, visible
from . import chart, nsfw, paths, taxonomy
from .pages import blur_images, model_meta, render_page, site_labels
from .pictures import FULL, GALLERY, Pictures, href
from .summary import MAX_TAGS, first_image, split_bases

GALLERY_MAX = 12  # images in a page's gallery, over all versions (a hub shows ten a version)
GENERATION = ("prompt", "negative_prompt", "sampler", "steps", "cfg", "seed")


def model_page(
    model: Model,
    lang: str,
    mode: str,
    history: list[tuple[str, int]],
    description: str,
    pictures: Pictures | None = None,
    removed: str | None = None,
) -> str:
    """A model's page in one language; `removed` is when it was deleted upstream (archive)."""
    pictures = pictures or Pictures()
    L = render.labels(lang)  # noqa: N806 (the templates' name)
    S = site_labels(lang)  # noqa: N806
    path = paths.model_page(model.source, model.id, model.path_id)
    root = paths.root_of(paths.localized(path, lang))
    is_nsfw = nsfw.model_is_nsfw(model)
    details = pictures.html(description, root, S.image_missing)
    if mode == "blur" and is_nsfw:
        details = blur_images(details, S.nsfw)
    gallery = _gallery(model, is_nsfw, mode, pictures, root)
    n = len(model.versions)
    versions = [_version(v, n - i, n, lang, L) for i, v in enumerate(model.versions)]
    tags = taxonomy.load().visible_tags(visible(t) for t in model.tags)  # machine tags: facets
    source_name = S.get(f"source_{model.source}") or sources.get(model.source).title
    return render_page(
        "model.html.j2",
        path,
        lang,
        model.name.strip(),
        model=model,
        name=model.name.strip(),
        display_name=(model.display_name or "").strip(),
        removed=S.removed.format(source=source_name, date=words.date_text(removed, lang))
        if removed
        else None,
        status=render.status_label(model, L) if model.mode else None,
        gallery=bool(gallery),
        shots=shots_html(gallery, model.name.strip(), S),
        versions=versions,
        facts=_facts(model, lang, L, source_name),
        tags=tags[:MAX_TAGS],  # these have tag pages
        more_tags=tags[MAX_TAGS:],  # shown, not linked
        stats=_stats(model.stats, MODEL_STATS, L),
        page_url=safe_url(model.url),
        chart=chart.downloads_svg(history, S.chart),
        details=Markup(details),
        meta=model_meta(model, lang, description, first_image(model, is_nsfw, mode)),
    )


def when(stamp: str | None, lang: str) -> dict[str, str] | None:
    """A date to show: the day in the language, the full stamp for <time datetime>."""
    if not stamp:
        return None
    text = words.date_text(stamp, lang)
    iso = stamp.strip() if words.parse_time(stamp) else None
    return {"iso": iso, "text": text} if text else None


def _facts(model: Model, lang: str, L: render.Labels, source_name: str) -> View:  # noqa: N803
    published = model.created_at or _first(v.published_at or v.created_at for v in model.versions)
    updated = model.updated_at or _last(
        v.updated_at or v.published_at or v.created_at for v in model.versions
    )
    bases = list(dict.fromkeys(b for v in model.versions for b in split_bases(v.base_model)))
    return View(
        **{
            "type": (model.type or "").strip() or None,
            "bases": bases,
            "source": source_name,
            "creator": (model.creator or "").strip() or None,
            "license": words.license_text(model.license, lang),
            "published": when(published, lang),
            "updated": _later(when(updated, lang), when(published, lang)),
        }
    )


def _version(v: Version, i: int, n: int, lang: str, L: render.Labels) -> View:  # noqa: N803
    S = site_labels(lang)  # noqa: N806
    published = v.published_at or v.created_at
    files = [_file_view(f, lang) for f in v.files]
    weights = [row for row, f in zip(files, v.files, strict=True) if f.format]
    others = [row for row, f in zip(files, v.files, strict=True) if not f.format]
    if not weights:
        weights, others = others, []
    shown = when(published, lang)
    return View(
        **{
            "anchor": f"v-{paths.page_name(v.id)}",
            "heading": L.version_heading.format(i=i, n=n),
            "name": v.name.strip(),
            "published": shown,
            "updated": _later(when(v.updated_at, lang), shown),
            "base_model": v.base_model,
            "bases": split_bases(v.base_model),
            "stats": _stats(v.stats, VERSION_STATS, L),
            "words": [w.strip() for w in v.trained_words if w.strip()],
            "weights": weights,
            "others": others,
            "weights_html": file_rows(weights, S, L),
            "others_html": file_rows(others, S, L) if others else "",
        }
    )


def _file_view(f: File, lang: str) -> View:
    sha = (f.sha256 or f.hashes.get("SHA256") or "").strip()
    auto = (f.hashes.get("AutoV2") or "").strip()
    if not auto and len(sha) == 64:
        auto = sha[:10].upper()  # AutoV2 is the SHA256's first ten digits
    scans = [words.word(s, lang) for s in dict.fromkeys((f.pickle_scan, f.virus_scan)) if s]
    return View(
        **{
            "name": f.name.strip(),
            "href": safe_url(f.url),
            "size": render.human_size(f.size_kb),
            "format": f.format,
            "precision": f.precision,
            "size_type": words.word(f.size_type, lang),
            "kind": words.word(f.kind, lang) if f.kind and f.kind != "Model" else None,
            "sha256": sha or None,
            "autov2": auto or None,
            "scan": " / ".join(s for s in scans if s) or None,
            "danger": "Danger" in (f.pickle_scan, f.virus_scan),
            "pickle": f.format == "PickleTensor",
        }
    )


def _gallery(model: Model, is_nsfw: bool, mode: str, pictures: Pictures, root: str) -> list[View]:  # noqa: N803
    """Every version's images in order (newest version first), GALLERY_MAX at most."""
    source = sources.get(model.source)
    shown: list[View] = []
    for version in model.versions:
        for image, blurred in nsfw.visible_images(version.images, is_nsfw, mode):
            if len(shown) == GALLERY_MAX:
                return shown
            checked = safe_url(image.url)
            if not checked:
                continue
            if image.kind == "video":
                if pictures.mirror is None:
                    shown.append(View(video=True, full=checked))
                continue
            small = href(pictures.src(model.source, checked, GALLERY, checked=True), root)
            full = href(pictures.src(model.source, checked, FULL, checked=True), root) or small
            gen = source.generation(image)
            shown.append(
                View(
                    video=False,
                    src=small,
                    full=full,
                    blurred=blurred,
                    gen=[(k, gen[k]) for k in GENERATION if k in gen],
                )
            )
    return shown


def shots_html(gallery: list[View], name: str, S: render.Labels) -> Markup:  # noqa: N803
    """The gallery's items: a picture (a link to its larger version, or the NSFW toggle) and
    its generation data for the lightbox. Written here rather than in the template: a page
    has a dozen, each a dozen values, and Jinja's per-value cost showed in the build's time."""
    e = _text
    alt = e(name)
    nsfw, video, missing = e(S.nsfw), e(S.video), e(S.image_missing)
    labels = {k: e(S[k]) for k in GENERATION}
    items = []
    for i, g in enumerate(gallery, 1):
        if g.video:
            link = f'<a class="video" href="{e(g.full)}" rel="nofollow noopener noreferrer">'
            inner = f"{link}{video}</a>"
        elif not g.src:
            inner = f'<span class="missing">{missing}</span>'
        elif g.blurred:
            inner = (
                f'<label class="nsfw"><input type="checkbox" aria-label="{nsfw}"><img '
                f'src="{e(g.src)}" data-full="{e(g.full)}" alt="{alt} {i}" loading="lazy">'
                f"<span>{nsfw}</span></label>"
            )
        else:
            lazy = ' loading="lazy"' if i > 4 else ""
            picture = f'<img src="{e(g.src)}" alt="{alt} {i}"{lazy}>'
            inner = f'<a class="open" href="{e(g.full)}">{picture}</a>'
        gen = getattr(g, "gen", None)
        if gen:
            rows = "".join(
                f'<dt>{labels[key]}</dt><dd class="gen-{key}">{e(value)}</dd>\n'
                for key, value in gen
            )
            inner += f'\n<dl class="gen" hidden>\n{rows}</dl>'
        items.append(f'<li class="shot">\n{inner}\n</li>')
    return Markup("\n".join(items))


def file_rows(files: list[View], S: render.Labels, L: render.Labels) -> Markup:  # noqa: N803
    """A file table's rows: name (kind, pickle warning), size, format, precision, SHA256 and
    AutoV2 each with a copy button, scan result, download link. Each cell carries its label
    for the phone layout (model.css shows it before the value)."""
    e = _text
    name, size, fmt, precision, hashes, scan, download = (
        e(S[k])
        for k in ("file_name", "file_size", "file_format", "file_precision", "file_hash")
        + ("file_scan", "file_download")
    )
    copy, get, pickle = e(S.copy_label), e(S.download), e(L.pickle)
    rows = []
    for f in files:
        kind = f' <small class="kind">{e(f.kind)}</small>' if f.kind else ""
        warn = f'<br><strong class="warn">{pickle}</strong>' if f.pickle else ""
        facts = " · ".join(e(x) for x in (f.precision, f.size_type) if x)
        found = ""
        if f.sha256:
            sha = e(f.sha256)
            found += (
                f'<span class="hash"><small>SHA256</small> <code class="sha256" title="{sha}">'
                f'{e(f.sha256[:12])}…</code><button type="button" class="copy" '
                f'data-copy="{sha}" aria-label="{copy} SHA256">{copy}</button></span>'
            )
        if f.autov2:
            auto = e(f.autov2)
            found += (
                f'<span class="hash"><small>AutoV2</small> <code class="autov2">{auto}</code>'
                f'<button type="button" class="copy" data-copy="{auto}" '
                f'aria-label="{copy} AutoV2">{copy}</button></span>'
            )
        result = ""
        if f.scan:
            result = f'<span class="scan{" warn" if f.danger else ""}">{e(f.scan)}</span>'
        link = ""
        if f.href:
            link = (
                f'<a class="download" href="{e(f.href)}" rel="nofollow noopener noreferrer">'
                f"{get}</a>"
            )
        rows.append(
            f'<tr>\n<td class="fname" data-label="{name}"><span class="file">{e(f.name)}</span>'
            f"{kind}{warn}</td>\n"
            f'<td class="num" data-label="{size}">{e(f.size or "")}</td>\n'
            f'<td data-label="{fmt}">{e(f.format or "")}</td>\n'
            f'<td data-label="{precision}">{facts}</td>\n'
            f'<td class="hashes" data-label="{hashes}">{found}</td>\n'
            f'<td data-label="{scan}">{result}</td>\n'
            f'<td data-label="{download}">{link}</td>\n</tr>'
        )
    return Markup("\n".join(rows))


def _text(value: object) -> Markup:
    """A value for the rows written here, as the template's finalize and autoescape would
    give it: no bidi overrides or zero-width characters, escaped."""
    return escape(visible(value) if type(value) is str else value)


def _stats(stats: dict[str, Any], keys: tuple[str, ...], L: dict[str, str]) -> list:  # noqa: N803
    return [
        (L[k], f"{stats[k]:,}" if isinstance(stats[k], int) else stats[k])
        for k in keys
        if k in stats
    ]


def _later(updated: dict | None, published: dict | None) -> dict | None:
    """An update is worth a line when it fell on another day than the publication."""
    if updated is None or (published is not None and updated["text"] == published["text"]):
        return None
    return updated


def _first(values) -> str | None:
    found = [v for v in values if v]
    return min(found) if found else None


def _last(values) -> str | None:
    found = [v for v in values if v]
    return max(found) if found else None
