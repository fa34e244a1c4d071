"""The HTTP client webhooks go out on: keep-alive per host, no proxies from the environment, and the
SSRF rules applied to the address actually connected to.

httpcore opens every connection through a network backend's `connect_tcp(host, port)`. Ours resolves
the host itself, refuses unless every address is public (when private ones are not allowed), then
connects to the checked address. TLS (SNI and certificate checks) and the Host header still use the
URL's host, and connections are pooled per host as usual, so a DNS answer that changes between the
check and the connection (rebinding) cannot slip through.
"""

from __future__ import annotations

import httpcore
import httpx

from services.publish.ssrf import Resolver, check_addresses, system_resolver

USER_AGENT = "Newsflow-Webhooks/1"
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50, keepalive_expiry=30)


class GuardedBackend(httpcore.SyncBackend):
    def __init__(self, allow_private: bool, resolve: Resolver = system_resolver):
        self.allow_private = allow_private
        self.resolve = resolve

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = self.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        if not self.allow_private:
            check_addresses(host, addresses)
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure


def webhook_client(allow_private: bool, resolve: Resolver = system_resolver) -> httpx.Client:
    transport = httpx.HTTPTransport(limits=LIMITS)
    # httpx has no public way to choose httpcore's network backend: give its transport a pool built
    # with the same settings and ours (tests/unit/test_ssrf_transport.py guards this).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=LIMITS.max_connections,
        max_keepalive_connections=LIMITS.max_keepalive_connections,
        keepalive_expiry=LIMITS.keepalive_expiry,
        network_backend=GuardedBackend(allow_private, resolve),
    )
    return httpx.Client(
        transport=transport, trust_env=False, follow_redirects=False, headers={"user-agent": USER_AGENT}
    )
