"""Real-shaped model files for the `scraper scan` tests: safetensors files with a valid header
(8-byte little-endian length, JSON, tensor bytes), GGUF files with a metadata section, and
reference Civitai models that know their hashes."""

from __future__ import annotations

import copy
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

from tests.support import CARDS


def safetensors(path: Path, metadata: dict[str, str] | None = None, seed: int = 0) -> str:
    """A small safetensors file (two F16 tensors) and its SHA-256, upper-case."""
    header: dict[str, Any] = {
        "lora_unet_down.lora_down.weight": {
            "dtype": "F16",
            "shape": [2, 2],
            "data_offsets": [0, 8],
        },
        "lora_unet_down.alpha": {"dtype": "F16", "shape": [], "data_offsets": [8, 10]},
    }
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header with spaces
    data = struct.pack("<Q", len(text)) + text + seed.to_bytes(8, "little") + b"\x00\x3c"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest().upper()


def _gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf(path: Path, name: str, architecture: str = "llama") -> str:
    """A GGUF v3 file: a few general.* keys, a token array to step over, no tensors."""
    kvs = [
        _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string(architecture),
        _gguf_string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, 3)
        + b"".join(_gguf_string(t) for t in ("a", "b", "c")),
        _gguf_string("general.name") + struct.pack("<I", 8) + _gguf_string(name),
        _gguf_string(f"{architecture}.context_length") + struct.pack("<II", 4, 4096),
    ]
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs) + b"\x00" * 32
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest().upper()


def known_models(hashes: list[str], ids: tuple[str, ...] = ("1580", "4468", "1402")) -> list:
    """Reference models whose first version's primary file has each of `hashes` (in order)."""
    models = []
    for model_id, sha in zip(ids, hashes, strict=False):
        model = copy.deepcopy(json.loads((CARDS / f"{model_id}.json").read_bytes()))
        files = model["modelVersions"][0]["files"]
        primary = next(f for f in files if f.get("primary"))
        primary["hashes"] = {"SHA256": sha, "AutoV2": sha[:10]}
        models.append(model)
    return models
