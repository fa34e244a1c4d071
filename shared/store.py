"""The article store: Redis is the source of truth, the queue only a hint.

Keys (all under `nf:`):
  article:<id>           hash   id, version, state, content_hash, received_at (first version),
                                version_received_at, updated_at, error, and <state>_at: when the
                                current version entered each later state (enriching_at, ...),
                                published_version (the latest version published)
  article:<id>:facets    string the feed index sets the published version is in, newline-separated (apart
                                from the hash, whose values then stay short enough for Redis's compact encoding)
  article:<id>:raw       string JSON of the latest raw article until it is enriched (kept after that only
                                with ENRICH_KEEP_RAW, for re-processing)
  article:<id>:enriched  string JSON of the finished article ({"data": <ninjs>, "enrichment": ...}) until
                                it is published: from then on the webhook payload holds it (publish's
                                repository), so its text is stored once
Values over shared/compact.py's threshold are stored zlib-compressed.
  deadlines              zset   id -> time by which a non-final article must move on
  feed                   zset   id -> publication time, newest last
  ix:<facet>:<value>     zset   the feed's articles with that facet value (topics:<code>, entities:<name>,
                                places:<name or country>, sources:<name>, languages:<code>), same scores:
                                the feed index, kept with the feed by the scripts below
  states                 hash   state -> how many articles are in it (kept by the scripts below)
  outbox                 list   "<id> <version>" of every accepted version not yet handed to the
                                enrich queue (the ingest dispatcher drains it in batches)
  publish-outbox         list   "<id> <version> <request id>" of every enriched version not yet fanned
                                out (the delivery engine drains it in batches)

Every state change is one Lua script, so the state, its version check and its deadline
change together or not at all. A change for a stale version is refused, which is what
makes the tasks idempotent on (article_id, version).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from string import Template

import redis

from shared.compact import pack, unpack
from shared.contracts import ArticleState
from shared.times import iso

MAX_ENRICH_ATTEMPTS = 5


def _lua(script: str) -> str:
    """The script with the article states of shared/contracts.py in place of `$RECEIVED`, `$ENRICHING`, ..."""
    return Template(script).substitute({state.upper(): state for state in ArticleState.ALL})


_ACCEPT = _lua("""
local meta, raw_key, deadlines, states, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, content_hash, raw, now, deadline, request_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('HGET', meta, 'content_hash') == content_hash then
  return {0, tonumber(redis.call('HGET', meta, 'version'))}
end
local previous = redis.call('HGET', meta, 'state')
if previous then redis.call('HINCRBY', states, previous, -1) end
redis.call('HINCRBY', states, '$RECEIVED', 1)
local version = redis.call('HINCRBY', meta, 'version', 1)
redis.call('HSETNX', meta, 'received_at', now)
redis.call('HSET', meta, 'id', id, 'content_hash', content_hash, 'state', '$RECEIVED',
           'version_received_at', now, 'updated_at', now, 'error', '', 'attempts', 0)
redis.call('HDEL', meta, '${ENRICHING}_at', '${ENRICHED}_at', '${PUBLISHED}_at', '${FAILED}_at')
redis.call('SET', raw_key, raw)
redis.call('ZADD', deadlines, deadline, id)
redis.call('RPUSH', outbox, id .. ' ' .. version .. ' ' .. request_id)
return {1, version}
""")

# The enrich claim counts attempts, so an article that kills its worker every time (the message
# comes back through acks_late) ends as failed instead of circling for ever.
_CLAIM = _lua("""
local meta, deadlines, states = KEYS[1], KEYS[2], KEYS[3]
local id, version, now, deadline, max_attempts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('HGET', meta, 'version') ~= version then return 0 end
local state = redis.call('HGET', meta, 'state')
if state ~= '$RECEIVED' and state ~= '$ENRICHING' then return 0 end
local attempts = redis.call('HINCRBY', meta, 'attempts', 1)
local to = '$ENRICHING'
if attempts > max_attempts then to = '$FAILED' end
redis.call('HINCRBY', states, state, -1)
redis.call('HINCRBY', states, to, 1)
if to == '$FAILED' then
  redis.call('HSET', meta, 'state', '$FAILED', 'updated_at', now, '${FAILED}_at', now,
             'error', 'gave up after ' .. max_attempts .. ' attempts to enrich it')
  redis.call('ZREM', deadlines, id)
  return -1
end
redis.call('HSET', meta, 'state', '$ENRICHING', 'updated_at', now, '${ENRICHING}_at', now)
redis.call('ZADD', deadlines, deadline, id)
return attempts
""")

# KEYS: meta, deadlines, enriched, feed, states, raw, facets, publish-outbox, then the index sets of the version
#       being published.
# ARGV: id, version, allowed from-states (comma list), to-state, now, deadline ('' = final), error,
#       enriched JSON ('' = leave), feed score ('' = leave), '1' to drop the raw article with the enriched one stored,
#       publish-outbox entry ('' = none)
# `move` is the transition; _TRANSITION runs it once, _TRANSITIONS for each [KEYS, ARGV] of its one JSON argument
# (a batch: redis-py's packing of some twenty keys and arguments per call cost more than the script), returning
# what each returned.
_MOVE = """
local function move(KEYS, ARGV)
  local meta, deadlines, enriched_key, feed, states, raw_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
  local publish_outbox = KEYS[8]
  local id, version, allowed, to, now, deadline, err, enriched, score, drop_raw, handover =
    ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
  if redis.call('HGET', meta, 'version') ~= version then return 0 end
  local state = redis.call('HGET', meta, 'state')
  if not string.find(',' .. allowed .. ',', ',' .. state .. ',', 1, true) then return 0 end
  redis.call('HINCRBY', states, state, -1)
  redis.call('HINCRBY', states, to, 1)
  redis.call('HSET', meta, 'state', to, 'updated_at', now, 'error', err, to .. '_at', now)
  if deadline == '' then redis.call('ZREM', deadlines, id) else redis.call('ZADD', deadlines, deadline, id) end
  if enriched ~= '' then
    redis.call('SET', enriched_key, enriched)
    if drop_raw == '1' then redis.call('DEL', raw_key) end
  end
  if handover ~= '' then redis.call('RPUSH', publish_outbox, handover) end
  if score ~= '' then
    redis.call('DEL', enriched_key)
    redis.call('ZADD', feed, score, id)
    redis.call('HSET', meta, 'published_version', version)
    for old in string.gmatch(redis.call('GET', KEYS[7]) or '', '[^\\n]+') do
      redis.call('ZREM', old, id)
    end
    local facets = {}
    for i = 9, #KEYS do
      redis.call('ZADD', KEYS[i], score, id)
      facets[#facets + 1] = KEYS[i]
    end
    redis.call('SET', KEYS[7], table.concat(facets, '\\n'))
  end
  return 1
end
"""
_TRANSITION = _MOVE + "return move(KEYS, ARGV)\n"
_TRANSITIONS = (
    _MOVE
    + """
local moved = {}
for i, t in ipairs(cjson.decode(ARGV[1])) do moved[i] = move(t[1], t[2]) end
return moved
"""
)


# Retention. KEYS: meta, raw, enriched, feed, states, facets. ARGV: id. Only a published article goes: one whose
# newer version is on its way stays, and publishing that version moves it up the feed.
_EXPIRE = _lua("""
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= '$PUBLISHED' then return 0 end
redis.call('ZREM', KEYS[4], ARGV[1])
if not state then return 0 end
for facet in string.gmatch(redis.call('GET', KEYS[6]) or '', '[^\\n]+') do
  redis.call('ZREM', facet, ARGV[1])
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[6])
redis.call('HINCRBY', KEYS[5], '$PUBLISHED', -1)
return 1
""")


# The feed, filtered. KEYS: the sets an article must be in (the feed itself when nothing is filtered). ARGV:
# after score ('' = from the newest), after id, oldest score, matches wanted, entries to look at at most.
# Walks the smallest set newest first (ties: the larger id first) from just after (score, id), keeping the
# members every other set holds. Returns {matches as id, score, ...} and, when the look-at budget ran out before
# enough matched, the point to go on from {score, id}; else {}.
_FEED_WALK = """
local walk, size = KEYS[1], redis.call('ZCARD', KEYS[1])
for i = 2, #KEYS do
  local n = redis.call('ZCARD', KEYS[i])
  if n < size then walk, size = KEYS[i], n end
end
local after, after_id, oldest = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local want, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local rank, found, looked = 0, {}, 0
if after then rank = redis.call('ZCOUNT', walk, '(' .. ARGV[1], '+inf') end
while true do
  local batch = redis.call('ZREVRANGE', walk, rank, rank + 99, 'WITHSCORES')
  if #batch == 0 then return {found, {}} end
  for i = 1, #batch, 2 do
    local id, score = batch[i], tonumber(batch[i + 1])
    if score < oldest then return {found, {}} end
    if not (after and score == after and id >= after_id) then
      local all = true
      for k = 1, #KEYS do
        if KEYS[k] ~= walk and not redis.call('ZSCORE', KEYS[k], id) then
          all = false
          break
        end
      end
      if all then
        found[#found + 1] = id
        found[#found + 1] = batch[i + 1]
        if #found == 2 * want then return {found, {}} end
      end
    end
    looked = looked + 1
    if looked >= budget then return {found, {batch[i + 1], id}} end
  end
  rank = rank + #batch / 2
end
"""


@dataclass(frozen=True)
class Accepted:
    version: int
    duplicate: bool


@dataclass(frozen=True)
class EnrichedVersion:
    article_id: str
    version: int
    article: dict
    text: str  # the article's JSON as stored, which `article` was decoded from
    received_ts: float  # when ingest accepted this version
    update: bool  # an earlier version was published: this one goes out as article.updated


@dataclass(frozen=True)
class StuckArticle:
    article_id: str
    version: int
    state: str


class ArticleStore:
    def __init__(self, client: redis.Redis, stuck_after_s: float = 120.0, prefix: str = "nf:", keep_raw: bool = False):
        """`keep_raw`: keep the raw article once it is enriched (ENRICH_KEEP_RAW)."""
        self.redis = client
        self.stuck_after_s = stuck_after_s
        self.keep_raw = keep_raw
        self.prefix = prefix
        self._accept = client.register_script(_ACCEPT)
        self._transition = client.register_script(_TRANSITION)
        self._transitions = client.register_script(_TRANSITIONS)
        self._claim = client.register_script(_CLAIM)
        self._expire = client.register_script(_EXPIRE)
        self._feed_walk = client.register_script(_FEED_WALK)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def accept(self, article_id: str, raw: dict, content_hash: str, request_id: str = "") -> Accepted:
        """Store a new version (none when the content is unchanged) and queue it in the outbox with `request_id`,
        the request that sent it, which rides on into the task's headers."""
        now = time.time()
        created, version = self._accept(
            keys=[
                self._key("article", article_id),
                self._key("article", article_id, "raw"),
                self._key("deadlines"),
                self._key("states"),
                self._key("outbox"),
            ],
            args=[
                article_id,
                content_hash,
                pack(json.dumps(raw)),
                now,
                now + self.stuck_after_s,
                request_id,
            ],
        )
        return Accepted(version=int(version), duplicate=not created)

    def _move(
        self,
        article_id,
        version,
        allowed,
        to,
        *,
        error="",
        enriched=None,
        published=False,
        facets=(),
        request_id="",
    ) -> bool:
        keys, args = self._transition_of(
            article_id, version, allowed, to, error, enriched, published, facets, request_id
        )
        return bool(self._transition(keys=keys, args=args))

    def _transition_of(
        self, article_id, version, allowed, to, error="", enriched=None, published=False, facets=(), request_id=""
    ) -> tuple[list[str], list]:
        """The transition script's KEYS and ARGV for one move."""
        now = time.time()
        deadline = "" if to in ArticleState.FINAL else now + self.stuck_after_s
        keys = [
            self._key("article", article_id),
            self._key("deadlines"),
            self._key("article", article_id, "enriched"),
            self._key("feed"),
            self._key("states"),
            self._key("article", article_id, "raw"),
            self._key("article", article_id, "facets"),
            self._key("publish-outbox"),
            *self.index_keys(facets),
        ]
        args = [
            article_id,
            str(version),
            ",".join(allowed),
            to,
            repr(now),
            repr(deadline) if deadline else "",
            error,
            pack(json.dumps(enriched)) if enriched is not None else "",
            repr(now) if published else "",
            "" if self.keep_raw else "1",
            f"{article_id} {version} {request_id}" if to == ArticleState.ENRICHED else "",
        ]
        return keys, args

    def take_outbox(self, limit: int, wait_s: float) -> list[tuple[str, int, str]]:
        """Up to `limit` accepted (id, version, request id) entries, oldest first, waiting up to `wait_s` for the first.
        Taking them is the hand-over: one lost after this is found by the sweeper at its deadline."""
        first = self.redis.blpop([self._key("outbox")], timeout=wait_s)
        if first is None:
            return []
        entries = [first[1], *(self.redis.lpop(self._key("outbox"), limit - 1) or [])]
        parts = [entry.split(" ") for entry in entries]
        return [(article_id, int(version), rest[0] if rest else "") for article_id, version, *rest in parts]

    def outbox_length(self) -> int:
        return self.redis.llen(self._key("outbox"))

    def take_publish_outbox(self, limit: int) -> list[tuple[str, int, str]]:
        """Up to `limit` enriched (id, version, request id) entries, oldest first, not waiting. Taking them is
        the hand-over to fan-out: one lost after this is found by the sweeper at its deadline."""
        entries = self.redis.lpop(self._key("publish-outbox"), limit) or []
        parts = [entry.split(" ") for entry in entries]
        return [(article_id, int(version), rest[0] if rest else "") for article_id, version, *rest in parts]

    def hand_to_publish(self, refs: list[tuple[str, int]]) -> None:
        """Put enriched (id, version) back in the publish outbox (the sweeper, for one whose fan-out was lost);
        fan-out skips a version no longer waiting, so a second entry of one sends nothing twice."""
        if refs:
            self.redis.rpush(self._key("publish-outbox"), *(f"{article_id} {version} " for article_id, version in refs))

    def enriched_versions(self, refs: list[tuple[str, int]]) -> list[EnrichedVersion | None]:
        """For each (id, version) still waiting to be published (state enriched, that version): the article
        and what fan-out needs to know about it, read in one round trip. None for the others."""
        with self.redis.pipeline(transaction=False) as pipe:
            for article_id, _ in refs:
                pipe.hmget(
                    self._key("article", article_id), "version", "state", "version_received_at", "published_version"
                )
                pipe.get(self._key("article", article_id, "enriched"))
            replies = pipe.execute()
        found = []
        for (article_id, version), meta, data in zip(refs, replies[::2], replies[1::2], strict=True):
            current, state, received, published = meta
            if current != str(version) or state != ArticleState.ENRICHED or not data:
                found.append(None)
                continue
            update = published is not None and int(published) < version
            text = unpack(data)
            found.append(EnrichedVersion(article_id, version, json.loads(text), text, float(received), update))
        return found

    def start_enriching(self, article_id: str, version: int) -> bool:
        """Claim (article_id, version) for enrichment; False if stale, already past it, or out of
        attempts (then it is failed)."""
        now = time.time()
        keys = [self._key("article", article_id), self._key("deadlines"), self._key("states")]
        claimed = self._claim(keys=keys, args=[article_id, version, now, now + self.stuck_after_s, MAX_ENRICH_ATTEMPTS])
        return int(claimed) > 0

    def take_sweep_turn(self, interval_s: float) -> bool:
        """True for one caller per interval, however many schedulers run."""
        return bool(self.redis.set(self._key("sweep-lock"), "1", nx=True, px=max(1, int(interval_s * 900))))

    def save_enriched(self, article_id: str, version: int, article: dict, request_id: str = "") -> bool:
        """Store the finished article and hand it to publish (the publish outbox, with `request_id`)."""
        return self._move(
            article_id,
            version,
            (ArticleState.RECEIVED, ArticleState.ENRICHING),
            ArticleState.ENRICHED,
            enriched=article,
            request_id=request_id,
        )

    def mark_published(self, article_id: str, version: int, facets: Iterable[tuple[str, str]] = ()) -> bool:
        """Into the feed, and into the feed index under each (facet, value), out of the previous version's.
        The enriched copy goes: the webhook payload saved before this holds the article from now on."""
        return self._move(
            article_id, version, (ArticleState.ENRICHED,), ArticleState.PUBLISHED, published=True, facets=facets
        )

    def index_keys(self, facets: Iterable[tuple[str, str]]) -> list[str]:
        return [self._key("ix", name, value) for name, value in facets]

    def feed_walk(
        self,
        facets: list[tuple[str, str]],
        after: tuple[float, str] | None,
        since: float | None,
        want: int,
        budget: int,
    ) -> tuple[list[tuple[str, float]], tuple[float, str] | None]:
        """Up to `want` published articles holding every (facet, value), newest first, strictly after `after`
        (score, id), published at `since` or later, looking at no more than `budget` entries of the smallest
        index set: (id, publication time) of each, and where to go on from when the budget ran out first."""
        keys = self.index_keys(facets) or [self._key("feed")]
        args = [repr(after[0]), after[1]] if after else ["", ""]
        found, resume = self._feed_walk(keys=keys, args=[*args, repr(-1.0 if since is None else since), want, budget])
        matches = [(found[i], float(found[i + 1])) for i in range(0, len(found), 2)]
        return matches, (float(resume[0]), resume[1]) if resume else None

    def mark_published_many(self, published: list[tuple[str, int, Iterable[tuple[str, str]]]]) -> None:
        """mark_published for each (id, version, facets), in one script call."""
        moves = [
            self._transition_of(
                article_id, version, (ArticleState.ENRICHED,), ArticleState.PUBLISHED, published=True, facets=facets
            )
            for article_id, version, facets in published
        ]
        if moves:
            self._transitions(keys=[], args=[json.dumps(moves)])

    def fail(self, article_id: str, version: int, reason: str) -> bool:
        return self._move(
            article_id,
            version,
            (ArticleState.RECEIVED, ArticleState.ENRICHING, ArticleState.ENRICHED),
            ArticleState.FAILED,
            error=reason,
        )

    def status(self, article_id: str) -> dict | None:
        meta = self.redis.hgetall(self._key("article", article_id))
        if not meta:
            return None
        return {
            "id": article_id,
            "version": int(meta["version"]),
            "status": meta["state"],
            "received_at": iso(float(meta["received_at"])),
            "version_received_at": iso(float(meta["version_received_at"])),
            "updated_at": iso(float(meta["updated_at"])),
            **({"error": meta["error"]} if meta.get("error") else {}),
        }

    def transition_times(self, article_id: str) -> dict[str, float]:
        """When the current version entered each state it has been in: state -> Unix time."""
        states = ArticleState.ALL
        fields = ["version_received_at", *(f"{state}_at" for state in states[1:])]
        values = self.redis.hmget(self._key("article", article_id), fields)
        return {state: float(value) for state, value in zip(states, values, strict=True) if value}

    def raw(self, article_id: str) -> dict | None:
        data = unpack(self.redis.get(self._key("article", article_id, "raw")))
        return json.loads(data) if data else None

    def enriched(self, article_id: str) -> dict | None:
        """The finished article while it waits to be published (then the webhook payload holds it)."""
        data = unpack(self.redis.get(self._key("article", article_id, "enriched")))
        return json.loads(data) if data else None

    def enriched_many(self, article_ids: list[str]) -> list[dict | None]:
        if not article_ids:
            return []
        keys = [self._key("article", article_id, "enriched") for article_id in article_ids]
        return [json.loads(data) if (data := unpack(value)) else None for value in self.redis.mget(keys)]

    def published_before(self, before: float | None, since: float | None, count: int) -> list[tuple[str, float]]:
        """(article id, publication time), newest first, published after `since` and strictly before `before`."""
        newest = f"({before!r}" if before is not None else "+inf"
        oldest = since if since is not None else "-inf"
        return self.redis.zrevrangebyscore(self._key("feed"), newest, oldest, start=0, num=count, withscores=True)

    def expire_published(self, cutoff: float, limit: int = 500) -> int:
        """Delete up to `limit` articles last published before `cutoff`; how many went."""
        article_ids = self.redis.zrangebyscore(self._key("feed"), "-inf", f"({cutoff!r}", start=0, num=limit)
        with self.redis.pipeline(transaction=False) as pipe:
            for article_id in article_ids:
                meta, raw, enriched, facets = (
                    self._key("article", article_id, *s) for s in ((), ("raw",), ("enriched",), ("facets",))
                )
                keys = [meta, raw, enriched, self._key("feed"), self._key("states"), facets]
                self._expire(keys=keys, args=[article_id], client=pipe)
            return sum(pipe.execute())

    def overdue(self, limit: int = 500) -> list[StuckArticle]:
        """Articles past their deadline, pushed a deadline further so one sweep takes each."""
        now = time.time()
        stuck = []
        for article_id in self.redis.zrangebyscore(self._key("deadlines"), "-inf", now, start=0, num=limit):
            meta = self.redis.hmget(self._key("article", article_id), "version", "state")
            if meta[0] is None or meta[1] in ArticleState.FINAL:
                self.redis.zrem(self._key("deadlines"), article_id)
                continue
            self.redis.zadd(self._key("deadlines"), {article_id: now + self.stuck_after_s}, xx=True)
            stuck.append(StuckArticle(article_id, int(meta[0]), meta[1]))
        return stuck

    def state_counts(self) -> dict[str, int]:
        """How many articles are in each state (every state listed, zero included)."""
        counts = self.redis.hgetall(self._key("states"))
        return {state: int(counts.get(state, 0)) for state in ArticleState.ALL}

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False


def connect(url: str) -> redis.Redis:
    # surrogateescape: a compressed value (shared/compact.py) reads back as a str that encodes to the same bytes
    return redis.Redis.from_url(url, decode_responses=True, encoding_errors="surrogateescape", health_check_interval=30)
