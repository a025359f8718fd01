"""Model-card READMEs (Hugging Face, ModelScope): YAML front matter and the images in the body."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# The Hub server's own front-matter pattern (huggingface_hub repocard.py).
FRONT_MATTER = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
# Bounded scans: a README of thousands of unclosed "<img " or "![" must cost linear time (an
# unbounded [^>]*? took 84 s on 30,000 of them); real image tags are far shorter.
_MD_IMAGE = re.compile(
    r"!\[[^\]\n]{0,500}\]\(\s*<?([^)\s>]{1,2000})>?(?:\s+\"[^\"]{0,500}\")?\s*\)"
)
_HTML_IMAGE = re.compile(r"<img\b([^<>]{0,2000})>", re.IGNORECASE)  # stops at the next <
_SRC = re.compile(r"\bsrc\s*=\s*[\"']([^\"'<>]{1,2000})[\"']", re.IGNORECASE)


def split(text: str) -> tuple[dict[str, Any], str, str | None]:
    """(metadata, body, error): a header that is missing, not a mapping or broken YAML gives
    empty metadata (and says why) without losing the body."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, None
    import yaml  # only cards with front matter need it

    body = text[match.end() :]
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as exc:
        return {}, body, f"front matter is not valid YAML: {str(exc).splitlines()[0]}"
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return {}, body, "front matter is not a mapping"
    return data, body, None


def images(body: str, widget: Any, resolve: Callable[[str, bool], str]) -> list[str]:
    """Image URLs of a card: widget outputs first (the Hub's gallery), then the body's images;
    a repo-relative path goes through `resolve` (the hub's file URL), anything not http(s) is
    dropped."""
    found: list[str] = []
    for item in widget if isinstance(widget, list) else []:
        output = item.get("output") if isinstance(item, dict) else None
        if isinstance(output, dict) and isinstance(output.get("url"), str):
            found.append(output["url"])
    found += _MD_IMAGE.findall(body)
    found += [m.group(1) for tag in _HTML_IMAGE.findall(body) if (m := _SRC.search(tag))]
    urls: list[str] = []
    for url in found:
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            if ":" in url.split("/", 1)[0] or url.startswith("//"):
                continue  # data:, javascript:, protocol-relative: never
            url = resolve(url, True)
        if url not in urls:
            urls.append(url)
    return urls


def text_list(value: Any) -> list[str]:
    """A YAML field that may be a string or a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def weight_format(name: str) -> str | None:
    """What a file is, by its extension: pickle formats can run code when loaded. A `.bin`
    is a pickle (PyTorch's) unless it is a CoreML bundle's weights (`*.mlmodelc/`,
    `*.mlpackage/`) or OpenVINO's (`openvino_model.bin`), raw arrays that run nothing."""
    lower = name.lower()
    if lower.endswith(".bin"):
        if ".mlmodelc/" in lower or ".mlpackage/" in lower:
            return "CoreML"
        if lower.rsplit("/", 1)[-1].startswith("openvino"):
            return "OpenVINO"
    for suffixes, kind in (
        ((".safetensors",), "SafeTensor"),
        ((".ckpt", ".pt", ".pth", ".bin", ".pkl"), "PickleTensor"),
        ((".gguf",), "GGUF"),
        ((".onnx",), "ONNX"),
    ):
        if lower.endswith(suffixes):
            return kind
    return None


def precision(name: str) -> str | None:
    lower = name.lower()
    for value in ("fp16", "bf16", "fp32", "fp8", "int8", "int4"):
        if value in lower:
            return value
    return None


def size_type(name: str) -> str | None:
    lower = name.lower()
    if "pruned" in lower:
        return "pruned"
    return "full" if "full" in lower else None
