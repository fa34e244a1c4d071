"""Consumers (subscriber organisations) and their keys; who a key belongs to; what a caller may reach.

A consumer key reaches only its consumer's subscriptions and their deliveries: anything else answers exactly
as a missing resource does (NotFound with the same message), so a key learns nothing about others' ids.
Disabling a consumer refuses its keys at once, and its deliveries end `failed` with the reason
"consumer disabled" when their next attempt comes (services/publish/attempts.py); re-enabling it lets new
deliveries go out again (redeliver or replay the failed ones).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from marshmallow import ValidationError

from services.publish import subscriptions
from services.publish.access_repository import AccessRepository
from services.publish.auth import CONSUMER, OPERATOR, Principal, digest, key_id_of, matches, new_key
from services.publish.model import Delivery
from services.publish.publisher import NotFound, Publisher, QuotaExceeded
from shared.times import iso

MAX_LIVE_KEYS = 2  # the current key and the one replacing it


def access(p: Publisher) -> AccessRepository:
    return AccessRepository(p.repo.redis, p.repo.prefix)


def authenticate(p: Publisher, operator_lookup: Callable[[str], str | None], presented: str) -> Principal | None:
    """The principal a presented key stands for; None for an unknown key or a disabled consumer's."""
    key_id = key_id_of(presented)
    if key_id is None:
        name = operator_lookup(presented)
        return Principal(OPERATOR, name) if name else None
    consumer = access(p).consumer_of_key(key_id)
    stored = next((k for k in consumer["keys"] if k["id"] == key_id), None) if consumer else None
    if stored is None or not matches(presented, stored["digest"]):
        return None
    return key_principal(p, key_id)


def key_principal(p: Publisher, key_id: str) -> Principal | None:
    """The consumer behind a key id while the key is live and the consumer enabled (a portal session holds
    the key id, never the key)."""
    consumer = access(p).consumer_of_key(key_id)
    if consumer is None or not consumer["enabled"] or all(k["id"] != key_id for k in consumer["keys"]):
        return None
    return Principal(CONSUMER, key_id, consumer["id"], consumer["rate_limit"])


# consumers (operator only)


def create_consumer(p: Publisher, data: dict) -> dict:
    now = time.time()
    consumer = {
        "id": "con_" + secrets.token_hex(8),
        "name": data["name"],
        "contact": data.get("contact"),
        "rate_limit": data.get("rate_limit"),
        "enabled": True,
        "keys": [],
        "created_ts": now,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    access(p).save_consumer(consumer)
    return consumer


def consumer(p: Publisher, consumer_id: str) -> dict:
    found = access(p).consumer(consumer_id)
    if found is None:
        raise NotFound(f"No consumer with id {consumer_id!r}.")
    return found


def consumer_views(p: Publisher) -> list[dict]:
    return [public_view(c) for c in access(p).consumers()]


def update_consumer(p: Publisher, consumer_id: str, changes: dict) -> dict:
    found = access(p).update_consumer(consumer_id, lambda c: {**c, **changes, "updated_at": iso(time.time())})
    if found is None:
        raise NotFound(f"No consumer with id {consumer_id!r}.")
    return found


def delete_consumer(p: Publisher, consumer_id: str) -> None:
    """The consumer, its keys, and its subscriptions with their delivery logs."""
    consumer(p, consumer_id)
    for sub in p.repo.subscriptions():
        if sub.get("consumer_id") == consumer_id:
            subscriptions.delete_subscription(p, sub["id"])
    if not access(p).delete_consumer(consumer_id):
        raise NotFound(f"No consumer with id {consumer_id!r}.")


def consumer_enabled(p: Publisher, consumer_id: str) -> bool:
    found = access(p).consumer(consumer_id)
    return bool(found and found["enabled"])


def issue_key(p: Publisher, consumer_id: str, name: str | None) -> tuple[dict, str]:
    """A new key for the consumer: (its record as shown, the key itself, which is shown this once)."""
    key_id, key = new_key()
    record = {"id": key_id, "name": name, "digest": digest(key), "created_at": iso(time.time())}

    def add(c: dict) -> dict:
        if len(c["keys"]) >= MAX_LIVE_KEYS:
            raise QuotaExceeded(f"A consumer has at most {MAX_LIVE_KEYS} live keys: revoke one first.")
        return {**c, "keys": [*c["keys"], record], "updated_at": record["created_at"]}

    if access(p).update_consumer(consumer_id, add) is None:
        raise NotFound(f"No consumer with id {consumer_id!r}.")
    return _key_view(record), key


def revoke_key(p: Publisher, consumer_id: str, key_id: str) -> None:
    found = consumer(p, consumer_id)
    if not any(k["id"] == key_id for k in found["keys"]):
        raise NotFound(f"No key with id {key_id!r}.")

    def drop(c: dict) -> dict:
        return {**c, "keys": [k for k in c["keys"] if k["id"] != key_id], "updated_at": iso(time.time())}

    access(p).update_consumer(consumer_id, drop)


def public_view(consumer: dict) -> dict:
    view = {k: v for k, v in consumer.items() if k != "created_ts"}
    view["keys"] = [_key_view(k) for k in consumer["keys"]]
    return view


def _key_view(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "digest"}


# what a caller may reach


def owned_subscription(p: Publisher, who: Principal, sub_id: str) -> dict:
    """The subscription if `who` may see it; else NotFound, word for word what a missing one gets."""
    sub = subscriptions.subscription(p, sub_id)
    if not who.owns(sub):
        raise NotFound(f"No subscription with id {sub_id!r}.")
    return sub


def owned_delivery(p: Publisher, who: Principal, delivery_id: str) -> Delivery:
    delivery = p.repo.delivery(delivery_id)
    sub = p.repo.subscription(delivery.subscription_id) if delivery else None
    if delivery is None or not who.owns(sub or {}):
        raise NotFound(f"No delivery with id {delivery_id!r}.")
    return delivery


def visible_consumer(who: Principal, asked: str | None) -> str | None:
    """Whose subscriptions a listing shows: a consumer's own, whatever it asks; an operator's choice."""
    return asked if who.operator else who.consumer_id


def create_subscription(p: Publisher, who: Principal, data: dict) -> dict:
    """A new subscription of `who`'s consumer, within its CONSUMER_MAX_SUBSCRIPTIONS; an operator's belongs to no
    consumer and has no cap."""
    if who.operator:
        return subscriptions.create_subscription(p, data)
    owned = {**data, "consumer_id": who.consumer_id}
    return subscriptions.create_subscription(p, owned, cap=p.settings.consumer_max_subscriptions)


def check_replay_window(p: Publisher, who: Principal, since: float) -> None:
    window = p.settings.consumer_replay_window_s
    if not who.operator and since < time.time() - window:
        raise ValidationError(
            {"since": [f"A consumer's replay reaches back at most {window:g} s (CONSUMER_REPLAY_WINDOW_S)."]}
        )
