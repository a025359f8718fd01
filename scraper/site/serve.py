"""`scraper site serve`: preview a built site on 127.0.0.1, as a static host would serve it."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .pages import CSP


class _Handler(SimpleHTTPRequestHandler):
    """Files of the site folder only: no directory listings, no dotfiles (the manifest)."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
        ".css": "text/css",
        ".html": "text/html; charset=utf-8",
    }

    def send_head(self):  # noqa: ANN201 (http.server's signature)
        path = unquote(urlsplit(self.path).path)
        if any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(404)
            return None
        if path.endswith("/") and not (Path(self.translate_path(path)) / "index.html").is_file():
            self.send_error(404)
            return None
        return super().send_head()

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


def server(folder: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for `folder` on 127.0.0.1 (port 0: any free port); call serve_forever()."""
    handler = functools.partial(_Handler, directory=str(Path(folder).resolve()))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
