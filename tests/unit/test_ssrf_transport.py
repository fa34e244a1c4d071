"""The SSRF rules at connection time, with resolvers the test controls and a receiver on loopback."""

import asyncio

import pytest

from services.publish.delivery import BLOCKED, CONNECT_ERROR, OK, Attempt, post
from services.publish.ssrf import Resolver as ResolverType
from services.publish.ssrf import check_webhook_url, system_resolver
from services.publish.transport import webhook_client
from tests.helpers import Receiver

BODY = '{"type": "article.published"}'
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


def send(url: str, allow_private: bool, resolve: ResolverType = system_resolver, times: int = 1) -> Attempt:
    """POST `times` over one client (in one event loop, as the engine does); the last attempt."""

    async def attempts() -> list[Attempt]:
        async with webhook_client(allow_private, resolve) as client:
            return [await post(client, url, BODY, HEADERS, 2) for _ in range(times)]

    return asyncio.run(attempts())[-1]


class Resolver:
    """Answers from a script (the last answer repeats) and counts the look-ups."""

    def __init__(self, *answers: list[str]):
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def test_dns_rebinding_to_loopback_is_refused_at_connection_time(receiver):
    url = f"http://rebind.example:{receiver.port}/hook"
    resolve = Resolver(["93.184.216.34"], ["127.0.0.1"])  # public when checked, loopback when delivering
    check_webhook_url(url, False, resolve)  # the subscription is accepted
    attempt = send(url, False, resolve)
    assert attempt.kind == BLOCKED and not attempt.succeeded
    assert "rebind.example resolves to 127.0.0.1, a non-public address (loopback)" in attempt.error
    assert receiver.received == []


@pytest.mark.parametrize("answer", [["169.254.169.254"], ["::ffff:127.0.0.1"], ["93.184.216.34", "10.0.0.1"]])
def test_any_non_public_answer_refuses_the_connection_before_any_is_made(receiver, answer):
    attempt = send("http://hooks.example/x", False, Resolver(answer))
    assert attempt.kind == BLOCKED and "non-public" in attempt.error


def test_literal_loopback_url_is_refused_when_private_addresses_are_not_allowed(receiver):
    attempt = send(receiver.url, False)
    assert attempt.kind == BLOCKED and "127.0.0.1" in attempt.error
    assert receiver.received == []


def test_the_checked_address_is_the_one_connected_to_and_the_host_header_is_kept(receiver):
    resolve = Resolver(["127.0.0.1"])
    url = f"http://hooks.example:{receiver.port}/hook"  # resolves only through our resolver
    attempt = send(url, True, resolve)
    assert attempt.kind == OK and attempt.status_code == 200
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example:{receiver.port}"
    assert request.body == BODY.encode()
    assert resolve.calls == ["hooks.example"]


def test_next_address_is_tried_when_the_first_refuses(receiver):
    resolve = Resolver(["::1", "127.0.0.1"])  # the receiver listens on IPv4 only
    attempt = send(f"http://hooks.example:{receiver.port}/hook", True, resolve)
    assert attempt.kind == OK and len(receiver.received) == 1


def test_unresolvable_host_is_a_connection_error():
    def fails(host, port):
        raise OSError("Name or service not known")

    attempt = send("http://nowhere.example/x", False, fails)
    assert attempt.kind == CONNECT_ERROR and "does not resolve" in attempt.error


def test_connections_are_kept_alive_and_reused_per_host(receiver):
    resolve = Resolver(["127.0.0.1"])
    assert send(f"http://hooks.example:{receiver.port}/hook", True, resolve, times=5).succeeded
    assert len(receiver.received) == 5
    assert len(receiver.connections) == 1 and resolve.calls == ["hooks.example"]


def test_proxy_settings_in_the_environment_are_ignored(receiver, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    attempt = send(receiver.url, True)
    assert attempt.succeeded and len(receiver.received) == 1
