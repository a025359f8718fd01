"""`images = "mirror"`: real image bytes (PNG and JPEG made with Pillow) served from 127.0.0.1
with image content types; each fetched once across builds, every <img> of the site inside the
site, and what must not be fetched (a WebUI on a private address, a redirect to one, a page
that is not an image, an oversize answer) shown as missing. `deleted = "archive"` keeps the
page of a model deleted upstream, its pictures and a "removed" badge.

The image server counts every request. SCRAPER_MIRROR_PRIVATE names only the first server's
host:port, so a redirect from it to a second server on 127.0.0.1 must be refused.
"""

from __future__ import annotations

import copy
import html
import io
import re
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from PIL import Image

from scraper.catalog import open_store
from scraper.cli import main
from scraper.net.public import NotPublic, public_address
from scraper.site import mirror
from scraper.store import Store
from tests.sitedata import reference_payloads, save
from tests.support import serve_in_thread

BIG = mirror.MAX_BYTES + 1024


def picture(kind: str, size: tuple[int, int], seed: int) -> bytes:
    """A real image: a noisy gradient (so it does not compress to nothing), PNG or JPEG."""
    image = Image.effect_noise(size, 60 + seed).convert("RGB")
    overlay = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(image, overlay, 0.5)
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


class ImageServer:
    """Images under /img/, a redirect, a web page and an oversize answer; counts requests."""

    def __init__(self, redirect_to: str = "") -> None:
        self.hits: Counter[str] = Counter()
        self.files = {
            "/img/a.png": ("image/png", picture("PNG", (1600, 1200), 1)),
            "/img/b.jpg": ("image/jpeg", picture("JPEG", (2400, 3200), 2)),
            "/img/c.jpg": ("image/jpeg", picture("JPEG", (300, 400), 3)),
            "/img/desc.png": ("image/png", picture("PNG", (640, 480), 4)),
            "/flaky.png": ("image/png", picture("PNG", (200, 200), 5)),
            "/page.html": ("text/html; charset=utf-8", b"<html><body>not an image</body></html>"),
        }
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits[self.path] += 1
                if self.path == "/redirect.png":
                    self.send_response(302)
                    self.send_header("Location", redirect_to + "/img/a.png")
                    self.end_headers()
                    return
                if self.path == "/flaky.png" and server.hits[self.path] == 1:
                    self.send_response(503)  # busy the first time (a CDN under load)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/huge.jpg":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(BIG))
                    self.end_headers()
                    try:
                        for _ in range(BIG // 65536 + 1):
                            self.wfile.write(b"\xff" * 65536)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                found = server.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                kind, body = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.hostport = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.url = f"http://{self.hostport}"
        serve_in_thread(self.httpd)


@pytest.fixture()
def servers():
    private = ImageServer()  # stands for a host that resolves to a private address
    public = ImageServer(redirect_to=private.url)
    yield public, private
    public.httpd.shutdown()
    private.httpd.shutdown()


def catalog(db: Path, base: str) -> Store:
    """Two Civitai models whose images live on the test server (and some that must not be
    fetched), one description image on it and one on a WebUI at 127.0.0.1:7860."""
    models = []
    for n, model_id in enumerate((910001, 910002)):
        raw = copy.deepcopy(next(m for m in reference_payloads() if m["id"] == 4468))
        raw["id"] = model_id
        raw["name"] = f"  Mirror test {n}  "
        raw["nsfw"] = False
        raw["description"] = (
            f'<p>made with</p><img src="{base}/img/desc.png">'
            '<img src="http://127.0.0.1:7860/file=outputs/txt2img/00001.png">'
        )
        raw["modelVersions"] = raw["modelVersions"][:1]
        version = raw["modelVersions"][0]
        version["id"] = model_id * 10
        images = ["/img/a.png", "/img/b.jpg", "/img/c.jpg"] if n == 0 else ["/img/b.jpg"]
        if n == 0:
            images += ["/redirect.png", "/page.html", "/huge.jpg", "/missing.png"]
        version["images"] = [
            dict(version["images"][0], url=base + path, nsfw="None", id=i)
            for i, path in enumerate(images)
        ]
        models.append(raw)
    store = open_store(db)
    save(store, "civitai", models)
    return store


def build(db: Path, out: Path, *extra: str) -> str:
    """`site build`, its image requests unpaced (what is fetched is the subject, not when)."""
    command = ["site", "build", "--db", str(db), "--out", str(out), "--jobs", "1"]
    result = CliRunner().invoke(main, [*command, "--mirror-rps", "0", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def images_of(site: Path) -> list[tuple[Path, str]]:
    found = []
    for page in site.rglob("*.html"):
        for src in re.findall(r'<img[^>]*\ssrc="([^"]*)"', page.read_text(encoding="utf-8")):
            found.append((page, src))
    return found


def test_mirror_fetches_each_image_once_and_every_img_is_inside_the_site(
    tmp_path: Path, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, private = servers
    monkeypatch.setenv("SCRAPER_MIRROR_PRIVATE", public.hostport)
    db, site = tmp_path / "models.db", tmp_path / "site"
    catalog(db, public.url).close()
    output = build(db, site, "--images", "mirror")
    assert "images: 4 stored" in output  # a, b, c and the description's
    build(db, site, "--images", "mirror")  # nothing changed
    build(db, site, "--images", "mirror", "--force")  # every page rendered again
    for path in ("/img/a.png", "/img/b.jpg", "/img/c.jpg", "/img/desc.png"):
        assert public.hits[path] == 1, (path, public.hits)  # once, across three builds
    # refused or dropped, and not asked again on the later builds
    assert public.hits["/redirect.png"] == 1 and private.hits == Counter()
    assert public.hits["/page.html"] == 1 and public.hits["/huge.jpg"] == 1
    # every <img> of the site is a file of the site, re-encoded, small
    shown = images_of(site)
    assert len(shown) > 10
    for page, src in shown:
        assert "://" not in src and not src.startswith("/"), (page, src)
        target = (page.parent / src).resolve()
        assert target.is_relative_to(site.resolve()) and target.is_file(), (page, src)
        assert target.stat().st_size <= 200 * 1024
        assert target.read_bytes()[8:12] == b"WEBP"
    with Image.open(site / mirror.paths(public.url + "/img/b.jpg")[0]) as large:
        assert max(large.size) == mirror.LARGE  # 2400x3200 resized
    # pages allow only the site's own images; what could not be kept is shown as missing
    page = (site / "models/civitai/910001.html").read_text(encoding="utf-8")
    csp = html.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)[1]
    )
    assert "img-src 'self';" in csp and "script-src 'self';" in csp
    assert page.count('<span class="missing">') == 4 + 1  # 4 gallery images, the WebUI one
    assert "127.0.0.1" not in page.replace(public.url + "/", "")  # no link to a local server
    assert "<h1>Mirror test 0</h1>" in page  # names trimmed


def test_mirror_refuses_private_addresses_without_the_test_switch(
    tmp_path: Path, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, _ = servers
    monkeypatch.delenv("SCRAPER_MIRROR_PRIVATE", raising=False)
    db, site = tmp_path / "models.db", tmp_path / "site"
    catalog(db, public.url).close()
    output = build(db, site, "--images", "mirror")
    assert public.hits == Counter()  # loopback: never asked
    assert "images: 0 stored" in output
    assert images_of(site) == []  # nothing hot-linked instead
    page = (site / "models/civitai/910001.html").read_text(encoding="utf-8")
    assert page.count('<span class="missing">') >= 4


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"],
)
def test_non_public_addresses_are_refused(address: str, monkeypatch) -> None:
    monkeypatch.delenv("SCRAPER_MIRROR_PRIVATE", raising=False)
    with pytest.raises(NotPublic):
        public_address(address, 80)


def test_what_pillow_must_not_decode_is_refused() -> None:
    bomb = io.BytesIO()
    Image.new("L", (20_000, 5_000)).save(bomb, "PNG")  # 100 million pixels in a few KB
    for data in (bomb.getvalue(), b"<svg onload=alert(1)></svg>", b"GIF89a" + b"\0" * 20):
        with pytest.raises(mirror.Refused):
            mirror.encode(data)
    small = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(small, "PNG")
    large, little = mirror.encode(small.getvalue())
    assert large[8:12] == little[8:12] == b"WEBP"
    with Image.open(io.BytesIO(large)) as copy:
        assert copy.size == (300, 200) and copy.mode == "RGBA"  # never enlarged; alpha kept


def test_archive_keeps_a_deleted_model_with_its_pictures_and_a_badge(
    tmp_path: Path, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, _ = servers
    monkeypatch.setenv("SCRAPER_MIRROR_PRIVATE", public.hostport)
    db, site = tmp_path / "models.db", tmp_path / "site"
    store = catalog(db, public.url)
    build(db, site, "--images", "mirror", "--deleted", "archive")
    store.mark_deleted("civitai", "910001")
    store.close()
    output = build(db, site, "--images", "mirror", "--deleted", "archive")
    assert "archive: 1 models deleted upstream kept" in output
    page = (site / "models/civitai/910001.html").read_text(encoding="utf-8")
    assert re.search(r'<strong class="badge removed">已于 \d{4}年\d+月\d+日 从 Civitai 删除', page)
    english = (site / "en/models/civitai/910001.html").read_text(encoding="utf-8")
    assert re.search(r"Removed from Civitai on [A-Z][a-z]{2} \d+, \d{4}", english)
    assert len([src for p, src in images_of(site) if p.name == "910001.html"]) >= 6
    archive = (site / "archive.html").read_text(encoding="utf-8")
    assert "models/civitai/910001.html" in archive and "910002" not in archive
    assert "archive.html" in (site / "index.html").read_text(encoding="utf-8")  # in the menu
    # listed on the archive only: not on the index pages as a live model
    listing = (site / "list/source/civitai/1.html").read_text(encoding="utf-8")
    assert "910001" not in listing and "910002" in listing
    # hide, the default: the page goes, the stored pictures stay for a later archive
    build(db, site, "--images", "mirror")
    assert not (site / "models/civitai/910001.html").exists()
    assert (site / mirror.paths(public.url + "/img/a.png")[0]).is_file()
    assert public.hits["/img/a.png"] == 1


def test_an_image_that_failed_for_a_while_comes_on_a_later_build(
    tmp_path: Path, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, _ = servers
    monkeypatch.setenv("SCRAPER_MIRROR_PRIVATE", public.hostport)
    db, site = tmp_path / "models.db", tmp_path / "site"
    store = catalog(db, public.url)
    raw = next(m for m in reference_payloads() if m["id"] == 4468)
    raw = dict(copy.deepcopy(raw), id=910003, name="Flaky", description="")
    version = dict(raw["modelVersions"][0], id=9100030)
    version["images"] = [dict(version["images"][0], url=public.url + "/flaky.png", nsfw="None")]
    raw["modelVersions"] = [version]
    save(store, "civitai", [raw])
    store.close()
    page = site / "models/civitai/910003.html"
    build(db, site, "--images", "mirror")
    assert public.hits["/flaky.png"] == 1 and '<span class="missing">' in page.read_text()
    # not asked again at once (the note says when), but the page stays due for rendering
    output = build(db, site, "--images", "mirror")
    assert public.hits["/flaky.png"] == 1 and ", 1 rendered;" in output
    notes = [p for p in (site / mirror.FAILED).rglob("*") if p.is_file()]
    note = next(p for p in notes if orjson.loads(p.read_bytes())["url"].endswith("/flaky.png"))
    data = orjson.loads(note.read_bytes())
    reasons = sorted(orjson.loads(p.read_bytes())["reason"] for p in notes if p != note)
    assert len(reasons) == 5 and "HTTP 404" in reasons and "too many redirects" not in reasons
    assert data["transient"] is True and data["reason"] == "HTTP 503"
    note.write_bytes(orjson.dumps(dict(data, retry_after=0)))  # as if six hours had passed
    build(db, site, "--images", "mirror")
    assert public.hits["/flaky.png"] == 2 and '<span class="missing">' not in page.read_text()
    assert ", 0 rendered;" in build(db, site, "--images", "mirror")  # done: no more renders
