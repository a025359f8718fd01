"""Fetching what a scraped URL names from public addresses only, checked where it connects.

A check of the host name before the request is not enough: the client resolves the name again
when it connects, and a name can answer a public address to the check and 127.0.0.1 or the
cloud metadata address to the connection (DNS rebinding). So the direct connections of a
client given to `pin` resolve once, refuse a name with any address that is not public, and
connect to the address they checked. Through a proxy the proxy resolves the name: there the
check before the request is all there is. ALLOW_ENV=1 lifts the check (tests serve from
127.0.0.1); a list of host:port lifts it for those only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

ALLOW_ENV = "SCRAPER_MIRROR_PRIVATE"
REDIRECTS = 5
_PORTS = {"http": 80, "https": 443}


class NotPublic(Exception):
    """The host is, or resolves to, an address that is not public; `transient`: it did not
    resolve at all, which may pass."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


def public_address(host: str, port: int | None = None) -> str:
    """An address of `host` to connect to, every address it resolves to being public (the
    host itself where the check is lifted for it)."""
    lifted = os.environ.get(ALLOW_ENV, "").strip()
    if lifted == "1" or (lifted and f"{host}:{port}" in lifted.split(",")):
        return host
    if not host:
        raise NotPublic("no host")
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise NotPublic(f"cannot resolve {host}: {exc}", transient=True) from None
    addresses = [info[4][0].split("%", 1)[0] for info in infos]
    for text in addresses:
        address = ipaddress.ip_address(text)
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        if not address.is_global or address.is_multicast:
            raise NotPublic(f"{host} resolves to {address}, not a public address")
    return addresses[0]


class TooLarge(Exception):
    """An answer longer than its reader's cap, dropped unread past it."""


@contextlib.contextmanager
def open_public(
    client: httpx.Client,
    url: str,
    before_each: Callable[[], None] | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[httpx.Response]:
    """The streamed answer to GET url: http(s) only, up to REDIRECTS redirects followed, each
    hop's host checked public before it is asked (`before_each` runs then: a rate limit).
    NotPublic when a hop is refused or there are too many."""
    for _ in range(REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in _PORTS:
            raise NotPublic(f"not an http(s) URL: {parts.scheme or 'none'}")
        try:
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            raise NotPublic("a malformed port") from None
        public_address(parts.hostname or "", port)
        if before_each is not None:
            before_each()
        with client.stream("GET", url, headers=headers) as answer:
            if answer.is_redirect and answer.headers.get("location"):
                url = urljoin(url, answer.headers["location"])
                continue
            yield answer
            return
    raise NotPublic("too many redirects")


def read_capped(answer: httpx.Response, limit: int) -> bytes:
    """The body, read as it comes; TooLarge past `limit` bytes."""
    body = bytearray()
    for chunk in answer.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"larger than {limit} bytes")
    return bytes(body)


class PublicOnly(httpcore.NetworkBackend):
    """httpcore's own backend, connecting to the checked address of each host (TLS still
    verifies the certificate against the host name)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            address = public_address(host, port)
        except NotPublic as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("no Unix sockets for scraped URLs")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def pin(client: httpx.Client) -> httpx.Client:
    """Make the client's direct connections go through PublicOnly. Fails closed: an httpx
    whose insides moved gets a clear error, never unchecked connections."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError(
            f"cannot check the addresses httpx {httpx.__version__} connects to; "
            "install the httpx version pyproject.toml names"
        )
    pool._network_backend = PublicOnly()
    return client
