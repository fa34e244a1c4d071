"""Publish use cases: fan an article out to subscriptions, attempt deliveries, manage subscriptions."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from services.publish.delivery import post, retry_delay
from services.publish.matching import matches
from services.publish.repository import PublishRepository
from services.publish.signing import new_secret, webhook_headers
from services.publish.ssrf import check_webhook_url
from shared.config import Settings
from shared.store import ENRICHED, ArticleStore, iso

log = logging.getLogger(__name__)

PENDING, RETRYING, SUCCEEDED, FAILED = "pending", "retrying", "succeeded", "failed"


@dataclass(frozen=True)
class Publisher:
    """Everything the use cases need, wired once per process by `bootstrap`."""

    settings: Settings
    store: ArticleStore
    repo: PublishRepository
    send_task: Callable[[str, list], None]
    http: httpx.Client

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery waits for its task before it is claimed again."""
        return max(60.0, 2 * self.settings.webhook_timeout_s)


def delivery_id(sub_id: str, article_id: str, version: int, event_type: str) -> str:
    digest = hashlib.sha256(f"{sub_id}|{article_id}|{version}|{event_type}".encode()).hexdigest()
    return "msg_" + digest[:26]


def publish_article(p: Publisher, article_id: str, version: int) -> int:
    """Create one delivery per matching subscription, then mark the article published.
    Re-running it creates nothing twice (deterministic delivery ids). Returns deliveries created."""
    status = p.store.status(article_id)
    if not status or status["version"] != version or status["status"] != ENRICHED:
        log.info("skip publish of %s v%s: state %s", article_id, version, status and status["status"])
        return 0
    article = p.store.enriched(article_id)
    event_type = "article.updated" if p.store.was_published(article_id) else "article.published"
    body = json.dumps({"type": event_type, "timestamp": iso(time.time()), "data": article})
    p.repo.save_payload(article_id, version, body)
    created = 0
    for sub in p.repo.subscriptions():
        if not matches(sub, article, event_type):
            continue
        delivery = new_delivery(sub["id"], article_id, version, event_type)
        if p.repo.create_delivery(delivery, p.lease_s):
            p.send_task("publish.deliver", [delivery["id"]])
            created += 1
    p.store.mark_published(article_id, version)
    log.info("published %s v%s as %s to %d subscription(s)", article_id, version, event_type, created)
    return created


def new_delivery(sub_id: str, article_id: str, version: int, event_type: str) -> dict:
    now = time.time()
    return {
        "id": delivery_id(sub_id, article_id, version, event_type),
        "subscription_id": sub_id,
        "article_id": article_id,
        "version": version,
        "event_type": event_type,
        "status": PENDING,
        "created_at": iso(now),
        "next_attempt_ts": now,
        "next_attempt_at": iso(now),
        "attempts": [],
    }


def deliver(p: Publisher, delivery_id: str) -> None:
    """Attempt a due delivery once. A delivery already final, not yet due, or being attempted
    by another worker is left alone, so duplicate task messages send nothing twice."""
    delivery = p.repo.delivery(delivery_id)
    if delivery is None or delivery["status"] in (SUCCEEDED, FAILED):
        if delivery is not None:
            p.repo.update_delivery(delivery, due_at=None)
        return
    if delivery["next_attempt_ts"] > time.time() + 0.5:
        return
    if not p.repo.lock_delivery(delivery_id, p.settings.webhook_timeout_s + 30):
        return
    try:
        _attempt(p, delivery)
    finally:
        p.repo.unlock_delivery(delivery_id)


def _attempt(p: Publisher, delivery: dict) -> None:
    sub = p.repo.subscription(delivery["subscription_id"])
    if sub is None or not sub["enabled"]:
        reason = "subscription deleted" if sub is None else "subscription disabled"
        p.repo.update_delivery({**delivery, "status": FAILED, "error": reason}, due_at=None)
        return
    body = p.repo.payload(delivery["article_id"], delivery["version"])
    headers = webhook_headers(sub["secret"], delivery["id"], body, time.time())
    attempt = post(p.http, sub["url"], body, headers, p.settings.webhook_timeout_s)
    delivery["attempts"].append(attempt.as_dict())
    due_at = None
    if attempt.succeeded:
        delivery["status"] = SUCCEEDED
    elif attempt.status_code == 410:
        delivery["status"] = FAILED
        save_subscription(p, {**sub, "enabled": False, "disabled_reason": "endpoint answered 410 Gone"})
    elif (delay := retry_delay(len(delivery["attempts"]), p.settings.webhook_retry_schedule)) is not None:
        due_at = time.time() + delay
        delivery.update(status=RETRYING, next_attempt_ts=due_at, next_attempt_at=iso(due_at))
    else:
        delivery["status"] = FAILED
    p.repo.update_delivery(delivery, due_at)
    log.info(
        "delivery %s attempt %d: %s", delivery["id"], len(delivery["attempts"]), attempt.status_code or attempt.error
    )


def enqueue_due(p: Publisher) -> int:
    ids = p.repo.claim_due(p.lease_s)
    for due_id in ids:
        p.send_task("publish.deliver", [due_id])
    return len(ids)


# subscriptions


def create_subscription(p: Publisher, data: dict) -> dict:
    check_webhook_url(data["url"], p.settings.webhook_allow_private)
    now = time.time()
    sub = {
        "id": "sub_" + secrets.token_hex(12),
        **data,
        "enabled": True,
        "disabled_reason": None,
        "secret": new_secret(),
        "created_ts": now,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    p.repo.save_subscription(sub)
    return sub


def update_subscription(p: Publisher, sub: dict, changes: dict) -> dict:
    if "url" in changes:
        check_webhook_url(changes["url"], p.settings.webhook_allow_private)
    if changes.get("enabled"):
        changes["disabled_reason"] = None
    return save_subscription(p, {**sub, **changes})


def save_subscription(p: Publisher, sub: dict) -> dict:
    sub = {**sub, "updated_at": iso(time.time())}
    p.repo.save_subscription(sub)
    return sub


def public_view(sub: dict) -> dict:
    """A subscription as the API shows it: never its secret."""
    return {k: v for k, v in sub.items() if k not in ("secret", "created_ts")}
