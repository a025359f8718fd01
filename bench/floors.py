"""Floors: the least code doing the same job as a scraper command, run by the benchmarks beside
it (same machine, same moment), so a ratio survives the 2-4x swings of absolute times here.

Usage: python bench/floors.py cards SRC OUT | ingest PAGES DB | hashes DB | bare
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

# The minimal card: the reference card's skeleton with its main fields, no rules, no labels.
CARD = """## {{ m.name }}
### 一、模型概述

- 标签：{% for t in m.tags %}`{{ t }}`{% if not loop.last %}, {% endif %}{% endfor %}

- 下载数：{{ m.stats.downloadCount }}
### 二、下载地址（共{{ m.modelVersions | length }}个版本）
{% for v in m.modelVersions %}
#### [版本{{ loop.revindex }}/共{{ loop.length }}个版本] {{ v.name }}
- 统计数据
  - 发布时间：{{ v.updatedAt }}
  - 原始模型：{{ v.baseModel }}
  - 下载数：{{ v.stats.downloadCount }}
- 下载地址
{% for f in v.files %}
  - [{{ f.name }}]({{ f.downloadUrl }})
{% endfor %}
- 样例图像：
| {% for i in v.images[:4] %}<img src="{{ i.url }}" /> | {% endfor %}

{% endfor %}
### 三、详情
{{ m.description }}"""


def cards(src: Path, out: Path) -> None:
    """orjson + a minimal Jinja2 card + a plain write, per saved model."""
    import jinja2
    import orjson

    template = jinja2.Environment(trim_blocks=True, lstrip_blocks=True).from_string(CARD)
    out.mkdir(parents=True, exist_ok=True)
    for path in src.glob("*.json"):
        model = orjson.loads(path.read_bytes())
        with open(out / f"{model['id']}.md", "wb") as handle:
            handle.write(template.render(m=model).encode())


def ingest(pages: Path, db: Path) -> None:
    """json + sqlite-utils insert_all of the same list pages' models."""
    import sqlite_utils

    database = sqlite_utils.Database(db)
    for path in sorted(pages.glob("*.json")):
        database["models"].insert_all(json.loads(path.read_bytes())["items"], pk="id", alter=True)


def hashes(db: Path) -> None:
    """Every stored model's content and counters hash: what deciding "nothing changed" reads."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.execute("SELECT source, id, content_hash, stats_hash FROM models").fetchall()


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    if job == "cards":
        cards(Path(args[0]), Path(args[1]))
    elif job == "ingest":
        ingest(Path(args[0]), Path(args[1]))
    elif job == "hashes":
        hashes(Path(args[0]))
    elif job != "bare":  # bare: the interpreter and nothing else
        raise SystemExit(__doc__)
