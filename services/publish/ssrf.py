"""Which webhook URLs and addresses we may call (pure, with the resolver passed in).

A URL must be http(s) with a host and no userinfo, and every address its host resolves to must be
global. The same address rules are applied again at connection time (services/publish/transport.py)
to the address actually connected to, so a host that resolves to a public address when the
subscription is made and to 127.0.0.1 later (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import yarl

Resolver = Callable[[str, int], list[str]]


class UnsafeURL(ValueError):
    """A subscription URL we refuse to store (422 on create/PATCH)."""


class UnsafeAddress(Exception):
    """Raised at connection time: the host resolved to an address webhooks may not reach."""


def _nets(*pairs: tuple[str, str]) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    return [(ipaddress.ip_network(net), label) for net, label in pairs]


# Checked in order, narrowest first; an address in none of these must still be `is_global` to pass.
BLOCKED_V4 = _nets(
    ("0.0.0.0/8", "unspecified/'this network'"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
)
BLOCKED_V6 = _nets(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("::/8", "reserved (incl. IPv4-compatible)"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (incl. Teredo)"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique local (ULA)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(address: str) -> str | None:
    """Why webhooks may not reach `address`, or None when it is a global unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded, via = None, ""
        if ip.ipv4_mapped is not None:
            embedded, via = ip.ipv4_mapped, "IPv4-mapped"
        elif ip in NAT64:
            embedded, via = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
        elif ip.sixtofour is not None:
            embedded, via = ip.sixtofour, "6to4"
        if embedded is not None:
            reason = blocked_reason(str(embedded))
            return f"{via} {reason}" if reason else None
    for net, label in BLOCKED_V4 if ip.version == 4 else BLOCKED_V6:
        if ip in net:
            return label
    if not ip.is_global or ip.is_multicast:
        return "not globally routable"
    return None


def is_public(address: str) -> bool:
    return blocked_reason(address) is None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_addresses(host: str, addresses: list[str]) -> None:
    """Raise UnsafeAddress unless there is at least one address and every one is public."""
    if not addresses:
        raise UnsafeAddress(f"{host} resolves to no address")
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            raise UnsafeAddress(
                f"{host} resolves to {address}, a non-public address ({reason}); webhooks only go to public ones"
            )


def check_webhook_url(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> None:
    """Raise UnsafeURL unless `url` is http(s) with a host, no userinfo, and (unless private addresses are
    allowed) every address it resolves to is public. It is parsed as the sender (aiohttp) parses it (yarl)."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError) as exc:
        bad_port = "port" in str(exc).lower()  # yarl refuses one out of range as it parses
        raise UnsafeURL("The port is not a valid port number." if bad_port else "Not a valid URL.") from None
    port = parsed.port
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeURL("Must be an http(s) URL with a host.")
    if parsed.user is not None or parsed.password is not None or "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        raise UnsafeURL("Must not carry credentials or an '@' before the host (user:password@).")
    if not port or not 0 < port < 65536:
        raise UnsafeURL("The port is not a valid port number.")
    if allow_private:
        return
    try:
        addresses = resolve(parsed.host, port)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"Host {parsed.host!r} does not resolve.") from None
    try:
        check_addresses(parsed.host, addresses)
    except UnsafeAddress as exc:
        raise UnsafeURL(f"Host {exc}.") from None


METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data"})


def dev_mode_warnings(url: str) -> list[str]:
    """What to warn about in a URL that only WEBHOOK_ALLOW_PRIVATE=true lets through: a link-local address or a
    cloud metadata host name, where webhooks would reach the machine's credentials service. Literal only: dev
    mode resolves nothing when a subscription is made."""
    host = (yarl.URL(url).host or "").strip("[]").lower()
    reason = blocked_reason(host)
    if host in METADATA_HOSTS or (reason and "link-local" in reason):
        why = "a cloud metadata host" if host in METADATA_HOSTS else f"a {reason} address"
        return [f"{host} is {why}; accepted only because WEBHOOK_ALLOW_PRIVATE=true, refused in production."]
    return []
