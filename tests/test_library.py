"""`scraper scan`: a folder of real-shaped model files, hashes the Civitai fake knows, through
the CLI (in-process, or as its own process where a signal or another user is needed)."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.server import FakeServer, Faults
from tests import libfiles
from tests.support import default_sigint


def run(*args: str):
    return CliRunner().invoke(main, [*args])


def summary(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("scan: "))


def by_hash(server, sha: str) -> tuple[int, object]:
    answer = httpx.get(f"{server.base_url}/model-versions/by-hash/{sha}")
    return answer.status_code, answer.json()


def hash_requests(server) -> list[str]:
    """Each lookup request: "POST" for a batch, "GET" for one hash."""
    return [r["method"] for r in server.requests if "/by-hash" in r["path"]]


def asked(server) -> list[str]:
    """The hashes the server was asked about, in order, by either lookup."""
    hashes: list[str] = []
    for r in server.requests:
        if r["method"] == "POST" and r["path"].endswith("/by-hash"):
            hashes += r["body"]
        elif "/by-hash/" in r["path"]:
            hashes.append(r["path"].rsplit("/", 1)[1])
    return hashes


@pytest.fixture
def library(tmp_path: Path) -> dict:
    """Two known files in nested folders, one with training metadata no host knows, a GGUF,
    a plain unknown .ckpt, a non-UTF-8 name, a user's own NAME.md and bad input."""
    root = tmp_path / "models"
    known = [
        libfiles.safetensors(root / "Stable-diffusion" / "romcom.safetensors", seed=1),
        libfiles.safetensors(root / "Lora" / "deep" / "nested" / "counterfeit.safetensors", seed=2),
    ]
    trained = {
        "ss_output_name": "my_style",
        "ss_sd_model_name": "v1-5-pruned.safetensors",
        "ss_base_model_version": "sd_v1",
        "ss_network_dim": "32",
        "ss_network_alpha": "16",
        "ss_resolution": "(512, 512)",
        "ss_tag_frequency": json.dumps(
            {"10_mystyle": {"1girl": 40, "solo": 12}, "5_x": {"solo": 3}}
        ),
        "modelspec.trigger_phrase": "mystyle",
    }
    libfiles.safetensors(root / "Lora" / "my_style.safetensors", trained, seed=3)
    libfiles.gguf(root / "llm" / "tiny.gguf", "Tiny Llama")
    (root / "Lora" / "old.ckpt").write_bytes(b"PK\x03\x04 not really a zip" * 10)
    odd = os.fsencode(root / "Lora") + b"/\xff\xfeodd.pt"
    Path(os.fsdecode(odd)).write_bytes(b"weights" * 20)
    own = root / "Lora" / "deep" / "nested" / "counterfeit.md"
    own.write_text("my notes on this LoRA\n", encoding="utf-8")
    (root / "Lora" / "empty.safetensors").write_bytes(b"")
    (root / "Lora" / "cut.safetensors").write_bytes((5000).to_bytes(8, "little") + b'{"a":')
    (root / "Lora" / "huge.safetensors").write_bytes((100 << 30).to_bytes(8, "little") + b"{}")
    os.symlink("..", root / "Lora" / "deep" / "up")  # a loop
    os.symlink("self.safetensors", root / "Lora" / "self.safetensors")
    os.symlink("gone.safetensors", root / "Lora" / "dangling.safetensors")  # its file went
    return {"root": root, "known": known, "own": own, "odd": odd}


def test_scan_documents_every_file_and_a_second_scan_does_nothing(serve, library) -> None:
    root = library["root"]
    server = serve(libfiles.known_models(library["known"]))
    first = run("scan", str(root), "--rps", "0", "--lang", "en")
    assert first.exit_code == 0, first.output
    line = summary(first.output)
    assert "8 files (8 hashed" in line and "known 2, metadata only 2, unknown 4" in line, line
    for path in ("empty.safetensors", "cut.safetensors", "huge.safetensors", "self.safetensors"):
        assert f"Lora/{path}: " in first.output
    assert "empty file (0 bytes)" in first.output and "over the format's 100 MB" in first.output
    assert "truncated safetensors file" in first.output and "symlink loop" in first.output
    assert "Lora/deep/up: a folder already walked (a symlink loop" in first.output
    assert "Lora/dangling.safetensors: broken symlink (its target is gone)" in first.output

    for sha, path in zip(
        library["known"], ["Stable-diffusion/romcom", "Lora/deep/nested/counterfeit"], strict=True
    ):
        info = json.loads((root / f"{path}.civitai.info").read_text(encoding="utf-8"))
        assert by_hash(server, sha) == (200, info)
    card = (root / "Stable-diffusion" / "romcom.md").read_text(encoding="utf-8")
    assert card.startswith("> **Local file**: `romcom.safetensors`")
    assert "version: **1.0** (`1689`)" in card
    assert "file: `romcomDiffusion_10.safetensors`" in card and "## RomCom Diffusion" in card
    assert library["own"].read_text(encoding="utf-8") == "my notes on this LoRA\n"
    assert "counterfeit.md: not written by scraper" in first.output
    meta = (root / "Lora" / "my_style.md").read_text(encoding="utf-8")
    assert meta.startswith("## my\\_style") or meta.startswith("## my_style")
    assert "- Base model: sd\\_v1" in meta or "- Base model: sd_v1" in meta
    assert "`1girl` (40), `solo` (15)" in meta and "- Network dim: 32" in meta
    assert "Tiny Llama" in (root / "llm" / "tiny.md").read_text(encoding="utf-8")
    assert Path(os.fsdecode(library["odd"][:-3] + b".md")).exists()
    asked = len(server.requests)

    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    second = run("scan", str(root), "--rps", "0", "--lang", "en")
    assert second.exit_code == 0, second.output
    assert "8 files (0 hashed, 0.0 MB; 8 unchanged)" in summary(second.output)
    assert "files written 0" in summary(second.output)
    assert len(server.requests) == asked  # nothing asked
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == mtimes

    status = run("status", "--json")
    found = json.loads(status.output)["library"]
    assert (found["files"], found["known"], found["metadata_only"], found["unknown"]) == (
        8,
        2,
        2,
        4,
    )
    assert [r["status"] for r in found["runs"]] == ["ok", "ok"]


def _without_root_overrides() -> None:
    """In the child before exec: root loses the capabilities that let it read any file
    (CAP_DAC_OVERRIDE 1, CAP_DAC_READ_SEARCH 2: prctl PR_CAPBSET_DROP 24), so a file of mode
    000 is unreadable to it as to anyone."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_an_unreadable_file_is_one_line_and_the_rest_goes_on(tmp_path) -> None:
    """As its own process (as root, without the capabilities that read any file)."""
    models = tmp_path / "models"
    libfiles.safetensors(models / "fine.safetensors", {"ss_output_name": "fine"})
    libfiles.safetensors(models / "locked.safetensors", seed=9)
    os.chmod(models / "locked.safetensors", 0)
    env = {**os.environ, "SCRAPER_DB": str(tmp_path / "models.db")}
    env["CIVITAI_API_BASE"] = "http://127.0.0.1:9/api/v1"  # nothing to look up: no server
    command = [sys.executable, "-m", "scraper.cli", "scan", str(models), "--no-info", "--rps", "0"]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120,
        preexec_fn=_without_root_overrides if os.geteuid() == 0 else None,
    )  # fmt: skip
    assert "locked.safetensors: cannot read: Permission denied; skipped" in done.stderr
    assert (models / "fine.md").exists() and not (models / "locked.md").exists()
    assert "1 files (1 hashed" in done.stderr, done.stderr


def test_an_unknown_hash_is_asked_again_only_after_its_interval(serve, tmp_path) -> None:
    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "mine.safetensors", {"ss_output_name": "mine"})
    server = serve(libfiles.known_models([]))
    assert run("scan", str(root), "--rps", "0").exit_code == 0
    assert (hash_requests(server), asked(server)) == (["POST"], [sha])
    assert by_hash(server, "0" * 64) == (404, {"error": "Model not found"})
    server.requests.clear()
    assert run("scan", str(root), "--rps", "0").exit_code == 0
    assert hash_requests(server) == []
    assert run("scan", str(root), "--rps", "0", "--retry-after", "0s").exit_code == 0
    assert asked(server) == [sha]
    assert run("scan", str(root), "--rps", "0", "--recheck").exit_code == 0
    assert asked(server) == [sha, sha]


def test_a_model_deleted_upstream_keeps_its_last_good_data(serve, tmp_path) -> None:
    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "romcom.safetensors")
    serve(libfiles.known_models([sha]))
    assert run("scan", str(root), "--rps", "0").exit_code == 0
    info = (root / "romcom.civitai.info").read_bytes()
    serve([])  # the model is gone: by-hash and /models/{id} answer 404
    again = run("scan", str(root), "--rps", "0", "--recheck")
    assert again.exit_code == 0, again.output
    assert (root / "romcom.civitai.info").read_bytes() == info
    card = (root / "romcom.md").read_text(encoding="utf-8")
    assert "已在网站删除" in card and "## RomCom Diffusion" in card
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute("SELECT deleted_at IS NOT NULL FROM models").fetchall() == [(1,)]


def test_lookups_go_through_the_client_retries(serve, tmp_path) -> None:
    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "romcom.safetensors")
    server = serve(libfiles.known_models([sha]), faults=Faults(script=deque(["503", "html200"])))
    result = run("scan", str(root), "--rps", "0")
    assert result.exit_code == 0, result.output
    assert "known 1" in summary(result.output)
    assert hash_requests(server) == ["POST"] * 3  # two failures retried, then the answer


def test_a_host_that_keeps_failing_leaves_the_hashes_for_next_time(
    serve, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SCRAPER_RETRIES", "2")
    root = tmp_path / "models"
    shas = [libfiles.safetensors(root / f"m{i}.safetensors", seed=i) for i in range(8)]
    failing = serve(libfiles.known_models(shas), faults=Faults(rate=1.0, kinds=("500",)))
    result = run("scan", str(root), "--rps", "0")
    assert result.exit_code == 1
    assert "not looked up" in result.output and "the next scan asks again" in result.output
    assert "failed 5 times in a row; paused" in result.output  # the breaker: no more asked
    assert "3 more hashes not asked: the host is paused" in result.output
    # The batch's POST (two attempts) fails, then four hashes one by one (two attempts
    # each): five failures in a row open the breaker; the fifth hash and the rest wait.
    assert hash_requests(failing) == ["POST"] * 2 + ["GET"] * 4 * 2
    assert len(failing.requests) == 10
    assert not (root / "m0.civitai.info").exists()
    serve(libfiles.known_models(shas))
    again = run("scan", str(root), "--rps", "0")
    assert again.exit_code == 0 and "known 3" in summary(again.output), again.output


def test_out_folder_force_and_switches(serve, tmp_path) -> None:
    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "sub" / "romcom.safetensors")
    serve(libfiles.known_models([sha]))
    out = tmp_path / "docs"
    result = run("scan", str(root), "--rps", "0", "--out", str(out), "--no-info")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["romcom.safetensors"]
    assert (out / "models" / "sub" / "romcom.md").exists()
    assert not list(out.rglob("*.info"))

    (root / "sub" / "romcom.md").write_text("mine\n", encoding="utf-8")
    kept = run("scan", str(root), "--rps", "0", "--no-card")
    assert (root / "sub" / "romcom.md").read_text(encoding="utf-8") == "mine\n"
    assert (root / "sub" / "romcom.civitai.info").exists() and kept.exit_code == 0
    forced = run("scan", str(root), "--rps", "0", "--force", "--lang", "bilingual")
    assert forced.exit_code == 0
    assert "Local file  本地文件" in (root / "sub" / "romcom.md").read_text(encoding="utf-8")


def test_a_changed_file_is_hashed_again(serve, tmp_path) -> None:
    root = tmp_path / "models"
    libfiles.safetensors(root / "a.safetensors", {"ss_output_name": "first"})
    libfiles.safetensors(root / "b.safetensors", {"ss_output_name": "other"}, seed=5)
    serve([])
    assert run("scan", str(root), "--rps", "0").exit_code == 0
    libfiles.safetensors(root / "a.safetensors", {"ss_output_name": "second"})
    again = run("scan", str(root), "--rps", "0")
    assert "2 files (1 hashed" in summary(again.output), again.output
    assert "## second" in (root / "a.md").read_text(encoding="utf-8")
    (root / "b.safetensors").unlink()
    run("scan", str(root), "--rps", "0")
    status = json.loads(run("status", "--json").output)
    assert status["library"]["files"] == 1  # the file that went is forgotten


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_leaves_the_database_whole_and_the_next_scan_goes_on(serve, tmp_path, signum):
    root = tmp_path / "models"
    shas = [libfiles.safetensors(root / f"m{i:02}.safetensors", seed=i) for i in range(12)]
    server = serve(libfiles.known_models(shas[:3]), faults=Faults(latency=0.1))
    db = tmp_path / "models.db"
    command = [sys.executable, "-m", "scraper.cli", "scan", str(root), "--rps", "0"]
    env = {**os.environ, "SCRAPER_DB": str(db), "CIVITAI_API_BASE": server.base_url}
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=default_sigint,  # noqa: PLW1509 (only resets a signal disposition)
    )
    deadline = time.monotonic() + 60
    while len(server.requests) < 3:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
        assert conn.execute("SELECT count(*) FROM library_files").fetchone()[0] == 12
    server.faults.latency = 0
    again = run("scan", str(root), "--rps", "0")
    assert again.exit_code == 0, again.output
    assert "12 files (0 hashed" in summary(again.output) and "known 3" in summary(again.output)


def test_a_config_with_only_a_library_runs_scans_and_builds_the_site(serve, tmp_path) -> None:
    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "romcom.safetensors")
    libfiles.safetensors(root / "mine.safetensors", {"ss_output_name": "mine"}, seed=4)
    serve(libfiles.known_models([sha]))
    config = tmp_path / "scraper.toml"
    config.write_text(
        'db = "out/models.db"\nout = "out"\n[site]\nout = "out/site"\n'
        '[[library]]\npath = "models"\nlang = "en"\nrps = 0\ninfo = false\njobs = 1\n',
        encoding="utf-8",
    )
    result = run("run", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (root / "romcom.md").exists() and not (root / "romcom.civitai.info").exists()
    assert list((tmp_path / "out" / "civitai").glob("1580-*.md"))  # its catalog card too
    site = tmp_path / "out" / "site"
    for home, page in (("index.html", "library.html"), ("en/index.html", "en/library.html")):
        assert 'href="library.html"' in (site / home).read_text(encoding="utf-8")
        html = (site / page).read_text(encoding="utf-8")
        assert "models/romcom.safetensors" in html and "models/civitai/1580.html" in html
        assert "mine.safetensors" in html and "<td>mine</td>" in html
        assert 'href="library/known/1.html"' in html
    known = (site / "en" / "library" / "known" / "1.html").read_text(encoding="utf-8")
    assert 'href="../../models/civitai/1580.html"' in known and "mine.safetensors" not in known
    assert (site / "library" / "described" / "1.html").exists()
    assert not (site / "library" / "unknown").exists()  # an empty group has no page
    status = run("status", "--config", str(config))
    assert status.exit_code == 0, status.output
    assert "library: 2 files; known 1, metadata only 1, unknown 0" in status.output

    bad = tmp_path / "bad.toml"
    bad.write_text('[[library]]\npath = "models"\ncolour = "red"\n', encoding="utf-8")
    refused = run("run", "--config", str(bad))
    assert refused.exit_code == 2 and "bad.toml:3: unknown key 'colour'" in refused.output
    bad.write_text('[[library]]\npath = "models"\njobs = 0\n', encoding="utf-8")
    refused = run("run", "--config", str(bad))
    assert (
        refused.exit_code == 2 and "bad.toml:3: jobs must be a positive integer" in refused.output
    )


def test_the_fake_answers_by_hash_as_civitai_does(serve, tmp_path) -> None:
    """Upper-cased hash, any of the file's hashes, the version shape with modelId and model,
    and the real 404 bodies (CIVITAI.md section 4)."""
    sha = libfiles.safetensors(tmp_path / "a.safetensors")
    models = libfiles.known_models([sha])
    server = serve(models)
    status, body = by_hash(server, sha.lower())
    assert status == 200 and body["modelId"] == 1580 and body["model"]["name"] == "RomCom Diffusion"
    assert all(isinstance(f["primary"], bool) for f in body["files"])
    assert by_hash(server, sha[:10])[1] == body
    assert by_hash(server, "F" * 64) == (404, {"error": "Model not found"})
    del models[0]["modelVersions"][0]["files"][0]["primary"]
    server = serve(models)
    assert by_hash(server, sha) == (404, {"error": "Missing model file"})


def test_symlinked_folders_are_followed_once(serve, tmp_path) -> None:
    root = tmp_path / "models"
    libfiles.safetensors(tmp_path / "elsewhere" / "x.safetensors", {"ss_output_name": "x"})
    root.mkdir()
    os.symlink(tmp_path / "elsewhere", root / "linked")
    os.symlink(tmp_path / "elsewhere", root / "again")
    serve([])
    result = run("scan", str(root), "--rps", "0", "--no-card")
    assert "1 files (1 hashed" in summary(result.output), result.output
    assert stat.S_ISREG(os.stat(root / "again" / "x.safetensors").st_mode)


class ImageHost(FakeServer):
    """An image CDN: the bytes of each picture at its path, image/* content types."""

    def route(self, path: str, query: dict) -> tuple:
        return 404, b"Not Found", {"Content-Type": "text/plain"}


def picture(colour: tuple[int, int, int], kind: str = "JPEG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 800), colour).save(out, format=kind)
    return out.getvalue()


def test_a_preview_is_the_first_allowed_image_downloaded_once(serve, tmp_path, monkeypatch):
    from PIL import Image

    root = tmp_path / "models"
    sha = libfiles.safetensors(root / "romcom.safetensors")
    models = libfiles.known_models([sha])
    with ImageHost() as cdn:
        cdn.answers["/x.jpeg"] = (200, picture((0, 0, 255)), {"Content-Type": "image/jpeg"})
        cdn.answers["/ok.jpeg"] = (200, picture((255, 0, 0)), {"Content-Type": "image/jpeg"})
        models[0]["modelVersions"][0]["images"] = [
            {"url": f"{cdn.root}/x.jpeg", "nsfwLevel": 8, "width": 1200, "height": 800},
            {"url": f"{cdn.root}/ok.jpeg", "nsfwLevel": 1, "width": 1200, "height": 800},
        ]
        serve(models)
        # A scraped image URL on a private address (here loopback) is not fetched...
        private = run("scan", str(root), "--rps", "0", "--preview")
        assert private.exit_code == 1 and "not a public address" in private.output
        assert cdn.requests == [] and not (root / "romcom.preview.png").exists()
        monkeypatch.setenv("SCRAPER_MIRROR_PRIVATE", "1")  # ...unless the test switch says so
        result = run("scan", str(root), "--rps", "0", "--preview")
        assert result.exit_code == 0, result.output
        with Image.open(root / "romcom.preview.png") as image:
            assert image.format == "PNG" and image.size == (512, 341)
            assert image.getpixel((10, 10))[:3][0] > 200  # red: the safe-for-work one
        assert [r["path"] for r in cdn.requests] == ["/ok.jpeg"]
        assert run("scan", str(root), "--rps", "0", "--preview").exit_code == 0
        assert len(cdn.requests) == 1  # downloaded once
        shown = run("scan", str(root), "--rps", "0", "--preview", "--nsfw", "show")
        assert shown.exit_code == 0, shown.output
        with Image.open(root / "romcom.preview.png") as image:
            assert image.getpixel((10, 10))[:3][2] > 200  # blue: the first image
        cdn.answers["/ok.jpeg"] = (
            200,
            b"<html>not an image</html>",
            {"Content-Type": "image/jpeg"},
        )
        (root / "romcom.preview.png").unlink()
        broken = run("scan", str(root), "--rps", "0", "--preview")
        assert broken.exit_code == 1 and "not an image that can be read safely" in broken.output


def test_hostile_metadata_and_names_stay_text(serve, tmp_path) -> None:
    root = tmp_path / "models"
    hostile = {
        "ss_output_name": "<script>alert(1)</script>",
        "modelspec.description": "[click](javascript:alert(1)) <img src=x onerror=alert(1)>",
        "ss_tag_frequency": json.dumps({"a": {"`x` <b>": 2}}),
    }
    libfiles.safetensors(root / "<b>bold</b>.safetensors", hostile)
    serve([])
    assert run("scan", str(root), "--rps", "0", "--lang", "en").exit_code == 0
    card = (root / "<b>bold</b>.md").read_text(encoding="utf-8")
    from tests.support import rendered, targets

    html = rendered(card)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and targets(card) == []  # text, never a link or a tag
    assert run("site", "build", "--out", str(tmp_path / "site")).exit_code == 0
    page = (tmp_path / "site" / "en" / "library.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;.safetensors" in page
    assert "<script>alert" not in page


def test_a_file_changed_or_removed_while_hashed_gets_no_hash(tmp_path) -> None:
    """Two 4 GiB sparse files (seconds of hashing each, no disk): one touched, one deleted
    while the scan reads them; the scan stops reading them at its next look (every 128 MiB),
    neither is recorded, and the next scan hashes the one left."""
    root = tmp_path / "models"
    root.mkdir()
    for name in ("touched.ckpt", "deleted.ckpt"):
        with open(root / name, "wb") as handle:
            handle.truncate(4 << 30)
    db = tmp_path / "models.db"
    env = {**os.environ, "SCRAPER_DB": str(db), "CIVITAI_API_BASE": "http://127.0.0.1:9/api/v1"}
    command = [sys.executable, "-m", "scraper.cli", "scan", str(root), "--jobs", "2"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not _running(db):
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    time.sleep(0.5)
    os.utime(root / "touched.ckpt", ns=(1, 1))
    (root / "deleted.ckpt").unlink()
    changed = time.monotonic()
    _, stderr = process.communicate(timeout=300)
    assert time.monotonic() - changed < 10  # not the whole 8 GiB
    assert "touched.ckpt: changed while it was hashed" in stderr, stderr
    assert "deleted.ckpt: vanished while it was hashed" in stderr, stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM library_files").fetchone()[0] == 0
    os.truncate(root / "touched.ckpt", 1 << 20)
    again = run("scan", str(root), "--retry-after", "1d", "--rps", "0")
    assert "1 files (1 hashed" in summary(again.output), again.output


def _running(db: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return bool(conn.execute("SELECT 1 FROM runs WHERE status = 'running'").fetchone())
    except sqlite3.OperationalError:
        return False
