"""The site formats a file's facts for HTML itself: scraped values are plain text there, escaped
once by the template, while the card escapes the same values for markdown."""

from __future__ import annotations

import json
from pathlib import Path

from scraper.cards.render import render_card
from scraper.catalog import load_models, open_store
from scraper.site.build import Settings, build
from scraper.sources.civitai import parse_model
from scraper.store import Counts
from tests.support import CARDS


def test_a_scan_value_with_markup_shows_as_its_text(tmp_path: Path) -> None:
    raw = json.loads((CARDS / "4717.json").read_bytes())
    file = raw["modelVersions"][0]["files"][0]
    file["pickleScanResult"], file["virusScanResult"] = "a<b", "x_y *z*"
    file.setdefault("metadata", {})["format"] = "PickleTensor"
    db = tmp_path / "models.db"
    store = open_store(db)
    store.save_models([parse_model(raw)], Counts())
    store.close()
    build(Settings(db=db, out=tmp_path / "site", jobs=1))
    page = (tmp_path / "site" / "en" / "models" / "civitai" / "4717.html").read_text("utf-8")
    row = next(r for r in page.split("<tr") if file["name"] in r)  # the file table's row
    assert ">a&lt;b / x_y *z*<" in row  # the text itself, escaped for HTML once
    assert "&amp;lt;" not in row and "\\_" not in row and "\\*" not in row
    assert row.count('class="warn"') == 1  # the pickle warning is the page's element, once
    [model] = load_models(db)
    card = render_card(model, "en")
    assert "a<b" not in card  # the card escapes the same values for markdown
