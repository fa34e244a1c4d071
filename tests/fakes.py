"""In-memory stand-ins for the Redis adapters (shared/store.py's ArticleStore, services/publish/repository.py's
PublishRepository), for unit tests of the use cases. They keep the rules the use cases rely on (versions,
state changes from allowed states only, deadlines, the outboxes), not Redis's atomicity or its keys:
tests/integration/test_store.py and the process tests cover those on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from services.publish.health import Health
from services.publish.model import Delivery
from shared.contracts import ArticleState
from shared.store import MAX_ENRICH_ATTEMPTS, Accepted, StuckArticle
from shared.times import iso


@dataclass
class _Article:
    version: int
    state: str
    raw: dict
    content_hash: str
    received_ts: float
    deadline: float | None
    attempts: int = 0
    error: str = ""
    enriched: dict | None = None
    published_version: int | None = None


class FakeArticleStore:
    def __init__(self, stuck_after_s: float = 120.0):
        self.stuck_after_s = stuck_after_s
        self.articles: dict[str, _Article] = {}
        self.outbox: list[tuple[str, int, str]] = []
        self.publish_outbox: list[tuple[str, int, str]] = []
        self.feed: dict[str, float] = {}
        self.sweep_turn_taken = False

    def accept(self, article_id: str, raw: dict, content_hash: str, request_id: str = "") -> Accepted:
        old = self.articles.get(article_id)
        if old and old.content_hash == content_hash:
            return Accepted(old.version, duplicate=True)
        version = old.version + 1 if old else 1
        now = time.time()
        published = old.published_version if old else None
        deadline = now + self.stuck_after_s
        self.articles[article_id] = _Article(version, ArticleState.RECEIVED, raw, content_hash, now, deadline,
                                             published_version=published)  # fmt: skip
        self.outbox.append((article_id, version, request_id))
        return Accepted(version, duplicate=False)

    def _move(self, article_id: str, version: int, allowed: Iterable[str], to: str) -> _Article | None:
        article = self.articles.get(article_id)
        if article is None or article.version != version or article.state not in allowed:
            return None
        article.state = to
        article.deadline = None if to in ArticleState.FINAL else time.time() + self.stuck_after_s
        return article

    def start_enriching(self, article_id: str, version: int) -> bool:
        article = self._move(
            article_id, version, (ArticleState.RECEIVED, ArticleState.ENRICHING), ArticleState.ENRICHING
        )
        if article is None:
            return False
        article.attempts += 1
        if article.attempts > MAX_ENRICH_ATTEMPTS:
            self.fail(article_id, version, f"gave up after {MAX_ENRICH_ATTEMPTS} attempts to enrich it")
            return False
        return True

    def save_enriched(self, article_id: str, version: int, article: dict, request_id: str = "") -> bool:
        enrichable = (ArticleState.RECEIVED, ArticleState.ENRICHING)
        moved = self._move(article_id, version, enrichable, ArticleState.ENRICHED)
        if moved is None:
            return False
        moved.enriched = article
        self.publish_outbox.append((article_id, version, request_id))
        return True

    def fail(self, article_id: str, version: int, reason: str) -> bool:
        allowed = (ArticleState.RECEIVED, ArticleState.ENRICHING, ArticleState.ENRICHED)
        moved = self._move(article_id, version, allowed, ArticleState.FAILED)
        if moved:
            moved.error = reason
        return moved is not None

    def mark_published(self, article_id: str, version: int, facets=()) -> bool:
        moved = self._move(article_id, version, (ArticleState.ENRICHED,), ArticleState.PUBLISHED)
        if moved:
            moved.published_version, moved.enriched = version, None
            self.feed[article_id] = time.time()
        return moved is not None

    def status(self, article_id: str) -> dict | None:
        article = self.articles.get(article_id)
        if article is None:
            return None
        received = iso(article.received_ts)
        return {"id": article_id, "version": article.version, "status": article.state, "received_at": received,
                "version_received_at": received, "updated_at": received,
                **({"error": article.error} if article.error else {})}  # fmt: skip

    def raw(self, article_id: str) -> dict | None:
        article = self.articles.get(article_id)
        return article.raw if article else None

    def enriched(self, article_id: str) -> dict | None:
        article = self.articles.get(article_id)
        return article.enriched if article else None

    def take_publish_outbox(self, limit: int) -> list[tuple[str, int, str]]:
        taken, self.publish_outbox = self.publish_outbox[:limit], self.publish_outbox[limit:]
        return taken

    def hand_to_publish(self, refs: list[tuple[str, int]]) -> None:
        self.publish_outbox += [(article_id, version, "") for article_id, version in refs]

    def take_sweep_turn(self, interval_s: float) -> bool:
        taken, self.sweep_turn_taken = self.sweep_turn_taken, True
        return not taken

    def overdue(self, limit: int = 500) -> list[StuckArticle]:
        now, stuck = time.time(), []
        for article_id, article in self.articles.items():
            if article.deadline is not None and article.deadline <= now and len(stuck) < limit:
                article.deadline = now + self.stuck_after_s
                stuck.append(StuckArticle(article_id, article.version, article.state))
        return stuck

    def expire_published(self, cutoff: float, limit: int = 500) -> int:
        old = [a for a, ts in self.feed.items() if ts < cutoff and self.articles[a].state == ArticleState.PUBLISHED]
        for article_id in old[:limit]:
            del self.feed[article_id], self.articles[article_id]
        return len(old[:limit])


@dataclass
class FakePublishRepository:
    """Subscriptions, payloads, deliveries and endpoint health; the feed and each article's published version
    are the store's, as in Redis."""

    store: FakeArticleStore
    subs: dict[str, dict] = field(default_factory=dict)
    healths: dict[str, Health] = field(default_factory=dict)
    bodies: dict[tuple[str, int], str] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)
    locks: set[str] = field(default_factory=set)
    wakes: int = 0

    def save_subscription(self, sub: dict, cap: int | None = None) -> bool:
        owned = [s for s in self.subs.values() if s.get("consumer_id") == sub.get("consumer_id")]
        if cap is not None and len(owned) >= cap:
            return False
        self.subs[sub["id"]] = sub
        return True

    def subscription(self, sub_id: str) -> dict | None:
        return self.subs.get(sub_id)

    def update_subscription(self, sub_id: str, change: Callable[[dict], dict | None]) -> dict | None:
        if sub_id not in self.subs:
            return None
        new = change(self.subs[sub_id])
        if new is not None:
            self.subs[sub_id] = new
        return self.subs[sub_id]

    def health(self, sub_id: str) -> Health:
        return self.healths.get(sub_id, Health())

    def open_circuit(self, sub_id: str, until: float) -> None:
        old = self.health(sub_id)
        self.healths[sub_id] = Health(old.last_success_ts, old.failing_since_ts, until)

    def close_circuit(self, sub_id: str) -> None:
        old = self.health(sub_id)
        self.healths[sub_id] = Health(old.last_success_ts, old.failing_since_ts, None)

    def save_payloads(self, payloads: list[tuple[str, int, str]]) -> None:
        for article_id, version, body in payloads:
            self.bodies.setdefault((article_id, version), body)

    def payload(self, article_id: str, version: int) -> str | None:
        return self.bodies.get((article_id, version))

    def payloads(self, refs: list[tuple[str, int]]) -> list[str | None]:
        return [self.bodies.get(ref) for ref in refs]

    def published_versions(self, article_ids: list[str]) -> list[int | None]:
        articles = self.store.articles
        return [articles[a].published_version if a in articles else None for a in article_ids]

    def feed_window(self, since: float, until: float, offset: int, limit: int) -> list[tuple[str, float]]:
        window = sorted((ts, a) for a, ts in self.store.feed.items() if since <= ts <= until)
        return [(a, ts) for ts, a in window[offset : offset + limit]]

    def create_deliveries(self, deliveries: Iterable[tuple[Delivery, float]]) -> list[bool]:
        created = []
        for delivery, due_at in deliveries:
            created.append(delivery.id not in self.deliveries)
            if created[-1]:
                self.deliveries[delivery.id], self.due[delivery.id] = delivery, due_at
        return created

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    def lock_and_read(self, delivery_id: str, ttl_s: float) -> tuple[bool, Delivery | None]:
        if delivery_id in self.locks:
            return False, self.deliveries.get(delivery_id)
        self.locks.add(delivery_id)
        return True, self.deliveries.get(delivery_id)

    def unlock_delivery(self, delivery_id: str) -> None:
        self.locks.discard(delivery_id)

    def save_delivery(self, delivery: Delivery, due_at: float | None, was: str | None = None) -> None:
        self.deliveries[delivery.id] = delivery
        if due_at is None:
            self.due.pop(delivery.id, None)
        else:
            self.due[delivery.id] = due_at

    def wake(self) -> None:
        self.wakes += 1
