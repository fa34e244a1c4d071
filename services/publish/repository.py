"""Subscriptions, deliveries and endpoint health in Redis.

Keys (under `nf:`):
  sub:<id>                      string JSON subscription (with its secrets)
  subs                          zset   subscription id -> creation time
  sub:<id>:health               hash   last_success_ts, failing_since_ts, open_until_ts (circuit breaker)
  sub:<id>:outcomes             list   "1"/"0" per recent attempt, newest first, trimmed to the breaker window
  sub:<id>:probe                string held by the one half-open probe attempt
  sub:<id>:inflight             zset   delivery id -> lease expiry: the per-subscription concurrency slots
  sub:<id>:waiting              zset   delivery id -> due time: deliveries waiting for a slot; each attempt
                                       that ends makes the first one due (they are due in a lease anyway)
  sub:<id>:deliveries           zset   delivery id -> creation time (the delivery log)
  sub:<id>:deliveries:<status>  zset   the same, per status (pending, retrying, succeeded, failed)
  delivery:<id>                 string JSON delivery with its attempts
  delivery:<id>:lock            string held while one engine attempts the delivery (or the API changes it)
  payload:<article>:<ver>       string the exact webhook body for that article version, zlib-compressed
                                (shared/compact.py); once published, the one copy of the article's text
  due                           zset   delivery id -> when an engine should next look at it (a claimed one:
                                       when its lease ends)
  deliver-wake                  list   pushed when there is work now, so idle engines wake at once
Kept by shared/store.py: feed (zset article id -> publication time) and each article's `published_version`
(field of article:<id>), read by replay; publish-outbox (list of enriched versions to fan out), which engines
block on while idle.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import redis

from services.publish.health import Health
from services.publish.model import Delivery
from shared.compact import pack, unpack

STATUSES = ("pending", "retrying", "succeeded", "failed")

# Claim due deliveries under a lease: each one's lock taken and its due time pushed to the lease's end, so
# an engine that dies holding it costs a lease of latency, never the delivery. Returns id, JSON pairs.
# One held by someone else (the API redelivering it) is looked at again in a second. The delivery keys are
# built from ARGV[5], the key prefix (one Redis, no cluster). KEYS: due. ARGV: now, lease end, limit,
# lease seconds, prefix.
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, id in ipairs(ids) do
  local key = ARGV[5] .. 'delivery:' .. id
  if redis.call('SET', key .. ':lock', '1', 'NX', 'EX', tonumber(ARGV[4])) then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(claimed, id)
    table.insert(claimed, redis.call('GET', key) or '')
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + 1, id)
  end
end
return claimed
"""

# KEYS: delivery, log, log of its status, due. ARGV: JSON, id, created_ts, due_at, log cutoff ('' = keep all)
_CREATE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
if ARGV[5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
return 1
"""

# KEYS: inflight zset. ARGV: delivery id, now, lease expiry, limit, key ttl (ms)
_ACQUIRE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


# After an attempt. KEYS: delivery, due, log of the old status, log of the new status, inflight, outcomes,
# health, lock, waiting. ARGV: JSON, id, created_ts, due_at ('' = final), '1'/'0' succeeded, now, window,
# retention seconds ('' = keep): a final delivery expires that long after its creation; successor ('' =
# none), slot lease end, how many to call up, key prefix ('' = make them due, not claim them), lease seconds.
# The slot it frees goes to the successor (a delivery of the same subscription the engine holds, claimed,
# already sent on it). The subscription's longest-waiting deliveries called up are claimed for the caller, as
# the claim script claims (it holds them for the slots that free up next; one held elsewhere is left alone),
# or made due now. Returns the subscription's recent outcomes and health, and the claimed: id, JSON pairs.
_FINISH = """
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('DEL', KEYS[8])
if ARGV[9] ~= '' then redis.call('ZADD', KEYS[5], ARGV[10], ARGV[9]) end
local claimed = {}
if tonumber(ARGV[11]) > 0 then
  local called = redis.call('ZPOPMIN', KEYS[9], tonumber(ARGV[11]))
  for i = 1, #called, 2 do
    local key = ARGV[12] .. 'delivery:' .. called[i]
    if ARGV[12] == '' then
      redis.call('ZADD', KEYS[2], ARGV[6], called[i])
    elseif redis.call('SET', key .. ':lock', '1', 'NX', 'EX', tonumber(ARGV[13])) then
      redis.call('ZADD', KEYS[2], ARGV[10], called[i])
      table.insert(claimed, called[i])
      table.insert(claimed, redis.call('GET', key) or '')
    end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, {}, claimed} end  -- its subscription was deleted meanwhile
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2]) end
if KEYS[3] ~= KEYS[4] then redis.call('ZREM', KEYS[3], ARGV[2]) end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
if ARGV[4] == '' and ARGV[8] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], math.floor((tonumber(ARGV[3]) + tonumber(ARGV[8])) * 1000))
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[6]) - tonumber(ARGV[8])))
end
redis.call('LPUSH', KEYS[6], ARGV[5])
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[7]) - 1)
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[7], 'last_success_ts', ARGV[6])
  redis.call('HDEL', KEYS[7], 'failing_since_ts')
else
  redis.call('HSETNX', KEYS[7], 'failing_since_ts', ARGV[6])
end
return {redis.call('LRANGE', KEYS[6], 0, -1), redis.call('HGETALL', KEYS[7]), claimed}
"""


@dataclass(frozen=True)
class AttemptContext:
    """What one attempt needs, read in one round trip."""

    sub: dict | None
    health: Health
    payload: str | None
    slot: bool


def _dumps(delivery: Delivery) -> str:
    return json.dumps(delivery.as_dict())


def _loads(data: str | None) -> Delivery | None:
    return Delivery.from_dict(json.loads(data)) if data else None


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


class PublishRepository:
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
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._create = client.register_script(_CREATE)
        self._acquire_slot = client.register_script(_ACQUIRE_SLOT)
        self._finish = client.register_script(_FINISH)

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
        for script in (self._create, self._acquire_slot, self._finish, self._claim_due):
            script.sha = self.redis.script_load(script.script)

    @staticmethod
    def _evalsha(pipe, script, keys: list[str], args: list) -> None:
        pipe.evalsha(script.sha, len(keys), *keys, *args)

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
            pipe.delete(*[self._key("sub", sub_id, "deliveries", status) for status in STATUSES])
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
        for status in STATUSES if was is None else {was, delivery.status}:
            key = self._key("sub", sub_id, "deliveries", status)
            if status == delivery.status:
                pipe.zadd(key, {delivery_id: delivery.created_ts})
            else:
                pipe.zrem(key, delivery_id)

    def create_deliveries(self, deliveries: Iterable[tuple[Delivery, float]]) -> list[bool]:
        """Store new deliveries, each due at its time, in one round trip; False for one that exists already
        (a fan-out or replay re-run)."""
        deliveries = list(deliveries)
        cutoff = time.time() - self.delivery_retention_s if self.delivery_retention_s else ""

        def build(pipe) -> None:
            for delivery, due_at in deliveries:
                sub_id = delivery.subscription_id
                keys = [
                    self._key("delivery", delivery.id),
                    self._key("sub", sub_id, "deliveries"),
                    self._key("sub", sub_id, "deliveries", delivery.status),
                    self._key("due"),
                ]
                self._evalsha(
                    pipe,
                    self._create,
                    keys,
                    [_dumps(delivery), delivery.id, delivery.created_ts, due_at, cutoff],
                )

        return [bool(created) for created in self._pipelined(build)] if deliveries else []

    def delivery(self, delivery_id: str) -> Delivery | None:
        return _loads(self.redis.get(self._key("delivery", delivery_id)))

    def lock_and_read(self, delivery_id: str, ttl_s: float) -> tuple[bool, Delivery | None]:
        """Take the delivery's lock and read it in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key("delivery", delivery_id, "lock"), "1", nx=True, ex=max(1, int(ttl_s)))
            pipe.get(self._key("delivery", delivery_id))
            locked, data = pipe.execute()
        return bool(locked), _loads(data)

    def unlock_delivery(self, delivery_id: str) -> None:
        self.redis.delete(self._key("delivery", delivery_id, "lock"))

    def save_delivery(self, delivery: Delivery, due_at: float | None, was: str | None = None) -> None:
        """Save a delivery; `due_at` None takes it off the due set (final). `was`: its status before, if known."""
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("delivery", delivery.id), _dumps(delivery))
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
        items = [_loads(d) for d in docs if d]
        return items, encode_cursor(page[-1][1], page[-1][0]) if more else None

    # the delivery engine: a batch at a time, each step one round trip
    def prepare_attempts(
        self, deliveries: list[Delivery], max_in_flight: int, slot_ttl_s: float
    ) -> list[AttemptContext]:
        """For each delivery: its subscription, the subscription's health, the payload and a concurrency slot.
        Each subscription and each payload is read once for the batch."""
        subs = list(dict.fromkeys(d.subscription_id for d in deliveries))
        refs = list(dict.fromkeys((d.article_id, d.version) for d in deliveries))
        now = time.time()

        def build(pipe) -> None:
            for sub_id in subs:
                pipe.get(self._key("sub", sub_id))
                pipe.hgetall(self._key("sub", sub_id, "health"))
            for article_id, version in refs:
                pipe.get(self._key("payload", article_id, str(version)))
            for d in deliveries:
                self._evalsha(
                    pipe,
                    self._acquire_slot,
                    [self._key("sub", d.subscription_id, "inflight")],
                    [d.id, now, now + slot_ttl_s, max_in_flight, int(slot_ttl_s * 1000)],
                )

        replies = self._pipelined(build)
        n = 2 * len(subs)
        sub_of = {
            i: (json.loads(s) if s else None, Health.from_hash(h))
            for i, s, h in zip(subs, replies[:n:2], replies[1:n:2], strict=True)
        }
        payload_of = {ref: unpack(body) for ref, body in zip(refs, replies[n : n + len(refs)], strict=True)}
        slots = replies[n + len(refs) :]
        return [
            AttemptContext(*sub_of[d.subscription_id], payload_of[(d.article_id, d.version)], bool(slot))
            for d, slot in zip(deliveries, slots, strict=True)
        ]

    def put_back(
        self, items: list[tuple[Delivery, float | None, str, bool]], for_slot: list[Delivery], lease_s: float
    ) -> None:
        """Deliveries not attempted, saved, their slots freed and their locks released: `items` as (delivery, due at
        or None when final, status before, held a slot); `for_slot` to wait in line for their subscription's next
        free slot (and due when a lease has passed, should no slot come free)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for delivery in for_slot:
                pipe.zadd(
                    self._key("sub", delivery.subscription_id, "waiting"), {delivery.id: delivery.next_attempt_ts}
                )
                pipe.zadd(self._key("due"), {delivery.id: time.time() + lease_s})
                pipe.delete(self._key("delivery", delivery.id, "lock"))
            for delivery, due_at, was, slot in items:
                pipe.set(self._key("delivery", delivery.id), _dumps(delivery))
                self._status_index(pipe, delivery, was)
                if due_at is None:
                    pipe.zrem(self._key("due"), delivery.id)
                else:
                    pipe.zadd(self._key("due"), {delivery.id: due_at})
                if slot:
                    pipe.zrem(self._key("sub", delivery.subscription_id, "inflight"), delivery.id)
                pipe.delete(self._key("delivery", delivery.id, "lock"))
            pipe.execute()

    def forget(self, delivery_ids: list[str]) -> None:
        """Claimed ids with no delivery left (its subscription was deleted): off the due set, unlocked."""
        with self.redis.pipeline(transaction=False) as pipe:
            for delivery_id in delivery_ids:
                pipe.zrem(self._key("due"), delivery_id)
                pipe.delete(self._key("delivery", delivery_id, "lock"))
            pipe.execute()

    def finish_and_claim(
        self,
        finished: list[tuple[Delivery, str, bool, str | None, int]],
        window: int,
        lease_s: float,
        limit: int,
        also: Callable = lambda pipe: None,
    ) -> tuple[list[tuple[list[bool], Health]], list[tuple[str, Delivery | None]]]:
        """One round trip of the delivery engine. First, after attempts, each as (delivery with the attempt
        logged, status before, succeeded, successor id or None, how many to call up), each atomically: save the
        delivery, schedule it or take it off the due set, hand its slot to the successor, call up that many of
        the deliveries waiting in line for the subscription (claimed for the caller, when it claims: `limit` >
        0; else due now), record the outcome for the subscription's health and release the delivery's lock.
        `also(pipe)` queues more (metrics). Then claim due deliveries, earliest first, up to `limit` with those
        called up. Claimed deliveries are locked and leased for `lease_s` (None: it is gone).
        Returns, per attempt, its subscription's recent outcomes (newest first) and health; and the claimed."""
        now, keep, lock_s = time.time(), self.delivery_retention_s or "", max(1, int(lease_s))
        due_limit = limit - sum(call_up for *_, call_up in finished)

        def build(pipe) -> None:
            for delivery, was, succeeded, successor, call_up in finished:
                sub_id, delivery_id = delivery.subscription_id, delivery.id
                keys = [
                    self._key("delivery", delivery_id),
                    self._key("due"),
                    self._key("sub", sub_id, "deliveries", was),
                    self._key("sub", sub_id, "deliveries", delivery.status),
                    self._key("sub", sub_id, "inflight"),
                    self._key("sub", sub_id, "outcomes"),
                    self._key("sub", sub_id, "health"),
                    self._key("delivery", delivery_id, "lock"),
                    self._key("sub", sub_id, "waiting"),
                ]
                due_at = "" if delivery.next_attempt_ts is None else delivery.next_attempt_ts
                succeeded = "1" if succeeded else "0"
                args = [_dumps(delivery), delivery_id, delivery.created_ts, due_at, succeeded, now, window, keep]
                args += [successor or "", now + lease_s, call_up, self.prefix if limit > 0 else "", lock_s]
                self._evalsha(pipe, self._finish, keys, args)
            also(pipe)
            if due_limit > 0:
                lease = [time.time() + lease_s, due_limit, lock_s, self.prefix]
                self._evalsha(pipe, self._claim_due, [self._key("due")], [time.time(), *lease])

        replies = self._pipelined(build)
        results = [
            ([o == "1" for o in outcomes], Health.from_hash(dict(zip(health[::2], health[1::2], strict=True))))
            for outcomes, health, _ in replies[: len(finished)]
        ]
        flat = [part for *_, called in replies[: len(finished)] for part in called]
        flat += replies[-1] if due_limit > 0 else []
        return results, [(delivery_id, _loads(data)) for delivery_id, data in zip(flat[::2], flat[1::2], strict=True)]

    def make_due_now(self, delivery_id: str) -> None:
        """Bring a delivery's due time forward to now (never back, and only while it is in the due-set)."""
        self.redis.zadd(self._key("due"), {delivery_id: time.time()}, xx=True, lt=True)

    def wake(self) -> None:
        """Tell idle delivery engines there is work now (a list, so a wake-up is never missed)."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(self._key("deliver-wake"), "1")
            pipe.ltrim(self._key("deliver-wake"), 0, 0)
            pipe.execute()

    def wait_for_work(self, timeout_s: float) -> None:
        """Block until woken, an article version is handed to publish (its outbox entry is put back where it
        was, for the fan-out that follows), or `timeout_s` has passed. Redis away: just wait."""
        outbox = self._key("publish-outbox")
        try:
            popped = self.redis.blpop([self._key("deliver-wake"), outbox], timeout=timeout_s)
            if popped and popped[0] == outbox:
                self.redis.lpush(outbox, popped[1])
        except redis.RedisError:
            time.sleep(timeout_s)
