"""Reading one answer off the wire: its body within a size and a time limit, and what a failed
connection means (shared by every client; the client turns these into its errors)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a client is made, not for --help
    import httpx


def read_body(
    response: httpx.Response, limit: int, deadline: float, clock: Callable[[], float]
) -> bytearray | None:
    """The decoded body; None past `limit` bytes (a gzip bomb stops here, not in memory);
    httpx.ReadTimeout past the deadline (a body trickled a byte at a time never trips a
    per-read timeout). One growing buffer: a 40 MB README is held once, not twice."""
    import httpx

    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    for chunk in response.iter_bytes():
        if clock() > deadline:
            raise httpx.ReadTimeout("the whole answer took longer than SCRAPER_TIMEOUT")
        if len(body) + len(chunk) > limit:
            return None
        body += chunk
    return body


def dns_failure(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve (never transient
    enough to retry for half a minute)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
