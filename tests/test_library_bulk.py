"""`scraper scan` asks Civitai about 100 hashes a request (POST /model-versions/by-hash), and
one by one when a batch's request fails: the fake answers as CIVITAI.md section 4 says."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from scraper.demo.server import CHALLENGE_HTML
from tests import libfiles
from tests.test_library import asked, by_hash, hash_requests, run, summary

BULK = "/api/v1/model-versions/by-hash"


def folder(root: Path, count: int) -> list[str]:
    """`count` distinct safetensors files, m000 ... in name order, and their hashes."""
    return [libfiles.safetensors(root / f"m{i:03}.safetensors", seed=i) for i in range(count)]


def lookups(db: Path) -> list[tuple]:
    """What the database holds per hash, without the times it was asked."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT sha256, result, model_id, version_id, body FROM hash_lookups ORDER BY sha256"
        ).fetchall()


def model_requests(server) -> list[str]:
    return [r["path"] for r in server.requests if r["path"].startswith("/api/v1/models/")]


def test_250_files_cost_three_requests_and_each_hash_gets_its_answer(serve, tmp_path) -> None:
    root = tmp_path / "models"
    shas = folder(root, 250)
    known = [shas[3], shas[120], shas[249]]  # one in each batch
    server = serve(libfiles.known_models(known))
    result = run("scan", str(root), "--rps", "0", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "known 3, metadata only 0, unknown 247" in summary(result.output)
    assert hash_requests(server) == ["POST"] * 3  # no GET by-hash at all
    posts = [r["body"] for r in server.requests if r["method"] == "POST"]
    assert [len(p) for p in posts] == [100, 100, 50] and sorted(asked(server)) == sorted(shas)
    assert sorted(model_requests(server)) == [f"/api/v1/models/{i}" for i in (1402, 1580, 4468)]

    rows = {sha: rest for sha, *rest in lookups(tmp_path / "models.db")}
    assert len(rows) == 250
    for sha, model_id in zip(known, ("1580", "4468", "1402"), strict=True):
        result_, stored_model, _, body = rows[sha]
        assert (result_, stored_model) == ("found", model_id)
        info = json.loads((root / f"m{shas.index(sha):03}.civitai.info").read_text("utf-8"))
        assert by_hash(server, sha) == (200, info) and json.loads(body) == info
    assert sum(r[0] == "unknown" and r[1] is None for r in rows.values()) == 247
    assert len(list(root.glob("*.civitai.info"))) == 3
    assert "version: **" in (root / "m120.md").read_text(encoding="utf-8")

    server.requests.clear()
    again = run("scan", str(root), "--rps", "0", "--lang", "en")
    assert again.exit_code == 0 and server.requests == []  # nothing due: nothing asked


# What a host without a working bulk lookup may answer the POST: Civitai's 400 for a body it
# refuses (CIVITAI.md section 9), an older deployment's 404 page (no such route), a Cloudflare
# challenge under a 200 (section 9, "Non-JSON bodies seen in practice"), and a JSON answer
# that is not the documented array.
REFUSALS = {
    "400": (400, {"error": "Expected an array of up to 100 hashes"}),
    "404-page": (404, b"<html><body>404: This page could not be found.</body></html>",
                 {"Content-Type": "text/html; charset=utf-8"}),
    "challenge": (200, CHALLENGE_HTML, {"Content-Type": "text/html; charset=UTF-8"}),
    "object": (200, {"items": []}),
}  # fmt: skip


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_refused_batch_is_asked_one_by_one_to_the_same_end(
    serve, tmp_path, monkeypatch, refusal
) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    shas = folder(tmp_path / "bulk", 30)
    assert folder(tmp_path / "single", 30) == shas
    known = [shas[0], shas[29]]
    models = libfiles.known_models(known)

    serve(models)
    assert run("scan", str(tmp_path / "bulk"), "--rps", "0").exit_code == 0
    monkeypatch.setenv("SCRAPER_DB", str(tmp_path / "single.db"))
    server = serve(models)
    server.answers[BULK] = REFUSALS[refusal]
    result = run("scan", str(tmp_path / "single"), "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "known 2, metadata only 0, unknown 28" in summary(result.output)
    posts = 2 if refusal == "challenge" else 1  # a challenge page is retried first
    assert hash_requests(server) == ["POST"] * posts + ["GET"] * 30
    assert sorted(asked(server)) == sorted(shas * (posts + 1))
    assert lookups(tmp_path / "single.db") == lookups(tmp_path / "models.db")
    for name in ("m000", "m029"):
        assert (tmp_path / "single" / f"{name}.civitai.info").read_bytes() == (
            tmp_path / "bulk" / f"{name}.civitai.info"
        ).read_bytes()


def test_the_fake_answers_the_bulk_lookup_as_civitai_does(serve, tmp_path) -> None:
    """An array of full SHA256s in (any case), the single lookup's version objects out, the
    unmatched dropped; more than 100 hashes or a body that is not an array: 400."""
    shas = folder(tmp_path, 2)
    server = serve(libfiles.known_models(shas))
    url = server.base_url + "/model-versions/by-hash"
    answer = httpx.post(url, json=[shas[1].lower(), "0" * 64, shas[0][:10], shas[0]])
    assert answer.status_code == 200
    assert answer.json() == [by_hash(server, shas[1])[1], by_hash(server, shas[0])[1]]
    assert httpx.post(url, json=["0" * 64]).json() == []
    assert httpx.post(url, json=["0" * 64] * 101).status_code == 400
    assert httpx.post(url, json={"hashes": shas}).status_code == 400
    assert httpx.post(url, content=b"not json").status_code == 400
    assert by_hash(server, shas[0])[0] == 200  # the single lookup stays


def test_a_host_that_goes_down_mid_scan_pauses_it_and_the_next_scan_asks_the_rest(
    serve, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    root = tmp_path / "models"
    shas = folder(root, 250)
    known = [shas[3], shas[120], shas[249]]
    models = libfiles.known_models(known)
    server = serve(models)
    posts = 0

    def down_after_the_first(request: dict) -> tuple | None:
        nonlocal posts
        posts += 1
        if posts == 1:
            return None  # answered as usual
        server.faults.rate, server.faults.kinds = 1.0, ("503",)  # everything fails from now
        return 503, b"", {"Content-Type": "text/html"}

    server.answers[BULK] = down_after_the_first
    result = run("scan", str(root), "--rps", "0")
    assert result.exit_code == 1, result.output
    assert "failed 5 times in a row; paused" in result.output
    # The second batch's POST and four of its hashes one by one fail: the breaker opens, the
    # fifth is refused unsent, and 95 + the third batch's 50 are left for the next scan.
    assert "145 more hashes not asked: the host is paused" in result.output
    assert hash_requests(server) == ["POST", "POST"] + ["GET"] * 4
    rows = {sha: rest for sha, *rest in lookups(tmp_path / "models.db")}
    assert len(rows) == 100 and tuple(rows[shas[3]][:2]) == ("found", "1580")
    assert (root / "m003.civitai.info").exists() and not (root / "m120.civitai.info").exists()

    server = serve(models)
    again = run("scan", str(root), "--rps", "0")
    assert again.exit_code == 0, again.output
    assert "known 3, metadata only 0, unknown 247" in summary(again.output)
    assert hash_requests(server) == ["POST", "POST"]
    assert sorted(asked(server)) == sorted(shas[100:])  # only what was not asked before
    assert (root / "m120.civitai.info").exists() and (root / "m249.civitai.info").exists()


def test_one_version_answering_two_hashes_serves_both(serve, tmp_path) -> None:
    """A version whose two files are both here: one object in the answer, matched to each
    hash by its files' SHA256, and its model fetched once."""
    root = tmp_path / "models"
    first, second = folder(root, 2)
    models = libfiles.known_models([first])
    files = models[0]["modelVersions"][0]["files"]
    extra = dict(files[0], name="romcom_fp16.safetensors", primary=False, id=999_001)
    files.append(dict(extra, hashes={"SHA256": second}))
    server = serve(models)
    answer = httpx.post(server.base_url + "/model-versions/by-hash", json=[first, second])
    assert len(answer.json()) == 1
    server.requests.clear()
    result = run("scan", str(root), "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "known 2, metadata only 0, unknown 0" in summary(result.output)
    assert hash_requests(server) == ["POST"] and model_requests(server) == ["/api/v1/models/1580"]
    assert (root / "m000.civitai.info").read_bytes() == (root / "m001.civitai.info").read_bytes()


def test_models_that_fail_to_come_leave_their_hashes_found_and_the_next_scan_fetches_them(
    serve, tmp_path, monkeypatch
) -> None:
    """One batch answers eight hashes; their models' pages fail until the breaker opens:
    every hash keeps its answer, nothing more is asked of the paused host, and the next
    scan fetches the eight models without asking about a hash again."""
    monkeypatch.setenv("SCRAPER_RETRIES", "1")
    root = tmp_path / "models"
    shas = folder(root, 8)
    ids = ("1580", "4468", "1402", "1079", "1194", "1461", "10591", "10761")
    models = libfiles.known_models(shas, ids)
    server = serve(models)
    for model_id in ids:
        server.answers[f"/api/v1/models/{model_id}"] = (503, b"", {"Content-Type": "text/html"})
    result = run("scan", str(root), "--rps", "0")
    assert result.exit_code == 1, result.output
    assert hash_requests(server) == ["POST"] and len(model_requests(server)) == 5
    failed = [line for line in result.output.splitlines() if "not fetched" in line]
    assert len(failed) == 6 and "paused" in failed[-1]  # five failures, then the breaker
    rows = lookups(tmp_path / "models.db")
    assert sorted((sha, r, m) for sha, r, m, *_ in rows) == sorted(
        (sha, "found", m) for sha, m in zip(shas, ids, strict=True)
    )

    server = serve(models)
    again = run("scan", str(root), "--rps", "0")
    assert again.exit_code == 0, again.output
    assert hash_requests(server) == [] and len(model_requests(server)) == 8
    assert "known 8" in summary(again.output)
