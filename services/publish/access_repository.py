"""Consumers, their key digests and the audit log in Redis.

Keys (under `nf:`):
  consumer:<id>     string JSON consumer, its keys' ids and SHA-256 digests with it (never a key)
  consumers         zset   consumer id -> creation time
  consumer-keys     hash   key id -> consumer id (which record a presented key claims)
  audit             stream one entry per change: actor, action, target; trimmed to the retention period
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import redis

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


class AccessRepository:
    def __init__(self, client: redis.Redis, prefix: str = "nf:"):
        self.redis, self.prefix = client, prefix

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # consumers
    def save_consumer(self, consumer: dict) -> None:
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("consumer", consumer["id"]), json.dumps(consumer))
            pipe.zadd(self._key("consumers"), {consumer["id"]: consumer["created_ts"]}, nx=True)
            pipe.execute()

    def consumer(self, consumer_id: str) -> dict | None:
        data = self.redis.get(self._key("consumer", consumer_id))
        return json.loads(data) if data else None

    def consumers(self) -> list[dict]:
        ids = self.redis.zrange(self._key("consumers"), 0, -1)
        docs = self.redis.mget([self._key("consumer", i) for i in ids]) if ids else []
        return [json.loads(d) for d in docs if d]

    def update_consumer(self, consumer_id: str, change: Callable[[dict], dict]) -> dict | None:
        """Read-change-write one consumer atomically (WATCH, retried on a concurrent write); keeps the key index
        in step with its keys. None when there is no such consumer."""
        key = self._key("consumer", consumer_id)

        def write(pipe) -> dict | None:
            data = pipe.get(key)
            if not data:
                return None
            old = json.loads(data)
            new = change(old)
            pipe.multi()
            pipe.set(key, json.dumps(new))
            self._index_keys(pipe, consumer_id, old["keys"], new["keys"])
            return new

        return self.redis.transaction(write, key, value_from_callable=True)

    def _index_keys(self, pipe, consumer_id: str, old: list[dict], new: list[dict]) -> None:
        gone = {k["id"] for k in old} - {k["id"] for k in new}
        if gone:
            pipe.hdel(self._key("consumer-keys"), *gone)
        for k in new:
            pipe.hset(self._key("consumer-keys"), k["id"], consumer_id)

    def delete_consumer(self, consumer_id: str) -> bool:
        found = self.consumer(consumer_id)
        if found is None:
            return False
        with self.redis.pipeline() as pipe:
            self._index_keys(pipe, consumer_id, found["keys"], [])
            pipe.delete(self._key("consumer", consumer_id))
            pipe.zrem(self._key("consumers"), consumer_id)
            return bool(pipe.execute()[-2])

    def consumer_of_key(self, key_id: str) -> dict | None:
        consumer_id = self.redis.hget(self._key("consumer-keys"), key_id)
        return self.consumer(consumer_id) if consumer_id else None

    # audit log
    def append_audit(self, entry: dict, retention_s: float) -> None:
        """Add an entry and drop those older than the retention period (MINID: trimmed by entry time)."""
        cutoff_ms = int((time.time() - retention_s) * 1000)
        self.redis.xadd(self._key("audit"), {"entry": json.dumps(entry)}, minid=cutoff_ms, approximate=False)

    def audit_page(self, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        """Newest first. Raises ValueError for a cursor we did not hand out."""
        if cursor is not None and not STREAM_ID.match(cursor):
            raise ValueError("not a cursor from this API")
        top = f"({cursor}" if cursor else "+"
        rows = self.redis.xrevrange(self._key("audit"), top, "-", count=limit + 1)
        items = [{"id": entry_id, **json.loads(fields["entry"])} for entry_id, fields in rows[:limit]]
        return items, items[-1]["id"] if len(rows) > limit else None
