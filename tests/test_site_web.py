"""One vocabulary across sources (taxonomy.toml on real values), the browse JSON, search with
the glossary and one typo, and the web basics: sitemap.xml, robots.txt, 404.html, Atom feeds
(parsed by feedparser, a test dependency: a real feed reader's verdict, not our own reading),
canonical, description and OpenGraph tags."""

from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest

from scraper.catalog import open_store
from scraper.demo.recorded import hf_fixture
from scraper.site import glossary, search, taxonomy, webbasics
from scraper.site.build import Settings, build
from scraper.site.summary import Summary
from tests.sitedata import SEARCH_BASE, reference_payloads, save, shared_catalog
from tests.test_site_build import html_files, read

BASE_URL = "https://models.example.org/catalog"
SDXL_ID = 990100
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
DATA = Path(__file__).resolve().parent / "data"
CIVITAI_CARDS = DATA / "civitai-cards"
CIVITAI = [*(DATA / "civitai-cards").glob("*.json"), *(DATA / "fixtures/civitai").glob("*.json")]


def sdxl_lora() -> dict:
    """A Civitai LoRA on `SDXL 1.0`, a value of Civitai's BaseModel enum (CIVITAI.md, the
    `baseModels` filter), made from a recorded model."""
    model = copy.deepcopy(next(m for m in reference_payloads() if m["id"] == SEARCH_BASE))
    model["id"] = SDXL_ID
    model["name"] = "Ink wash SDXL"
    model["type"] = "LORA"
    model["tags"] = ["style", "region:us", "license:mit"]
    for i, version in enumerate(model["modelVersions"]):
        version["id"] = 9_901_000 + i
        version["baseModel"] = "SDXL 1.0"
    return model


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web")
    db = folder / "models.db"
    shutil.copy(shared_catalog(tmp_path_factory), db)
    store = open_store(db)
    save(store, "civitai", [sdxl_lora()])
    store.close()
    report = build(Settings(db=db, out=folder / "site", jobs=1, base_url=BASE_URL + "/"))
    assert not report.failed, report.failed
    return folder / "site"


def index_models(site: Path, kind: str, key: str) -> list[list]:
    """The search documents of every model in one index's JSON, in its order."""
    data = json.loads((site / f"list/{kind}/{key}/index.json").read_bytes())
    meta = json.loads((site / "search/meta.json").read_bytes())
    docs = []
    for row in data["rows"]:
        chunk = json.loads((site / f"search/d/{row[0] // meta['chunk']}.json").read_bytes())
        docs.append(chunk[row[0] % meta["chunk"]])
    return docs


# --- one vocabulary --------------------------------------------------------------------------


def test_civitai_types_and_base_models_from_recorded_answers_are_normalized() -> None:
    vocabulary = taxonomy.load()
    seen_types, seen_bases = set(), set()
    for path in CIVITAI:
        answer = json.loads(path.read_bytes())
        for model in answer.get("items", [answer]) if isinstance(answer, dict) else []:
            seen_types.add(model.get("type"))
            seen_bases.update(v.get("baseModel") for v in model.get("modelVersions") or [])
    expected_types = {
        "Checkpoint": "checkpoint",
        "LORA": "lora",
        "TextualInversion": "textualinversion",
        "Controlnet": "controlnet",
        "Hypernetwork": "hypernetwork",
        "Poses": "other",
        "AestheticGradient": "other",
    }
    assert set(expected_types) <= seen_types  # the recorded answers hold these values
    for raw, key in expected_types.items():
        assert vocabulary.type_of(raw, []) == key, raw
    expected_bases = {
        "SD 1.5": "sd1",
        "SD 1.4": "sd1",
        "SD 2.1 768": "sd2",
        "SD 2.0 768": "sd2",
        "SD 2.1": "sd2",
        "Illustrious": "illustrious",
        "Other": "other",
    }
    assert set(expected_bases) <= seen_bases
    for raw, key in expected_bases.items():
        assert vocabulary.family_of(raw) == key, raw
    # values of Civitai's BaseModel enum named in /work/shared/api/CIVITAI.md
    for raw, key in {"SDXL 1.0": "sdxl", "Pony": "pony", "Flux.1 D": "flux1"}.items():
        assert vocabulary.family_of(raw) == key, raw


def test_hub_tags_and_card_data_from_recorded_answers_are_normalized() -> None:
    vocabulary = taxonomy.load()

    def facts(name: str) -> tuple[str, str | None, list[str], list[str]]:
        local = DATA / "fixtures/huggingface" / name
        info = json.loads(local.read_bytes()) if local.exists() else hf_fixture(name)
        tags = info.get("tags") or []
        raw_type = info.get("pipeline_tag") or info.get("library_name")
        bases = taxonomy.bases_from_tags(tags)
        card = (info.get("cardData") or {}).get("base_model")
        bases += [card] if isinstance(card, str) else []
        return vocabulary.type_of(raw_type, tags), vocabulary.task_of(raw_type, tags), bases, tags

    kind, task, bases, _ = facts("model-ti-test-blobs-2024-02.json")  # tags: textual_inversion
    assert kind == "textualinversion" and bases == ["stabilityai/stable-diffusion-xl-base-1.0"]
    assert [vocabulary.family_of(b) for b in bases] == ["sdxl"]
    kind, task, _, _ = facts("model-sdxl-turbo-blobs-2023-12.json")  # diffusers:...XLPipeline
    assert (kind, task) == ("checkpoint", "text-to-image")
    assert taxonomy.resolve_families({"stabilityai/sdxl-turbo": []}) == {
        "stabilityai/sdxl-turbo": ["sdxl"]  # a base model's own name says its family
    }
    kind, task, _, _ = facts("model-sd-2-1-2025-01.json")
    assert (kind, task) == ("checkpoint", "text-to-image")
    assert vocabulary.family_of("stabilityai/stable-diffusion-2-1") == "sd2"
    assert vocabulary.family_of("CompVis/stable-diffusion-v1-4") == "sd1"
    kind, task, bases, tags = facts("model-llama-3.1-8b-instruct-gated-2025-03.json")
    assert (kind, task) == ("other", "text-generation")
    assert bases == ["meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B"]
    shown = vocabulary.visible_tags(tags)
    assert "llama" in shown and "conversational" in shown
    for hidden in ("region:us", "license:llama3.1", "arxiv:2204.05149", "endpoints_compatible"):
        assert hidden in tags and hidden not in shown
    assert "text-generation" not in shown  # the task facet, not a tag
    _, task, _, tags = facts("model-bert-base-uncased-2025-01.json")
    assert task == "fill-mask"
    assert not [t for t in vocabulary.visible_tags(tags) if ":" in t]
    assert vocabulary.type_of(None, ["lora", "base_model:adapter:x/y"]) == "lora"
    assert vocabulary.type_of("LORA", ["controlnet"]) == "lora"  # the own type wins


def test_families_follow_adapter_and_finetune_chains_and_cut_loops() -> None:
    refs = {
        "me/lora": ["me/finetune"],
        "me/finetune": ["me/merge"],
        "me/merge": ["stabilityai/stable-diffusion-xl-base-1.0"],
        "a/x": ["a/y"],
        "a/y": ["a/x"],
        "b/unknown": ["someone/not-in-the-catalog"],
        "c/two": ["SD 1.5", "Other"],
    }
    found = taxonomy.resolve_families(refs)
    assert found["me/lora"] == ["sdxl"]
    assert found["a/x"] == ["other"]
    assert found["b/unknown"] == ["other"]
    assert found["c/two"] == ["sd1"]  # "Other" beside a known family adds nothing


def test_one_type_page_lists_loras_of_both_sources(web: Path) -> None:
    docs = index_models(web, "type", "lora")
    sources = {d[4] for d in docs}
    assert {"civitai", "huggingface"} <= sources
    page = (web / "list/type/lora/1.html").read_text(encoding="utf-8")
    assert "models/civitai/" in page and "models/huggingface/" in page
    downloads = [d[5] or 0 for d in docs]
    assert downloads == sorted(downloads, reverse=True)  # the default order, as in the HTML


def test_sdxl_page_holds_civitai_sdxl_and_hub_repos_on_sdxl_base(web: Path) -> None:
    pages = {d[0] for d in index_models(web, "base", "sdxl")}
    assert f"models/civitai/{SDXL_ID}.html" in pages
    hub = {p for p in pages if p.startswith("models/huggingface/")}
    assert hub  # lora-01, lora-02 (README base_model) and the textual inversion test repo
    html = (web / "list/base/sdxl/1.html").read_text(encoding="utf-8")
    assert f"models/civitai/{SDXL_ID}.html" in html
    sd1 = {d[0] for d in index_models(web, "base", "sd1")}
    assert f"models/civitai/{SDXL_ID}.html" not in sd1 and len(sd1) > 20


def test_no_machine_tag_in_the_tag_cloud(web: Path) -> None:
    vocabulary = taxonomy.load()
    for path in ("list/tag.html", "index.html", "en/list/tag.html", "en/index.html"):
        page = read(web, path)
        labels = [
            (a["href"], text)
            for a, text in _links_with_text(web / path)
            if a and "/tag/" in (a.get("href") or "")
        ]
        assert labels, path
        for href, text in labels:
            assert not text.lower().startswith(vocabulary.hidden_prefixes), (path, text)
            assert text.lower() not in vocabulary.hidden, (path, text)
            assert not href.startswith(("../list/tag/region", "list/tag/region")), href
        assert page.all("a")
    assert not list((web / "list/tag").glob("region*"))


def _links_with_text(path: Path) -> list[tuple[dict, str]]:
    from html.parser import HTMLParser

    found: list[tuple[dict, str]] = []

    class Links(HTMLParser):
        current: dict | None = None

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "a":
                self.current = dict(attrs)
                found.append((self.current, ""))

        def handle_data(self, data: str) -> None:
            if self.current is not None:
                found[-1] = (found[-1][0], found[-1][1] + data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a":
                self.current = None

    Links().feed(path.read_text(encoding="utf-8"))
    return found


def test_tags_are_named_in_the_pages_language(web: Path) -> None:
    words = glossary.load()
    assert words.tag_name("anime", "zh") == "动漫"
    assert words.tag_name("manga", "zh") == "动漫 (manga)"
    assert words.tag_name("国风", "en") == "chinese-style"
    assert words.tag_name("古风", "en") == "chinese-style (古风)"
    assert words.tag_name("anime", "en") == "anime"
    assert words.tag_name("not-in-glossary", "zh") == "not-in-glossary"
    zh = dict((a.get("href"), t) for a, t in _links_with_text(web / "list/tag.html"))
    assert zh.get("../list/tag/anime/1.html") == "动漫"


# --- browse JSON and search --------------------------------------------------------------


def test_index_json_is_compact_and_names_its_tables(web: Path) -> None:
    data = json.loads((web / "list/source/civitai/index.json").read_bytes())
    assert data["sources"] and data["types"] and data["bases"]
    rows = data["rows"]
    assert len(rows) > 100 and all(len(r) == 9 for r in rows)
    assert all(data["sources"][r[7]] == "civitai" for r in rows)
    size = (web / "list/source/civitai/index.json").stat().st_size
    assert size / len(rows) < 60  # bytes per model: 100,000 models stay in a few MB
    names = json.loads((web / "search/names.json").read_bytes())
    assert names["type"]["lora"] == ["LoRA", "LoRA"] and names["glossary"]


def test_glossary_finds_anime_models_from_chinese_words_and_back(web: Path) -> None:
    anime = _holding(web, "anime")  # models with a word starting with "anime"
    assert anime
    for word in ("动漫", "二次元"):
        found = {r[0] for r in search.query(web, word)}
        assert anime <= found, word
        assert not {r[0] for r in search.query(web, word, synonyms=False)} >= anime
    chinese = _holding(web, "汉服")
    assert chinese <= {r[0] for r in search.query(web, "hanfu")}
    # a glossary word inside a longer Chinese query: 国风 (any synonym) and 人像 both
    mixed = search.query_groups("国风人像")
    assert len(mixed) == 2 and len(mixed[0]) > 1


def _holding(site: Path, word: str) -> set[str]:
    """Pages of the models whose index tokens start with `word`, read from the shards."""
    meta = json.loads((site / "search/meta.json").read_bytes())
    n = search.shard_of(word, meta["shards"])
    shard = json.loads((site / f"search/s/{n}.json").read_bytes())
    ids = {
        i for token, gaps in shard.items() if token.startswith(word) for i in search.postings(gaps)
    }
    pages = set()
    for i in ids:
        chunk = json.loads((site / f"search/d/{i // meta['chunk']}.json").read_bytes())
        pages.add(chunk[i % meta["chunk"]][0])
    return pages


def test_one_typo_on_words_of_five_letters_or_more(web: Path) -> None:
    exact = {r[0] for r in search.query(web, "Counterfeit")}
    assert "models/civitai/4468.html" in exact
    assert {r[0] for r in search.query(web, "Conterfeit")} >= exact  # a letter left out
    assert {r[0] for r in search.query(web, "Counterfeot")} >= exact  # one letter wrong
    assert not search.query(web, "Cuntrefeit")  # two edits
    assert search.near("dreem", "dreamshaper") and not search.near("drxxm", "dreamshaper")
    groups = search.query_groups("lira")
    assert groups and not groups[0][0][0][2]  # four letters: no typo allowed


def test_search_index_per_query_stays_small(web: Path) -> None:
    meta = json.loads((web / "search/meta.json").read_bytes())
    biggest = max(f.stat().st_size for f in (web / "search/s").glob("*.json"))
    chunk = max(f.stat().st_size for f in (web / "search/d").glob("*.json"))
    assert meta["chunk"] == 100 and biggest < 2_000_000 and chunk < 200_000


# --- web basics -------------------------------------------------------------------------------


def test_sitemap_lists_every_page_in_both_languages_with_alternates(web: Path) -> None:
    root = ET.parse(web / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset"
    urls = {u.findtext(f"{SM}loc"): u for u in root.findall(f"{SM}url")}
    pages = [p for p in html_files(web) if "/list/" not in f"/{p}" or p.endswith(".html")]
    for path in pages:
        if path.endswith(("search.html",)) or path.startswith(("list/", "en/list/")):
            continue
        assert f"{BASE_URL}/{path}" in urls, path
    model = urls[f"{BASE_URL}/models/civitai/4468.html"]
    assert len(model.findtext(f"{SM}lastmod")) == 10
    links = {a.get("hreflang"): a.get("href") for a in model.findall(f"{XHTML}link")}
    assert links == {
        "zh-CN": f"{BASE_URL}/models/civitai/4468.html",
        "en": f"{BASE_URL}/en/models/civitai/4468.html",
    }
    assert f"{BASE_URL}/list/type/lora/1.html" in urls
    assert all(loc.startswith(BASE_URL + "/") for loc in urls)
    listed = {loc.removeprefix(BASE_URL + "/") for loc in urls}
    assert all((web / p).is_file() for p in listed)
    assert len(listed) >= len(html_files(web)) - 2  # everything but search.html duplicates


def test_sitemap_becomes_an_index_past_its_url_limit() -> None:
    ranked = [Summary("civitai", str(i), f"m{i}", updated="2024-01-02") for i in range(30)]
    files = dict(webbasics.sitemap(ranked, ["index.html"], "https://x.example", per_file=20))
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    locs = [s.findtext(f"{SM}loc") for s in index.findall(f"{SM}sitemap")]
    assert locs == [f"https://x.example/sitemaps/{n}.xml" for n in (1, 2, 3, 4)]
    total = 0
    for n in (1, 2, 3, 4):
        part = ET.fromstring(files[f"sitemaps/{n}.xml"])
        count = len(part.findall(f"{SM}url"))
        assert count <= 20
        total += count
    assert total == 62  # 31 pages in two languages


def test_robots_names_the_sitemap_and_404_links_from_the_root(web: Path) -> None:
    robots = (web / "robots.txt").read_text()
    assert "User-agent: *" in robots and f"Sitemap: {BASE_URL}/sitemap.xml" in robots
    for path, home in (("404.html", "index.html"), ("en/404.html", "en/index.html")):
        page = read(web, path)
        hrefs = [a["href"] for a in page.all("a")]
        assert f"{BASE_URL}/{home}" in hrefs, hrefs
        css = [link["href"] for link in page.all("link") if link.get("rel") == "stylesheet"]
        assert css == [f"{BASE_URL}/assets/site.css"]


def test_atom_feeds_are_valid_and_linked_from_pages(web: Path) -> None:
    feeds = sorted(p.relative_to(web).as_posix() for p in web.rglob("*.xml") if "feeds" in p.parts)
    assert "feeds/new.xml" in feeds and "en/feeds/updated.xml" in feeds
    assert "feeds/source/civitai-new.xml" in feeds and "feeds/type/lora-updated.xml" in feeds
    for path in feeds:
        parsed = feedparser.parse((web / path).read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == "atom10", path
        assert parsed.feed.title and parsed.feed.id and parsed.feed.updated
        assert parsed.entries, path
        for entry in parsed.entries:
            assert entry.id and entry.title and entry.updated and entry.link.startswith(BASE_URL)
            assert (web / entry.link.removeprefix(BASE_URL + "/")).is_file()
    new = feedparser.parse((web / "feeds/new.xml").read_bytes()).entries
    published = [e.published for e in new]
    assert published == sorted(published, reverse=True)
    lora = feedparser.parse((web / "feeds/type/lora-new.xml").read_bytes()).entries
    assert {e.tags[0].term for e in lora} == {"lora"}
    page = read(web, "list/type/lora/1.html")
    atom = [link["href"] for link in page.all("link") if link.get("type") == "application/atom+xml"]
    assert "../../../feeds/type/lora-new.xml" in atom and "../../../feeds/new.xml" in atom
    for href in atom:
        assert (web / urljoin("list/type/lora/1.html", href)).is_file()


def test_every_model_page_has_canonical_description_and_opengraph(web: Path) -> None:
    model_pages = [p for p in html_files(web) if "/models/" in f"/{p}"]
    assert len(model_pages) > 300
    for path in model_pages:
        page = read(web, path)
        canonical = [x["href"] for x in page.all("link") if x.get("rel") == "canonical"]
        assert canonical == [f"{BASE_URL}/{path}"], path
        metas = {(m.get("name") or m.get("property")): m.get("content") for m in page.all("meta")}
        assert metas.get("description"), path
        assert metas["og:title"] and metas["og:url"] == f"{BASE_URL}/{path}"
        assert metas["twitter:card"] in ("summary", "summary_large_image")
        if "og:image" in metas:
            assert metas["og:image"].startswith("https://"), path
    page = read(web, "models/civitai/4468.html")
    metas = {(m.get("name") or m.get("property")): m.get("content") for m in page.all("meta")}
    assert metas["og:image"].startswith("https://image.civitai.com/")
    assert "<" not in metas["description"] and len(metas["description"]) <= 300


def test_a_second_build_and_a_one_model_change_rewrite_little(web: Path, tmp_path: Path) -> None:
    db = tmp_path / "models.db"
    shutil.copy(web.parent / "models.db", db)
    out = tmp_path / "site"
    build(Settings(db=db, out=out, jobs=1, base_url=BASE_URL))
    again = build(Settings(db=db, out=out, jobs=1, base_url=BASE_URL))
    assert again.written == 0 and again.rendered == 0
    store = open_store(db)
    renamed = sdxl_lora()
    renamed["name"] = "Ink wash SDXL, renamed"
    save(store, "civitai", [renamed])
    store.close()
    feed_before = (out / "feeds/source/huggingface-new.xml").read_bytes()
    json_before = (out / "list/type/lora/index.json").read_bytes()
    changed = build(Settings(db=db, out=out, jobs=1, base_url=BASE_URL))
    assert changed.rendered == 1
    assert (out / "feeds/source/huggingface-new.xml").read_bytes() == feed_before
    assert (out / "list/type/lora/index.json").read_bytes() == json_before  # no name in rows
    assert changed.written < 40, changed.written


def test_cli_base_url_is_checked_in_one_line(catalog: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scraper.cli import main

    runner = CliRunner()
    out = tmp_path / "site"
    args = ["site", "build", "--db", str(catalog), "--out", str(out), "--jobs", "1"]
    bad = runner.invoke(main, [*args, "--base-url", "javascript:alert(1)"])
    assert bad.exit_code == 2 and "base_url must be the http(s) address" in bad.output
    assert not out.exists()
    good = runner.invoke(main, [*args, "--base-url", "https://example.org/m/"])
    assert good.exit_code == 0, good.output
    assert "Sitemap: https://example.org/m/sitemap.xml" in (out / "robots.txt").read_text()


def test_author_pages_list_an_authors_models_and_rows_link_them(web: Path) -> None:
    pages = {d[0] for d in index_models(web, "author", "rqdwdw")}
    assert "models/civitai/4468.html" in pages and len(pages) > 40  # and the search models
    row_links = [a.get("href") for a, _ in _links_with_text(web / "list/type/checkpoint/1.html")]
    assert "../../../list/author/rqdwdw/1.html" in row_links
    assert (web / "list/author.html").is_file() and (web / "en/list/author/rqdwdw/1.html").is_file()


def test_ratings_of_recorded_models() -> None:
    from scraper.site import nsfw
    from scraper.sources import civitai

    flagged = json.loads(
        (DATA / "fixtures/civitai/models-list-item-26124-2023-nsfw.json").read_bytes()
    )
    model = civitai.SOURCE.parse(flagged)
    assert nsfw.rating(model, nsfw.model_is_nsfw(model)) >= 1
    safe = civitai.SOURCE.parse(json.loads((CIVITAI_CARDS / "4468.json").read_bytes()))
    assert nsfw.rating(safe, nsfw.model_is_nsfw(safe)) == 0
    safe.nsfw_level = 1 | 8  # a PG image and an X one: listed under X, not as safe
    assert nsfw.rating(safe, nsfw.model_is_nsfw(safe)) == 2


def test_every_model_is_in_the_all_models_index_linked_from_home(web: Path) -> None:
    rows = json.loads((web / "list/all/all/index.json").read_bytes())["rows"]
    meta = json.loads((web / "search/meta.json").read_bytes())
    assert [r[0] for r in rows] == list(range(meta["count"]))  # every model, by downloads
    hrefs = [a.get("href") for a, _ in _links_with_text(web / "en/index.html")]
    assert "list/all/all/1.html" in hrefs and "list/all/all/1.html?sort=newest" in hrefs
    assert (web / "en/list/all/all/1.html").is_file()


def test_postings_are_stored_as_gaps_and_read_back() -> None:
    from array import array

    shard = json.loads(search._shard_json({"a": array("i", [3, 5, 9, 10]), "b": array("i", [7])}))
    assert shard == {"a": [3, 2, 4, 1], "b": [7]}
    assert search.postings(shard["a"]) == [3, 5, 9, 10]
