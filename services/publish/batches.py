"""The delivery engine's Redis work, a batch of deliveries per round trip: claim due ones under a lease, read
what their attempts need and take their concurrency slots, record attempts (each handing its slot on and
calling up its subscription's waiting line), put back what was not attempted.

Mixed into PublishRepository, whose key scheme (documented there), pipelining and script loading it uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from services.publish.health import Health
from services.publish.model import Delivery, from_json, to_json
from shared.compact import unpack

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


class DeliveryBatches:
    """PublishRepository's methods for the delivery engine (a mixin: it brings the keys and the pipelining)."""

    def _register_batch_scripts(self, client: redis.Redis) -> list:
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._acquire_slot = client.register_script(_ACQUIRE_SLOT)
        self._finish = client.register_script(_FINISH)
        return [self._claim_due, self._acquire_slot, self._finish]

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
        self, items: list[tuple[Delivery, float | None, str, bool]], for_slot: list[Delivery], due_in_s: float
    ) -> None:
        """Deliveries not attempted, saved, their slots freed and their locks released: `items` as (delivery, due at
        or None when final, status before, held a slot); `for_slot` to wait in line for their subscription's next
        free slot (and due in `due_in_s`, should no slot come free)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for delivery in for_slot:
                pipe.zadd(
                    self._key("sub", delivery.subscription_id, "waiting"), {delivery.id: delivery.next_attempt_ts}
                )
                pipe.zadd(self._key("due"), {delivery.id: time.time() + due_in_s})
                pipe.delete(self._key("delivery", delivery.id, "lock"))
            for delivery, due_at, was, slot in items:
                pipe.set(self._key("delivery", delivery.id), to_json(delivery))
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
                args = [to_json(delivery), delivery_id, delivery.created_ts, due_at, succeeded, now, window, keep]
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
        return results, [
            (delivery_id, from_json(data)) for delivery_id, data in zip(flat[::2], flat[1::2], strict=True)
        ]
