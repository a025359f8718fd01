"""`[site] images = "mirror"`: each image a page shows fetched once, resized, kept in the site.

Scraped image URLs are untrusted. Only http(s) URLs whose host resolves to public addresses are
fetched (a real model description embeds `http://127.0.0.1:7860/...`, a user's own WebUI),
checked again after every redirect; loopback, private, link-local (cloud metadata) and
reserved addresses are refused. An answer that is not an image Pillow can read, or larger
than MAX_BYTES, is dropped. What is kept is re-encoded (never the fetched bytes): a WebP of at
most LARGE px and MAX_STORED bytes, plus a SMALL px one for galleries and index tables, under
assets/img/ named by the hash of the image's URL. A file once stored is reused by every later
build and never removed, so a model deleted upstream keeps its pictures. A failure is noted
beside the site (.mirror-failed/) with when to try again, so a build is resumable and a dead
image is not asked for on every build. SCRAPER_MIRROR_PRIVATE=1 lifts the address check (tests
serve images from 127.0.0.1); a list of host:port lifts it for those only.
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from ..files import write_atomic
from ..net.limits import RateLimiter
from ..net.public import ALLOW_ENV, NotPublic, TooLarge, open_public, pin, read_capped

FOLDER = "assets/img"
FAILED = ".mirror-failed"
LARGE = 1280  # px, the longer side: the lightbox
SMALL = 450  # px: galleries, index tables (200 px shown, 2x screens)
MAX_STORED = 200 * 1024  # bytes of one stored file
MAX_BYTES = 25 * 1024 * 1024  # a larger answer is dropped unread
MAX_PIXELS = 80_000_000  # Pillow refuses larger images (decompression bombs)
RPS = 2.0  # requests per second, across image hosts, per build
RETRY_TRANSIENT = 6 * 3600  # seconds before a network error or 5xx is tried again
RETRY_PERMANENT = 30 * 86400  # a refusal, 4xx, non-image or oversize answer
USER_AGENT = "scraper-site-mirror/1 (+static catalog; fetches each image once)"
PRIVATE_ENV = ALLOW_ENV


class Refused(Exception):
    """This image is not fetched, or what came back is not kept; `transient`: try again later."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


def key(url: str) -> str:
    """The name of an image's files: the hash of its URL."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def paths(url: str) -> tuple[str, str]:
    """(large, small) site paths of an image's stored files."""
    h = key(url)
    return f"{FOLDER}/{h[:2]}/{h}.webp", f"{FOLDER}/{h[:2]}/{h}-s.webp"


@dataclass
class Mirror:
    """Fetches and stores images under `out`; one per build process (workers each have one)."""

    out: Path
    rps: float = RPS
    timeout: float = 20.0
    fetched: int = 0  # requests that reached a server this build
    stored: int = 0
    failed: int = 0
    transient: bool = False  # an image of the current model may come on a later build
    _limiter: RateLimiter | None = None
    _client: httpx.Client | None = None
    _known: dict[str, bool] = field(default_factory=dict)

    def available(self, url: str, fetch_url: str | None = None) -> bool:
        """Is the image of `url` stored (fetching it from `fetch_url`, a smaller variant the
        host makes, when not yet)?"""
        if url in self._known:
            return self._known[url]
        large, small = (self.out / p for p in paths(url))
        ok = large.is_file() and small.is_file()
        if not ok and not self._failed_recently(url):
            try:
                self._store(fetch_url or url, large, small)
                ok = True
                self.stored += 1
            except Refused as exc:
                self.failed += 1
                self.transient = self.transient or exc.transient
                self._note_failure(url, str(exc), exc.transient)
        self._known[url] = ok
        return ok

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- fetching -------------------------------------------------------------------------

    def _store(self, url: str, large: Path, small: Path) -> None:
        data = self._fetch(url)
        big, little = encode(data)
        write_atomic(small, little, if_changed=False)
        write_atomic(large, big, if_changed=False)  # last: both exist means done

    def _fetch(self, url: str) -> bytes:
        if self._client is None:
            self._client = pin(
                httpx.Client(
                    follow_redirects=False,
                    timeout=self.timeout,
                    headers={"User-Agent": USER_AGENT, "Accept": "image/webp,image/*;q=0.8"},
                    # HTTPS_PROXY/ALL_PROXY honoured as for the APIs: where the image hosts are
                    # reached only through a proxy, mirroring works; the host is still checked
                    # public here first (the proxy connects to the name we checked).
                )
            )
            self._limiter = RateLimiter(self.rps, 1)

        def paced() -> None:
            assert self._limiter is not None
            self._limiter.acquire()
            self.fetched += 1

        try:
            with open_public(self._client, url, paced) as answer:
                return self._body(answer)
        except NotPublic as exc:
            raise Refused(str(exc), exc.transient) from None
        except httpx.HTTPError as exc:
            if "not a public address" in str(exc):  # the name changed its answer: rebinding
                raise Refused(str(exc)) from None
            raise Refused(f"{type(exc).__name__}", transient=True) from None

    def _body(self, answer: httpx.Response) -> bytes:
        status = answer.status_code
        if status == 429 or status >= 500:
            if status == 429 and self._limiter is not None:
                self._limiter.throttled(_seconds(answer.headers.get("retry-after")))
            raise Refused(f"HTTP {status}", transient=True)
        if status != 200:
            raise Refused(f"HTTP {status}")
        kind = answer.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not kind.startswith("image/") or kind == "image/svg+xml":
            raise Refused(f"not an image: {kind or 'no content type'}")
        length = answer.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BYTES:
            raise Refused(f"larger than {MAX_BYTES} bytes")
        try:
            return read_capped(answer, MAX_BYTES)
        except TooLarge as exc:
            raise Refused(str(exc)) from None

    # --- failures, beside the site ----------------------------------------------------------

    def _failure_path(self, url: str) -> Path:
        h = key(url)
        return self.out / FAILED / h[:2] / h

    def _failed_recently(self, url: str) -> bool:
        """A failure noted by an earlier build and not yet due again; one that may pass
        later keeps `transient` set, so the model's pages are rendered again next time."""
        try:
            note = orjson.loads(self._failure_path(url).read_bytes())
            due = float(note.get("retry_after", 0)) > time.time()
        except (OSError, orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return False
        if due and note.get("transient") is True:
            self.transient = True
        return due

    def _note_failure(self, url: str, reason: str, transient: bool) -> None:
        wait = RETRY_TRANSIENT if transient else RETRY_PERMANENT
        note = {
            "url": url[:2000],
            "reason": reason[:300],
            "transient": transient,
            "retry_after": time.time() + wait,
        }
        path = self._failure_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, orjson.dumps(note), if_changed=False)


def encode(data: bytes) -> tuple[bytes, bytes]:
    """(large, small) WebP files of an image, each at most MAX_STORED bytes; Refused when the
    bytes are not an image Pillow reads."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            if image.width * image.height > MAX_PIXELS:  # Pillow itself only warns below 2x
                raise Refused(f"{image.width}x{image.height} px: too large to decode")
            image.draft("RGB", (LARGE, LARGE))  # JPEG: decode at a reduced scale
            image.seek(0)  # an animation: its first frame
            image.load()
            picture = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise Refused(f"not an image Pillow reads: {type(exc).__name__}") from None
    return _webp(picture, LARGE), _webp(picture, SMALL)


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _webp(picture, size: int) -> bytes:
    """The picture within size x size px, as WebP at the best quality under MAX_STORED."""
    copy = picture.copy()
    copy.thumbnail((size, size))
    for quality in (80, 65, 50, 35):
        buffer = io.BytesIO()
        copy.save(buffer, "WEBP", quality=quality, method=4)
        if buffer.tell() <= MAX_STORED:
            return buffer.getvalue()
    while True:  # still too large: smaller
        copy.thumbnail((max(1, copy.width * 3 // 4), max(1, copy.height * 3 // 4)))
        buffer = io.BytesIO()
        copy.save(buffer, "WEBP", quality=35, method=4)
        if buffer.tell() <= MAX_STORED or copy.width <= 16:
            return buffer.getvalue()


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
