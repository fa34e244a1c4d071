"""Admission control beside the per-key token bucket (shared/ratelimit.py): the enrich backlog."""

from __future__ import annotations

import time
from collections.abc import Callable


class Backlog:
    """Depth of the enrich queue, read at most once a second per process."""

    def __init__(self, depth: Callable[[], int], limit: int, ttl_s: float = 1.0):
        self.depth, self.limit, self.ttl_s = depth, limit, ttl_s
        self._cached, self._read_at = 0, float("-inf")

    def full(self) -> bool:
        if time.monotonic() - self._read_at > self.ttl_s:
            self._cached, self._read_at = self.depth(), time.monotonic()
        return self._cached >= self.limit
