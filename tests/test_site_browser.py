"""The built site in a real browser (Debian's Chromium through Playwright): pages, search in
both languages, the language switch, the NSFW toggle, and a hostile model that runs nothing.

Under CI (CI=true) a missing Chromium or Playwright fails the test; elsewhere it is skipped
with the reason. Requests that would leave 127.0.0.1 (sample images on the sources' CDNs)
are answered with a local placeholder: the test never touches the internet. Screenshots of
the home page and a model page are written to output/screenshots/ for people to look at.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scraper.site import paths, search
from scraper.site.build import Settings, build
from scraper.site.serve import server
from tests.sitedata import HOSTILE_ID, make_catalog
from tests.support import serve_in_thread

MS_PAGE = paths.model_page("modelscope", "1000", "damo/cv_cartoon_stable_diffusion_design")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "output" / "screenshots"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(reason)


class Beacon:
    """A server on 127.0.0.1 that only counts: any request to it means a payload ran."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/beacon"
        serve_in_thread(self.httpd)


def placeholder(url: str) -> bytes:
    """A picture for an image URL the test may not fetch: flat colours from the URL's hash
    (flat, so screenshots stay small)."""
    h = hashlib.blake2b(url.encode(), digest_size=6).hexdigest()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="450" height="600" viewBox="0 0 450 600">'
        f'<rect width="450" height="600" fill="#{h[:6]}"/>'
        f'<circle cx="225" cy="240" r="90" fill="#{h[6:]}"/>'
        f'<rect x="105" y="360" width="240" height="150" rx="60" fill="#{h[6:]}"/>'
        "</svg>"
    ).encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    beacon = Beacon()
    folder = tmp_path_factory.mktemp("browser")
    make_catalog(folder / "models.db", beacon=beacon.url).close()
    report = build(Settings(db=folder / "models.db", out=folder / "site", jobs=1))
    assert not report.failed, report.failed
    httpd = server(folder / "site", 0)
    serve_in_thread(httpd)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r) -> None:
            if r.request.resource_type == "image":
                r.fulfill(status=200, content_type="image/svg+xml", body=placeholder(r.request.url))
            else:
                r.fulfill(status=404, body=b"")

        # Every request but the site's own (and data: URLs): matched by the browser's side,
        # so the site's requests go straight to its server without a trip through Python.
        context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]|data:)"), route)
        events: dict[str, list[str]] = {"dialogs": [], "csp": [], "errors": []}

        def watch(page) -> None:
            page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
            page.on(
                "console",
                lambda m: (
                    events["csp"].append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.on("pageerror", lambda e: events["errors"].append(str(e)))

        context.on("page", watch)
        yield {
            "base": base,
            "context": context,
            "beacon": beacon,
            "events": events,
            "site": folder / "site",
        }
        context.close()
        browser.close()
    httpd.shutdown()
    beacon.httpd.shutdown()


def wait_until(page, expression: str, seconds: float = 15.0) -> None:
    """Poll an expression from Python: Playwright's own polling evaluates it with eval(),
    which the pages' CSP (rightly) refuses."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds}s: {expression}"
        page.wait_for_timeout(20)


def open_page(live: dict, path: str):
    page = live["context"].new_page()
    page.goto(live["base"] + path)
    page.wait_for_load_state("load")
    return page


def test_home_lists_models_and_the_language_switch_flips_html_lang(live: dict) -> None:
    page = open_page(live, "index.html")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    rows = page.locator("table.models tbody tr")
    assert rows.count() >= 20
    assert page.get_by_role("link", name="Counterfeit-V3.0").first.is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))
    page.locator('header a[hreflang="en"]').click()
    page.wait_for_url("**/en/index.html")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h2", has_text="Most downloaded").is_visible()
    page.locator('header a[hreflang="zh-CN"]').click()
    page.wait_for_url(live["base"] + "index.html")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.close()


def test_model_page_shows_its_gallery_first_and_chart(live: dict) -> None:
    page = open_page(live, "models/civitai/4468.html")
    images = page.locator(".gallery img")
    assert images.count() >= 4
    gallery_top = page.locator(".gallery").bounding_box()["y"]
    assert gallery_top < page.locator(".details").bounding_box()["y"]  # pictures come first
    wait_until(
        page,
        "[...document.querySelectorAll('.gallery img')].slice(0, 4)"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    chart = page.locator("svg.chart polyline")
    assert chart.count() == 1 and chart.bounding_box()["width"] > 100
    assert len(chart.get_attribute("points").split()) >= 2
    page.set_viewport_size({"width": 1280, "height": 1500})  # gallery, facts, a version
    wait_until(
        page, "[...document.querySelectorAll('img:not([loading=lazy])')].every(i => i.complete)"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "model-page.png"), full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "model-page-phone.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    files = page.locator("table.files").first
    files.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "model-files-phone.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_first_gallery_image_opens_larger_with_its_prompt(live: dict) -> None:
    page = open_page(live, "models/civitai/4468.html")
    first = page.locator(".gallery li.shot a.open").first
    small = first.locator("img").bounding_box()
    first.click()
    box = page.locator("dialog.lightbox")
    box.wait_for(state="visible")
    shown = box.locator("figure img")
    wait_until(
        page,
        "document.querySelector('dialog.lightbox figure img').complete"
        " && document.querySelector('dialog.lightbox figure img').naturalWidth > 0",
    )
    assert "/width=1280/" in shown.get_attribute("src")
    large = shown.bounding_box()
    assert large["height"] > small["height"] * 1.5 and large["width"] > small["width"]
    assert "masterpiece, best quality" in box.locator("dd.gen-prompt").inner_text()
    assert box.locator("dd.gen-sampler").inner_text() == "DPM++ 2M Karras"
    assert "第 1 张" in box.locator(".count").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "model-lightbox.png"), full_page=False)
    page.keyboard.press("ArrowRight")  # keyboard: the next image, then back, then close
    assert "第 2 张" in box.locator(".count").inner_text()
    page.keyboard.press("ArrowLeft")
    assert "第 1 张" in box.locator(".count").inner_text()
    swipe = """([dx]) => { const f = document.querySelector('dialog.lightbox figure');
        const t = (x) => new Touch({identifier: 1, target: f, clientX: x, clientY: 300});
        f.dispatchEvent(new TouchEvent('touchstart', {touches: [t(300)], bubbles: true}));
        f.dispatchEvent(new TouchEvent('touchend', {changedTouches: [t(300 + dx)], bubbles: true}));
    }"""
    page.evaluate(swipe, [-120])  # touch: a swipe to the left shows the next one
    assert "第 2 张" in box.locator(".count").inner_text()
    page.keyboard.press("Escape")
    box.wait_for(state="hidden")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(".gallery li.shot a.open").first.click()
    box.wait_for(state="visible")
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / "model-lightbox-phone.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_every_file_row_shows_its_hash_with_a_copy_button(live: dict) -> None:
    live["context"].grant_permissions(["clipboard-read", "clipboard-write"])
    page = open_page(live, "models/civitai/4717.html")
    rows = page.locator("table.files tbody tr")
    assert rows.count() >= 4
    for i in range(rows.count()):
        row = rows.nth(i)
        sha = row.locator("code.sha256")
        assert sha.is_visible() and len(sha.get_attribute("title")) == 64
        assert row.locator("code.sha256 + button.copy").is_visible()
        assert row.locator("code.autov2 + button.copy").is_visible()
    row = rows.first
    button = row.locator("code.sha256 + button.copy")
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == row.locator("code.sha256").get_attribute("title")
    assert button.inner_text() == "已复制"
    word = page.locator(".words .word button.copy").first
    word.click()
    assert (
        page.evaluate("navigator.clipboard.readText()")
        == page.locator(".words .word code").first.inner_text()
    )
    page.close()


def search_results(page, query: str) -> list[str]:
    page.fill("#q", query)  # one input event: one (debounced) search, whose results come next
    page.wait_for_selector("#results li")
    page.wait_for_function(
        "q => document.getElementById('q').value === q"
        " && !document.getElementById('results').hidden",
        arg=query,
    )
    return page.eval_on_selector_all("#results a", "links => links.map(a => a.href)")


@pytest.mark.parametrize(
    ("start", "query", "expect"),
    [
        ("index.html", "人像", "models/civitai/900000.html"),  # 人像人物像素 portrait v0
        ("index.html", "portrait v0", "models/civitai/900000.html"),
        ("index.html", "Counterfeit", "models/civitai/4468.html"),
        ("en/index.html", "卡通", "en/" + MS_PAGE),  # a Chinese name, English page
        ("en/models/civitai/4717.html", "新垣結衣", "en/models/civitai/8416.html"),
        ("en/index.html", "Dream", "en/models/civitai/900010.html"),  # DREAMSHAPER ...
    ],
)
def test_search_finds_models_by_chinese_and_english_words(
    live: dict, start: str, query: str, expect: str
) -> None:
    page = open_page(live, start)
    links = search_results(page, query)
    prefix = "en/" if start.startswith("en/") else ""
    every = [prefix + r[0] for r in search.query(live["site"], query)]
    assert expect in every  # among all matches (the menu shows the 20 best)
    python = [
        live["base"] + ("en/" if start.startswith("en/") else "") + r[0]
        for r in search.query(live["site"], query, 20)
    ]
    assert links == python  # search.js and search.py agree, order included
    page.keyboard.press("Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_selector("#search-hits li a")
    hits = page.eval_on_selector_all("#search-hits li > div > a", "links => links.map(a => a.href)")
    assert hits == links[: len(hits)] and hits
    count = page.locator("#search-count").inner_text()
    assert f"{len(every):,}" in count
    page.close()


def test_tokenizer_and_shards_agree_with_python(live: dict) -> None:
    page = open_page(live, "index.html")
    samples = [
        "国风人像 LoRA v2.1",
        "DreamShaper_8 (梦想塑造者)",
        "Ｆｕｌｌ－ｗｉｄｔｈ ＳＤＸＬ",
        "アニメスクショ風/动画截图风",
        "Gakki | Aragaki Yui | 新垣結衣",
        "한국어 모델 Korean",
        "Ελληνικά ΟΔΟΣ Straße İstanbul",
        "emoji 🎨 art 𠮷野家",
        "<script>alert(1)</script>",
        "",
    ]
    for text in samples:
        js = page.evaluate("t => window.catalogSearch.tokens(t)", text)
        assert js == search.tokens(text), text
        terms = page.evaluate("t => window.catalogSearch.queryTerms(t)", text)
        assert [tuple(t) for t in terms] == search.query_terms(text), text
        for token in search.tokens(text):
            assert page.evaluate(
                "t => window.catalogSearch.shardOf(t, 64)", token
            ) == search.shard_of(token, 64)
    for text in [*samples, "动漫", "国风人像 anime", "二次元少女", "Conterfeit lira", "ＡＮＩＭＥ"]:
        groups = page.evaluate("t => window.catalogSearch.queryGroups(t)", text)
        expected = [[[list(t) for t in alt] for alt in g] for g in search.query_groups(text)]
        assert groups == expected, text
    for word, token in [("dreem", "dreamshaper"), ("drxxm", "dreamshaper"), ("アニメ", "アニ")]:
        assert page.evaluate(
            "a => window.catalogSearch.near(a[0], a[1])", [word, token]
        ) == search.near(word, token)
    page.close()


def test_nsfw_images_are_blurred_until_clicked(live: dict) -> None:
    page = open_page(live, "models/civitai/78046.html")  # flagged NSFW by its creator
    label = page.locator(".gallery label.nsfw").first
    image = label.locator("img")
    assert "blur" in image.evaluate("i => getComputedStyle(i).filter")
    label.click()
    assert image.evaluate("i => getComputedStyle(i).filter") == "none"
    assert not page.locator("dialog.lightbox").is_visible()  # the first click only shows it
    label.click()  # the second opens it larger
    page.locator("dialog.lightbox").wait_for(state="visible")
    page.close()


def test_hostile_model_runs_nothing(live: dict) -> None:
    events, beacon = live["events"], live["beacon"]
    control = live["context"].new_page()  # the beacon does count what reaches it
    control.evaluate("url => fetch(url + '?control', {mode: 'no-cors'})", beacon.url)
    control.close()
    assert beacon.hits == ["/beacon?control"]
    beacon.hits.clear()
    pages = []
    for path in (
        f"models/civitai/{HOSTILE_ID}.html",
        f"en/models/civitai/{HOSTILE_ID}.html",
        "list/tag/hostile/1.html",
        "en/list/tag/hostile/1.html",
        "index.html",
    ):
        page = open_page(live, path)
        for link in page.locator(".details a").all():
            if link.inner_text().startswith("click"):
                link.click()
        for toggle in page.locator("label.nsfw").all():
            toggle.click()
        search_results(page, "Hostile")
        page.locator("#results a").first.hover()
        bad = page.evaluate(
            """() => [...document.querySelectorAll(
                 "script:not([src]), iframe, object, embed, form, style, base, svg:not(.chart)")]
               .concat([...document.querySelectorAll("*")].filter(e =>
                 [...e.attributes].some(a => a.name.startsWith("on") || a.name === "style" ||
                   /^\\s*(javascript|data|vbscript):/i.test(a.value) && /href|src/.test(a.name))))
               .map(e => e.outerHTML.slice(0, 120))"""
        )
        assert bad == [], (path, bad)
        assert page.url.startswith(live["base"])  # no link navigated anywhere
        pages.append(page)
    pages[-1].wait_for_timeout(300)  # every page open 300 ms and more after its last action
    for page in pages:
        assert page.url.startswith(live["base"])
        page.close()
    assert beacon.hits == []
    assert events["dialogs"] == []
    assert events["csp"] == []  # nothing even tried to run and was stopped by the CSP
    assert events["errors"] == []


def _rows(page) -> list[tuple[str, str]]:
    """(model link, date column) of each row of the index table."""
    return page.eval_on_selector_all(
        "table.models tbody tr",
        "rows => rows.map(r => [r.cells[1].querySelector('a').getAttribute('href'),"
        " r.cells[6].textContent])",
    )


def test_index_page_sorts_filters_and_pages_in_the_browser(live: dict) -> None:
    site = live["site"]
    data = json.loads((site / "list/source/civitai/index.json").read_bytes())
    page = open_page(live, "list/source/civitai/1.html")
    assert page.locator("#browse").is_visible()
    static = _rows(page)
    assert len(static) == 100  # page one of the HTML, most downloaded first
    page.select_option("#browse [data-sort]", "updated")
    page.wait_for_url("**/1.html?sort=updated")
    page.wait_for_selector("#browse[data-shown]", state="attached")
    dates = [d for _, d in _rows(page)]
    best = sorted((r[4] for r in data["rows"]), reverse=True)[:100]
    assert [int(d.replace("-", "") or 0) for d in dates] == best
    assert (
        page.locator("#pager").is_visible() and not page.locator(".static-pager").first.is_visible()
    )
    page.locator("#pager a[rel=next]").click()
    page.wait_for_url("**sort=updated&page=2")
    assert len(_rows(page)) == min(100, len(data["rows"]) - 100)
    assert _rows(page)[0] != static[0]
    page.screenshot(path=str(SCREENSHOTS / "index-sorted.png"))
    # Filter: one type; every row is of it and the count says how many
    lora = data["types"].index("lora")
    expected = sum(1 for r in data["rows"] if r[5] == lora)
    page.select_option("#browse [data-filter=type]", "lora")
    page.wait_for_selector(f"#browse[data-shown='{expected}']", state="attached")
    types = page.eval_on_selector_all(
        "table.models tbody tr", "rs => rs.map(r => r.cells[2].textContent)"
    )
    assert types and set(types) == {"LoRA"} and len(types) == min(100, expected)
    assert f"{expected:,}" in page.locator("#count").inner_text()
    page.select_option("#browse [data-filter=nsfw]", "0")
    safe = sum(1 for r in data["rows"] if r[5] == lora and r[8] == 0)
    page.wait_for_selector(f"#browse[data-shown='{safe}']", state="attached")
    assert page.locator("table.models tbody label.nsfw").count() == 0
    page.select_option("#browse [data-filter=nsfw]", "1")  # up to R
    upto = sum(1 for r in data["rows"] if r[5] == lora and r[8] <= 1)
    page.wait_for_selector(f"#browse[data-shown='{upto}']", state="attached")
    assert upto > safe
    page.select_option("#browse [data-filter=nsfw]", "0")
    page.wait_for_selector(f"#browse[data-shown='{safe}']", state="attached")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "index-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_type_page_filters_by_source_across_sources(live: dict) -> None:
    page = open_page(live, "en/list/type/lora/1.html")
    options = page.eval_on_selector_all(
        "#browse [data-filter=source] option", "os => os.map(o => o.value)"
    )
    assert {"civitai", "huggingface"} <= set(options)
    page.select_option("#browse [data-filter=source]", "huggingface")
    page.wait_for_url("**source=huggingface")
    page.wait_for_selector("#browse[data-shown]", state="attached")
    links = [href for href, _ in _rows(page)]
    assert links and all("/models/huggingface/" in h for h in links)
    page.reload()  # the state is in the address: a reload or a shared link shows the same
    page.wait_for_selector("#browse[data-shown]", state="attached")
    assert [href for href, _ in _rows(page)] == links
    page.close()


def test_enter_opens_a_results_page_with_every_match(live: dict) -> None:
    page = open_page(live, "en/index.html")
    page.fill("#q", "lora")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/search.html?q=lora")
    page.wait_for_selector("#search-hits li")
    total = len(search.query(live["site"], "lora"))
    assert total > 20
    assert page.locator("#search-count").inner_text() == f"{total:,} results"
    assert page.locator("#search-hits li").count() == 20
    assert page.locator("#search-hits li img").count() >= 10  # thumbnails
    page.screenshot(path=str(SCREENSHOTS / "search-results.png"))
    last = -(-total // 20)
    page.locator("#search-pager a", has_text=str(last)).first.click()
    page.wait_for_url(f"**page={last}")
    page.wait_for_function(
        "n => document.querySelectorAll('#search-hits li').length === n",
        arg=total - 20 * (last - 1),
    )
    page.close()


def test_chinese_synonym_finds_anime_models_on_the_results_page(live: dict) -> None:
    page = open_page(live, "search.html?q=" + "动漫")
    page.wait_for_selector("#search-hits li")
    found = page.eval_on_selector_all(
        "#search-hits li > div > a", "links => links.map(a => a.getAttribute('href'))"
    )
    found = [h.removeprefix(live["base"]) for h in found]
    python = [r[0] for r in search.query(live["site"], "动漫", 20)]
    assert found == python
    anime = [r[0] for r in search.query(live["site"], "anime", 20, synonyms=False)]
    assert set(anime) & set(found)
    assert search.query(live["site"], "动漫", synonyms=False) == []  # found through the glossary
    assert page.locator("#search-also").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "search-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_mirrored_site_shows_its_own_images_under_img_src_self(
    live: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_site_mirror import ImageServer, catalog

    images = ImageServer()  # its /redirect.png leads to its own /img/a.png: allowed
    monkeypatch.setenv("SCRAPER_MIRROR_PRIVATE", images.hostport)
    catalog(tmp_path / "models.db", images.url).close()
    report = build(
        Settings(
            db=tmp_path / "models.db",
            out=tmp_path / "site",
            jobs=1,
            images="mirror",
            mirror_rps=0,  # unpaced: what is fetched and shown is the subject, not when
        )
    )
    assert not report.failed and report.images[1] == 5
    fetched = images.hits.total()  # by the build
    httpd = server(tmp_path / "site", 0)
    serve_in_thread(httpd)
    requested: list[str] = []
    page = live["context"].new_page()
    page.on("request", lambda r: requested.append(r.url))
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security" in m.text else None)
    own = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        page.goto(own + "models/civitai/910001.html")
        page.wait_for_load_state("load")
        shown = page.locator(".gallery img")
        assert shown.count() == 4 and page.locator(".gallery .missing").count() == 3
        loaded = "[...document.querySelectorAll('%s')].every(i => i.complete && i.naturalWidth)"
        wait_until(page, loaded % ".gallery img")
        page.locator(".details img").scroll_into_view_if_needed()  # lazy
        wait_until(page, loaded % ".details img")
        page.evaluate("window.scrollTo(0, 0)")
        page.locator(".gallery a.open").first.click()
        box = page.locator("dialog.lightbox figure img")
        box.wait_for(state="visible")
        wait_until(page, "document.querySelector('dialog.lightbox figure img').naturalWidth > 0")
        # the large copy, not the gallery's 450 px one (noise shrinks it further to fit 200 KB)
        assert 450 < box.evaluate("i => Math.max(i.naturalWidth, i.naturalHeight)") <= 1280
        page.screenshot(path=str(SCREENSHOTS / "model-mirrored.png"), full_page=False)
    finally:
        page.close()
        httpd.shutdown()
        images.httpd.shutdown()
    assert all(url.startswith(own) for url in requested), requested  # nothing from elsewhere
    assert images.hits.total() == fetched  # the browser never asked the image host
    assert csp == []
