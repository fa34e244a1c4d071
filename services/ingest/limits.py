"""Admission control: a token bucket per API key, the enrich backlog and Redis memory, all read from Redis."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import redis

# KEYS[1] bucket hash; ARGV: rate/s, burst, now, need, lease -> {tokens granted (0: refused), seconds to wait}.
# Grants up to `lease` tokens (never fewer than `need`) so the caller can spend the rest without asking again.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local need, lease = tonumber(ARGV[4]), tonumber(ARGV[5])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = 0
if tokens >= need then granted = math.max(need, math.floor(math.min(tokens, lease))) end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
if granted > 0 then return {granted, '0'} end
return {0, tostring((need - tokens) / rate)}
"""


class RateLimiter:
    """`take(key, cost)` -> seconds to wait (0 when admitted). A cost above the burst is capped at
    it, so a full batch is admitted once the bucket is full rather than never.

    Each process takes tokens from the shared bucket a lease at a time (a twentieth of the burst, at most
    a tenth of a second's worth) and spends them locally, so most requests cost no Redis round trip. A key
    so gets its rate, and a burst of at most one lease per process above INGEST_RATE_BURST."""

    def __init__(self, client: redis.Redis, rate: float, burst: int, prefix: str = "nf:ratelimit:"):
        self.rate, self.burst, self.prefix = rate, burst, prefix
        self.lease = max(1, min(burst // 20, int(rate / 10)))
        self._take = client.register_script(_TAKE)
        self._leased: dict[str, int] = {}  # key -> tokens this process holds
        self._lock = threading.Lock()

    def take(self, key: str, cost: int = 1) -> int:
        cost = min(cost, self.burst)
        with self._lock:
            held = self._leased.get(key, 0)
            if held >= cost:
                self._leased[key] = held - cost
                return 0
        need = cost - held
        granted, wait = self._take(
            keys=[self.prefix + key], args=[self.rate, self.burst, time.time(), need, max(need, self.lease)]
        )
        if not int(granted):
            return max(1, math.ceil(float(wait)))
        with self._lock:  # another thread may have spent some of `held` meanwhile: never below zero
            self._leased[key] = max(0, self._leased.get(key, 0) + int(granted) - cost)
        return 0


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
