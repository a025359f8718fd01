"""The HTTP layer against a real local server: what is retried, what is not, what is never sent."""

from __future__ import annotations

import logging

import pytest

from scraper.demo.server import FAULTS, Faults
from scraper.net.client import ApiClient, ApiError, NotFound
from scraper.sources import civitai

MODEL = {"id": 7, "name": "m", "modelVersions": []}


def client(server, **kwargs) -> ApiClient:
    return ApiClient(server.base_url, civitai.POLICY, rps=0, backoff=0.01, **kwargs)


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "slow"])
def test_transient_failures_are_retried(serve, fault: str) -> None:
    server = serve([MODEL], faults=Faults())
    server.faults.script.extend([fault, fault])
    waits: list[float] = []
    with client(server, sleep=waits.append) as api:  # the waits recorded, not slept
        assert api.get_json("/models/7")["name"] == "m"
        assert api.requests == 3 and api.retries == 2
    assert len(waits) == 2 and all(
        0 < w <= (1.0 if "retry-after" in fault else 0.02) for w in waits
    )


def test_slow_answer_times_out_and_is_retried(serve, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPER_TIMEOUT", "0.3")
    server = serve([MODEL], faults=Faults(slow_seconds=1.0))
    server.faults.script.append("slow")
    with client(server) as api:
        assert api.get_json("/models/7")["id"] == 7
        assert api.retries == 1


def test_retry_after_is_honoured(serve) -> None:
    import time

    server = serve([MODEL])
    server.faults.script.append("429-retry-after")  # Retry-After: 1
    with client(server) as api:  # slept for real once, by the default sleep
        started = time.monotonic()
        api.get_json("/models/7")
        assert time.monotonic() - started >= 0.95
    server.faults.script.append("429-retry-after")
    waits: list[float] = []
    with client(server, sleep=waits.append) as api:
        api.get_json("/models/7")
    assert waits == [1.0]  # Retry-After, not the 0.01 s backoff


def test_gives_up_with_one_clear_line(serve) -> None:
    server = serve([MODEL])
    server.faults.script.extend(["503"] * 10)
    with client(server, attempts=3) as api, pytest.raises(ApiError) as caught:
        api.get_json("/models/7")
    message = str(caught.value)
    assert "\n" not in message and "3 attempts" in message and "/models/7" in message
    assert len(server.requests) == 3


@pytest.mark.parametrize(("path", "status"), [("/models/abc", 400), ("/nothing/here", 404)])
def test_client_errors_are_not_retried(serve, path: str, status: int) -> None:
    server = serve([MODEL])
    with client(server) as api, pytest.raises(ApiError) as caught:
        api.get_json(path)
    assert caught.value.status == status
    assert len(server.requests) == 1


def test_not_found_names_the_answer(serve) -> None:
    server = serve([MODEL])
    with client(server) as api, pytest.raises(NotFound, match="No model with id 8"):
        api.get_json("/models/8")


def test_page_cap_429_is_not_retried(serve) -> None:
    server = serve([MODEL])
    with client(server) as api:
        import httpx  # the fake has no page cap: check the decision on a crafted answer

        request = httpx.Request("GET", server.base_url + "/models")
        answer = httpx.Response(
            429,
            json={"error": "You've requested too many pages, please use cursors instead"},
            request=request,
        )
        with pytest.raises(ApiError, match="too many pages"):
            api._decode(answer)


def test_token_goes_in_header_and_never_in_errors(serve, monkeypatch, caplog) -> None:
    monkeypatch.setenv("CIVITAI_TOKEN", "sekrit-token-123")
    server = serve([MODEL])
    server.faults.script.extend(["503"] * 3)
    caplog.set_level(logging.DEBUG)
    with client(server, attempts=2) as api, pytest.raises(ApiError) as caught:
        api.get_json("/models/7", params=[("token", "sekrit-token-123")])
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sekrit-token-123"
    assert "sekrit" not in str(caught.value)
    assert "sekrit" not in caplog.text


def test_user_agent_is_descriptive(serve) -> None:
    server = serve([MODEL])
    with client(server) as api:
        api.get_json("/models/7")
    assert server.requests[0]["headers"]["User-Agent"].startswith("scraper/")


def test_rate_limiter_spaces_requests(serve) -> None:
    import time

    server = serve([MODEL])
    with ApiClient(server.base_url, civitai.POLICY, rps=20) as api:
        started = time.monotonic()
        for _ in range(11):
            api.get_json("/models/7")
        elapsed = time.monotonic() - started
    assert elapsed >= 0.45  # 10 gaps of 50 ms after the first token


def test_a_source_client_goes_through_the_transport_it_is_given(serve) -> None:
    import httpx

    class Counting(httpx.HTTPTransport):
        def __init__(self) -> None:
            super().__init__()
            self.sent: list[str] = []

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.sent.append(request.url.path)
            return super().handle_request(request)

    serve([MODEL])
    transport = Counting()
    with civitai.SOURCE.client(rps=0, transport=transport) as api:
        assert api.get_json("/models/7")["id"] == 7
    assert transport.sent == ["/api/v1/models/7"]
