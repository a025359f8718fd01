"""The "Library" page: every local model file `scraper scan` found, with the page of its model
or what its own metadata says; grouped as known, metadata only and unknown (one table each,
linked from the page's top), in both languages. A page of its own, linked from the home page
when there is something to list."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cards.render import human_size
from ..jsonio import loads
from ..store.library import library_files
from . import data, pages
from .paging import pager_numbers
from .paths import LANGS, localized

PAGE = "library.html"
PAGE_SIZE = 500  # rows per page of a group
OVERVIEW_ROWS = 50  # rows of each group on the overview
LABELS = {
    "en": {
        "title": "Library", "intro": "Model files on this machine, documented by scraper scan.",
        "file": "File", "size": "Size", "model": "Model", "known": "Known to a host",
        "described": "Metadata only", "unknown": "Unknown", "deleted": "deleted upstream",
        "base": "Base model", "files": "{n} files", "no_page": "no page (hidden or removed)",
    },
    "zh": {
        "title": "本地模型库", "intro": "本机上的模型文件，由 scraper scan 记录。",
        "file": "文件", "size": "大小", "model": "模型", "known": "网站已知",
        "described": "仅有元数据", "unknown": "未知", "deleted": "已在网站删除",
        "base": "基础模型", "files": "{n} 个文件", "no_page": "无页面（已隐藏或移除）",
    },
}  # fmt: skip


def rows(db: Path, pages_of: dict[tuple[str, str], str]) -> dict[str, list[dict[str, Any]]]:
    """The files in three groups; a known file links its model's page when the site has it
    (pages_of: (source, id) -> the page, a Hub repo's named owner--name)."""
    groups: dict[str, list[dict[str, Any]]] = {"known": [], "described": [], "unknown": []}
    conn = data.connect(db)
    try:
        for (
            path,
            root,
            size,
            sha,
            _kind,
            meta,
            source,
            model_id,
            _v,
            name,
            deleted,
        ) in library_files(conn):
            shown = _relative(bytes(path), bytes(root))
            row: dict[str, Any] = {"file": shown, "size": human_size(size / 1024), "sha": sha[:12]}
            if model_id is not None:
                row["name"] = name or model_id
                row["deleted"] = bool(deleted)
                row["page"] = pages_of.get((source, model_id))
                groups["known"].append(row)
                continue
            found = _meta(meta)
            if found.get("described"):
                row["name"] = found.get("name") or ""
                row["base"] = found.get("base_model") or ""
                groups["described"].append(row)
            else:
                groups["unknown"].append(row)
    finally:
        conn.close()
    return groups


def group_page(group: str, number: int = 1) -> str:
    return f"library/{group}/{number}.html"


def build(db: Path, pages_of: dict[tuple[str, str], str]) -> Iterator[tuple[str, str]]:
    """(path, html) of the pages in each language: the overview (each group's first rows)
    and every group paged; nothing when no file was ever scanned."""
    groups = rows(db, pages_of)
    total = sum(len(g) for g in groups.values())
    pages.environment().globals["library_link"] = (
        {lang: LABELS[lang]["title"] for lang in LANGS} if total else None
    )
    if not total:
        return
    template = pages.environment().get_template("library.html.j2")
    counts = {key: len(found) for key, found in groups.items()}
    for lang in LANGS:
        labels = LABELS[lang]
        ctx = pages.context(PAGE, lang, labels["title"])
        first = {key: found[:OVERVIEW_ROWS] for key, found in groups.items()}
        html = template.render(
            ctx, T=labels, groups=first, counts=counts, group=None, more=group_page
        )
        yield localized(PAGE, lang), html
        for key, found in groups.items():
            count = max(1, -(-len(found) // PAGE_SIZE))
            for number in range(1, count + 1) if found else ():
                path = group_page(key, number)
                ctx = pages.context(path, lang, f"{labels['title']} · {labels[key]}")
                part = {key: found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]}
                html = template.render(
                    ctx,
                    T=labels,
                    groups=part,
                    counts=counts,
                    group=key,
                    more=group_page,
                    number=number,
                    pages=count,
                    numbers=pager_numbers(number, count),
                    href_of=lambda n, base=ctx["base"], key=key: base + group_page(key, n),
                )
                yield localized(path, lang), html


def _relative(path: bytes, root: bytes) -> str:
    """The file under its scanned folder's name (never the whole local path)."""
    if path == root:
        text = os.path.basename(path)
    else:
        text = os.path.join(os.path.basename(root.rstrip(b"/")), os.path.relpath(path, root))
    return text.decode("utf-8", "backslashreplace")


def _meta(text: str | None) -> dict[str, Any]:
    try:
        value = loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
