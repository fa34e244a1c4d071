"""Which webhook URLs we may call (pure, with the resolver passed in)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


class UnsafeURL(ValueError):
    pass


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> None:
    """Raise UnsafeURL unless `url` is http(s) and every address it resolves to is public."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("The port is not a valid port number.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Must be an http(s) URL with a host.")
    if parts.username or parts.password:
        raise UnsafeURL("Must not carry credentials (user:password@).")
    if allow_private:
        return
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"Host {parts.hostname!r} does not resolve.") from None
    blocked = [a for a in addresses if not is_public(a)]
    if blocked or not addresses:
        raise UnsafeURL(f"Host {parts.hostname!r} resolves to a non-public address ({', '.join(blocked)}).")
