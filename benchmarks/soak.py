"""Soak: articles through the whole pipeline at a fixed rate while faults strike on a timer.

    .venv/bin/python -m benchmarks.soak [--articles 2000] [--rate 4] [--fault-every 30] [--outage 15]

Starts a redis-server of its own (AOF on, `--appendfsync`, compose's everysec by default), every Procfile
process against it, and three subscribers: local receivers, each behind a cable that can be cut, every webhook
verified with standardwebhooks as it arrives. Posts --articles articles made from ../shared/corpus/dev.jsonl
(titles made unique) at --rate a second, as an upstream would: a refused one (503 while Redis is down) is posted
again after the stream. Every --fault-every seconds the next fault strikes, in turn: the enrich worker SIGKILLed
and started again, the publish worker likewise, Redis SIGKILLed and started again, one subscriber cut off for
--outage seconds. Then it waits for every accepted article to reach every subscriber (at most --settle seconds)
and prints accepted / delivered / lost / duplicate counts and stage timings. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from shared.store import ArticleStore, connect
from tests.faults import Cable, Ledger, RedisServer, Stream, corpus_articles
from tests.helpers import Processes, Receiver, free_port, process_env, procfile, wait_for

INGEST_KEY, PUBLISH_KEY = "soak-ingest", "soak-publish"
SUBSCRIBERS = 3
WORKER_DOWN_S = 3  # how long a killed worker stays down before it is started again
RECOVERY = {  # the defaults would make a soak of minutes wait hours; long enough not to trip on a busy machine
    "STUCK_AFTER_S": "60",  # above the longest an article waits in a backlog: less needless re-enqueueing
    "SWEEP_INTERVAL_S": "2",
    "BROKER_VISIBILITY_TIMEOUT_S": "60",
    "TASK_TIME_LIMIT_S": "45",
    "WEBHOOK_TIMEOUT_S": "5",
    "WEBHOOK_RETRY_SCHEDULE": "1,2,4,8,15,30,60,60,60,60",  # about five minutes: outlasts every outage
    "WEBHOOK_MIN_BACKOFF_S": "1",
    "WEBHOOK_BREAKER_COOLDOWN_S": "5",
    "ENRICH_CONCURRENCY": "2",
    "PUBLISH_CONCURRENCY": "4",
    "LOG_LEVEL": "WARNING",
}


class Soak:
    def __init__(self, args: argparse.Namespace, work_dir: Path):
        self.args = args
        self.redis = RedisServer(work_dir / "redis", appendfsync=args.appendfsync)
        ports = {"INGEST_PORT": str(free_port()), "PUBLISH_PORT": str(free_port())}
        env = process_env(**RECOVERY, **ports, REDIS_URL=self.redis.url, BROKER_URL="",
                          INGEST_API_KEYS=f"soak:{INGEST_KEY}", PUBLISH_API_KEY=PUBLISH_KEY)  # fmt: skip
        self.processes = Processes(env, work_dir)
        self.ingest = httpx.Client(base_url=f"http://127.0.0.1:{ports['INGEST_PORT']}", timeout=30,
                                   headers={"Authorization": f"Bearer {INGEST_KEY}"})  # fmt: skip
        self.publish = httpx.Client(base_url=f"http://127.0.0.1:{ports['PUBLISH_PORT']}", timeout=30,
                                    headers={"Authorization": f"Bearer {PUBLISH_KEY}"})  # fmt: skip
        self.receivers = [Receiver() for _ in range(SUBSCRIBERS)]
        self.cables = [Cable(receiver.port) for receiver in self.receivers]
        self.ledger = Ledger()
        self.injected: list[str] = []
        self.exits = contextlib.ExitStack()

    def start(self) -> None:
        self.exits.enter_context(self.redis)
        for name in procfile():
            self.processes.start(name)
        for client in (self.ingest, self.publish):
            wait_for(lambda c=client: c.get("/readyz").status_code == 200, 120, f"{client.base_url} to be ready")
        for receiver, cable in zip(self.receivers, self.cables, strict=True):
            self.exits.enter_context(receiver)
            self.exits.enter_context(cable)
            self.ledger.subscribe(self.publish, receiver, cable.url())

    def stop(self) -> None:
        self.processes.stop_all()
        self.exits.close()

    # faults, in turn
    def restart_worker(self, name: str) -> None:
        self.processes.kill(name)
        time.sleep(WORKER_DOWN_S)
        self.processes.start(name)

    def crash_redis(self) -> None:
        self.redis.crash()
        self.redis.start()

    def cut_subscriber(self) -> None:
        cable = self.cables[len(self.injected) % SUBSCRIBERS]
        cable.unplug()
        time.sleep(self.args.outage)
        cable.plug()

    def faults(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("enrich worker SIGKILLed", partial(self.restart_worker, "enrich")),
            ("delivery engine SIGKILLed", partial(self.restart_worker, "deliver")),
            ("Redis SIGKILLed", self.crash_redis),
            (f"subscriber cut off for {self.args.outage:g} s", self.cut_subscriber),
        ]

    def run(self) -> float:
        """Post everything while faults strike, then settle; the seconds it all took."""
        faults = itertools.cycle(self.faults())
        started = time.monotonic()
        articles = corpus_articles(self.args.articles)
        self.stream = Stream(self.ledger, self.ingest, articles, self.args.rate)
        retries: list[Stream] = []
        with self.stream:
            next_fault = time.monotonic() + self.args.fault_every
            while not self.stream.done:
                self.ledger.audit()
                if time.monotonic() >= next_fault:
                    name, fault = next(faults)
                    fault()
                    self.injected.append(name)
                    print(f"{time.monotonic() - started:5.0f} s  {name}; so far {len(self.ledger.accepted):,} "
                          f"accepted, {self.ledger.delivered():,} delivered", flush=True)  # fmt: skip
                    next_fault = time.monotonic() + self.args.fault_every
                time.sleep(0.5)
        pending = self.stream.not_accepted
        for _ in range(5):  # an upstream posting its refused articles again
            if not pending:
                break
            time.sleep(5)
            with Stream(self.ledger, self.ingest, pending, self.args.rate) as retry:
                wait_for(lambda r=retry: r.done, 3600, "the re-posts")
            retries.append(retry)
            pending = retry.not_accepted
        self.retries, self.unaccepted = retries, pending
        deadline = time.monotonic() + self.args.settle
        while not self.ledger.settled() and time.monotonic() < deadline:
            time.sleep(1)
        return time.monotonic() - started

    def report(self, elapsed: float) -> None:
        ledger, stream = self.ledger, self.stream
        requests = sum(len(sub.receiver.received) for sub in ledger.subscribers)
        unverified = sum(sub.unverified for sub in ledger.subscribers)
        distinct_ids = sum(len(ids) for sub in ledger.subscribers for ids in sub.webhook_ids.values())
        print(
            f"\nsoak: {self.args.articles:,} articles at {self.args.rate:g}/s, {SUBSCRIBERS} subscribers, a fault "
            f"every {self.args.fault_every:g} s (Redis appendfsync {self.args.appendfsync}); {os.cpu_count()} CPUs; "
            f"{elapsed:.0f} s in all"
        )
        print("faults: " + ", ".join(f"{n}x {name}" for name, n in Counter(self.injected).items()))
        refused = len(stream.refusals) + sum(len(r.refusals) for r in self.retries)
        unanswered = len(stream.unanswered) + sum(len(r.unanswered) for r in self.retries)
        missing = ledger.missing()
        rows = [
            ("posted", stream.posted),
            ("refused (503, posted again later)", refused),
            ("unanswered (posted again later)", unanswered),
            ("never accepted", len(self.unaccepted)),
            ("accepted (article versions)", len(ledger.accepted)),
            ("deliveries expected (accepted x subscribers)", len(ledger.accepted) * SUBSCRIBERS),
            ("delivered (verified, first arrival)", ledger.delivered()),
            ("lost", len(missing)),
            ("duplicate (a version under a second webhook-id)", len(ledger.duplicates())),
            ("repeated (the same webhook-id again: at-least-once)", requests - unverified - distinct_ids),
            ("unverified signatures", unverified),
        ]
        print("| count | |\n|---|---:|")
        for name, value in rows:
            print(f"| {name} | {value:,} |")
        self.print_timings()
        if missing:
            store = ArticleStore(connect(self.redis.url))
            print(f"\narticle states: {store.state_counts()}")
            for sub_id, (article_id, version) in missing[:10]:
                print(f"lost at {sub_id}: {article_id} v{version}: {store.status(article_id)}")

    def print_timings(self) -> None:
        stages: dict[str, list[float]] = {"POST -> answer": self.stream.latencies}
        for sub in self.ledger.subscribers:
            for key, arrived in sub.first_arrival.items():
                accepted = self.ledger.accepted.get(key)
                if accepted is None:
                    continue
                published = sub.published_at[key]
                stages.setdefault("202 -> published (enrich, fan-out, queues)", []).append(published - accepted)
                stages.setdefault("published -> received (delivery)", []).append(arrived - published)
                stages.setdefault("202 -> received (end to end)", []).append(arrived - accepted)
        print("\n| stage (s) | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|")
        for name, values in stages.items():
            if len(values) < 2:
                continue
            q = statistics.quantiles(values, n=100, method="inclusive")
            print(f"| {name} | {q[49]:.2f} | {q[94]:.2f} | {q[98]:.2f} | {max(values):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="articles to post")
    parser.add_argument("--rate", type=float, default=4, help="articles posted per second")
    parser.add_argument("--fault-every", type=float, default=30, help="seconds between faults")
    parser.add_argument("--outage", type=float, default=15, help="seconds a subscriber stays cut off")
    parser.add_argument("--settle", type=float, default=900, help="most seconds to wait for the last deliveries")
    parser.add_argument("--appendfsync", choices=("always", "everysec", "no"), default="everysec")
    args = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    soak = Soak(args, work_dir)
    try:
        soak.start()
        soak.report(soak.run())
    finally:
        soak.stop()
    print(f"(process logs and the Redis data: {work_dir})")


if __name__ == "__main__":
    main()
