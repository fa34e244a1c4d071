"""What every publish use case is given: the adapters, wired once per process by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from services.publish.health import BreakerPolicy
from services.publish.repository import PublishRepository
from shared.config import Settings
from shared.store import ArticleStore


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """The request is valid but the resource's state does not allow it now (409)."""


@dataclass(frozen=True)
class Publisher:
    settings: Settings
    store: ArticleStore
    repo: PublishRepository
    send_task: Callable[[str, list], None]
    http: httpx.Client
    queue_depth: Callable[[str], int]  # messages waiting in a Celery queue

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery waits for its task before it is claimed again."""
        return max(60.0, 2 * self.settings.webhook_timeout_s)

    @property
    def lock_ttl_s(self) -> float:
        """How long a delivery's lock (and its concurrency slot) outlives a worker that died holding it.
        An attempt takes at most about the timeout per phase (connect, send, each read of the answer)."""
        return self.settings.webhook_timeout_s + 30

    @property
    def breaker(self) -> BreakerPolicy:
        s = self.settings
        return BreakerPolicy(s.webhook_breaker_window, s.webhook_breaker_threshold, s.webhook_breaker_cooldown_s)
