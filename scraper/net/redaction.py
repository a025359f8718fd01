"""Secrets out of every text we write: tokens, Bearer values, token-like query values.

One module so that errors, log lines, summaries and database columns all redact alike.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable

from .settings import SettingError

SECRET_ENVS: set[str] = set()  # every token variable a host policy names (see client.HostPolicy)
# Query and cookie names whose value is a secret: the usual ones, and each policy's cookie.
SECRET_NAMES: set[str] = {"token", "api_key", "apikey", "access_token"}


def register(*names: str) -> None:
    SECRET_ENVS.update(names)


def register_names(*names: str) -> None:
    """Query or cookie names whose value is a secret (a host policy's cookie)."""
    SECRET_NAMES.update(n.lower() for n in names)


# An unknown credential after an auth scheme: a word of 8 or more characters with a digit or
# punctuation in it, or of 20 or more; so "the token expired" or "HF_TOKEN holds a space" (our
# own error lines) stay readable, while "Bearer hf_x1..." and "Basic dXNlcjpw..." are blanked.
_VALUE = r"[^\s\"',;}]"
_CREDENTIAL = rf"(?={_VALUE}{{8}})(?:{_VALUE}*[0-9_.~+/=-]{_VALUE}*|{_VALUE}{{20,}})"


@functools.cache
def _compiled(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names)))
    return re.compile(
        rf"((?:{alternatives})=)[^&\s\"';]+"
        rf"|(?<![A-Za-z0-9_])((?:Bearer|Basic|Token)\s+){_CREDENTIAL}",
        re.IGNORECASE,
    )


def secrets() -> list[str]:
    """The configured tokens (longest first, so a token inside another is not left half)."""
    found = {os.environ.get(n) for n in SECRET_ENVS}
    return sorted((s for s in found if s and len(s) >= 4), key=len, reverse=True)


def redact(text: str) -> str:
    """Blank every configured token, Bearer/Basic value and token-like query value in text."""
    for secret in secrets():
        if secret in text:
            text = text.replace(secret, "***")
        stripped = secret.strip()
        if stripped != secret and len(stripped) >= 4 and stripped in text:
            text = text.replace(stripped, "***")
    pattern = _compiled(frozenset(SECRET_NAMES))
    return pattern.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def scrubber() -> Callable[[str], str] | None:
    """Blanks the configured tokens in text bound for the database (an answer that echoes a
    token into model data); None when no token is set, so the common case costs nothing.
    Only the exact tokens: a description that mentions "Bearer" is data, not a secret."""
    found = secrets()
    if not found:
        return None

    def scrub(text: str) -> str:
        for secret in found:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    return scrub


def token(name: str) -> str | None:
    """The token in `name`, or None; one that cannot go in a header is refused with a line
    naming the variable (and never the value), instead of failing later as a network error."""
    value = os.environ.get(name)
    if not value:
        return None
    for position, char in enumerate(value, 1):
        if not "!" <= char <= "~":
            what = "a control character" if char < " " or char == "\x7f" else "a space"
            if char > "~":
                what = "a non-ASCII character"
            hint = " (a line end from a file edited on Windows?)" if char in "\r\n" else ""
            raise SettingError(
                f"{name} holds {what} at position {position} of {len(value)}{hint}; "
                "set it to the token alone"
            )
    return value


class RedactingFilter(logging.Filter):
    """Make sure no secret survives into a log line, whichever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:  # a traceback (-v) is text too
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()


FILTER = RedactingFilter()


def guard(handler: logging.Handler) -> logging.Handler:
    """A log handler that redacts every record it is given (filters on loggers do not apply
    to records propagated from their children; a handler's do)."""
    if FILTER not in handler.filters:
        handler.addFilter(FILTER)
    return handler


for _name in ("httpx", "httpcore", "scraper"):
    logging.getLogger(_name).addFilter(FILTER)
