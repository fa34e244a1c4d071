"""What every publish use case is given: the adapters, wired once per process by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.publish.health import BreakerPolicy
from services.publish.repository import PublishRepository
from shared.config import Settings
from shared.store import ArticleStore


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """The request is valid but the resource's state does not allow it now (409)."""


class QuotaExceeded(Exception):
    """A consumer asked for more than its limits allow (409, no point retrying)."""


@dataclass(frozen=True)
class Publisher:
    settings: Settings
    store: ArticleStore
    repo: PublishRepository
    queue_depth: Callable[[str], int]  # messages waiting in a Celery queue

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery (its lock and its concurrency slot too) stays with the engine that claimed
        it. An attempt ends within the webhook timeout, so only an engine that died holds one this long."""
        return 2 * self.settings.webhook_timeout_s + 5

    @property
    def burst(self) -> int:
        """How many deliveries of one subscription are worth having due at once: enough for its concurrency slots
        and as many again waiting behind them. Fan-out makes only these due and puts the rest in the
        subscription's waiting line; an attempt that frees its slot calls up this many."""
        return 2 * self.settings.webhook_max_in_flight

    @property
    def breaker(self) -> BreakerPolicy:
        s = self.settings
        return BreakerPolicy(s.webhook_breaker_window, s.webhook_breaker_threshold, s.webhook_breaker_cooldown_s)
