"""Ingest and publish behind their real gunicorn (the Procfile's commands): what reaches the app of an oversized
body."""

import httpx
import pytest

from tests.conftest import INGEST_KEY
from tests.helpers import free_port, wait_for

LIMIT = 1048576  # INGEST_MAX_BYTES's default
HEADERS = {"Authorization": f"Bearer {INGEST_KEY}", "Content-Type": "application/json"}


def chunked(body: bytes, size: int = 65536):
    """A generator body: httpx sends it with Transfer-Encoding: chunked, no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def article_of(length: int) -> bytes:
    """A JSON article exactly `length` bytes long."""
    head, tail = b'{"title": "T", "body": "', b'"}'
    return head + b"x" * (length - len(head) - len(tail)) + tail


@pytest.mark.slow
def test_a_body_over_ingest_max_bytes_is_413_naming_the_limit_whether_chunked_or_not(processes):
    port = free_port()
    processes(["ingest"], INGEST_PORT=str(port))
    url = f"http://127.0.0.1:{port}/v1/articles"
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 60, "ingest to answer")

    five_mb = article_of(5 * 1024 * 1024)
    for content in (chunked(five_mb), five_mb, chunked(article_of(LIMIT + 1))):
        response = httpx.post(url, content=content, headers=HEADERS)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert f"{LIMIT} bytes (INGEST_MAX_BYTES)" in response.json()["detail"]

    at_the_limit = httpx.post(url, content=chunked(article_of(LIMIT)), headers=HEADERS)
    assert at_the_limit.status_code == 422, at_the_limit.text  # read whole: its body field is over 500,000 chars
    small = httpx.post(url, content=chunked(article_of(1000)), headers=HEADERS)
    assert small.status_code == 202, small.text


@pytest.mark.slow
def test_a_body_over_publish_max_bytes_is_413_naming_the_limit_whether_chunked_or_not(processes):
    """Refused on every route before auth (so no key is needed here), chunked or with a Content-Length."""
    limit = 65536  # PUBLISH_MAX_BYTES's default
    port = free_port()
    processes(["publish"], PUBLISH_PORT=str(port))
    url = f"http://127.0.0.1:{port}/v1/subscriptions"
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 60, "publish to answer")

    for content in (chunked(article_of(limit + 1), size=4096), article_of(limit + 1)):
        response = httpx.post(url, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        assert f"{limit} bytes (PUBLISH_MAX_BYTES)" in response.json()["detail"]
    at_the_limit = httpx.post(url, content=chunked(article_of(limit), size=4096))
    assert at_the_limit.status_code == 401, at_the_limit.text  # read whole, then refused for its missing key
