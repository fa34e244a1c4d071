"""The HTTP client webhooks go out on: aiohttp (it keeps hundreds of requests in flight at little cost, where
httpx's async pool slowed to seconds a request here), keep-alive per host, no proxies from the environment,
and the SSRF rules applied to the address actually connected to.

aiohttp's connector opens every connection to the addresses `_resolve_host(host, port)` returns (an IP
literal included, which skips the resolver). Ours resolves with our resolver, refuses unless every address
is public (when private ones are not allowed), and hands the connector exactly the checked addresses. TLS
(SNI and certificate checks) and the Host header still use the URL's host, and connections are pooled per
host as usual, so a DNS answer that changes between the check and the connection (rebinding) cannot slip
through. `_resolve_host` is aiohttp's own hook, not public API: tests/unit/test_ssrf_transport.py guards it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import aiohttp

from services.publish.ssrf import Resolver, check_addresses, system_resolver

USER_AGENT = "Newsflow-Webhooks/1"


class GuardedConnector(aiohttp.TCPConnector):
    def __init__(self, allow_private: bool, resolve: Resolver, **kwargs):
        super().__init__(use_dns_cache=False, **kwargs)
        self.allow_private, self.resolve = allow_private, resolve

    async def _resolve_host(self, host: str, port: int, traces=None) -> list:
        try:
            addresses = [host] if _is_ip(host) else await asyncio.to_thread(self.resolve, host, port)
        except (OSError, UnicodeError) as exc:
            raise aiohttp.ClientConnectionError(f"{host} does not resolve: {exc}") from None
        if not self.allow_private:
            check_addresses(host, addresses)
        if not addresses:
            raise aiohttp.ClientConnectionError(f"{host} resolves to no address")
        return [_result(host, address, port) for address in addresses]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _result(host: str, address: str, port: int) -> dict:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
    return {"hostname": host, "host": address, "port": port, "family": family, "proto": 0, "flags": flags}


def webhook_client(
    allow_private: bool, resolve: Resolver = system_resolver, connections: int = 100
) -> aiohttp.ClientSession:
    """`connections`: most connections open at once (keep-alive ones included), across every host. Create it
    inside the event loop that uses it."""
    connector = GuardedConnector(allow_private, resolve, limit=connections, keepalive_timeout=30)
    return aiohttp.ClientSession(connector=connector, trust_env=False, headers={"user-agent": USER_AGENT})
