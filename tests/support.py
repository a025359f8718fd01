"""Test data and helpers shared by the test modules: the reference pairs, recorded Hub data
(package data, since the demo serves it too)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.civitai import FakeCivitai
from scraper.demo.hub import FakeHuggingFace, FakeModelScope
from scraper.demo.recorded import DATA as RECORDED
from scraper.demo.recorded import hf_fixture, hf_repos, modelscope_models
from scraper.demo.server import Answer, FakeServer
from scraper.store import codec

DATA = Path(__file__).parent / "data"
CARDS = DATA / "civitai-cards"
FIXTURES = DATA / "fixtures"

__all__ = ["RECORDED", "hf_fixture", "hf_repos", "modelscope_models"]


def sync_command(db: Path) -> list[str]:
    """`scraper sync civitai` as its own process, for tests that kill it."""
    return [sys.executable, "-m", "scraper.cli", "sync", "civitai", "--rps", "0", "--db", str(db)]


def default_sigint() -> None:
    """For Popen(preexec_fn=...): the child gets the default SIGINT disposition, whatever the
    shell gave pytest (a background job starts with SIGINT ignored, and children inherit it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def serve_in_thread(httpd: Any) -> Any:
    """Run an http.server in a daemon thread, polled every 10 ms: its shutdown() returns at
    once instead of waiting up to serve_forever's default 0.5 s poll."""
    import threading

    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    return httpd


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


def old_database(tmp_path: Path) -> Path:
    """A database written by the release before the schema was versioned (user_version 0)."""
    db = tmp_path / "old.db"
    with gzip.open(DATA / "db" / "release-2026-11-v0.db.gz") as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return db


def sync_inputs(db: Path, monkeypatch) -> list[str]:
    """Sync the models the old database was made from into db; each sync's summary line."""
    ids = ["61016", "40835", "4717", "26491", "2783", "102482", "33618", "8234"]
    models = [json.loads((CARDS / f"{i}.json").read_bytes()) for i in ids]
    infos, readmes = hf_repos(loras=2)
    details, files = modelscope_models()
    details = dict(list(details.items())[:2])
    with (
        FakeCivitai(models, page_size=3) as civitai,
        FakeHuggingFace(infos, readmes=readmes, gated={"meta-llama/Llama-3.1-8B-Instruct"}) as hf,
        FakeModelScope(details, files) as ms,
    ):
        monkeypatch.setenv("CIVITAI_API_BASE", civitai.base_url)
        monkeypatch.setenv("HF_ENDPOINT", hf.base_url)
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        summaries = []
        for args in (["civitai"], ["hf"], ["modelscope", *details]):
            result = CliRunner().invoke(main, ["sync", *args, "--rps", "0", "--db", str(db)])
            assert result.exit_code == 0, result.output
            summaries.append(result.output)
    return summaries


def connect(db: Path) -> sqlite3.Connection:
    """The database with sqlar_uncompress registered, so packed payloads read back through the
    models_json and version_images views."""
    conn = sqlite3.connect(db)
    codec.register(conn)
    return conn


def stored_raw(db: Path, where: str = "1", args: tuple = ()) -> list[str]:
    """The payload text of the models rows matching `where`, unpacked."""
    with connect(db) as conn:
        return [r[0] for r in conn.execute(f"SELECT raw FROM models_json WHERE {where}", args)]


def everything_stored(db: Path) -> bytes:
    """Every byte of the database's files and every packed payload unpacked: where a secret
    must never be found."""
    found = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    with connect(db) as conn:
        for query in ("SELECT raw FROM models_json", "SELECT images FROM version_images"):
            found += "".join(r[0] or "" for r in conn.execute(query)).encode()
    return found


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
    # formatting with no behaviour of its own
    *["div", "span", "kbd", "samp", "dl", "dt", "dd", "u", "s", "del", "ins", "sub", "sup"],
    *["small", "mark", "tfoot", "caption"],
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


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


class PlainServer(FakeServer):
    """A web server that is not the API: every path answers the same (a 404 page by default),
    as a wrong host, a proxy or a captive portal does."""

    def __init__(self, answer: Answer = (404, b"<html><body>Not Found</body></html>")) -> None:
        super().__init__()
        self.answer = answer

    def route(self, path: str, query: dict[str, list[str]]) -> Answer:
        status, body, *extra = self.answer
        headers = dict(extra[0]) if extra else {"Content-Type": "text/html"}
        return status, body, headers


def gzip_bomb(megabytes: int) -> Answer:
    """A small gzip body that inflates to `megabytes` MB of JSON-looking text."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    chunk = b" " * (1 << 20)
    parts = [packer.compress(b'{"items": [')]
    parts += [packer.compress(chunk) for _ in range(megabytes)]
    parts += [packer.compress(b"]}"), packer.flush()]
    return 200, b"".join(parts), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
