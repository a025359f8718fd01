"""Cards that read well as plain text and recommend the right files: pickle warnings only for
pickle formats, the guide's file the one it names or a single fp16 checkpoint."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace
from tests.support import RECORDED, hf_repos


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_pickle_warning_only_for_pickle_formats(monkeypatch) -> None:
    infos, readmes = hf_repos(loras=1)
    repo = next(i for i in infos if i["id"] == "lora-maker/lora-00")
    repo["siblings"] += [
        {"rfilename": "coreml/unet.mlmodelc/weights/weight.bin", "size": 1 << 20},
        {"rfilename": "openvino/openvino_model.bin", "size": 1 << 20},
        {"rfilename": "text_encoder/pytorch_model.bin", "size": 1 << 20},
    ]
    with FakeHuggingFace(infos, readmes=readmes) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        result = run("export", "hf", "lora-maker/lora-00", "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    lines = {line.split("](")[0].split("[")[-1]: line for line in result.output.splitlines()}
    assert "pickle" not in lines["coreml/unet.mlmodelc/weights/weight.bin"]
    assert "CoreML" in lines["coreml/unet.mlmodelc/weights/weight.bin"]
    assert "pickle" not in lines["openvino/openvino_model.bin"]
    assert "pickle" in lines["text_encoder/pytorch_model.bin"]


@pytest.mark.parametrize(
    ("fixture", "named", "expected"),
    [
        ("model-sdxl-turbo-blobs-2023-12.json", None, "sd_xl_turbo_1.0_fp16.safetensors"),
        ("model-sd-v1-4-2025-03.json", None, None),  # diffusers components only: no file
        ("model-sd-2-1-2025-01.json", None, "v2-1_768-ema-pruned.safetensors"),
        ("model-sd-2-1-2025-01.json", "v2-1_768-nonema-pruned.ckpt", "v2-1_768-nonema-pruned.ckpt"),
    ],
)
def test_the_guide_recommends_the_named_or_single_fp16_file(fixture, named, expected) -> None:
    from scraper.site.guide import recommended
    from scraper.sources.huggingface import parse_model

    info = json.loads((RECORDED / "huggingface" / fixture).read_bytes())
    model = parse_model(info)
    found = recommended(model.versions[0].files, named)
    assert (found.name if found else None) == expected


def _text(html: str) -> str:
    """The text a reader sees, whitespace aside (blocks join without a space in HTML)."""
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Collect()
    parser.feed(html)
    parser.close()
    return "".join("".join(parser.parts).split())


def test_details_markdown_round_trips_to_the_descriptions_text(tmp_path) -> None:
    """markdown -> HTML -> text equals the description's own text, for every reference
    description: nothing escaped shows, and nothing unescaped turns into markup."""
    from markdown_it import MarkdownIt

    from scraper.sanitize import clean_html
    from tests.support import CARDS

    out = tmp_path / "cards"
    result = run("card", str(CARDS), "--lang", "en", "--details", "markdown", "--out", str(out))
    assert result.exit_code == 0, result.output
    render = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render
    checked = 0
    for saved in sorted(CARDS.glob("*.json")):
        description = json.loads(saved.read_bytes()).get("description")
        if not description:
            continue
        card = (out / f"{saved.stem}.en.md").read_text(encoding="utf-8")
        details = card.split("\n### 3. Details\n", 1)[1]
        assert _text(render(details)) == _text(clean_html(description)), saved.stem
        checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        (
            "<p>k_euler_a, DPM++ 2M, ~40 steps, modelVersionId=42086, a - b</p>",
            "k_euler_a, DPM++ 2M, ~40 steps, modelVersionId=42086, a - b",
        ),
        (
            "<p>use <code>&lt;lora:name:0.8&gt;</code> and a &lt; b</p>",
            "use `<lora:name:0.8>` and a < b",
        ),
        ("<p>__init__ *x* [a](b) &amp;amp;</p>", "\\_\\_init\\_\\_ \\*x\\* \\[a\\](b) \\&amp;"),
        ("<p># no heading</p><p>1. no list</p>", "\\# no heading\n\n1\\. no list"),
        ("<p><code>&lt;script&gt;</code></p>", "`&lt;script>`"),
    ],
)
def test_details_markdown_escapes_only_what_would_change_the_rendering(html, markdown) -> None:
    from scraper.cards.markdown import html_to_markdown

    assert html_to_markdown(html) == markdown + "\n"
