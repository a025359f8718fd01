"""A catalog for the site tests, written straight into a database through Store.save_models:
the recorded Civitai reference models (twice, so counters have two snapshots), the Hugging Face
and ModelScope fixtures, models named with Chinese and English words for search, a hostile
model and a deleted one."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from scraper import sources
from scraper.catalog import open_store
from scraper.demo.civitai import read_models
from scraper.site.build import Settings, build
from scraper.store import Counts, Store
from tests.support import CARDS, hf_repos, modelscope_models

ZH_WORDS = ("人像", "国风", "古风", "赛博朋克", "水墨山水", "汉服", "机甲", "猫娘")
EN_WORDS = ("portrait", "landscape", "cyberpunk", "watercolor", "armor", "DreamShaper")
# Near misses: the characters of a query word, but not the word itself.
DECOYS = ("人物像素", "国际风格", "山水之间的水墨", "Portraits", "land scape")
SEARCH_BASE = 4468  # a recorded model the search models are made from
DELETED = "5224"
HOSTILE_ID = 990001
BEACON_WORDS = ("beacon",)


def reference_payloads() -> list[dict]:
    return read_models(CARDS)


def search_payloads(n: int = 48) -> list[dict]:
    """Models whose names and tags mix the word lists (and decoys), from a recorded model."""
    base = next(m for m in reference_payloads() if m["id"] == SEARCH_BASE)
    models = []
    for i in range(n):
        model = copy.deepcopy(base)
        model["id"] = 900000 + i
        zh, en = ZH_WORDS[i % len(ZH_WORDS)], EN_WORDS[(i // 2) % len(EN_WORDS)]
        decoy = DECOYS[i % len(DECOYS)]
        if i % 3 == 0:
            model["name"] = f"{zh}{decoy} {en} v{i}"
            model["tags"] = ["style", ZH_WORDS[(i + 3) % len(ZH_WORDS)]]
        elif i % 3 == 1:
            model["name"] = f"{en.upper()} {decoy}·{i}"
            model["tags"] = [zh, "lora"]
        else:
            model["name"] = f"模型{i} {decoy}"
            model["tags"] = [f"{zh}风格", en.lower()]
        model["stats"] = dict(model["stats"], downloadCount=1000 + i * 7)
        for j, version in enumerate(model["modelVersions"]):
            version["id"] = 9_000_000 + i * 10 + j
        models.append(model)
    return models


def hostile_payload(beacon: str) -> dict:
    """Every scraped field carries a payload that would call `beacon` (or alert) if it ran."""

    def call(tag: str) -> str:
        return f"fetch('{beacon}?{tag}')"

    base = next(m for m in reference_payloads() if m["id"] == SEARCH_BASE)
    model = copy.deepcopy(base)
    model["id"] = HOSTILE_ID
    model["name"] = f'Hostile人像 <script>{call("name")}</script><img src=x onerror="{call("n")}">'
    model["type"] = f'"><script>{call("type")}</script>'
    model["tags"] = [
        f'<img src=x onerror="{call("tag")}">',
        f"javascript:{call('tag2')}",
        "人像",
        "hostile",
    ]
    model["creator"] = {"username": f'<svg onload="{call("creator")}">', "image": "javascript:x"}
    model["description"] = (
        "<h1>Big heading</h1><p>Hello <b>world</b></p>"
        f"<script>{call('script')}</script>"
        f'<img src="x" onerror="{call("onerror")}"><img src="https://example.invalid/a.png" '
        f'onload="{call("onload")}" style="background:url({beacon}?style)">'
        f'<svg onload="{call("svg")}"><circle r="1"/></svg>'
        f'<iframe srcdoc="<script>{call("srcdoc")}</script>"></iframe>'
        f'<details open ontoggle="{call("ontoggle")}"><summary>toggle</summary>x</details>'
        f'<a href="javascript:{call("jslink")}">click me</a> '
        f'<a href="java&#x09;script:{call("obf")}">click obfuscated</a> '
        f'<a href="JaVaScRiPt&colon;alert(1)">click colon</a> '
        f'<a href="data:text/html,&lt;script&gt;{call("data")}&lt;/script&gt;">click data</a> '
        f'<a href="vbscript:msgbox(1)">click vb</a>'
        f'<object data="javascript:{call("object")}"></object>'
        f'<embed src="javascript:{call("embed")}">'
        f'<form action="javascript:{call("form")}"><button>go</button></form>'
        f"<style>*{{background:url({beacon}?css)}}</style>"
        f'<body onload="{call("body")}"><marquee onstart="alert(1)">m</marquee>'
        '<a href="https://example.com/ok">a good link</a>'
    )
    version = model["modelVersions"][0]
    model["modelVersions"] = [version]
    version["id"] = 9_900_001
    version["name"] = f"<script>{call('vname')}</script>"
    version["baseModel"] = f'<img src=x onerror="{call("base")}">'
    version["trainedWords"] = [f"<script>{call('word')}</script>", "hostileword"]
    version["files"] = [
        {
            "name": f'<img src=x onerror="{call("file")}">.safetensors',
            "id": 1,
            "sizeKB": 1024.0,
            "type": "Model",
            "metadata": {"format": "SafeTensor"},
            "downloadUrl": f"javascript:{call('download')}",
        }
    ]
    version["images"] = [
        {
            "url": f'https://image.civitai.com/a/b/width=450/1.jpeg" onerror="{call("q")}',
            "nsfw": "None",
        },
        {"url": f"javascript:{call('imgjs')}", "nsfw": "None"},
        {"url": f'" onerror="{call("imgq")}', "nsfw": "None"},
    ]
    return model


def hf_records() -> list[dict]:
    infos, readmes = hf_repos(loras=8)
    return [
        {
            "info": info,
            "readme": readmes.get(info["id"]),
            "readme_status": 200 if info["id"] in readmes else 404,
            "endpoint": "https://huggingface.co",
        }
        for info in infos
    ]


def ms_records() -> list[dict]:
    details, files = modelscope_models()
    return [
        {"detail": d, "files": files[key], "id": key, "endpoint": "https://modelscope.cn"}
        for key, d in details.items()
    ]


def make_catalog(db: Path, beacon: str = "http://127.0.0.1:9/beacon") -> Store:
    """Write the test catalog into `db`; returns the (open) store for further changes."""
    store = open_store(db)
    civitai_items = [*reference_payloads(), *search_payloads(), hostile_payload(beacon)]
    save(store, "civitai", civitai_items)
    save(store, "civitai", [bumped(m, 1.1) for m in civitai_items])  # a second snapshot
    save(store, "huggingface", hf_records())
    save(store, "modelscope", ms_records())
    store.mark_deleted("civitai", DELETED)
    return store


def save(store: Store, source: str, payloads: list[dict]) -> None:
    parse = sources.get(source).parse
    for start in range(0, len(payloads), 100):
        store.save_models([parse(p) for p in payloads[start : start + 100]], Counts())


def bumped(payload: dict, factor: float) -> dict:
    """The same Civitai model with more downloads: a counters refresh, a new stats row."""
    model = copy.deepcopy(payload)
    stats = model.setdefault("stats", {})
    stats["downloadCount"] = int((stats.get("downloadCount") or 0) * factor) + 1
    return model


_SHARED: dict[str, Path] = {}


def shared_catalog(factory: pytest.TempPathFactory) -> Path:
    """The test catalog's database, made once per session (tests copy it to change it)."""
    if "catalog" not in _SHARED:
        db = factory.mktemp("catalog") / "models.db"
        make_catalog(db).close()
        _SHARED["catalog"] = db
    return _SHARED["catalog"]


def shared_site(factory: pytest.TempPathFactory) -> Path:
    """The site built from it once per session, its search index over many shards."""
    if "site" not in _SHARED:
        out = factory.mktemp("site") / "site"
        report = build(Settings(db=shared_catalog(factory), out=out, jobs=1, postings_per_shard=50))
        assert not report.failed, report.failed
        _SHARED["site"] = out
    return _SHARED["site"]
