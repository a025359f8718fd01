"""Where a page's pictures come from: the sources' hosts (`images = "link"`) or the site itself
(`"mirror"`, scraper/site/mirror.py). Every scraped image URL passes through here.

A picture's address is either an https URL or a path from the site root (`assets/img/...`);
`href(src, root)` makes the latter relative to the page that shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from .. import sources
from ..sanitize import IMG_TAG, safe_url
from . import mirror as mirroring

MODES = ("link", "mirror")
GALLERY = 450  # px: a model page's gallery, as on the cards
FULL = mirroring.LARGE  # px: the lightbox
_SRC = re.compile(r'\ssrc="([^"]*)"')


def is_local(src: str) -> bool:
    return "://" not in src


def href(src: str | None, root: str) -> str | None:
    """A picture's address as the page at `root` links it."""
    if src is None:
        return None
    return root + src if is_local(src) else src


@dataclass
class Pictures:
    mode: str = "link"
    mirror: mirroring.Mirror | None = None

    @classmethod
    def of(cls, mode: str, out: Path, rps: float = mirroring.RPS) -> Pictures:
        if mode not in MODES:
            raise ValueError(f"unknown images setting {mode!r}: use one of {', '.join(MODES)}")
        return cls(mode, mirroring.Mirror(Path(out), rps) if mode == "mirror" else None)

    def src(
        self, source: str, url: str | None, width: int = GALLERY, checked: bool = False
    ) -> str | None:
        """A checked image URL (a variant of about `width` px where the host makes one), or
        the stored copy's site path; None when there is nothing safe to show. `checked`: the
        URL already came from safe_url."""
        url = url if checked else safe_url(url or "")
        if not url:
            return None
        host = sources.get(source)
        if self.mirror is None:
            return host.thumbnail(url, width)
        if not self.mirror.available(url, host.thumbnail(url, FULL)):
            return None
        large, small = mirroring.paths(url)
        return small if width <= mirroring.SMALL else large

    def html(self, html: str, root: str, missing: str) -> str:
        """Sanitized HTML with each <img> pointing at its stored copy (mirror), or replaced by
        a note when there is none; unchanged when linking."""
        if self.mirror is None:
            return html

        def swap(match: re.Match) -> str:
            tag = match[0]
            found = _SRC.search(tag)
            # The sanitizer wrote src with &amp; for &: read it back as the URL it is.
            url = found[1].replace("&amp;", "&") if found else ""
            local = self.src_any(url)
            if local is None:
                return f'<span class="missing">{escape(missing)}</span>'
            return _SRC.sub(lambda _: f' src="{escape(root + local)}"', tag, count=1)

        return IMG_TAG.sub(swap, html)

    def src_any(self, url: str) -> str | None:
        """An image from a description, on any host: its stored copy's path, or None."""
        checked = safe_url(url)
        if not checked or self.mirror is None:
            return None
        if not self.mirror.available(checked):
            return None
        return mirroring.paths(checked)[0]

    def close(self) -> None:
        if self.mirror is not None:
            self.mirror.close()
