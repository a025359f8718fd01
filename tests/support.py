"""Test data and helpers shared by the test modules: the reference pairs, recorded Hub data."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
CARDS = DATA / "civitai-cards"
FIXTURES = DATA / "fixtures"


def sync_command(db: Path) -> list[str]:
    """`scraper sync civitai` as its own process, for tests that kill it."""
    return [sys.executable, "-m", "scraper.cli", "sync", "civitai", "--rps", "0", "--db", str(db)]


def reference_ids() -> list[str]:
    return sorted((p.stem for p in CARDS.glob("*.json")), key=int)


def expected_card(model_id: str) -> str:
    """The reference card, less its literal None: a null description renders as nothing."""
    text = (CARDS / f"{model_id}.md").read_bytes().decode("utf-8")
    raw = json.loads((CARDS / f"{model_id}.json").read_bytes())
    if raw["description"] is None:
        assert text.endswith("\n### 三、详情\nNone")
        text = text[: -len("None")]
    return text


READMES = DATA / "readmes"
BROKEN_YAML = "---\nlicense: [openrail\ntags: {lora\n---\n# Still a card\n\nThe body survives.\n"


def hf_fixture(name: str) -> dict:
    return json.loads((FIXTURES / "huggingface" / name).read_bytes())


def hf_repos(loras: int = 60) -> tuple[list[dict], dict[str, str]]:
    """Real model infos plus `loras` LoRA repos made from a real one, and their READMEs."""
    infos = [
        hf_fixture(n)
        for n in (
            "model-sdxl-turbo-blobs-2023-12.json",
            "model-ti-test-blobs-2024-02.json",
            "model-llama-3.1-8b-instruct-gated-2025-03.json",
            "model-sd-v1-4-2025-03.json",
            "model-sd-2-1-2025-01.json",
        )
    ]
    template = hf_fixture("model-ti-test-blobs-2024-02.json")
    real = sorted(READMES.glob("*lora*.md"))
    readmes: dict[str, str] = {}
    for i in range(loras):
        info = copy.deepcopy(template)
        info["_id"] = f"{0xABC000 + i:024x}"
        info["id"] = info["modelId"] = f"lora-maker/lora-{i:02d}"
        info["sha"] = f"{i + 1:040x}"
        info["tags"] = ["diffusers", "lora", "text-to-image", "license:openrail++"]
        info["siblings"] = [
            {"rfilename": "README.md", "size": 900},
            {
                "rfilename": "pytorch_lora_weights.safetensors",
                "size": 23_000_000,
                "lfs": {"sha256": f"{i:064x}", "size": 23_000_000, "pointerSize": 134},
            },
            {"rfilename": "pytorch_lora_weights_fp16.bin", "size": 11_500_000},
        ]
        infos.append(info)
        if i < len(real):
            readmes[info["id"]] = real[i].read_bytes().decode("utf-8")
        elif i == len(real):
            readmes[info["id"]] = BROKEN_YAML
    readmes["stabilityai/sdxl-turbo"] = "---\nlicense: other\n---\n# SDXL-Turbo\n"
    return infos, readmes


def modelscope_models() -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Legacy detail objects shaped as the official client reads them, with a real README
    and the recorded file-list entry."""
    recorded = json.loads((FIXTURES / "modelscope" / "repo-files-envelope.json").read_bytes())
    readme = (READMES / "modelscope-cartoon-readme.md").read_text(encoding="utf-8")
    details, files = {}, {}
    for i in range(12):
        name = "cv_cartoon_stable_diffusion_design" if i == 0 else f"sd_model_{i:02d}"
        model_id = f"damo/{name}"
        details[model_id] = {
            "Id": 1000 + i,
            "Name": name,
            "Path": "damo",
            "ChineseName": "卡通系列文生图模型-插画风" if i == 0 else f"模型{i}",
            "Description": "卡通风格文生图",
            "ReadMeContent": readme if i == 0 else f"# {name}\n",
            "License": "Apache License 2.0",
            "Tags": ["stable-diffusion"],
            "Tasks": [{"Name": "text-to-image-synthesis", "Description": "文生图"}],
            "Downloads": 1234 + i,
            "Stars": 56,
            "CreatedTime": 1667548386,
            "LastUpdatedTime": 1667548386 + i,
            "Visibility": 5,
            "CreatedBy": "damo",
            "Revision": "master",
        }
        files[model_id] = [
            *recorded["Data"]["Files"],
            {
                "Name": "model.safetensors",
                "Path": "unet/model.safetensors",
                "Size": 3_400_000_000,
                "Sha256": f"{i:064x}",
                "Type": "blob",
                "IsLFS": True,
            },
            {
                "Name": "pytorch_model.bin",
                "Path": "text_encoder/pytorch_model.bin",
                "Size": 492_000_000,
                "Type": "blob",
                "IsLFS": True,
            },
            {"Name": "unet", "Path": "unet", "Type": "tree"},
        ]
    return details, files


HOSTILE = DATA / "hostile"
# What a card may contain once rendered to HTML: Civitai's formatting, links and images.
SAFE_TAGS = {
    *[
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "code",
        "pre",
        "a",
        "img",
        "em",
        "strong",
        "b",
        "i",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ],
    *["blockquote", "br", "hr"],
}


def rendered(markdown: str) -> str:
    """The HTML a lax static site makes of a card: markdown-it with raw HTML on, GFM tables,
    and no link validation (so the card itself must be safe, not the renderer)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True
    return md.render(markdown)


def targets(markdown: str) -> list[str]:
    """Every href and src in the rendered card."""
    import re

    return re.findall(r'(?:href|src)="([^"]*)"', rendered(markdown))


def live_html(markdown: str, tags: set[str] | None = SAFE_TAGS) -> list[str]:
    """What would be live if `markdown` were published the way a static site does it
    (markdown-it with raw HTML on and, to be strict, no link validation): tags outside
    `tags` (None: any tag), event handlers, style, and URLs that are not http(s) (an empty
    one, a dropped target, is inert)."""
    from html.parser import HTMLParser

    problems: list[str] = []

    class Check(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tags is not None and tag not in tags:
                problems.append(f"tag <{tag}>")
            for name, value in attrs:
                if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                    problems.append(f"attribute {name} on <{tag}>")
                if (
                    name in ("href", "src")
                    and value
                    and not value.startswith(("http://", "https://"))
                ):
                    problems.append(f"{name}={value!r} on <{tag}>")

    Check().feed(rendered(markdown))
    return problems
