"""`scraper site build` from recorded data: every page bilingual and reachable, the card's
content on each model page, hostile values inert, deleted models gone, safe file names, writes
only inside the folder and only when bytes changed."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
from click.testing import CliRunner

from scraper.cards.render import render_card
from scraper.catalog import open_store
from scraper.cli import main
from scraper.files import OutsideFolder
from scraper.records import Model
from scraper.site import output, paths, search
from scraper.site.build import Settings, build
from scraper.site.paths import page_name
from scraper.site.serve import server
from scraper.sources import civitai
from scraper.store import Counts
from tests.sitedata import (
    DELETED,
    HOSTILE_ID,
    bumped,
    reference_payloads,
    save,
)
from tests.support import serve_in_thread


class Page(HTMLParser):
    """Tags, attributes and text of one built page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def read(site: Path, path: str) -> Page:
    return Page((site / path).read_text(encoding="utf-8"))


def html_files(site: Path) -> list[str]:
    """Every page but 404.html, which the host serves at any missing address (its links start
    from the site root, tests/test_site_web.py)."""
    return sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.name != "404.html"
    )


def live_pages(db: Path) -> list[str]:
    """Every live model's page: Hub repos by owner--name, Civitai models by id."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT source, id, name FROM models WHERE deleted_at IS NULL")
        return [paths.model_page(s, i, n if s != "civitai" else None) for s, i, n in rows]


MS_PAGE = paths.model_page("modelscope", "1000", "damo/cv_cartoon_stable_diffusion_design")


def test_every_page_names_its_language_and_links_the_other_one(site: Path) -> None:
    files = html_files(site)
    assert len(files) > 400
    for path in files:
        page = read(site, path)
        english = path.startswith("en/")
        html = page.all("html")[0]
        assert html["lang"] == ("en" if english else "zh-CN"), path
        other = "zh-CN" if english else "en"
        switch = [a for a in page.all("a") if a.get("hreflang") == other]
        assert len(switch) == 1, path
        target = urljoin(path, switch[0]["href"])
        counterpart = path.removeprefix("en/") if english else f"en/{path}"
        assert target == counterpart and (site / target).is_file(), path
        assert [a["href"] for a in page.all("link") if a.get("hreflang") == other]


def test_every_model_page_is_reachable_from_the_home_page(site: Path, catalog: Path) -> None:
    for home in ("index.html", "en/index.html"):
        seen, queue = {home}, [home]
        while queue:
            path = queue.pop()
            for a in read(site, path).all("a"):
                href = a.get("href")
                if not href or "://" in href:
                    continue
                target = urldefrag(urljoin(path, href))[0]
                if target.endswith(".html") and target not in seen and (site / target).is_file():
                    seen.add(target)
                    queue.append(target)
        prefix = "en/" if home.startswith("en/") else ""
        for page in live_pages(catalog):
            assert prefix + page in seen, (home, page)


def test_model_pages_are_linked_from_tables_never_from_the_menu(site: Path) -> None:
    for path in ("index.html", "models/civitai/4717.html", "en/list/tag.html"):
        text = (site / path).read_text(encoding="utf-8")
        header = Page(text[text.index("<header") : text.index("</header>")])
        menu = [a["href"] for a in header.all("a") if not a.get("hreflang")]
        assert len(menu) == 3 and not any("models/" in href for href in menu)


def test_model_page_has_the_cards_content(site: Path) -> None:
    raw = next(m for m in reference_payloads() if m["id"] == 4717)
    model = civitai.parse_model(raw)
    card = render_card(model, "zh")
    page = (site / "models/civitai/4717.html").read_text(encoding="utf-8")
    # every version under the card's heading, every file, the pickle warning
    for line in card.splitlines():
        if line.startswith("#### "):
            heading, _, name = line[5:].partition("] ")
            assert f'<h3><span class="vnum">{heading}]</span> {name.strip()}</h3>' in page
    for version in model.versions:
        for f in version.files:
            assert f'<span class="file">{f.name.strip()}</span>' in page
    assert '<strong class="warn">⚠ pickle 格式' in page
    # the gallery comes first, before the description: 450 px pictures, later ones lazy
    assert page.index('<section class="gallery"') < page.index('<div class="details">')
    several = (site / "models/civitai/4468.html").read_text(encoding="utf-8")
    gallery = several[several.index('<section class="gallery"') : several.index("</section>")]
    srcs = re.findall(r'<img src="([^"]+)"', gallery)
    assert len(srcs) > 4 and all("/width=450/" in s for s in srcs)
    assert 'loading="lazy"' in gallery
    # the chart: two snapshots in stats_history
    assert '<svg class="chart"' in page and "<polyline" in page
    english = (site / "en/models/civitai/4717.html").read_text(encoding="utf-8")
    assert '<h3><span class="vnum">[Version 4 of 4]</span> 0.4</h3>' in english


def test_hub_models_show_revision_versions_readme_and_chinese_name(site: Path) -> None:
    hf = next(
        p
        for p in (site / "models/huggingface").glob("*.html")
        if "sdxl-turbo" in p.read_text(encoding="utf-8")
    )
    text = hf.read_text(encoding="utf-8")
    assert re.search(
        r'<h3><span class="vnum">\[版本1/共1个版本\]</span> main@[0-9a-f]{7}</h3>', text
    )
    ms = (site / MS_PAGE).read_text(encoding="utf-8")
    assert "卡通系列文生图模型-插画风" in ms
    details = ms[ms.index('<div class="details">') :]
    details = details[: details.index("</section>")]
    assert "<h1>" not in details and "<h2>" not in details  # below the page's own headings
    assert "<h3>" in details or "<h4>" in details


def test_hostile_values_are_text_and_nothing_can_run(site: Path) -> None:
    pages = [p for p in html_files(site) if "990001" in p or "hostile" in p]
    pages += ["index.html", "en/index.html", "list/source/civitai/1.html"]
    hostile = [p for p in html_files(site) if p.endswith(f"/{HOSTILE_ID}.html")]
    assert len(hostile) == 2
    for path in pages + hostile:
        text = (site / path).read_text(encoding="utf-8")
        page = Page(text)
        scripts = [s.get("src", "") for s in page.all("script")]
        ours = ["assets/search.js"] + (["assets/model.js"] if "models/" in path else [])
        ours += ["assets/browse.js"] if "/list/" in f"/{path}" else []
        assert [src.rsplit("/", 2)[-2] + "/" + src.rsplit("/", 1)[-1] for src in scripts] == ours
        for tag, attrs in page.tags:
            assert tag not in ("iframe", "object", "embed", "form", "style", "base"), path
            assert tag != "svg" or attrs.get("class") == "chart", path
            for name, value in attrs.items():
                assert not name.startswith("on"), (path, tag, name)
                assert name != "style", (path, tag)
                if name in ("href", "src"):
                    lowered = (value or "").strip().lower()
                    assert not lowered.startswith(("javascript", "data", "vbscript")), path
        csp = [m["content"] for m in page.all("meta") if m.get("http-equiv")]
        assert csp and "script-src 'self'" in csp[0] and "object-src 'none'" in csp[0]
    text = (site / f"models/civitai/{HOSTILE_ID}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;fetch(" in text  # shown as text
    assert ">click me</a>" in text and 'href="javascript' not in text
    assert '<a href="https://example.com/ok" rel="nofollow noopener noreferrer ugc">' in text


def test_deleted_model_has_no_page_index_entry_or_search_result(site: Path, catalog: Path) -> None:
    assert not (site / paths.model_page("civitai", DELETED)).exists()
    for path in html_files(site):
        assert f"civitai/{DELETED}.html" not in (site / path).read_text(encoding="utf-8")
    assert search.query(site, "Bad artist Negative embedding") == []
    with sqlite3.connect(catalog) as conn:  # its data stays in the database
        assert conn.execute("SELECT deleted_at FROM models WHERE id = ?", [DELETED]).fetchone()[0]


def test_index_pages_sorted_by_downloads_and_paged(site: Path) -> None:
    first = (site / "list/source/civitai/1.html").read_text(encoding="utf-8")
    second = (site / "list/source/civitai/2.html").read_text(encoding="utf-8")
    rows = [*_rows(first), *_rows(second)]
    assert len(_rows(first)) == 100
    downloads = [int(d.replace(",", "")) for d in rows]
    assert downloads == sorted(downloads, reverse=True)
    assert 'rel="next" href="../../../list/source/civitai/2.html"' in first
    thumbs = re.findall(r'<td class="thumb"><a [^>]*><img src="([^"]+)"', first)
    assert thumbs and all(t.startswith("https://") for t in thumbs)


def _rows(html: str) -> list[str]:
    return re.findall(r'<td class="num">([\d,]+)</td><td class="num opt">', html)


def test_guide_joins_the_collection_with_live_data(site: Path) -> None:
    zh = (site / "guide.html").read_text(encoding="utf-8")
    counterfeit = _entry(zh, "Counterfeit-V3.0")
    assert counterfeit.startswith('">') and 'href="models/civitai/4468.html"' in counterfeit
    assert '下载数：<span class="num">199,866</span>' in counterfeit
    assert ">CounterfeitV30_v30.safetensors</a> · SafeTensor · 4.0 GiB" in counterfeit
    assert "最新版本：v3.0" in counterfeit
    flux = _entry(zh, "Flux.1 dev")
    assert flux.startswith(' unsynced">') and "尚未同步" in flux and "下载数" not in flux
    assert 'href="https://huggingface.co/black-forest-labs/FLUX.1-dev"' in flux
    sd14 = _entry(zh, "Stable Diffusion v1.4")  # a Hugging Face fixture: synced
    assert sd14.startswith('">') and 'href="models/huggingface/' in sd14
    assert "safety_checker" not in sd14 and ".safetensors</a>" not in sd14  # components only
    assert "CLIP Skip" in zh and "safetensors" in zh and "FP16" in zh
    en = (site / "en/guide.html").read_text(encoding="utf-8")
    assert "not yet synced" in _entry(en, "Juggernaut XL")
    assert "Pruned vs full vs EMA-only" in en
    assert f'href="{MS_PAGE}"' in _entry(en, "卡通系列文生图模型-插画风")


def _entry(html: str, name: str) -> str:
    """The guide entry of a model, from just after `<div class="entry`."""
    return next(
        e for e in html.split('<div class="entry')[1:] if f">{name}<" in e or f">{name} <" in e
    )


def test_page_names_are_safe_everywhere_and_collision_free() -> None:
    keys = [
        "4717", "CON", "con", "Con", "nul.txt", "lpt1", "a/b", "A/B", "a\\b", "..", ".hidden",
        "x" * 300, "人像", "国风", "a:b", 'a"b', "a|b", "a?b", "a*b", "a<b>", "tab\there",
        "trailing.", "trailing ", "SD 1.5", "sd-1-5", "sd_1_5", "", "-", "a" * 64, "a" * 65,
    ]  # fmt: skip
    names = [page_name(k) for k in keys]
    assert page_name("4717") == "4717" and page_name("sd-1-5") == "sd-1-5"
    assert len({n.lower() for n in names}) == len(keys)  # also on case-insensitive disks
    for name in names:
        assert paths.is_safe(f"{name}.html"), name
        assert name.split(".")[0] not in {"con", "nul", "lpt1"}
        assert len(name) <= 64 and not name.endswith((".", " "))
    assert names == [page_name(k) for k in keys]  # stable


def test_writer_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    writer = output.Writer(tmp_path / "site")
    for bad in ("../x.html", "/etc/passwd", "a/../../b.html", "A.html", "a\\b.html", ".x"):
        with pytest.raises(output.UnsafePath):
            writer.write(bad, "x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "site").mkdir(exist_ok=True)
    (tmp_path / "site" / "models").symlink_to(outside)
    with pytest.raises(output.UnsafePath):
        writer.write("models/civitai/1.html", "x")
    assert list(outside.rglob("*")) == []
    assert writer.remove("../outside") is False


def test_background_writes_all_end_and_the_first_failure_is_raised(tmp_path: Path) -> None:
    root = tmp_path / "site"
    writer = output.Writer(root)
    with writer.in_background():
        for n in range(300):  # more than the queue holds
            writer.queue(f"list/p/{n}.html", f"page {n}".encode())
        writer.queue("list/p/7.html", b"again")  # the same page twice: the last bytes win
    assert (root / "list/p/299.html").read_text(encoding="utf-8") == "page 299"
    assert (root / "list/p/7.html").read_text(encoding="utf-8") == "again"
    assert writer.written == 301 and not list(root.rglob(".tmp-*"))
    assert writer.hashes["list/p/7.html"] == output.digest(b"again")
    (root / "list/q.html").mkdir(parents=True)  # a folder where a page goes: its rename fails
    with pytest.raises(IsADirectoryError), writer.in_background():
        writer.queue("list/q.html", b"x")
        writer.queue("list/r.html", b"r")
    assert (root / "list/r.html").read_text(encoding="utf-8") == "r"  # the rest still ended


def test_build_through_a_planted_symlink_writes_nothing_outside(
    catalog: Path, tmp_path: Path
) -> None:
    out, outside = tmp_path / "site", tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "list").symlink_to(outside)
    with pytest.raises(OutsideFolder):  # a folder holding what the tool did not write
        build(Settings(db=catalog, out=out, jobs=1))
    with pytest.raises(output.UnsafePath):  # and even when told to build there anyway
        build(Settings(db=catalog, out=out, jobs=1, force=True))
    assert list(outside.rglob("*")) == []


def test_tampered_manifest_never_removes_files_outside(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(Settings(db=catalog, out=out, jobs=1))
    victim = tmp_path / "victim.html"
    victim.write_text("keep me", encoding="utf-8")
    manifest = output.Manifest.read(out)
    manifest.pages["../victim.html"] = "0"
    manifest.pages["models/../../victim.html"] = "0"
    manifest.write(out)
    build(Settings(db=catalog, out=out, jobs=1))
    assert victim.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_pages_are_written_with_the_umask(catalog: Path, tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        build(Settings(db=catalog, out=tmp_path / "site", jobs=1))
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "site" / "index.html").stat().st_mode)
    assert mode == 0o666 & ~mask
    assert not list((tmp_path / "site").rglob(".tmp-*"))


def test_rebuild_writes_only_what_changed(catalog: Path, tmp_path: Path) -> None:
    db = tmp_path / "models.db"
    shutil.copy(catalog, db)
    out = tmp_path / "site"
    build(Settings(db=db, out=out, jobs=1))

    def stamps() -> dict[str, int]:
        return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.*")}

    before = stamps()
    again = build(Settings(db=db, out=out, jobs=1))
    assert (again.written, again.rendered, again.removed) == (0, 0, 0)
    assert stamps() == before

    store = open_store(db)
    changed = next(m for m in reference_payloads() if m["id"] == 4717)
    save(store, "civitai", [bumped(bumped(changed, 1.1), 3)])  # counters moved: a new snapshot
    store.mark_deleted("civitai", "4468")
    store.close()
    report = build(Settings(db=db, out=out, jobs=1))
    after = stamps()
    rewritten = {p for p in after if after[p] != before.get(p)}
    removed = set(before) - set(after)
    assert report.rendered == 1
    assert {p for p in rewritten if "/models/" in f"/{p}"} == {
        "models/civitai/4717.html",
        "en/models/civitai/4717.html",
    }
    assert {"models/civitai/4468.html", "en/models/civitai/4468.html"} <= removed
    assert "list/source/civitai/1.html" in rewritten  # its row moved
    assert any(p.startswith("search/") for p in rewritten)
    assert len(rewritten) < len(after) // 4
    assert search.query(out, "Counterfeit") == []
    assert report.removed == len(removed)
    fresh = tmp_path / "fresh"
    build(Settings(db=db, out=fresh, jobs=1))  # the incremental site is the site
    assert_same_site(out, fresh)


INDEX_PAGE = re.compile(r"((?:en/)?list/[^/]+/[^/]+)/(\d+)\.html")


def assert_same_site(site: Path, fresh: Path) -> None:
    """Every file byte for byte, but where an index's pages break, which follows the site's
    history (site/paging.py): its rows, page after page, are the same rows in the same order."""
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.*"))
    assert files == sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*.*"))
    rows: dict[str, dict[Path, list[str]]] = {}
    for path in files:
        index = INDEX_PAGE.fullmatch(path)
        if index:
            for root in (site, fresh):
                page = int(index[2])
                rows.setdefault(index[1], {}).setdefault(root, []).append(
                    (page, table(root / path))
                )
        elif path != output.MANIFEST:
            assert (site / path).read_bytes() == (fresh / path).read_bytes(), path
    for index, by_site in rows.items():
        site_rows, fresh_rows = (
            [r for _, t in sorted(by_site[x]) for r in t] for x in (site, fresh)
        )
        assert site_rows == fresh_rows, index


def table(page: Path) -> list[str]:
    html = page.read_text(encoding="utf-8")
    return html[html.index("<tbody>") : html.index("</tbody>")].split("<tr>")[1:]


def test_interrupted_build_is_repaired_by_the_next_one(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(Settings(db=catalog, out=out, jobs=1))
    page = out / "models/civitai/4717.html"
    good = page.read_bytes()
    page.write_bytes(b"half a page")  # what a killed build may leave behind
    (out / output.MARKER).write_bytes(b"")
    build(Settings(db=catalog, out=out, jobs=1))
    assert page.read_bytes() == good and not (out / output.MARKER).exists()


def test_pool_build_gives_the_same_site(catalog: Path, site: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    report = build(Settings(db=catalog, out=out, jobs=2, chunk=40, postings_per_shard=50))
    assert not report.failed and report.rendered > 80
    for path in html_files(site) + ["search/meta.json", "search/s/0.json"]:
        assert (out / path).read_bytes() == (site / path).read_bytes(), path


@pytest.mark.parametrize("mode", ["hide", "blur", "show"])
def test_nsfw_setting(catalog: Path, tmp_path: Path, mode: str) -> None:
    out = tmp_path / mode
    report = build(Settings(db=catalog, out=out, jobs=1, nsfw=mode))
    flagged = [m for m in reference_payloads() if m.get("nsfw") is True]
    assert flagged
    nsfw_page = out / paths.model_page("civitai", str(flagged[0]["id"]))
    names = {r[1] for r in search.query(out, flagged[0]["name"])}
    if mode == "hide":
        assert report.hidden >= len(flagged) and not nsfw_page.exists()
        assert flagged[0]["name"] not in names
        for path in html_files(out):
            assert 'class="nsfw"' not in (out / path).read_text(encoding="utf-8")
    else:
        assert report.hidden == 0 and nsfw_page.exists() and flagged[0]["name"] in names
        blurred = any(
            'class="nsfw"' in (out / p).read_text(encoding="utf-8") for p in html_files(out)
        )
        assert blurred == (mode == "blur")


def test_cli_build_prints_where_the_site_is(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-site"
    result = CliRunner().invoke(
        main, ["site", "build", "--db", str(catalog), "--out", str(out), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    assert str(out / "index.html") in result.output and (out / "index.html").is_file()
    missing = CliRunner().invoke(main, ["site", "build", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "no database" in missing.output
    assert not (tmp_path / "none.db").exists()


def test_a_database_under_an_odd_folder_name_is_read(catalog: Path, tmp_path: Path) -> None:
    odd = tmp_path / "a #1? 100% 人像"
    odd.mkdir()
    shutil.copy(catalog, odd / "models.db")
    before = (odd / "models.db").read_bytes()
    report = build(Settings(db=odd / "models.db", out=tmp_path / "site", jobs=1))
    assert not report.failed and report.models > 100
    assert (odd / "models.db").read_bytes() == before  # opened read-only
    assert {p.name for p in odd.iterdir()} <= {"models.db", "models.db-wal", "models.db-shm"}


def test_demo_ends_with_a_built_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    index = tmp_path / "demo" / "site" / "index.html"
    assert index.is_file() and str(index) in result.output
    assert len(list((tmp_path / "demo" / "site" / "models" / "civitai").glob("*.html"))) == 18


def test_a_model_without_versions_description_or_counters_still_builds(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = open_store(db)
    bare = Model(source="civitai", id="1", name="bare", raw={"id": 1, "name": "bare"})
    store.save_models([bare], Counts())
    store.close()
    report = build(Settings(db=db, out=tmp_path / "site", jobs=1))
    assert not report.failed and report.models == 1
    assert (tmp_path / "site/models/civitai/1.html").is_file()


def test_serve_previews_the_site_on_localhost_without_dotfiles(site: Path) -> None:
    httpd = server(site, 0)
    host, port = httpd.server_address[:2]
    serve_in_thread(httpd)
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/") as answer:
            assert host == "127.0.0.1" and answer.status == 200
            assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
            assert '<html lang="zh-CN">' in answer.read().decode("utf-8")
        for hidden in (f"/{output.MANIFEST}", "/models/", "/search/s/"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://{host}:{port}{hidden}")
            assert refused.value.code == 404, hidden
            body = refused.value.read().decode("utf-8")
            assert '<meta name="description"' in body and "/assets/site.css" in body  # 404.html
            assert output.MANIFEST not in body
    finally:
        httpd.shutdown()
        httpd.server_close()
    missing = CliRunner().invoke(main, ["site", "serve", "--out", str(site / "models")])
    assert missing.exit_code == 1 and "no site in" in missing.output
