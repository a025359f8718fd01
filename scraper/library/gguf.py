"""The metadata of a GGUF file (llama.cpp's format), where cheap: the key-value section at its
start, scalars kept, arrays stepped over; the tensors are never read.

Layout (ggml-org/ggml docs/gguf.md): magic "GGUF", version u32, tensor count u64, key-value
count u64, then each key (u64 length + UTF-8) with a u32 value type and its value.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

MAX_READ = 64 << 20  # stop reading metadata past this many bytes (a vocabulary can be large)
MAX_STRING = 1 << 20
KEPT = (
    "general.name", "general.architecture", "general.basename", "general.size_label",
    "general.author", "general.license", "general.description", "general.file_type",
    "general.quantization_version",
)  # fmt: skip
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}  # fmt: skip
STRING, ARRAY = 8, 9


class GGUFError(ValueError):
    """Not a readable GGUF header."""


class _Reader:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.read_bytes = 0

    def take(self, count: int) -> bytes:
        self.read_bytes += count
        if self.read_bytes > MAX_READ:
            raise _Enough
        data = self.handle.read(count)
        if len(data) < count:
            raise GGUFError("truncated GGUF header")
        return data

    def scalar(self, kind: int) -> Any:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.scalar(10)
        if length > MAX_STRING:
            self.skip(length)
            return ""
        return self.take(length).decode("utf-8", "replace")

    def skip(self, count: int) -> None:
        self.read_bytes += count
        if self.read_bytes > MAX_READ:
            raise _Enough
        self.handle.seek(count, 1)

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(kind)
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            inner, count = self.scalar(4), self.scalar(10)
            if inner in _SCALARS:
                self.skip(struct.calcsize(_SCALARS[inner]) * count)
            else:
                for _ in range(count):
                    self.value(inner)
            return None
        raise GGUFError(f"unknown GGUF value type {kind}")


class _Enough(Exception):
    """Read as far as is cheap."""


def read_metadata(path: bytes) -> dict[str, Any]:
    """The KEPT keys (and <architecture>.context_length) found in the header."""
    with open(path, "rb") as handle:
        reader = _Reader(handle)
        if reader.take(4) != b"GGUF":
            raise GGUFError("not a GGUF file (no GGUF magic)")
        version = reader.scalar(4)
        if version not in (2, 3):  # version 1 had 32-bit lengths; long gone
            raise GGUFError(f"GGUF version {version} is not known")
        tensors, count = reader.scalar(10), reader.scalar(10)
        found: dict[str, Any] = {"format": "gguf", "gguf_version": version, "tensors": tensors}
        try:
            for _ in range(count):
                key = reader.string()
                value = reader.value(reader.scalar(4))
                if value is not None and (key in KEPT or key.endswith(".context_length")):
                    found[key] = value if not isinstance(value, str) else value[:2000]
        except _Enough:
            pass
    return found


def summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The card's fields of GGUF metadata."""
    found: dict[str, Any] = {"format": "gguf", "tensors": meta.get("tensors")}
    pairs = (
        ("name", "general.name"), ("base_model", "general.architecture"),
        ("size_label", "general.size_label"), ("author", "general.author"),
        ("license", "general.license"), ("description", "general.description"),
        ("file_type", "general.file_type"),
    )  # fmt: skip
    for field, key in pairs:
        if meta.get(key) not in (None, ""):
            found[field] = str(meta[key])
    found["described"] = len(found) > 2  # any metadata beyond the format and tensor count
    context = [v for k, v in meta.items() if k.endswith(".context_length")]
    if context:
        found["context_length"] = str(context[0])
    return found
