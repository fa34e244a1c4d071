"""Subscriptions and deliveries in Redis.

Keys (under `nf:`):
  sub:<id>                  string JSON subscription (with its secret)
  subs                      zset   subscription id -> creation time
  delivery:<id>             string JSON delivery with its attempts
  delivery:<id>:lock        string held while one worker attempts the delivery
  sub:<id>:deliveries       zset   delivery id -> creation time (the delivery log)
  payload:<article>:<ver>   string the exact webhook body for that article version
  due                       zset   delivery id -> when a worker should next look at it
"""

from __future__ import annotations

import json
import time

import redis

_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""


class PublishRepository:
    def __init__(self, client: redis.Redis, prefix: str = "nf:"):
        self.redis = client
        self.prefix = prefix
        self._claim_due = client.register_script(_CLAIM_DUE)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _get_json(self, key: str) -> dict | None:
        data = self.redis.get(key)
        return json.loads(data) if data else None

    # subscriptions
    def save_subscription(self, sub: dict) -> None:
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("sub", sub["id"]), json.dumps(sub))
            pipe.zadd(self._key("subs"), {sub["id"]: sub["created_ts"]}, nx=True)
            pipe.execute()

    def subscription(self, sub_id: str) -> dict | None:
        return self._get_json(self._key("sub", sub_id))

    def subscriptions(self) -> list[dict]:
        ids = self.redis.zrange(self._key("subs"), 0, -1)
        if not ids:
            return []
        return [json.loads(d) for d in self.redis.mget([self._key("sub", i) for i in ids]) if d]

    def delete_subscription(self, sub_id: str) -> bool:
        with self.redis.pipeline() as pipe:
            pipe.delete(self._key("sub", sub_id))
            pipe.zrem(self._key("subs"), sub_id)
            return bool(pipe.execute()[0])

    # deliveries
    def save_payload(self, article_id: str, version: int, body: str) -> None:
        self.redis.set(self._key("payload", article_id, str(version)), body, nx=True)

    def payload(self, article_id: str, version: int) -> str | None:
        return self.redis.get(self._key("payload", article_id, str(version)))

    def create_delivery(self, delivery: dict, lease_s: float) -> bool:
        """Store a new delivery and mark it due; False if it already exists (fan-out re-run)."""
        if not self.redis.set(self._key("delivery", delivery["id"]), json.dumps(delivery), nx=True):
            return False
        with self.redis.pipeline() as pipe:
            pipe.zadd(self._key("sub", delivery["subscription_id"], "deliveries"), {delivery["id"]: time.time()})
            pipe.zadd(self._key("due"), {delivery["id"]: time.time() + lease_s})
            pipe.execute()
        return True

    def delivery(self, delivery_id: str) -> dict | None:
        return self._get_json(self._key("delivery", delivery_id))

    def update_delivery(self, delivery: dict, due_at: float | None) -> None:
        """Save after an attempt; `due_at` None takes it off the due set (final)."""
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("delivery", delivery["id"]), json.dumps(delivery))
            if due_at is None:
                pipe.zrem(self._key("due"), delivery["id"])
            else:
                pipe.zadd(self._key("due"), {delivery["id"]: due_at})
            pipe.execute()

    def deliveries_of(self, sub_id: str, limit: int = 50) -> list[dict]:
        ids = self.redis.zrevrange(self._key("sub", sub_id, "deliveries"), 0, limit - 1)
        if not ids:
            return []
        return [json.loads(d) for d in self.redis.mget([self._key("delivery", i) for i in ids]) if d]

    def claim_due(self, lease_s: float, limit: int = 200) -> list[str]:
        """Due delivery ids, each pushed `lease_s` ahead so a lost task message is retried, not lost."""
        now = time.time()
        return self._claim_due(keys=[self._key("due")], args=[now, now + lease_s, limit])

    def lock_delivery(self, delivery_id: str, ttl_s: float) -> bool:
        return bool(self.redis.set(self._key("delivery", delivery_id, "lock"), "1", nx=True, ex=max(1, int(ttl_s))))

    def unlock_delivery(self, delivery_id: str) -> None:
        self.redis.delete(self._key("delivery", delivery_id, "lock"))
