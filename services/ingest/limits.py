"""Admission control: a token bucket per API key and the enrich backlog, both read from Redis."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis

# KEYS[1] bucket hash; ARGV: rate/s, burst, now, cost -> {allowed, seconds until enough tokens}
_TAKE = """
local rate, burst, now, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = tokens >= cost
if allowed then tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
if allowed then return {1, '0'} end
return {0, tostring((cost - tokens) / rate)}
"""


class RateLimiter:
    """`take(key, cost)` -> seconds to wait (0 when admitted). A cost above the burst is capped at
    it, so a full batch is admitted once the bucket is full rather than never."""

    def __init__(self, client: redis.Redis, rate: float, burst: int, prefix: str = "nf:ratelimit:"):
        self.rate, self.burst, self.prefix = rate, burst, prefix
        self._take = client.register_script(_TAKE)

    def take(self, key: str, cost: int = 1) -> int:
        allowed, wait = self._take(
            keys=[self.prefix + key], args=[self.rate, self.burst, time.time(), min(cost, self.burst)]
        )
        return 0 if allowed else max(1, math.ceil(float(wait)))


class Backlog:
    """Depth of the enrich queue, read at most once a second per process."""

    def __init__(self, depth: Callable[[], int], limit: int, ttl_s: float = 1.0):
        self.depth, self.limit, self.ttl_s = depth, limit, ttl_s
        self._cached, self._read_at = 0, float("-inf")

    def full(self) -> bool:
        if time.monotonic() - self._read_at > self.ttl_s:
            self._cached, self._read_at = self.depth(), time.monotonic()
        return self._cached >= self.limit
