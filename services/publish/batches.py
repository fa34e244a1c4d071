"""The delivery engine's Redis work, a batch of deliveries per round trip: claim due ones under a lease, read
what their attempts need and take their concurrency slots, record attempts (each handing its slot on and
calling up its subscription's waiting line), put back what was not attempted.

Mixed into PublishRepository, whose key scheme (documented there), pipelining and script loading it uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis

from services.publish.health import Health
from services.publish.model import Delivery, from_json, to_json
from shared.compact import unpack

# Claim due deliveries under a lease: each one's lock taken and its due time pushed to the lease's end, so
# an engine that dies holding it costs a lease of latency, never the delivery. Deliveries another engine offered
# this one (its inbox, below) come first, while their lock is still the offer's ('offer:<engine id>'; one left
# too long, its lock expired and the delivery taken by someone else since, is skipped): their lease starts
# again. Returns id, JSON pairs. One held by someone else (the API redelivering it) is looked at again in a
# second. The delivery keys are built from ARGV[5], the key prefix (one Redis, no cluster). KEYS: due, inbox.
# ARGV: now, lease end, limit, lease seconds, prefix, engine id.
_CLAIM_DUE = """
local claimed = {}
local offered = redis.call('LRANGE', KEYS[2], 0, -1)
if #offered > 0 then redis.call('DEL', KEYS[2]) end
for _, id in ipairs(offered) do
  local key = ARGV[5] .. 'delivery:' .. id
  if redis.call('GET', key .. ':lock') == 'offer:' .. ARGV[6] then
    redis.call('SET', key .. ':lock', '1', 'EX', tonumber(ARGV[4]))
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(claimed, id)
    table.insert(claimed, redis.call('GET', key) or '')
  end
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, math.max(0, tonumber(ARGV[3]) - #offered))
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

# Each engine running (the `engines` set, refreshed every round) gets an equal share of every subscription's
# slots, so that one subscription's backlog goes out from every engine, not only from the one that took its slots
# first. Prepended to the scripts below (Lua has no modules in EVALSHA).
_SHARE = """
local function share(engines, now, limit)
  redis.call('ZREMRANGEBYSCORE', engines, '-inf', now)
  return math.ceil(limit / math.max(1, redis.call('ZCARD', engines)))
end
"""

# Concurrency slots for a batch of deliveries, in order. ARGV: key prefix, now, lease expiry, limit, key ttl (ms),
# then subscription id, delivery id, and how many attempts of that subscription the caller has in flight, of
# each. Each subscription's expired leases go once per batch. A slot is free when fewer than the limit are taken
# and the caller has fewer than its share. A '1' or '0' each.
_ACQUIRE_SLOTS = (
    _SHARE
    + """
local prefix, now, lease_end, limit, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local mine_at_most = share(prefix .. 'engines', now, limit)
local got, taken = {}, {}
for i = 6, #ARGV, 3 do
  local inflight, id, mine = prefix .. 'sub:' .. ARGV[i] .. ':inflight', ARGV[i + 1], tonumber(ARGV[i + 2])
  if not taken[inflight] then
    taken[inflight] = 0
    redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  end
  if redis.call('ZSCORE', inflight, id) then
    got[#got + 1] = '1'
  elseif redis.call('ZCARD', inflight) < limit and mine + taken[inflight] < mine_at_most then
    redis.call('ZADD', inflight, lease_end, id)
    redis.call('PEXPIRE', inflight, ttl)
    taken[inflight] = taken[inflight] + 1
    got[#got + 1] = '1'
  else
    got[#got + 1] = '0'
  end
end
return table.concat(got)
"""
)


# After a batch of attempts, each in turn. KEYS: due. ARGV[1], JSON: prefix, now, window, keep (retention
# seconds, '' = keep), lease_end (of a slot handed on or a delivery claimed), claim (true: claim the called-up
# deliveries for the caller, false: make them due now), lock_s, engine (the caller's id), limit (slots per
# subscription), and attempts, each [delivery JSON, id, subscription id, created_ts, due_at ('' = final),
# '1'/'0' succeeded, status before, status, successor ('' = none), how many to call up]. One JSON argument
# rather than a dozen keys and arguments per attempt: redis-py's packing of each argument cost the engine more
# than the script costs Redis. The attempted delivery leaves its subscription's line (it may have been claimed
# from the due set while in it) and its slot goes to its successor (a delivery of the same subscription the
# engine holds, claimed, already sent on it). The subscription's longest-waiting deliveries called up are
# claimed for the caller, as the claim script claims (one held elsewhere is left alone), or made due now. With
# a slot of the subscription still free for all the caller claimed, the next one in line is offered to another
# engine: locked as 'offer:<its id>' and put in its inbox. So the slots an engine leaves at its share go to the
# others, which may have nothing of the subscription to ask for them with. A final delivery expires `keep`
# after its creation; its status log is trimmed to the retention once per batch. Returns the claimed (id, JSON
# pairs), then per attempt its subscription's recent outcomes, newest first ("1"/"0" each), and health as
# last_success_ts|failing_since_ts|open_until_ts after it ('' when its subscription was deleted meanwhile);
# then the caller's share of each subscription's slots.
_RECORD = (
    _SHARE
    + """
local a = cjson.decode(ARGV[1])
local due, prefix, now, keep = KEYS[1], a.prefix, a.now, a.keep
local claimed, results, trimmed, pruned = {}, {}, {}, {}
local engines = prefix .. 'engines'
local mine_at_most = share(engines, now, a.limit)
local others = {}
for _, engine in ipairs(redis.call('ZRANGE', engines, 0, -1)) do
  if engine ~= a.engine then others[#others + 1] = engine end
end
for i, t in ipairs(a.attempts) do
  local data, id, sub, created, due_at, ok, was, status, successor, call_up = unpack(t)
  local key, s = prefix .. 'delivery:' .. id, prefix .. 'sub:' .. sub
  redis.call('ZREM', s .. ':inflight', id)
  redis.call('ZREM', s .. ':waiting', id)
  redis.call('DEL', key .. ':lock')
  if successor ~= '' then redis.call('ZADD', s .. ':inflight', a.lease_end, successor) end
  local mine = 0
  if call_up > 0 then
    local called = redis.call('ZPOPMIN', s .. ':waiting', call_up)
    for j = 1, #called, 2 do
      local other = prefix .. 'delivery:' .. called[j]
      if not a.claim then
        redis.call('ZADD', due, now, called[j])
      elseif redis.call('SET', other .. ':lock', '1', 'NX', 'EX', a.lock_s) then
        redis.call('ZADD', due, a.lease_end, called[j])
        claimed[#claimed + 1] = called[j]
        claimed[#claimed + 1] = redis.call('GET', other) or ''
        mine = mine + 1
      end
    end
  end
  if #others > 0 and redis.call('ZCARD', s .. ':inflight') + mine < a.limit then
    local offered = redis.call('ZPOPMIN', s .. ':waiting')[1]
    if offered then
      local to = others[math.floor(now * 1000 + i) % #others + 1]
      if redis.call('SET', prefix .. 'delivery:' .. offered .. ':lock', 'offer:' .. to, 'NX', 'EX', a.lock_s) then
        local inbox = prefix .. 'engine:' .. to .. ':inbox'
        redis.call('ZADD', due, a.lease_end, offered)
        redis.call('RPUSH', inbox, offered)
        redis.call('EXPIRE', inbox, a.lock_s)
      end
    end
  end
  if redis.call('EXISTS', key) == 0 then  -- its subscription was deleted meanwhile
    results[i] = ''
  else
    redis.call('SET', key, data)
    if due_at == '' then redis.call('ZREM', due, id) else redis.call('ZADD', due, due_at, id) end
    if was ~= status then redis.call('ZREM', s .. ':deliveries:' .. was, id) end
    local log = s .. ':deliveries:' .. status
    redis.call('ZADD', log, created, id)
    if due_at == '' and keep ~= '' then
      redis.call('PEXPIREAT', key, math.floor((created + keep) * 1000))
      if not pruned[log] then
        pruned[log] = true
        redis.call('ZREMRANGEBYSCORE', log, '-inf', '(' .. (now - keep))
      end
    end
    local outcomes, health = s .. ':outcomes', s .. ':health'
    redis.call('LPUSH', outcomes, ok)
    trimmed[outcomes] = true
    if ok == '1' then
      redis.call('HSET', health, 'last_success_ts', now)
      redis.call('HDEL', health, 'failing_since_ts')
    else
      redis.call('HSETNX', health, 'failing_since_ts', now)
    end
    local h = redis.call('HMGET', health, 'last_success_ts', 'failing_since_ts', 'open_until_ts')
    results[i] = table.concat(redis.call('LRANGE', outcomes, 0, a.window - 1)) .. '|' ..
      (h[1] or '') .. '|' .. (h[2] or '') .. '|' .. (h[3] or '')
  end
end
for outcomes in pairs(trimmed) do redis.call('LTRIM', outcomes, 0, a.window - 1) end
return {claimed, results, mine_at_most}
"""
)


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
        self._acquire_slots = client.register_script(_ACQUIRE_SLOTS)
        self._record = client.register_script(_RECORD)
        return [self._claim_due, self._acquire_slots, self._record]

    def prepare_attempts(
        self,
        deliveries: list[Delivery],
        max_in_flight: int,
        slot_ttl_s: float,
        in_flight: Mapping[str, int],
    ) -> list[AttemptContext]:
        """For each delivery: its subscription, the subscription's health, the payload and a concurrency slot, as
        far as the caller, with `in_flight` attempts per subscription, is within its share of them. Each
        subscription and each payload is read once for the batch."""
        subs = list(dict.fromkeys(d.subscription_id for d in deliveries))
        refs = list(dict.fromkeys((d.article_id, d.version) for d in deliveries))
        now = time.time()

        def build(pipe) -> None:
            for sub_id in subs:
                pipe.get(self._key("sub", sub_id))
                pipe.hgetall(self._key("sub", sub_id, "health"))
            for article_id, version in refs:
                pipe.get(self._key("payload", article_id, str(version)))
            batch = [
                part for d in deliveries for part in (d.subscription_id, d.id, in_flight.get(d.subscription_id, 0))
            ]
            ttl_ms = int(slot_ttl_s * 1000)
            args = [self.prefix, now, now + slot_ttl_s, max_in_flight, ttl_ms, *batch]
            self._evalsha(pipe, self._acquire_slots, [], args)

        replies = self._pipelined(build)
        n = 2 * len(subs)
        sub_of = {
            i: (json.loads(s) if s else None, Health.from_hash(h))
            for i, s, h in zip(subs, replies[:n:2], replies[1:n:2], strict=True)
        }
        payload_of = {ref: unpack(body) for ref, body in zip(refs, replies[n : n + len(refs)], strict=True)}
        slots = replies[-1]
        return [
            AttemptContext(*sub_of[d.subscription_id], payload_of[(d.article_id, d.version)], slot == "1")
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

    def inbox(self, engine: str) -> str:
        """The deliveries other engines offered `engine`, locked for it, each offered when a slot was free."""
        return self._key("engine", engine, "inbox")

    def leave(self, engine: str) -> None:
        """A stopping `engine`: out of the running set, so that nothing more is offered to it, and what was
        offered to it (and is still its offer) due now and unlocked, for the others."""
        self.redis.zrem(self._key("engines"), engine)
        now = time.time()
        offered = self._claim_due(
            keys=[self._key("due"), self.inbox(engine)], args=[now, now, 0, 1, self.prefix, engine]
        )
        with self.redis.pipeline(transaction=False) as pipe:
            for delivery_id in offered[::2]:
                pipe.delete(self._key("delivery", delivery_id, "lock"))
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
        engine: str,
        finished: list[tuple[Delivery, str, bool, str | None, int]],
        window: int,
        lease_s: float,
        limit: int,
        max_in_flight: int,
        live_s: float,
        also: Callable = lambda pipe: None,
    ) -> tuple[list[tuple[list[bool], Health]], list[tuple[str, Delivery | None]], int | None]:
        """One round trip of the delivery engine `engine`, which counts as running for `live_s` more. First,
        after attempts, each as (delivery with the attempt logged, status before, succeeded, successor id or
        None, how many to call up), each atomically: save the delivery, schedule it or take it off the due set,
        hand its slot to the successor, call up that many of the deliveries waiting in line for the subscription
        (claimed for the caller, when it claims: `limit` > 0; else due now) and, should a slot of the
        subscription still be free, offer the next one to another engine, record the outcome for the
        subscription's health and release the delivery's lock. `also(pipe)` queues more (metrics). Then claim
        what other engines offered this one and due deliveries, earliest first, up to `limit` with those called
        up. Claimed deliveries are locked and leased for `lease_s` (None: it is gone). Returns, per attempt, its
        subscription's recent outcomes (newest first) and health; the claimed; and the engine's share of each
        subscription's `max_in_flight` slots (None without attempts)."""
        now, keep = time.time(), self.delivery_retention_s or ""
        due_limit = limit - sum(call_up for *_, call_up in finished)
        batch = {
            "prefix": self.prefix,
            "now": now,
            "window": window,
            "keep": keep,
            "lease_end": now + lease_s,
            "claim": limit > 0,
            "lock_s": max(1, int(lease_s)),
            "engine": engine,
            "limit": max_in_flight,
            "attempts": [
                [
                    to_json(delivery),
                    delivery.id,
                    delivery.subscription_id,
                    delivery.created_ts,
                    "" if delivery.next_attempt_ts is None else delivery.next_attempt_ts,
                    "1" if succeeded else "0",
                    was,
                    delivery.status,
                    successor or "",
                    call_up,
                ]
                for delivery, was, succeeded, successor, call_up in finished
            ],
        }

        def build(pipe) -> None:
            pipe.zadd(self._key("engines"), {engine: now + live_s})
            if finished:
                self._evalsha(pipe, self._record, [self._key("due")], [json.dumps(batch)])
            also(pipe)
            if due_limit > 0:
                lease = [time.time() + lease_s, due_limit, batch["lock_s"], self.prefix]
                keys = [self._key("due"), self.inbox(engine)]
                self._evalsha(pipe, self._claim_due, keys, [time.time(), *lease, engine])

        replies = self._pipelined(build)
        flat, results, share = replies[1] if finished else ([], [], None)
        flat = [*flat, *(replies[-1] if due_limit > 0 else [])]
        claimed = [(delivery_id, from_json(data)) for delivery_id, data in zip(flat[::2], flat[1::2], strict=True)]
        return [_recorded(result) for result in results], claimed, share


def _recorded(result: str) -> tuple[list[bool], Health]:
    """An attempt's line of the record script's answer: its subscription's recent outcomes and health."""
    if not result:
        return [], Health()
    outcomes, last_success, failing_since, open_until = result.split("|")
    fields = {"last_success_ts": last_success, "failing_since_ts": failing_since, "open_until_ts": open_until}
    return [outcome == "1" for outcome in outcomes], Health.from_hash(fields)
