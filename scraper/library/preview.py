"""NAME.preview.png: the first sample image of the local file's version that the NSFW setting
allows, downloaded once (a small variant where the host makes one) and resized with Pillow.

Images come from an image host, not the API: no credentials go with them, the body is capped,
and an image Pillow cannot read safely (a decompression bomb, a broken file) is one line.
"""

from __future__ import annotations

import io
from typing import Any

from ..net.client import USER_AGENT
from ..records import Model
from ..site.nsfw import image_is_nsfw, model_is_nsfw

SIZE = 512  # the longer side of the preview, in pixels
MAX_BYTES = 20 << 20
MAX_PIXELS = 40_000_000  # Pillow refuses to decode larger images (its bomb check)
NSFW = ("hide", "show")


class PreviewError(OSError):
    """No preview could be made from the image: one line, the scan goes on."""


def choose(model: Model, version_id: str, nsfw: str) -> str | None:
    """The URL of the first still image of the version the setting allows."""
    version = next((v for v in model.versions if v.id == version_id), None)
    if version is None:
        return None
    flagged = model_is_nsfw(model)
    for image in version.images:
        if image.kind not in (None, "image") or not image.url.startswith(("https://", "http://")):
            continue
        if nsfw == "hide" and image_is_nsfw(image, flagged):
            continue
        return image.url
    return None


def download(url: str, client: Any = None) -> bytes:
    """The image's bytes (at most MAX_BYTES), without any credential, from a public address
    only: a scraped URL may name a user's own WebUI or a cloud metadata host, and so may any
    redirect (checked at every hop, as the site's mirror does; SCRAPER_MIRROR_PRIVATE lifts it
    for tests)."""
    import httpx

    from ..net.public import NotPublic, open_public, pin

    try:
        http = client or pin(httpx.Client(timeout=30.0, follow_redirects=False))
        with http, open_public(http, url, headers={"User-Agent": USER_AGENT}) as answer:
            return _body(answer, url)
    except NotPublic as exc:
        raise PreviewError(f"image {url}: {exc}") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise PreviewError(f"image {url}: {type(exc).__name__}: {exc}") from None


def _body(answer: Any, url: str) -> bytes:
    if answer.status_code != 200:
        raise PreviewError(f"image {url}: HTTP {answer.status_code}")
    from ..net.public import TooLarge, read_capped

    try:
        return read_capped(answer, MAX_BYTES)
    except TooLarge:
        raise PreviewError(f"image {url}: larger than {MAX_BYTES >> 20} MB") from None


def to_png(data: bytes, size: int = SIZE) -> bytes:
    """The image resized to at most `size` px on its longer side, as PNG."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((size, size))
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise PreviewError(f"not an image that can be read safely ({exc})") from None
