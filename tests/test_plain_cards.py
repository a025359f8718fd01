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
        result = run("export", "hf", "lora-maker/lora-00", "--lang", "en")
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
