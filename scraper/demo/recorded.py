"""Recorded answers the demo and the tests serve: real Civitai models, Hugging Face model infos
and READMEs, and a ModelScope file list (their sources in data/*/SOURCES.md), grown into a
small catalog of each."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

from .civitai import read_models

DATA = Path(str(resources.files(__package__) / "data"))
BROKEN_YAML = "---\nlicense: [openrail\ntags: {lora\n---\n# Still a card\n\nThe body survives.\n"
HF_INFOS = (
    "model-sdxl-turbo-blobs-2023-12.json",
    "model-ti-test-blobs-2024-02.json",
    "model-llama-3.1-8b-instruct-gated-2025-03.json",
    "model-sd-v1-4-2025-03.json",
    "model-sd-2-1-2025-01.json",
)
GATED = "meta-llama/Llama-3.1-8B-Instruct"


def civitai_models() -> list[dict[str, Any]]:
    return read_models(DATA / "civitai")


def hf_fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / "huggingface" / name).read_bytes())


def hf_repos(loras: int = 60) -> tuple[list[dict], dict[str, str]]:
    """Real model infos plus `loras` LoRA repos made from a real one, and their READMEs."""
    infos = [hf_fixture(n) for n in HF_INFOS]
    template = hf_fixture("model-ti-test-blobs-2024-02.json")
    real = sorted((DATA / "readmes").glob("*lora*.md"))
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


def modelscope_models(count: int = 12) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Legacy detail objects shaped as the official client reads them, with a real README
    and the recorded file-list entry."""
    envelope = DATA / "modelscope" / "repo-files-envelope.json"
    recorded = json.loads(envelope.read_bytes())
    readme = (DATA / "readmes" / "modelscope-cartoon-readme.md").read_text(encoding="utf-8")
    details, files = {}, {}
    for i in range(count):
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
