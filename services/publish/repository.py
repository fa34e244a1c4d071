"""Subscriptions, deliveries and endpoint health in Redis.

Keys (under `nf:`):
  sub:<id>                      string JSON subscription (with its secrets)
  subs                          zset   subscription id -> creation time
  sub:<id>:health               hash   last_success_ts, failing_since_ts, open_until_ts (circuit breaker)
  sub:<id>:outcomes             list   "1"/"0" per recent attempt, newest first, trimmed to the breaker window
  sub:<id>:probe                string held by the one half-open probe attempt
  sub:<id>:inflight             zset   delivery id -> lease expiry: the per-subscription concurrency slots
  sub:<id>:waiting              zset   delivery id -> due time: deliveries waiting for a slot; attempts that
                                       end call the first ones up (they are due in a lease anyway)
  sub:<id>:deliveries           zset   delivery id -> creation time (the delivery log)
  sub:<id>:deliveries:<status>  zset   the same, per status (pending, retrying, succeeded, failed)
  delivery:<id>                 string JSON delivery with its attempts
  delivery:<id>:lock            string held while one engine attempts the delivery (or the API changes it)
  payload:<article>:<ver>       string the exact webhook body for that article version, zlib-compressed
                                (shared/compact.py); once published, the one copy of the article's text
  due                           zset   delivery id -> when an engine should next look at it (a claimed one:
                                       when its lease ends)
  deliver-wake                  list   pushed when there is work now, so idle engines wake at once
  engines                       zset   delivery engine id -> until when it counts as running (refreshed each
                                       round): each gets an equal share of every subscription's slots
  engine:<id>:inbox             list   deliveries another engine offered this one (locked 'offer:<id>'), each
                                       when a slot of its subscription was free
  fanning                       string the engine that took the last fan-out round, for a second: an engine with
                                attempts in flight leaves the publish outbox to it
Kept by shared/store.py: feed (zset article id -> publication time) and each article's `published_version`
(field of article:<id>), read by replay; publish-outbox (list of enriched versions to fan out), which engines
block on while idle.

The delivery engine's batch work on these keys (claim under a lease, slots, recording attempts) is in
services/publish/batches.py, mixed into PublishRepository.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Iterable

import redis

from services.publish.batches import DeliveryBatches
from services.publish.health import Health
from services.publish.model import Delivery, from_json, to_json
from shared.compact import pack, unpack
from shared.contracts import DeliveryStatus

# New deliveries, each stored unless it exists already (SET NX). KEYS: due. ARGV[1], JSON: prefix, cutoff (of
# the delivery log, '' = keep all; trimmed once per subscription), deliveries, each [JSON, id, subscription id,
# status, created_ts, due at, place in its subscription's waiting line ('' = not in line)]. One JSON argument for
# the batch: redis-py's packing of a dozen keys and arguments per delivery cost fan-out more than the script
# costs Redis. Returns '1' (created) or '0' each.
_CREATE = """
local a = cjson.decode(ARGV[1])
local created, trimmed = {}, {}
for i, t in ipairs(a.deliveries) do
  local data, id, sub, status, created_ts, due_at, line = unpack(t)
  local s = a.prefix .. 'sub:' .. sub
  if redis.call('SET', a.prefix .. 'delivery:' .. id, data, 'NX') then
    local log = s .. ':deliveries'
    if a.cutoff ~= '' and not trimmed[log] then
      trimmed[log] = true
      redis.call('ZREMRANGEBYSCORE', log, '-inf', '(' .. a.cutoff)
    end
    redis.call('ZADD', log, created_ts, id)
    redis.call('ZADD', log .. ':' .. status, created_ts, id)
    redis.call('ZADD', KEYS[1], due_at, id)
    if line ~= '' then redis.call('ZADD', s .. ':waiting', line, id) end
    created[i] = '1'
  else
    created[i] = '0'
  end
end
return table.concat(created)
"""


# A fan-out turn. KEYS: fanning. ARGV: engine id, milliseconds, '1' to yield to another engine holding it. 1 if taken.
_FAN_OUT_TURN = """
local holder = redis.call('GET', KEYS[1])
if ARGV[3] == '1' and holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def encode_cursor(score: float, member: str) -> str:
    return base64.urlsafe_b64encode(f"{score!r}|{member}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Raise ValueError for anything we did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, member = raw.split("|", 1)
        if not math.isfinite(float(score)):  # Redis refuses nan as a score bound
            raise ValueError(score)
        return float(score), member
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor from this API") from None


class PublishRepository(DeliveryBatches):
    def __init__(
        self,
        client: redis.Redis,
        payload_ttl_s: float | None = None,
        delivery_retention_s: float | None = None,
        prefix: str = "nf:",
    ):
        """`payload_ttl_s`: how long webhook bodies are kept; `delivery_retention_s`: how long a delivery stays
        in the log after its creation. None keeps them for ever."""
        self.redis = client
        self.payload_ttl_s, self.delivery_retention_s = payload_ttl_s, delivery_retention_s
        self.prefix = prefix
        self._create = client.register_script(_CREATE)
        self._fan_out_turn = client.register_script(_FAN_OUT_TURN)
        self._scripts = [self._create, *self._register_batch_scripts(client)]

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _pipelined(self, build: Callable) -> list:
        """Run the commands `build(pipe)` queues in one round trip. Scripts go in as EVALSHA: redis-py would
        otherwise ask SCRIPT EXISTS first, every time. If Redis lost them (a restart), load them and retry."""
        for last_try in (False, True):
            with self.redis.pipeline(transaction=False) as pipe:
                build(pipe)
                try:
                    return pipe.execute()
                except redis.exceptions.NoScriptError:
                    if last_try:
                        raise
            self.load_scripts()
        return []

    def load_scripts(self) -> None:
        """Into Redis (a long-lived process does it at start, so its first round trip needs no retry)."""
        for script in self._scripts:
            script.sha = self.redis.script_load(script.script)

    @staticmethod
    def _evalsha(pipe, script, keys: list[str], args: list) -> None:
        pipe.evalsha(script.sha, len(keys), *keys, *args)

    def _get_json(self, key: str) -> dict | None:
        data = self.redis.get(key)
        return json.loads(data) if data else None

    # subscriptions
    def save_subscription(self, sub: dict, cap: int | None = None) -> bool:
        """Store a new subscription; with a `cap`, only while its consumer has fewer than `cap` subscriptions.
        Whether it was stored. The count and the write are one transaction on the watched list of subscriptions,
        retried when another creation or deletion changes it in between."""
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self._key("subs"))
                    if cap is not None:
                        owned = [s for s in self._subscriptions(pipe) if s.get("consumer_id") == sub["consumer_id"]]
                        if len(owned) >= cap:
                            return False
                    pipe.multi()
                    pipe.set(self._key("sub", sub["id"]), json.dumps(sub))
                    pipe.zadd(self._key("subs"), {sub["id"]: sub["created_ts"]}, nx=True)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def subscription(self, sub_id: str) -> dict | None:
        return self._get_json(self._key("sub", sub_id))

    def subscriptions(self) -> list[dict]:
        return self._subscriptions(self.redis)

    def _subscriptions(self, client: redis.Redis | redis.client.Pipeline) -> list[dict]:
        ids = client.zrange(self._key("subs"), 0, -1)
        if not ids:
            return []
        return [json.loads(d) for d in client.mget([self._key("sub", i) for i in ids]) if d]

    def update_subscription(self, sub_id: str, change: Callable[[dict], dict | None]) -> dict | None:
        """Read-change-write one subscription atomically (optimistic, retried on a concurrent write), so a
        worker disabling it and the API rotating its secret never undo each other. `change` returns the new
        subscription, or None to leave it as it is. Returns the stored subscription, None if there is none."""
        key = self._key("sub", sub_id)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    data = pipe.get(key)
                    if not data:
                        return None
                    current = json.loads(data)
                    new = change(current)
                    if new is None:
                        return current
                    pipe.multi()
                    pipe.set(key, json.dumps(new))
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue

    def delete_subscription(self, sub_id: str) -> bool:
        """The subscription, its health and its delivery log with the deliveries in it."""
        log = self._key("sub", sub_id, "deliveries")
        while ids := self.redis.zrange(log, 0, 499):
            with self.redis.pipeline() as pipe:
                for delivery_id in ids:
                    pipe.delete(self._key("delivery", delivery_id))
                    pipe.zrem(self._key("due"), delivery_id)
                pipe.zrem(log, *ids)
                pipe.execute()
        with self.redis.pipeline() as pipe:
            pipe.delete(self._key("sub", sub_id))
            pipe.zrem(self._key("subs"), sub_id)
            pipe.delete(*[self._key("sub", sub_id, "deliveries", status) for status in DeliveryStatus.ALL])
            pipe.delete(*self._health_keys(sub_id))
            return bool(pipe.execute()[0])

    # endpoint health
    def _health_keys(self, sub_id: str) -> list[str]:
        return [self._key("sub", sub_id, part) for part in ("health", "outcomes", "probe", "inflight", "waiting")]

    def health(self, sub_id: str) -> Health:
        return Health.from_hash(self.redis.hgetall(self._key("sub", sub_id, "health")))

    def healths(self, sub_ids: list[str]) -> dict[str, Health]:
        with self.redis.pipeline(transaction=False) as pipe:
            for sub_id in sub_ids:
                pipe.hgetall(self._key("sub", sub_id, "health"))
            return {sub_id: Health.from_hash(h) for sub_id, h in zip(sub_ids, pipe.execute(), strict=True)}

    def reset_health(self, sub_id: str) -> None:
        self.redis.delete(*self._health_keys(sub_id)[:3])

    def open_circuit(self, sub_id: str, until: float) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key("sub", sub_id, "health"), "open_until_ts", until)
            pipe.delete(self._key("sub", sub_id, "probe"))
            pipe.execute()

    def close_circuit(self, sub_id: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hdel(self._key("sub", sub_id, "health"), "open_until_ts")
            pipe.delete(self._key("sub", sub_id, "outcomes"), self._key("sub", sub_id, "probe"))
            pipe.execute()

    def take_probe(self, sub_id: str, ttl_s: float) -> bool:
        """The one attempt a half-open circuit lets through."""
        return bool(self.redis.set(self._key("sub", sub_id, "probe"), "1", nx=True, ex=max(1, int(ttl_s))))

    # payloads and the articles replay may re-send
    def save_payloads(self, payloads: list[tuple[str, int, str]]) -> None:
        """(article id, version, webhook body) each, compressed (shared/compact.py), in one round trip, written
        once: a body already saved is kept, so every attempt of every delivery of a version sends these very
        bytes. Once the version is published it is also where the article itself is kept (the store drops its
        enriched copy)."""
        ttl = max(1, int(self.payload_ttl_s)) if self.payload_ttl_s else None
        with self.redis.pipeline(transaction=False) as pipe:
            for article_id, version, body in payloads:
                pipe.set(self._key("payload", article_id, str(version)), pack(body), nx=True, ex=ttl)
            pipe.execute()

    def payload(self, article_id: str, version: int) -> str | None:
        return unpack(self.redis.get(self._key("payload", article_id, str(version))))

    def published_versions(self, article_ids: list[str]) -> list[int | None]:
        """The version of each article last published (the store's `published_version`), None if none."""
        if not article_ids:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for article_id in article_ids:
                pipe.hget(self._key("article", article_id), "published_version")
            return [int(v) if v else None for v in pipe.execute()]

    def payloads(self, refs: list[tuple[str, int]]) -> list[str | None]:
        if not refs:
            return []
        return [unpack(body) for body in self.redis.mget([self._key("payload", a, str(v)) for a, v in refs])]

    def feed_window(self, since: float, until: float, offset: int, limit: int) -> list[tuple[str, float]]:
        """(article id, publication time) of articles published in [since, until], oldest first."""
        return self.redis.zrangebyscore(self._key("feed"), since, until, start=offset, num=limit, withscores=True)

    # deliveries
    def _status_index(self, pipe, delivery: Delivery, was: str | None = None) -> None:
        sub_id, delivery_id = delivery.subscription_id, delivery.id
        for status in DeliveryStatus.ALL if was is None else {was, delivery.status}:
            key = self._key("sub", sub_id, "deliveries", status)
            if status == delivery.status:
                pipe.zadd(key, {delivery_id: delivery.created_ts})
            else:
                pipe.zrem(key, delivery_id)

    def create_deliveries(self, deliveries: Iterable[tuple[Delivery, float | None]], lease_s: float = 0) -> list[bool]:
        """Store new deliveries, each due at its time, in one round trip; False for one that exists already
        (a fan-out or replay re-run). One due at None joins its subscription's waiting line instead, in the
        order given, for the attempts that end to call up (due when `lease_s` has passed, should none)."""
        deliveries = list(deliveries)
        if not deliveries:
            return []
        now = time.time()
        batch = {
            "prefix": self.prefix,
            "cutoff": repr(now - self.delivery_retention_s) if self.delivery_retention_s else "",
            "deliveries": [
                [
                    to_json(delivery),
                    delivery.id,
                    delivery.subscription_id,
                    delivery.status,
                    delivery.created_ts,
                    due_at if due_at is not None else now + lease_s,
                    "" if due_at is not None else now + i * 1e-6,
                ]
                for i, (delivery, due_at) in enumerate(deliveries)
            ],
        }
        args = [json.dumps(batch)]
        [created] = self._pipelined(lambda pipe: self._evalsha(pipe, self._create, [self._key("due")], args))
        return [flag == "1" for flag in created]

    def delivery(self, delivery_id: str) -> Delivery | None:
        return from_json(self.redis.get(self._key("delivery", delivery_id)))

    def lock_and_read(self, delivery_id: str, ttl_s: float) -> tuple[bool, Delivery | None]:
        """Take the delivery's lock and read it in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key("delivery", delivery_id, "lock"), "1", nx=True, ex=max(1, int(ttl_s)))
            pipe.get(self._key("delivery", delivery_id))
            locked, data = pipe.execute()
        return bool(locked), from_json(data)

    def unlock_delivery(self, delivery_id: str) -> None:
        self.redis.delete(self._key("delivery", delivery_id, "lock"))

    def save_delivery(self, delivery: Delivery, due_at: float | None, was: str | None = None) -> None:
        """Save a delivery; `due_at` None takes it off the due set (final). `was`: its status before, if known."""
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("delivery", delivery.id), to_json(delivery))
            if due_at is None:
                pipe.zrem(self._key("due"), delivery.id)
            else:
                pipe.zadd(self._key("due"), {delivery.id: due_at})
            self._status_index(pipe, delivery, was)
            pipe.execute()

    def delivery_page(
        self, sub_id: str, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        """Newest first. Raises ValueError for a cursor we did not hand out."""
        key = self._key("sub", sub_id, "deliveries", *([status] if status else []))
        entries: list[tuple[str, float]] = []
        if cursor:
            score, last = decode_cursor(cursor)
            ties = self.redis.zrangebyscore(key, score, score, withscores=True)
            entries = [(m, s) for m, s in reversed(ties) if m < last][: limit + 1]
            upper = f"({score!r}"
        else:
            upper = "+inf"
        if len(entries) <= limit:
            wanted = limit + 1 - len(entries)
            entries += self.redis.zrevrangebyscore(key, upper, "-inf", start=0, num=wanted, withscores=True)
        page, more = entries[:limit], len(entries) > limit
        docs = self.redis.mget([self._key("delivery", m) for m, _ in page]) if page else []
        items = [from_json(d) for d in docs if d]
        return items, encode_cursor(page[-1][1], page[-1][0]) if more else None

    def make_due_now(self, delivery_id: str) -> None:
        """Bring a delivery's due time forward to now (never back, and only while it is in the due-set)."""
        self.redis.zadd(self._key("due"), {delivery_id: time.time()}, xx=True, lt=True)

    def wake(self) -> None:
        """Tell idle delivery engines there is work now (a list, so a wake-up is never missed)."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(self._key("deliver-wake"), "1")
            pipe.ltrim(self._key("deliver-wake"), 0, 0)
            pipe.execute()

    def take_fan_out_turn(self, engine_id: str, hold_s: float, yielding: bool) -> bool:
        """Note that `engine_id` fans out now, for `hold_s`; when `yielding`, only if no other engine did lately."""
        args = [engine_id, max(1, int(hold_s * 1000)), "1" if yielding else "0"]
        return bool(self._fan_out_turn(keys=[self._key("fanning")], args=args))

    def wait_for_work(self, timeout_s: float, engine: str, offers: bool) -> None:
        """Block until woken, an article version is handed to publish or (with `offers`) another engine offers
        `engine` a delivery (either is put back where it was, for the round that follows), or `timeout_s` has
        passed. Redis away: just wait."""
        lists = [self._key("deliver-wake"), self._key("publish-outbox"), *([self.inbox(engine)] if offers else [])]
        try:
            popped = self.redis.blpop(lists, timeout=timeout_s)
            if popped and popped[0] != self._key("deliver-wake"):
                self.redis.lpush(popped[0], popped[1])
        except redis.RedisError:
            time.sleep(timeout_s)
