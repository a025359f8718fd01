"""Settings read from the environment, checked once: a bad value is one line naming it."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


class SettingError(ValueError):
    """A setting the user must fix (an environment variable, a base URL): never retried."""


def env_number(
    name: str,
    default: float,
    minimum: float = 0.0,
    integer: bool = False,
    maximum: float = 1e9,
) -> float:
    """A finite number from the environment, from `minimum` to `maximum`; one line otherwise."""
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
    if not value <= maximum:  # also refuses inf
        raise SettingError(f"{name}={text!r} must be at most {maximum:g}")
    return value


def timeout() -> float:
    """Seconds one answer may take, from connecting to its last byte."""
    return env_number("SCRAPER_TIMEOUT", 60.0, minimum=0.001, maximum=86400)


MAX_WAIT = 900.0  # 15 minutes: the longest a server may make a run wait, by default


def max_wait() -> float:
    """The longest wait a server may ask for (Retry-After, a RateLimit reset) before the source
    ends instead: SCRAPER_MAX_WAIT in seconds (the config's max_wait overrides it)."""
    return env_number("SCRAPER_MAX_WAIT", MAX_WAIT, maximum=30 * 86400)


def span(seconds: float) -> str:
    """1157d 9h, 15m, 40s: a wait for people."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [f"{days}d" * bool(days), f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes)]
    parts = [p for p in parts if p][:2]
    return " ".join(parts) if parts else f"{seconds:g}s"


def attempts() -> int:
    return int(env_number("SCRAPER_RETRIES", 6, minimum=1, integer=True, maximum=100))


def backoff() -> float:
    return env_number("SCRAPER_BACKOFF", 1.0, maximum=3600)


def max_body() -> int:
    """The largest answer (decoded) a request may return, in bytes: a gzip bomb stops there."""
    return int(env_number("SCRAPER_MAX_BODY_MB", 64.0, minimum=0.001, maximum=1 << 20) * (1 << 20))


MIN_RPS, MAX_RPS = 0.001, 1000.0


def rps(value: float, name: str = "--rps") -> float:
    """A request rate: 0 (no limit) or from 0.001 to 1000 per second; NaN (which would turn
    the limiter off) and 1e-9 (which would wait for decades) are refused in one line."""
    if not (value == 0 or MIN_RPS <= value <= MAX_RPS):
        raise SettingError(
            f"{name} {value!r} must be 0 (no limit) or from {MIN_RPS:g} to {MAX_RPS:g} "
            "requests per second"
        )
    return float(value)


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


def no_userinfo(name: str, value: str, token_env: str | None = None) -> str:
    """The value, refused in one line when it holds a user name or password (with or without
    a scheme: a bare domain such as user:pw@host counts too)."""
    full = value if "://" in value else f"https://{value}"
    parts = urlsplit(full)
    if parts.username is not None or parts.password is not None:
        # (worded so that redaction, which blanks the word after "token " or "token=", leaves
        # the line whole)
        where = f"set {token_env}," if token_env else "set the API's variable,"
        raise SettingError(
            f"{name}={without_password(full)!r} holds a user name or password; credentials "
            f"never go in a base URL: {where} and give a proxy's login in the HTTPS_PROXY URL"
        )
    return value


def base_url(name: str, value: str, token_env: str | None = None) -> str:
    """An API base URL from `name` (or its default): http(s) with a host and no user name or
    password (they would go out as Basic auth and into cards and logs), else one line."""
    no_userinfo(name, value, token_env)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SettingError(
            f"{name}={value!r} is not a URL with http:// or https:// and a host "
            f"(e.g. https://{value.split('://')[-1].lstrip('/') or 'example.com'})"
        )
    return value
