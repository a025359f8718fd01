"""`scraper site serve`: preview a built site on 127.0.0.1, as a static host would serve it.

Only regular files inside the folder, after resolving symlinks; a malformed path is answered
400, and a browser that hangs up mid-answer is no error.
"""

from __future__ import annotations

import functools
import os
import stat
from email.utils import formatdate
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from .pages import CSP

_BAD = {chr(c) for c in range(32)} | {"\x7f", "\\"}  # never in a site's own file names


class _Handler(SimpleHTTPRequestHandler):
    """Files of the site folder only: no directory listings, no dotfiles (the manifest), no
    symlink out of the folder, nothing but regular files."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
        ".css": "text/css",
        ".html": "text/html; charset=utf-8",
    }

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # the browser went away mid-answer: nothing to say
            self.close_connection = True

    def send_head(self) -> BinaryIO | None:  # http.server's signature
        parts = self._parts()
        if parts is None:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return None
        if any(part.startswith(".") for part in parts):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        root = Path(self.directory).resolve()
        target = root.joinpath(*parts)
        slash = urlsplit(self.path).path.endswith("/")
        try:
            real = (target / "index.html" if slash or not parts else target).resolve(strict=True)
            inside = real.is_relative_to(root)
            if inside and real.is_dir():
                return self._to_folder()
            if not inside or not stat.S_ISREG(real.stat().st_mode):
                raise FileNotFoundError(real)
            file = open(real, "rb", opener=_no_follow)  # noqa: SIM115 (copied out by do_GET)
        except (OSError, RuntimeError, ValueError):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        found = os.fstat(file.fileno())
        if not stat.S_ISREG(found.st_mode):
            file.close()
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(real)))
        self.send_header("Content-Length", str(found.st_size))
        self.send_header("Last-Modified", formatdate(found.st_mtime, usegmt=True))
        self.end_headers()
        return file

    def _parts(self) -> list[str] | None:
        """The path's pieces, decoded; None for a path a browser never sends."""
        raw = urlsplit(self.path).path
        if not raw.startswith("/"):
            return None
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if _BAD & set(path):
            return None
        return [part for part in path.split("/") if part]

    def _to_folder(self) -> None:
        """A folder named without its slash: where its index is."""
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", urlsplit(self.path).path + "/")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A missing page answers with the site's own 404.html, as static hosts do."""
        page = Path(str(self.directory)) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", f"{CSP}; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args: object) -> None:  # quiet: a preview, not an access log
        pass


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up is not an error; anything else is printed as usual."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def server(folder: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for `folder` on 127.0.0.1 (port 0: any free port); call serve_forever()."""
    handler = functools.partial(_Handler, directory=str(Path(folder).resolve()))
    return _Server(("127.0.0.1", port), handler)
