"""Subscriptions: create, change, rotate the secret, disable, delete, and how the API shows them."""

from __future__ import annotations

import logging
import secrets
import time

from services.publish.health import Health, public_health
from services.publish.publisher import NotFound, Publisher, QuotaExceeded
from services.publish.signing import new_secret, rotated
from services.publish.ssrf import check_webhook_url, dev_mode_warnings
from shared.times import iso

log = logging.getLogger(__name__)


def create_subscription(p: Publisher, data: dict, cap: int | None = None) -> dict:
    """Store a new subscription. With a `cap`, QuotaExceeded if its consumer already has that many: counted and
    stored in one atomic step, so concurrent requests cannot pass the cap together."""
    check_webhook_url(data["url"], p.settings.webhook_allow_private)
    now = time.time()
    sub = {
        "id": "sub_" + secrets.token_hex(12),
        **data,
        "enabled": True,
        "disabled_reason": None,
        "secret": new_secret(),
        "previous_secrets": [],
        "created_ts": now,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    if not p.repo.save_subscription(sub, cap):
        raise QuotaExceeded(f"A consumer has at most {cap} subscriptions (CONSUMER_MAX_SUBSCRIPTIONS).")
    return sub


def subscription(p: Publisher, sub_id: str) -> dict:
    """The stored subscription (with its secrets); NotFound if there is none."""
    sub = p.repo.subscription(sub_id)
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    return sub


def subscription_view(p: Publisher, sub_id: str) -> dict:
    return public_view(subscription(p, sub_id), p.repo.health(sub_id))


def subscription_views(p: Publisher, consumer_id: str | None = None) -> list[dict]:
    """Every subscription, or only those of one consumer."""
    subs = [s for s in p.repo.subscriptions() if consumer_id is None or s.get("consumer_id") == consumer_id]
    healths = p.repo.healths([s["id"] for s in subs])
    return [public_view(s, healths[s["id"]]) for s in subs]


def url_warnings(p: Publisher, url: str) -> list[str]:
    """Warnings about a URL accepted in dev mode (WEBHOOK_ALLOW_PRIVATE=true), logged as well."""
    warnings = dev_mode_warnings(url) if p.settings.webhook_allow_private else []
    for warning in warnings:
        log.warning("webhook URL %s: %s", url, warning)
    return warnings


def disabled_count(p: Publisher) -> int:
    return sum(not sub["enabled"] for sub in p.repo.subscriptions())


def update_subscription(p: Publisher, sub_id: str, changes: dict) -> dict:
    if "url" in changes:
        check_webhook_url(changes["url"], p.settings.webhook_allow_private)
    fresh_start = False

    def change(sub: dict) -> dict:
        nonlocal fresh_start
        new = {**sub, **changes, "updated_at": iso(time.time())}
        if changes.get("enabled") is True and not sub["enabled"]:
            new["disabled_reason"] = None
            fresh_start = True
        elif changes.get("enabled") is False and sub["enabled"]:
            new["disabled_reason"] = "disabled through the API"
        fresh_start = fresh_start or ("url" in changes and changes["url"] != sub["url"])
        return new

    sub = p.repo.update_subscription(sub_id, change)
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    if fresh_start:  # a re-enabled subscription or a new URL starts with a clean record and a closed circuit
        p.repo.reset_health(sub_id)
    return sub


def delete_subscription(p: Publisher, sub_id: str) -> None:
    if not p.repo.delete_subscription(sub_id):
        raise NotFound(f"No subscription with id {sub_id!r}.")


def rotate_secret(p: Publisher, sub_id: str) -> dict:
    secret, now = new_secret(), time.time()
    sub = p.repo.update_subscription(
        sub_id, lambda s: {**rotated(s, secret, now, p.settings.webhook_secret_grace_s), "updated_at": iso(now)}
    )
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    return sub


def disable(p: Publisher, sub_id: str, reason: str) -> None:
    now = time.time()

    def change(sub: dict) -> dict | None:
        if not sub["enabled"]:
            return None
        return {**sub, "enabled": False, "disabled_reason": reason, "disabled_at": iso(now), "updated_at": iso(now)}

    p.repo.update_subscription(sub_id, change)
    log.warning("subscription %s disabled: %s", sub_id, reason)


def public_view(sub: dict, health: Health | None = None) -> dict:
    """A subscription as the API shows it: never a secret."""
    now = time.time()
    view = {k: v for k, v in sub.items() if k not in ("secret", "previous_secrets", "created_ts")}
    live = [prev["expires_ts"] for prev in sub.get("previous_secrets", []) if prev["expires_ts"] > now]
    view["previous_secret_expires_at"] = iso(max(live)) if live else None
    view["health"] = public_health(health or Health(), now, iso)
    return view
