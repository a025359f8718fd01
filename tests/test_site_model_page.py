"""Model pages as the hubs lay theirs out, with true labels and readable values: the gallery
first with each image's generation data, published and updated dates labelled as they are,
dates written as dates in the page's language, licence and scan results in the page's words,
a file table with hashes to copy, Hub weight files apart from the rest."""

from __future__ import annotations

import html
import re
from pathlib import Path

from scraper.site import paths
from scraper.sources import civitai
from tests.sitedata import reference_payloads

ZH_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
EN_DATE = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}")
ENGLISH_TERMS = re.compile(
    r"commercial use|credit|derivatives|relicens|licen[cs]e required|\b(none|Image|Sell|Rent"
    r"|Success|Pending|Danger|Error)\b"
)


def page_of(site: Path, model_id: str, lang: str = "zh") -> str:
    path = paths.localized(paths.model_page("civitai", model_id), lang)
    return (site / path).read_text(encoding="utf-8")


def outside_details(text: str) -> str:
    """The page less the description (the author's own words may be in any language)."""
    start = text.index('<div class="details">')
    return text[:start] + text[text.index("</section>", start) :]


def test_zh_pages_show_no_english_licence_or_scan_words(site: Path) -> None:
    checked = licences = scans = 0
    for page in sorted((site / "models/civitai").glob("*.html")):
        text = outside_details(page.read_text(encoding="utf-8"))
        for licence in re.findall(r'<dd class="license">(.*?)</dd>', text):
            licences += 1
            assert not ENGLISH_TERMS.search(licence), (page.name, licence)
            assert "商业用途" in licence
        for scan in re.findall(r'<span class="scan[^"]*">(.*?)</span>', text):
            scans += 1
            assert set(scan.split(" / ")) <= {"通过", "待扫描", "危险", "出错"}, (page.name, scan)
        checked += 1
    assert checked > 50 and licences > 20 and scans > 50
    english = outside_details(page_of(site, "4468", "en"))
    assert "commercial use: Image; no credit needed" in english
    assert '<span class="scan">Success</span>' in english


def test_dates_are_dates_in_the_pages_language_with_the_stamp_in_time(site: Path) -> None:
    for lang, pattern in (("zh", ZH_DATE), ("en", EN_DATE)):
        text = page_of(site, "4468", lang)
        times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', text)
        assert len(times) >= 5
        for stamp, shown in times:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp), stamp
            assert pattern.fullmatch(shown), shown
        visible = re.sub(r"<[^>]+>", " ", outside_details(text))
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", visible)  # no raw stamp on show


def test_published_and_updated_are_labelled_as_they_are(site: Path) -> None:
    model = civitai.parse_model(next(m for m in reference_payloads() if m["id"] == 4468))
    text = page_of(site, "4468")
    for version in model.versions:
        start = text.index(f'id="v-{version.id}"')
        block = text[start : text.index("</section>", start)]
        published = version.published_at or version.created_at
        assert f'发布时间：<time datetime="{published}">' in block
        if version.updated_at[:10] != published[:10]:
            assert f'更新时间：<time datetime="{version.updated_at}">' in block
        else:  # the same day: one line
            assert "更新时间" not in block
    v2 = text[text.index('id="v-5057"') :]  # 2.0: created 2023-01-13, updated 2023-04-28
    assert ">2023年1月13日</time>" in v2[: v2.index("更新时间")]
    facts = text[text.index('<aside class="facts-box">') :]
    assert "<dt>发布时间</dt>" in facts and "<dt>更新时间</dt>" in facts


def test_every_file_row_shows_its_hashes_with_copy_buttons(site: Path) -> None:
    model = civitai.parse_model(next(m for m in reference_payloads() if m["id"] == 4468))
    text = page_of(site, "4468")
    rows = re.findall(r"<tr>\n<td class=\"fname\".*?</tr>", text, re.S)
    files = [f for v in model.versions for f in v.files]
    assert len(rows) == len(files) == 4
    for row, f in zip(rows, files, strict=True):
        assert f'<span class="file">{f.name}</span>' in row
        assert f'<code class="sha256" title="{f.sha256}">{f.sha256[:12]}…</code>' in row
        assert f'<button type="button" class="copy" data-copy="{f.sha256}"' in row
        auto = f.hashes["AutoV2"]
        assert f'<code class="autov2">{auto}</code>' in row and f'data-copy="{auto}"' in row
        assert '<a class="download" href="https://civitai.com/api/download/models/' in row
        assert ">5.3 GiB<" in row or ">4.0 GiB<" in row or ">7.2 GiB<" in row


def test_gallery_comes_first_with_each_images_generation_data(site: Path) -> None:
    raw = next(m for m in reference_payloads() if m["id"] == 4468)
    meta = raw["modelVersions"][0]["images"][0]["meta"]
    text = page_of(site, "4468")
    gallery = text[text.index('<section class="gallery"') : text.index("</section>")]
    first = gallery[gallery.index('<li class="shot">') : gallery.index("</li>")]
    assert '<a class="open" href="https://image.civitai.com/' in first and "/width=1280/" in first
    prompt = re.search(r'<dd class="gen-prompt">(.*?)</dd>', first, re.S)[1]
    assert html.unescape(prompt) == meta["prompt"]
    for key, value in (
        ("sampler", meta["sampler"]),
        ("steps", 25),
        ("cfg", 10),
        ("seed", 1293666383),
    ):
        assert f'<dd class="gen-{key}">{html.escape(str(value))}</dd>' in first
    assert (
        html.unescape(re.search(r'gen-negative_prompt">(.*?)<', first)[1]) == meta["negativePrompt"]
    )
    words = re.findall(r'<span class="word"><code>([^<]*)</code><button', text)
    assert words and set(words) == {"girl"}


def test_hub_pages_put_weight_files_apart_from_the_rest(site: Path) -> None:
    page = next(
        p
        for p in (site / "models/huggingface").glob("*.html")
        if "sdxl-turbo" in p.read_text(encoding="utf-8")
    )
    text = page.read_text(encoding="utf-8")
    version = text[text.index('<section class="version"') :]
    folded = version[version.index('<details class="others">') :]
    shown = version[: version.index('<details class="others">')]
    weights = re.findall(r'<span class="file">([^<]+)</span>', shown)
    others = re.findall(r'<span class="file">([^<]+)</span>', folded)
    assert weights and all(
        re.search(r"\.(safetensors|bin|ckpt|pt|pth|gguf|onnx|pb|msgpack|h5)$", n) for n in weights
    ), weights
    assert len(others) > len(weights) and any(n.endswith(".json") for n in others)
    assert "README.md" in others or any(n.endswith(".md") for n in others)
