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
    line = next(x for x in page.splitlines() if file["name"] in x and "a&lt;b" in x)
    assert "a&lt;b/x_y *z*" in line  # the text itself, escaped for HTML once
    assert "&amp;lt;" not in line and "\\_" not in line and "\\*" not in line
    assert line.count("warn") == 1  # the pickle warning is the template's element, once
    [model] = load_models(db)
    card = render_card(model, "en")
    assert "a<b" not in card  # the card escapes the same values for markdown
