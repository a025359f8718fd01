"""The header of a safetensors file, read without the tensors: 8 bytes of little-endian length,
then that much JSON (tensor names, dtypes, shapes and `__metadata__`, all strings).

A length past the format's own limit (MAX_HEADER_SIZE = 100_000_000 in the safetensors repo,
safetensors/src/tensor.rs) or past the end of the file is refused before anything is read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

MAX_HEADER = 100_000_000
TAGS_KEPT = 50
TEXT_MAX = 2000  # a value kept from a header: names and descriptions, not whole datasets

# __metadata__ keys worth a card, as kohya-ss sd-scripts (ss_*) and the Stability AI model
# spec (modelspec.*) write them: (card field, keys in order of preference).
FIELDS = (
    ("name", ("ss_output_name", "modelspec.title")),
    ("base_model", ("ss_base_model_version", "modelspec.architecture")),
    ("trained_on", ("ss_sd_model_name",)),
    ("resolution", ("ss_resolution", "modelspec.resolution")),
    ("network_module", ("ss_network_module",)),
    ("network_dim", ("ss_network_dim",)),
    ("network_alpha", ("ss_network_alpha",)),
    ("epochs", ("ss_num_epochs", "ss_epoch")),
    ("steps", ("ss_max_train_steps", "ss_steps")),
    ("trigger", ("modelspec.trigger_phrase",)),
    ("author", ("modelspec.author",)),
    ("license", ("modelspec.license",)),
    ("date", ("modelspec.date", "ss_training_finished_at")),
    ("description", ("modelspec.description",)),
)


class HeaderError(ValueError):
    """Not a readable safetensors header (truncated, absurd length, not JSON)."""


def read_header(path: bytes) -> dict[str, Any]:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(8)
        if len(head) < 8:
            raise HeaderError(f"truncated safetensors header ({size} bytes in all)")
        length = int.from_bytes(head, "little")
        if length > MAX_HEADER:
            raise HeaderError(
                f"safetensors header claims {length:,} bytes (over the format's 100 MB "
                "limit): damaged or not a safetensors file"
            )
        if length + 8 > size:
            raise HeaderError(
                f"truncated safetensors file: its header claims {length:,} bytes, "
                f"the file has {size - 8:,} after the length"
            )
        data = handle.read(length)
    try:
        header = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise HeaderError(f"safetensors header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise HeaderError("safetensors header is not a JSON object")
    return header


def summary(header: dict[str, Any]) -> dict[str, Any]:
    """What a card shows of a header: the FIELDS found, training tags with their counts (most
    frequent first), tensor count and the most common dtype."""
    meta = header.get("__metadata__")
    meta = meta if isinstance(meta, dict) else {}
    found: dict[str, Any] = {"format": "safetensors"}
    for field, keys in FIELDS:
        for key in keys:
            value = meta.get(key)
            if value not in (None, "", "None"):
                found[field] = str(value)[:TEXT_MAX]
                break
    tags = training_tags(meta.get("ss_tag_frequency"))
    if tags:
        found["tags"] = tags
    dtypes = Counter(
        str(t.get("dtype"))
        for name, t in header.items()
        if name != "__metadata__" and isinstance(t, dict)
    )
    found["described"] = len(found) > 1  # any metadata beyond the format
    found["tensors"] = sum(dtypes.values())
    if dtypes:
        found["dtype"] = dtypes.most_common(1)[0][0][:20]
    return found


def training_tags(value: Any) -> list[tuple[str, int]]:
    """ss_tag_frequency ({"folder": {"tag": count}}, as a JSON string) summed over folders."""
    try:
        folders = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    counts: Counter[str] = Counter()
    if isinstance(folders, dict):
        for tags in folders.values():
            if isinstance(tags, dict):
                for tag, count in tags.items():
                    if isinstance(count, int) and not isinstance(count, bool):
                        counts[str(tag).strip()[:200]] += count
    return [(t, n) for t, n in counts.most_common(TAGS_KEPT) if t]
