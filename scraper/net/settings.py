"""Settings read from the environment, checked once: a bad value is one line naming it."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


class SettingError(ValueError):
    """A setting the user must fix (an environment variable, a base URL): never retried."""


def env_number(name: str, default: float, minimum: float = 0.0, integer: bool = False) -> float:
    """A number from the environment, at least `minimum`; a clear error otherwise."""
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingError(
            f"{name}={text!r} is not {kind}; unset it or give e.g. {default:g}"
        ) from None
    if not value >= minimum:  # also refuses NaN
        raise SettingError(f"{name}={text!r} must be at least {minimum:g}")
    return value


def timeout() -> float:
    return env_number("SCRAPER_TIMEOUT", 60.0, minimum=0.001)


def attempts() -> int:
    return int(env_number("SCRAPER_RETRIES", 6, minimum=1, integer=True))


def backoff() -> float:
    return env_number("SCRAPER_BACKOFF", 1.0)


def max_body() -> int:
    """The largest answer (decoded) a request may return, in bytes: a gzip bomb stops there."""
    return int(env_number("SCRAPER_MAX_BODY_MB", 64.0, minimum=0.001) * (1 << 20))


PROXY_ENVS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def proxy() -> tuple[str, str] | None:
    """(variable, URL) of the proxy the client will use, checked; None without one."""
    for name in PROXY_ENVS:
        value = os.environ.get(name)
        if value:
            scheme = urlsplit(value).scheme.lower()
            if scheme not in PROXY_SCHEMES or not urlsplit(value).hostname:
                raise SettingError(
                    f"{name}={without_password(value)!r} is not a proxy URL this tool can use "
                    f"({', '.join(s + '://' for s in PROXY_SCHEMES)}HOST:PORT)"
                )
            return name, value
    return None


def without_password(url: str) -> str:
    """A URL fit for a message: user:password@ removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return parts._replace(netloc=f"***@{host}").geturl()


def base_url(name: str, value: str) -> str:
    """An API base URL from `name` (or its default): http(s) with a host, else one line."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SettingError(
            f"{name}={value!r} is not a URL with http:// or https:// and a host "
            f"(e.g. https://{value.split('://')[-1].lstrip('/') or 'example.com'})"
        )
    return value
