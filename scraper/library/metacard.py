"""Cards of local files: the card of a model a host knows, headed by which local file it is;
or a card from the file's own header metadata when no host knows it. Every value is escaped
for its place (cards.escape): header metadata is as untrusted as any API answer."""

from __future__ import annotations

from typing import Any

from ..cards import escape
from ..cards.render import human_size

LABELS = {
    "en": {
        "local": "Local file", "version": "version", "file": "file", "size": "Size",
        "sha256": "SHA256", "unknown": "No host knows this file; this card is made from its "
        "own header metadata.", "plain": "No host knows this file and it carries no metadata.",
        "format": "Format", "name": "Name", "base_model": "Base model",
        "trained_on": "Trained on", "resolution": "Resolution", "network_module": "Network",
        "network_dim": "Network dim", "network_alpha": "Network alpha", "epochs": "Epochs",
        "steps": "Steps", "trigger": "Trigger words", "author": "Author", "license": "License",
        "date": "Date", "dtype": "Precision", "tensors": "Tensors", "size_label": "Size class",
        "file_type": "File type", "context_length": "Context length", "tags": "Training tags",
        "description": "Description", "deleted": "deleted upstream; the last data fetched",
        "colon": ": ",
    },
    "zh": {
        "local": "本地文件", "version": "版本", "file": "文件", "size": "大小",
        "sha256": "SHA256", "unknown": "没有网站认识这个文件；本卡片来自文件自带的元数据。",
        "plain": "没有网站认识这个文件，文件也没有元数据。", "format": "格式", "name": "名称",
        "base_model": "基础模型", "trained_on": "训练所用模型", "resolution": "分辨率",
        "network_module": "网络", "network_dim": "网络维度", "network_alpha": "网络 alpha",
        "epochs": "轮数", "steps": "步数", "trigger": "触发词", "author": "作者",
        "license": "许可", "date": "日期", "dtype": "精度", "tensors": "张量数",
        "size_label": "规模", "file_type": "文件类型", "context_length": "上下文长度",
        "tags": "训练标签", "description": "描述", "deleted": "已在网站删除；保留最后获取的数据",
        "colon": "：",
    },
}  # fmt: skip
SHOWN = (
    "name", "format", "base_model", "trained_on", "resolution", "network_module", "network_dim",
    "network_alpha", "epochs", "steps", "trigger", "author", "license", "date", "dtype",
    "tensors", "size_label", "file_type", "context_length",
)  # fmt: skip


def _label(lang: str, key: str) -> str:
    if lang == "bilingual":
        return f"{LABELS['en'][key]}  {LABELS['zh'][key]}"
    return LABELS[lang][key]


def _colon(lang: str) -> str:
    return LABELS["zh" if lang == "zh" else "en"]["colon"]


def local_header(
    lang: str,
    file_name: str,
    size: int,
    sha256: str,
    version: tuple[str, str] | None = None,
    remote_file: str | None = None,
    deleted: bool = False,
) -> str:
    """The quoted block a card of a local file starts with: which file, which version of the
    model and which of its files it is."""
    c = _colon(lang)
    parts = [
        f"> **{_label(lang, 'local')}**{c}{escape.code(file_name)} · {human_size(size / 1024)}"
    ]
    if version is not None:
        name, key = version
        line = f"> {_label(lang, 'version')}{c}**{escape.text(name)}** ({escape.code(key)})"
        if remote_file:
            line += f" · {_label(lang, 'file')}{c}{escape.code(remote_file)}"
        parts.append(line)
    parts.append(f"> {_label(lang, 'sha256')}{c}{escape.code(sha256)}")
    if deleted:
        parts.append(f"> ⚠ {_label(lang, 'deleted')}")
    return "  \n".join(parts) + "\n\n"


def metadata_card(
    lang: str, file_name: str, size: int, sha256: str, meta: dict[str, Any] | None
) -> str:
    """A card from header metadata (safetensors __metadata__, GGUF general.*)."""
    c = _colon(lang)
    title = (meta or {}).get("name") or file_name
    lines = [f"## {escape.text(title)}", ""]
    lines.append(local_header(lang, file_name, size, sha256).rstrip("\n"))
    lines.append("")
    lines.append(_label(lang, "unknown" if meta else "plain"))
    lines.append("")
    for key in SHOWN:
        value = (meta or {}).get(key)
        if value not in (None, ""):
            lines.append(f"- {_label(lang, key)}{c}{escape.text(value)}")
    tags = (meta or {}).get("tags") or []
    if tags:
        shown = ", ".join(f"{escape.code(t)} ({int(n)})" for t, n in tags)
        lines.append(f"- {_label(lang, 'tags')}{c}{shown}")
    description = (meta or {}).get("description")
    if description:
        lines += ["", f"### {_label(lang, 'description')}", "", escape.text(description)]
    return "\n".join(lines).rstrip("\n") + "\n"
