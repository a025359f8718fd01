"""What one API host needs, as its source declares it: rate, token, how the credential goes on
a request, which answers are the API's own. The default credential is the token as a Bearer
header (and a cookie where the API reads one); a host that signs its requests gives an
httpx.Auth of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import redaction

if TYPE_CHECKING:  # httpx is imported when a client is made, not for --help
    import httpx


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """What one API host needs: a polite rate and burst, where its token lives and how it is
    sent, and which answers are not what their status says."""

    name: str
    rps: float
    burst: int
    token_env: str
    cookie: str | None = None  # also send the token as this cookie (for APIs that read one)
    other_secret_envs: tuple[str, ...] = ()  # legacy names of the token, redacted too
    # The token's own shape (a regular expression), so a config file holding one is refused.
    token_format: str | None = None
    # auth(token): the httpx.Auth that puts the credential on a request (signs it, say);
    # None: the token as a Bearer header, and as the cookie when the policy names one.
    auth: Callable[[str], httpx.Auth] | None = None
    # A 429 whose body says it is a paging cap, not throttling: retrying cannot help.
    page_cap: Callable[[Any], bool] | None = None
    # own_error(status, headers, body): is this 4xx the API's own answer (its error headers or
    # its JSON)? Only then is a 404 "no such record" (a stored model marked deleted) and a
    # 403 final; the same status from a plain web server, a proxy or a CDN is not.
    own_error: Callable[[int, Mapping[str, str], Any], bool] | None = None

    def __post_init__(self) -> None:
        redaction.register(self.token_env, *self.other_secret_envs)
        if self.cookie:
            redaction.register_names(self.cookie)  # its value, in a URL or a header, redacted

    def credential(self, token: str) -> httpx.Auth:
        """The httpx.Auth for this host's token."""
        return self.auth(token) if self.auth else BearerAuth(token, self.cookie)

    def says_own_error(self, status: int, headers: Mapping[str, str], body: Any) -> bool:
        if self.own_error is not None:
            return self.own_error(status, headers, body)
        return isinstance(body, dict)  # at least an answer in JSON, not a web page


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
