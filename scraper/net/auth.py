"""The default credential of a host: its token as a Bearer header (and a cookie where the API
reads one). A host that signs its requests gives its policy an httpx.Auth of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is imported when a client is made, not for --help
    import httpx


def BearerAuth(token: str, cookie: str | None = None) -> httpx.Auth:  # noqa: N802 (a class)
    """`Authorization: Bearer <token>`, and `Cookie: <cookie>=<token>` when the API reads one."""
    import httpx

    class _Bearer(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["Authorization"] = f"Bearer {token}"
            if cookie:
                request.headers["Cookie"] = f"{cookie}={token}"
            yield request

    return _Bearer()
