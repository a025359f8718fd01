"""Scraped URLs are fetched from public addresses only, checked where the connection is made
(net/public.py): a name that answered a public address to an earlier check cannot send the
connection to 127.0.0.1 (DNS rebinding), because the client connects to what it checked."""

from __future__ import annotations

import httpx
import pytest

from scraper.net.public import ALLOW_ENV, NotPublic, pin, public_address
from tests.test_site_mirror import ImageServer


def test_a_pinned_client_refuses_a_private_address_before_any_byte_is_sent(monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    server = ImageServer()
    port = server.httpd.server_address[1]
    try:
        with pin(httpx.Client()) as client:
            for host in ("127.0.0.1", "localhost"):  # an address, and a name resolving to it
                with pytest.raises(httpx.ConnectError, match="not a public address"):
                    client.get(f"http://{host}:{port}/img/a.png")
        assert sum(server.hits.values()) == 0  # no request reached the private server
        with httpx.Client() as unpinned:  # what the check closes: a plain client connects
            assert unpinned.get(f"http://127.0.0.1:{port}/img/a.png").status_code == 200
        monkeypatch.setenv(ALLOW_ENV, f"127.0.0.1:{port}")  # lifted for this one server
        with pin(httpx.Client()) as client:
            assert client.get(f"http://127.0.0.1:{port}/img/a.png").status_code == 200
            with pytest.raises(httpx.ConnectError):
                client.get(f"http://localhost:{port}/img/a.png")  # not the lifted host:port
    finally:
        server.httpd.shutdown()


@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "10.0.0.1", "192.168.1.1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "fc00::1"],
)
def test_private_link_local_and_mapped_addresses_are_not_public(monkeypatch, host) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    with pytest.raises(NotPublic, match="not a public address"):
        public_address(host, 80)


def test_a_public_address_is_connected_to_as_checked(monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    assert public_address("93.184.215.14", 443) == "93.184.215.14"  # resolving an IP is offline
