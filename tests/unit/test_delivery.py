"""One webhook attempt against a scripted receiver on loopback: what counts as success and what is logged."""

import asyncio

import pytest

from services.publish.delivery import CONNECT_ERROR, HTTP_ERROR, OK, RESPONSE_EXCERPT_BYTES, TIMEOUT, Attempt, post
from services.publish.transport import webhook_client
from tests.helpers import Receiver, Reply, free_port

BODY = '{"type": "article.published"}'
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


def send(url: str, timeout_s: float = 2) -> Attempt:
    async def attempt() -> Attempt:
        async with webhook_client(allow_private=True) as client:
            return await post(client, url, BODY, HEADERS, timeout_s)

    return asyncio.run(attempt())


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_success(status):
    with Receiver([status]) as receiver:
        attempt = send(receiver.url)
    assert attempt.succeeded and attempt.kind == OK and attempt.status_code == status and attempt.error is None


@pytest.mark.parametrize("status", [400, 401, 404, 409, 410, 429, 500, 502, 503])
def test_4xx_and_5xx_are_failures_with_their_status(status):
    with Receiver([status]) as receiver:
        attempt = send(receiver.url)
    assert not attempt.succeeded and attempt.kind == HTTP_ERROR
    assert attempt.status_code == status and attempt.error == f"HTTP {status}"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_failures_and_never_followed(status):
    with Receiver() as target, Receiver([Reply(status, {"Location": target.url})]) as receiver:
        attempt = send(receiver.url)
        assert not attempt.succeeded and attempt.status_code == status
        assert "redirects are not followed" in attempt.error
        assert len(receiver.received) == 1 and target.received == []


def test_a_slow_answer_is_a_timeout():
    with Receiver([Reply(200, delay_s=1.5)]) as receiver:
        attempt = send(receiver.url, 0.3)
    assert attempt.kind == TIMEOUT and attempt.status_code is None
    assert attempt.error == "timed out after 0.3 s" and attempt.duration_ms < 1500


def test_nobody_listening_is_a_connection_error():
    attempt = send(f"http://127.0.0.1:{free_port()}/hook")
    assert attempt.kind == CONNECT_ERROR and attempt.status_code is None
    assert "Cannot connect to host 127.0.0.1" in attempt.error


def test_response_excerpt_is_capped_at_2_kb():
    with Receiver([Reply(500, body=b"x" * 100_000)]) as receiver:
        attempt = send(receiver.url)
    assert attempt.response_excerpt == "x" * RESPONSE_EXCERPT_BYTES


def test_retry_after_is_read_and_the_log_keeps_only_the_documented_fields():
    with Receiver([Reply(429, {"Retry-After": "120"}, body=b"slow down")]) as receiver:
        attempt = send(receiver.url)
    assert attempt.retry_after == "120"
    logged = attempt.as_dict()
    assert set(logged) == {"at", "status_code", "duration_ms", "error", "response_excerpt"}
    assert logged["status_code"] == 429 and logged["response_excerpt"] == "slow down"
    assert logged["at"].endswith("Z") and logged["duration_ms"] >= 0
