"""The delivery engine: `python -m services.publish.engine`, the Procfile's `deliver` entry.

One asyncio loop per process. Each round it records the attempts that finished (one pipelined round trip
for the batch), fans out the article versions enrich handed over through the publish outbox, then claims
as many due deliveries from the Redis due-set as it has room for, under a lease (the lock and the due time
pushed to the lease's end in one script), reads what they need in one more round trip, and starts their
POSTs concurrently on one keep-alive `aiohttp.ClientSession`. With nothing to do it blocks on the wake list
(fan-out, redeliver and replay push to it), the publish outbox and its inbox (deliveries other engines offer
it) for at most WEBHOOK_POLL_INTERVAL_S, when retries come due. Engines running side by side share every
subscription's slots equally (docs/delivery-engine.md).

An engine killed mid-batch loses nothing: its claimed deliveries come due again when their lease ends
and go out under the same webhook-id. SIGTERM stops claiming, lets the attempts in flight end for at most
STOP_S (a Celery worker's warm and soft shutdown together, inside compose's stop_grace_period), records them,
puts the ones still running back in the due-set, due now and unattempted, and exits.

Like a Celery worker, it checks the schema version at start and refreshes its heartbeat (shared.liveness,
node `deliver@<host>` from `--hostname deliver@%h`) from its loop, which compose's healthcheck reads.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable

import aiohttp
import redis

from services.publish.attempts import Ready, record_and_claim, send, triage
from services.publish.bootstrap import bootstrap
from services.publish.delivery import Attempt
from services.publish.fanout import FAN_OUT_TURN_S, drain_outbox
from services.publish.model import Delivery
from services.publish.publisher import Publisher
from services.publish.transport import webhook_client
from shared.celery_app import SOFT_SHUTDOWN_S, WARM_SHUTDOWN_S, make_celery
from shared.config import Settings
from shared.liveness import HEARTBEAT_S, record_heartbeat
from shared.logs import configure_logging
from shared.schema_version import SchemaTooNew, require_schema_version

log = logging.getLogger(__name__)

OUTBOX_BATCH = 200  # article versions fanned out per round
HOLD_PER_SUBSCRIPTION = 50  # claimed deliveries an engine holds for their subscription's next free slots
HOLD_S = 2.0  # ... for at most this long
IDLE_HOLD_S = 0.2  # ... or this long while no attempt of their subscription is in flight in this engine
STOP_S = WARM_SHUTDOWN_S + SOFT_SHUTDOWN_S  # how long a stopping engine lets its attempts in flight run


class Engine:
    def __init__(
        self,
        p: Publisher,
        client: aiohttp.ClientSession,
        concurrency: int,
        heartbeat: Callable[[], None] = lambda: None,
    ):
        self.p, self.client, self.concurrency, self.heartbeat = p, client, concurrency, heartbeat
        self.in_flight: set[asyncio.Task] = set()
        self.finished: list[tuple[Ready, Attempt, Ready | None]] = []  # each with the successor it started
        self.fanning: asyncio.Future | None = None  # the fan-out round under way
        self.nudged = asyncio.Event()  # an attempt ended, or a fan-out round did: a round has something to do
        self.held: dict[str, deque[tuple[float, Ready]]] = {}  # subscription id -> (held since, delivery)
        self.sending: dict[str, Ready] = {}  # delivery id -> attempts in flight
        self.sending_to: Counter[str] = Counter()  # subscription id -> attempts in flight
        self.share = p.settings.webhook_max_in_flight  # of each subscription's slots, as last recorded
        self.waiter: asyncio.Future | None = None
        self.stopping = asyncio.Event()
        self.woken, self.outbox_full, self.next_outbox_look = True, False, 0.0
        self.id = secrets.token_hex(6)  # for the fan-out turn (engines on one host share a node name)

    async def run(self) -> None:
        while not self.stopping.is_set():
            self.heartbeat()
            try:
                busy = await self.step()
            except redis.RedisError as exc:  # Redis away: attempts in flight finish, and are recorded later
                log.warning("delivery engine: Redis unavailable (%s); retrying", exc)
                busy = False
                await asyncio.sleep(1)
            await (asyncio.sleep(0) if busy else self.idle())
        if self.fanning is not None:
            await asyncio.wait({self.fanning})
        unfinished = await self.let_attempts_end()
        # the ended attempts first: one may have handed its slot to an attempt put back below, which frees it
        record_and_claim(self.p, self.id, self.finished, 0, self.top_up(self.finished, 0))
        if unfinished:
            self.p.repo.put_back(unfinished, [], self.p.lease_s)
            log.warning("delivery engine: %d attempt(s) still running at stop handed back, due now", len(unfinished))
        self.hold([])  # stopping: every held delivery goes back in the due-set, due now
        if self.waiter is not None:  # its BLPOP could otherwise take an offer after leave() and put it back
            await asyncio.wait({self.waiter})
        self.p.repo.leave(self.id)

    async def let_attempts_end(self) -> list[tuple[Delivery, float, str, bool]]:
        """Attempts in flight get STOP_S to end; the rest are cancelled, to go back to the due-set, due now with
        their slots and locks freed and no attempt logged, for another engine (or this one restarted)."""
        if self.in_flight:
            await asyncio.wait(self.in_flight, timeout=min(STOP_S, self.p.settings.webhook_timeout_s + 1))
        for task in self.in_flight:
            task.cancel()
        await asyncio.gather(*self.in_flight, return_exceptions=True)
        now = time.time()
        return [(ready.delivery.due_at(now), now, ready.delivery.status, True) for ready in self.sending.values()]

    async def step(self) -> bool:
        """One round; True when there may be more work right away. Its Redis round trips run in a thread, so
        the attempts in flight (and the successors they start) go on meanwhile, and so does fan-out, a round
        of its own beside it: a backlog's fan-out does not hold up the recording and claiming of attempts."""
        if self.fanning is None and self.outbox_due():
            busy = bool(self.in_flight)
            self.fanning = asyncio.ensure_future(asyncio.to_thread(drain_outbox, self.p, OUTBOX_BATCH, self.id, busy))
            self.fanning.add_done_callback(self.fanned)
        finished, self.finished = self.finished, []
        room = self.room()
        call_up = self.top_up(finished, room)
        try:
            claimed, share = await asyncio.to_thread(record_and_claim, self.p, self.id, finished, room, call_up)
        except redis.RedisError:
            self.finished = finished + self.finished  # recorded once Redis answers again
            raise
        self.share = share or self.share
        gone = [delivery_id for delivery_id, delivery in claimed if delivery is None]
        if gone:
            await asyncio.to_thread(self.p.repo.forget, gone)
        due = [delivery for _, delivery in claimed if delivery is not None]
        in_flight = dict(self.sending_to)
        ready, in_line = await asyncio.to_thread(triage, self.p, due, in_flight) if due else ([], [])
        for one in ready:
            task = asyncio.create_task(self.attempt(one))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        self.hold(in_line, ready)
        return room > 0 and len(claimed) == room  # more may be waiting: look again at once

    def fanned(self, round_: asyncio.Future) -> None:
        self.fanning = None
        if round_.exception() is not None:  # what it took from the outbox the sweeper hands back at its deadline
            log.warning("delivery engine: fan-out failed (%s); retrying", round_.exception())
            self.next_outbox_look = time.monotonic() + 1
        elif round_.result() is None:  # another engine fans out: look again once its turn may have lapsed
            self.outbox_full, self.next_outbox_look = False, time.monotonic() + FAN_OUT_TURN_S
        else:
            self.outbox_full = round_.result() == OUTBOX_BATCH
        self.nudged.set()

    def top_up(self, finished: list[tuple[Ready, Attempt, Ready | None]], room: int) -> list[int]:
        """How many of its subscription's waiting deliveries each recorded attempt claims for this engine: one
        that left its slot free calls up a few (one takes the slot), unless the engine has its share of the
        subscription's attempts in flight; one that handed its slot on calls up what its subscription's held
        line lacks, so the line refills in the round trip that records it instead of running dry first, as far
        as the engine has `room`."""
        freed = self.p.burst
        frees = [
            successor is None and self.sending_to[ready.delivery.subscription_id] < self.share
            for ready, _, successor in finished
        ]
        room -= freed * sum(frees)
        asked: set[str] = set()
        call_up = []
        for (ready, _, successor), slot_freed in zip(finished, frees, strict=True):
            sub_id = ready.delivery.subscription_id
            if successor is None:
                call_up.append(freed if slot_freed else 0)
            elif sub_id in asked or room <= 0:
                call_up.append(0)
            else:
                asked.add(sub_id)
                call_up.append(min(room, HOLD_PER_SUBSCRIPTION - len(self.held.get(sub_id, ()))))
                room -= call_up[-1]
        return call_up

    def successor(self, ready: Ready, attempt: Attempt) -> Ready | None:
        """A held delivery of the same subscription, to take over the slot of a successful attempt at once (the
        attempt's record hands the slot on in Redis), while this engine is within its share of the
        subscription's slots: past it (another engine started), the slot is freed for the others."""
        sub_id = ready.delivery.subscription_id
        line = self.held.get(sub_id)
        if attempt.succeeded and line and self.sending_to[sub_id] < self.share and not self.stopping.is_set():
            return line.popleft()[1]
        return None

    def hold(self, in_line: list[Ready], starting: Iterable[Ready] = ()) -> None:
        """Keep claimed deliveries waiting for a slot of their subscription, a few per subscription and for a
        short while (their subscription as read when claimed stays current enough), when this engine has (or is
        `starting`) attempts of that subscription, whose ends hand it their slots. The rest go back in line."""
        now, in_line_again, elsewhere, soon = time.monotonic(), [], [], []
        sending = {*self.sending_to, *(ready.delivery.subscription_id for ready in starting)}
        for ready in in_line:
            sub_id = ready.delivery.subscription_id
            if sub_id not in sending:
                # another engine's attempts have the slots: in their line, where their ends call it up at once,
                # and due soon should none (held here, it would wait for this engine's next round)
                elsewhere.append(ready.delivery)
            elif len(line := self.held.setdefault(sub_id, deque())) < HOLD_PER_SUBSCRIPTION:
                line.append((now, ready))
            else:
                in_line_again.append(ready.delivery)
        # Held with no attempt of theirs in flight here any more, or too long: due again now, not in line, where
        # only an attempt ending would call them up.
        due = time.time()
        for sub_id, line in list(self.held.items()):
            patience = HOLD_S if sub_id in sending else IDLE_HOLD_S
            while line and (line[0][0] < now - patience or self.stopping.is_set()):
                delivery = line.popleft()[1].delivery
                soon.append((delivery, due, delivery.status, False))
            if not line:
                del self.held[sub_id]
        if soon or in_line_again:
            self.p.repo.put_back(soon, in_line_again, self.p.lease_s)
        if elsewhere:
            self.p.repo.put_back([], elsewhere, IDLE_HOLD_S)

    def outbox_due(self) -> bool:
        """Look at the publish outbox when woken, when the last look found a full batch, or once a poll
        interval; not on every round of attempts ending, which would cost each round a round trip."""
        now = time.monotonic()
        if self.outbox_full or self.woken or now >= self.next_outbox_look:
            self.woken, self.next_outbox_look = False, now + self.p.settings.webhook_poll_interval_s
            return True
        return False

    async def attempt(self, ready: Ready) -> None:
        """Send `ready`, then each successor that takes over its slot, with no round trip in between."""
        current: Ready | None = ready
        while current is not None:
            sub_id = current.delivery.subscription_id
            self.sending[current.delivery.id] = current  # left there when cancelled: run() hands it back
            self.sending_to[sub_id] += 1
            try:
                attempt = await send(self.p, self.client, current)
            finally:
                self.sending_to[sub_id] -= 1
                if not self.sending_to[sub_id]:
                    del self.sending_to[sub_id]
            del self.sending[current.delivery.id]
            successor = self.successor(current, attempt)
            self.finished.append((current, attempt, successor))  # to the list as it is now: step() swaps it
            self.nudged.set()
            current = successor

    def room(self) -> int:
        """How many more deliveries this engine takes on: DELIVER_CONCURRENCY less those in flight and held."""
        return self.concurrency - len(self.in_flight) - sum(map(len, self.held.values()))

    async def idle(self) -> None:
        """Until an attempt or a fan-out round ends, someone wakes the engines, another engine offers this one a
        delivery (while it has room for one), or the poll interval passed."""
        if self.waiter is None or self.waiter.done():
            poll, offers = self.p.settings.webhook_poll_interval_s, self.room() > 0
            wait = asyncio.to_thread(self.p.repo.wait_for_work, poll, self.id, offers)
            self.waiter = asyncio.ensure_future(wait)
        if not self.finished and not self.nudged.is_set():
            stop, nudged = asyncio.ensure_future(self.stopping.wait()), asyncio.ensure_future(self.nudged.wait())
            await asyncio.wait({self.waiter, stop, nudged}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            nudged.cancel()
        self.nudged.clear()
        self.woken = self.waiter.done()


def heartbeat(redis_url: str, node: str) -> Callable[[], None]:
    """Records the engine's heartbeat at most every HEARTBEAT_S, on a client with a short timeout: an unanswering
    Redis must not hold up the loop."""
    client = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    due = 0.0

    def beat() -> None:
        nonlocal due
        if time.monotonic() >= due:
            due = time.monotonic() + HEARTBEAT_S
            try:
                record_heartbeat(client, node)
            except redis.RedisError as exc:
                log.warning("heartbeat not recorded: %s", exc)

    return beat


async def serve(p: Publisher, node: str) -> None:
    s = p.settings
    async with webhook_client(s.webhook_allow_private, connections=s.deliver_concurrency) as client:
        p.repo.load_scripts()
        engine = Engine(p, client, s.deliver_concurrency, heartbeat(s.redis_url, node))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stopping.set)
        log.info("delivery engine ready: up to %d attempts in flight", s.deliver_concurrency)
        await engine.run()
        log.info("delivery engine stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The delivery engine.")
    parser.add_argument("--hostname", default="deliver@%h", help="node name of its heartbeat (%%h: this host)")
    node = parser.parse_args(argv).hostname.replace("%h", socket.gethostname())
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    p = bootstrap(settings, make_celery("deliver", settings))
    try:
        require_schema_version(p.store.redis)
    except SchemaTooNew as exc:
        log.critical("%s", exc)
        raise SystemExit(3) from exc
    asyncio.run(serve(p, node))


if __name__ == "__main__":
    main()
