"""The Hugging Face Hub's own error answers, told apart as huggingface_hub's hf_raise_for_status
tells them: by the X-Error-Code and X-Error-Message headers, with the status and the body.

The facts and their sources: docs/host-conventions.md and demo/data/huggingface/hub-errors.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..net.client import ApiError

REPO_NOT_FOUND = "RepoNotFound"  # missing, or private and asked without access (401 or 404)
ENTRY_NOT_FOUND = "EntryNotFound"  # a file the revision does not have (a repo without README)
REVISION_NOT_FOUND = "RevisionNotFound"  # a commit that is gone (force-pushed away)
GATED = "GatedRepo"  # a gated repo's files, asked without granted access (401 or 403)
DISABLED = "Disabled"  # X-Error-Message only: "Access to this resource is disabled."
INVALID_TOKEN = "InvalidToken"  # X-Error-Message only: the token itself is refused

_DISABLED_MESSAGE = "Access to this resource is disabled."
_INVALID_TOKEN_MESSAGE = "Invalid credentials in Authorization header"


def own_error(status: int, headers: Mapping[str, str], body: Any) -> bool:
    """Whether a 4xx is the Hub's own answer. A 404 must carry X-Error-Code (a 404 without it
    comes from a proxy or a mirror's web server); a 401/403 its headers or its JSON error."""
    if headers.get("x-error-code"):
        return True
    if status == 404:
        return False
    return bool(headers.get("x-error-message")) or (
        isinstance(body, dict) and isinstance(body.get("error"), str)
    )


def kind(exc: ApiError) -> str | None:
    """What a failed request's answer says, in hf_raise_for_status's order; None when it is
    not one of the Hub's own answers (then it is an error, not a fact about the repo)."""
    code = exc.headers.get("x-error-code")
    message = exc.headers.get("x-error-message")
    if code in (REVISION_NOT_FOUND, ENTRY_NOT_FOUND, GATED):
        return code
    if message == _DISABLED_MESSAGE:
        return DISABLED
    if code == REPO_NOT_FOUND:
        return REPO_NOT_FOUND
    if exc.status == 401 and message == _INVALID_TOKEN_MESSAGE:
        return INVALID_TOKEN
    if exc.status == 401 and (exc.headers or isinstance(exc.body, dict)):
        return REPO_NOT_FOUND  # the Hub answers 401 for private and missing repos alike
    return None
