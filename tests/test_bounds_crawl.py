"""Issue 17, item 1: every crawl ends, whatever the server says about the next page."""

from __future__ import annotations

import sqlite3
import time

from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace, FakeModelScope
from scraper.demo.server import Faults
from tests.support import hf_repos

MODELS = [
    {
        "id": i,
        "name": f"m{i}",
        "modelVersions": [{"id": 100 + i, "publishedAt": f"2026-01-0{i}T00:00:00.000Z"}],
    }
    for i in range(1, 8)
]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def statuses(db) -> list[tuple[str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status FROM runs").fetchall()


def test_a_civitai_cursor_repeated_ends_the_crawl_even_incremental_and_limited(
    serve, tmp_path
) -> None:
    server = serve(MODELS, page_size=2, faults=Faults(repeat_cursor=True))
    started = time.monotonic()
    result = run("sync", "civitai", "--incremental", "--limit", "5", "--rps", "0")
    assert result.exit_code == 1, result.output
    # sort=Newest: the cursor is the date of the item after the first page (CIVITAI.md)
    assert "the server repeated cursor '2026-01-05T00:00:00.000Z'; stopping" in result.output
    listings = [r for r in server.requests if r["path"] == "/api/v1/models"]
    assert len(listings) == 2  # the first page, then the cursor once: named again, refused
    assert time.monotonic() - started < 10
    assert statuses(tmp_path / "models.db") == [("failed",)]


def test_limit_counts_pages_when_the_pages_are_empty(serve) -> None:
    """Civitai may answer empty pages with a cursor (#1848): --limit 3 asks 3 pages at most."""
    server = serve(MODELS, page_size=1)
    server.answers["/api/v1/models"] = lambda request: (
        200,
        {"items": [], "metadata": {"nextCursor": str(len(server.requests))}},
    )
    result = run("sync", "civitai", "--limit", "3", "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "from 3 pages" in result.output
    assert len(server.requests) == 3


def test_a_hub_next_link_to_the_same_page_ends_the_crawl(monkeypatch, tmp_path) -> None:
    infos, readmes = hf_repos(loras=6)
    with FakeHuggingFace(
        infos, readmes=readmes, page_size=2, faults=Faults(repeat_cursor=True)
    ) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        result = run("sync", "hf", "--filter", "lora", "--rps", "0")
    assert result.exit_code == 1, result.output
    assert "the server repeated next link" in result.output
    assert "&cursor=2'; stopping" in result.output
    listings = [r for r in hub.requests if r["path"] == "/api/models"]
    assert len(listings) == 2
    assert statuses(tmp_path / "models.db") == [("failed",)]


def test_a_page_answered_again_ends_the_crawl(serve) -> None:
    """A server ignoring the cursor: each page the same items, each with a new cursor."""
    server = serve(MODELS, page_size=2)
    server.answers["/api/v1/models"] = lambda request: (
        200,
        {"items": MODELS[:2], "metadata": {"nextCursor": f"{len(server.requests)}|9"}},
    )
    result = run("sync", "civitai", "--rps", "0")
    assert result.exit_code == 1, result.output
    assert "the same 2 items again and claims more; stopping" in result.output
    assert len(server.requests) == 2


def test_modelscope_stops_at_its_depth_cap_whatever_page_size_says(monkeypatch) -> None:
    """The answers state page_size 0 and a huge total (so `page_number * page_size` never
    reaches 3000): still no page past the 3000-result cap (MODELSCOPE.md "Depth limit").
    The items come without ids, so that reading them costs no detail request."""

    def listing(request: dict) -> tuple:
        number = int(request["query"]["page_number"][0])
        models = [{"display_name": f"m{number}-{k}"} for k in range(50)]
        data = {"models": models, "total_count": 10**6, "page_number": number, "page_size": 0}
        return 200, {"success": True, "data": data, "message": "ok"}

    with FakeModelScope({}) as ms:
        ms.answers["/openapi/v1/models"] = listing
        monkeypatch.setenv("MODELSCOPE_DOMAIN", ms.base_url)
        result = run("sync", "modelscope", "--owner", "o", "--rps", "0")
    assert result.exit_code == 1  # each item without an id is quarantined
    assert "failed 3000) from 60 pages" in result.output
    assert len(ms.requests) == 60
