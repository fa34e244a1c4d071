"""Admission control beside the per-key token bucket (shared/ratelimit.py): the enrich backlog and Redis memory,
both read from Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis


class Threshold:
    """A reading (the enrich backlog, Redis memory in use) taken at most once a second per process and
    compared to its limit, so admission costs no round trip on most requests."""

    def __init__(self, read: Callable[[], float], limit: float, ttl_s: float = 1.0):
        self.read, self.limit, self.ttl_s = read, limit, ttl_s
        self._cached, self._read_at = 0.0, float("-inf")

    def full(self) -> bool:
        if time.monotonic() - self._read_at > self.ttl_s:
            self._cached, self._read_at = self.read(), time.monotonic()
        return self._cached >= self.limit


def memory_fraction(client: redis.Redis) -> float:
    """Redis `used_memory / maxmemory`; 0 when no maxmemory is set (nothing to stay under)."""
    info = client.info("memory")
    return info["used_memory"] / info["maxmemory"] if info.get("maxmemory") else 0.0
