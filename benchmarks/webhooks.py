"""Webhook delivery throughput beside a bare httpx sender, in one run.

    .venv/bin/python -m benchmarks.webhooks [--concurrency 4] [--rounds 5] [--articles 1000]

Needs a Redis: NEWSFLOW_BENCH_REDIS names a db, else it claims the lowest free db of 127.0.0.1:6379 (as a test run does,
then flushed). Starts local receivers (one asyncio process, one port per subscriber, keep-alive,
answering 200 at once), then for each scenario:
- the pipeline: the Procfile's publish-worker (PUBLISH_CONCURRENCY processes) and scheduler, fed
  publish.article tasks: fan-out, signing, the delivery log, endpoint health, concurrency slots;
- the bare sender: as many processes, each with one keep-alive httpx.Client, POSTing the same webhook
  bodies to the same receivers, and nothing else.
Scenarios: one article fanned out to 200 subscribers (--rounds articles, one after the other) and
--articles articles to one subscriber (each one publish.article and one publish.deliver task). Prints
deliveries per second of both and their ratio, and the floor Celery sets on the same worker: how many
publish.deliver tasks per second it runs when each finds nothing to do. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from services.enrich.ninjs import finished_article
from services.enrich.topics import IPTC_URI
from services.publish import subscriptions
from services.publish.bootstrap import bootstrap
from services.publish.schemas import SubscriptionIn
from shared.celery_app import make_celery
from shared.config import Settings
from shared.store import iso
from tests.helpers import Processes, claim_redis_db, release_redis_db

FANOUT_SUBSCRIBERS = 200


# receivers: a separate process so they do not share a CPU slot with the senders' Python
async def _receive(ports: int, conn) -> None:
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /count"):
                    body = str(count).encode()
                else:
                    count += 1
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512) for _ in range(ports + 1)]
    conn.send([s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.Event().wait()


def _receiver_main(ports: int, conn) -> None:
    asyncio.run(_receive(ports, conn))


class Receivers:
    def __init__(self, ports: int):
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_receiver_main, args=(ports, child), daemon=True)
        self.process.start()
        *hook_ports, control = parent.recv()
        self.urls = [f"http://127.0.0.1:{p}/hook" for p in hook_ports]
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{control}")

    def count(self) -> int:
        return int(self.control.get("/count").text)

    def wait_for(self, total: int, timeout: float = 600) -> float:
        """When the `total`-th webhook arrived (polled every 20 ms, so the poll costs the senders little CPU)."""
        deadline = time.monotonic() + timeout
        while (seen := self.count()) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {seen} of {total} webhooks arrived in {timeout:g} s")
            time.sleep(0.02)
        return time.perf_counter()

    def close(self) -> None:
        self.process.terminate()


# the bare sender
def _bare_worker(jobs: list[tuple[str, str]], headers: dict[str, str]) -> int:
    sent = 0
    with httpx.Client(headers=headers) as client:
        for url, body in jobs:
            response = client.post(url, content=body.encode())
            sent += response.status_code == 200
    return sent


def bare_send(jobs: list[tuple[str, str]], concurrency: int) -> float:
    """Seconds to POST every (url, body), spread over `concurrency` processes."""
    headers = {"content-type": "application/json", "webhook-id": "msg_bare", "webhook-timestamp": "0"}
    slices = [jobs[i::concurrency] for i in range(concurrency)]
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        pool.starmap(_bare_worker, [(s[:1], headers) for s in slices if s])  # connect and warm up
        started = time.perf_counter()
        sent = sum(pool.starmap(_bare_worker, [(s, headers) for s in slices]))
        elapsed = time.perf_counter() - started
    assert sent == len(jobs), f"bare sender: {sent} of {len(jobs)} answered 200"
    return elapsed


# the pipeline
def article(n: int) -> dict:
    """A finished article of a typical size ({"data": <ninjs>, "enrichment": ...}), shaped as enrich shapes it."""
    text = " ".join(f"Sentence {i} of story {n}, about talks in Islamabad and the Taliban." for i in range(40))
    entities = {
        "people": [{"name": "Anthony Blinken", "relevance": 90, "mentions": 3}],
        "organisations": [{"name": "Taliban", "relevance": 95, "mentions": 4}],
        "places": [{"name": "Pakistan", "country": "PK", "relevance": 98, "mentions": 5}],
    }
    politics = {"name": "politics", "uri": IPTC_URI + "11000000", "code": "medtop:11000000", "relevance": 100}
    raw = {"id": f"bench{n}", "version": 1, "title": f"Story {n}", "source": "bench", "received_at": iso(time.time())}
    return finished_article(raw, text, "en", text[:300], entities, [{**politics, "confidence": 100}], ["taliban"])


class Pipeline:
    def __init__(self, env: dict[str, str], log_dir: Path):
        self.settings = Settings.from_env(env)
        self.p = bootstrap(self.settings, make_celery("bench", self.settings))
        self.celery = make_celery("bench-sender", self.settings)
        self.processes = Processes(env, log_dir)
        self.n = 0

    def start(self) -> None:
        self.processes.start("publish-worker")
        self.processes.start("scheduler")

    def subscribe(self, urls: list[str]) -> list[dict]:
        return [subscriptions.create_subscription(self.p, SubscriptionIn().load({"url": url})) for url in urls]

    def unsubscribe(self, subs: list[dict]) -> None:
        for sub in subs:
            self.p.repo.delete_subscription(sub["id"])

    def prepare(self, count: int) -> list[str]:
        """Enriched articles waiting for publish.article, as enrich leaves them."""
        ids = []
        for _ in range(count):
            self.n += 1
            article_id = f"bench{self.n}"
            self.p.store.accept(article_id, {"title": "t", "body": article_id}, article_id)
            self.p.store.start_enriching(article_id, 1)
            self.p.store.save_enriched(article_id, 1, article(self.n))
            ids.append(article_id)
        return ids

    def publish(self, ids: list[str]) -> None:
        with self.celery.producer_or_acquire() as producer:
            for article_id in ids:
                self.celery.send_task("publish.article", args=[article_id, 1], producer=producer)

    def deliver_nothing(self, count: int, timeout: float = 600) -> None:
        """Send `count` publish.deliver tasks for ids that do not exist and wait until the worker ran them all."""
        with self.celery.producer_or_acquire() as producer:
            for i in range(count):
                self.celery.send_task("publish.deliver", args=[f"msg_none{i}"], producer=producer)
        deadline = time.monotonic() + timeout
        while self.p.repo.redis.llen("deliver") or self.p.repo.redis.hlen("unacked"):
            if time.monotonic() > deadline:
                raise SystemExit("the no-op deliver tasks did not drain")
            time.sleep(0.02)

    def settled(self, subs: list[dict], count: int, timeout: float = 60) -> None:
        """Every delivery of `subs` logged as succeeded (the log is written just after the receiver answers)."""
        deadline = time.monotonic() + timeout
        succeeded = [f"nf:sub:{s['id']}:deliveries:succeeded" for s in subs]
        while (done := sum(self.p.repo.redis.zcard(key) for key in succeeded)) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done} of {count} deliveries logged as succeeded")
            time.sleep(0.05)

    def payload(self, n: int) -> str:
        return json.dumps({"type": "article.published", "timestamp": iso(time.time()), **article(n)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes, and bare sender processes")
    parser.add_argument("--rounds", type=int, default=5, help="articles fanned out to 200 subscribers")
    parser.add_argument("--articles", type=int, default=1000, help="articles to one subscriber")
    args = parser.parse_args()

    redis_url = claim_redis_db(
        f"bench-webhooks-{os.getpid()}", os.environ.get("NEWSFLOW_BENCH_REDIS"), dbs=range(1, 16)
    )
    receivers = Receivers(FANOUT_SUBSCRIBERS + 1)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REDIS_URL": redis_url,
        "PUBLISH_API_KEY": "bench",
        "INGEST_API_KEYS": "bench:bench",
        "PUBLISH_CONCURRENCY": str(args.concurrency),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "LOG_LEVEL": "WARNING",
    }
    log_dir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    pipeline = Pipeline(env, log_dir)
    results = []
    try:
        pipeline.start()
        # warm-up: workers up, connections open, scripts loaded
        warm = pipeline.subscribe([receivers.urls[-1]])
        pipeline.publish(pipeline.prepare(1))
        receivers.wait_for(1, timeout=60)
        pipeline.unsubscribe(warm)

        # 1. one article to 200 subscribers, `rounds` times
        subs = pipeline.subscribe(receivers.urls[:FANOUT_SUBSCRIBERS])
        pipeline_s = 0.0
        for _ in range(args.rounds):
            ids = pipeline.prepare(1)
            target = receivers.count() + FANOUT_SUBSCRIBERS
            started = time.perf_counter()
            pipeline.publish(ids)
            pipeline_s += receivers.wait_for(target) - started
        pipeline.settled(subs, args.rounds * FANOUT_SUBSCRIBERS)
        pipeline.unsubscribe(subs)
        jobs = [(url, pipeline.payload(n)) for n in range(args.rounds) for url in receivers.urls[:FANOUT_SUBSCRIBERS]]
        bare_s = bare_send(jobs, args.concurrency)
        deliveries = args.rounds * FANOUT_SUBSCRIBERS
        results.append((f"fan-out: 1 article -> {FANOUT_SUBSCRIBERS} subscribers", deliveries, pipeline_s, bare_s))

        # 2. `articles` articles to one subscriber
        subs = pipeline.subscribe([receivers.urls[0]])
        target = receivers.count() + args.articles
        ids = pipeline.prepare(args.articles)
        started = time.perf_counter()
        pipeline.publish(ids)  # as enrich would: one publish.article message per article (in the time)
        pipeline_s = receivers.wait_for(target) - started
        pipeline.settled(subs, args.articles)
        jobs = [(receivers.urls[0], pipeline.payload(n)) for n in range(args.articles)]
        bare_s = bare_send(jobs, args.concurrency)
        results.append((f"{args.articles:,} articles -> 1 subscriber", args.articles, pipeline_s, bare_s))

        # 3. the floor Celery itself sets: publish.deliver tasks that find nothing to do (no HTTP)
        started = time.perf_counter()
        pipeline.deliver_nothing(args.articles)
        floor = (
            f"celery floor: {args.articles:,} publish.deliver, no-op",
            args.articles,
            time.perf_counter() - started,
        )
    finally:
        pipeline.processes.stop_all()
        receivers.close()
        release_redis_db(redis_url)

    print(f"\nwebhook deliveries/s: pipeline (publish-worker --concurrency {args.concurrency}, celery+redis, "
          f"LOG_LEVEL=WARNING) vs bare httpx ({args.concurrency} processes); {os.cpu_count()} CPUs")  # fmt: skip
    print(f"| {'scenario':<44} | deliveries | pipeline/s | bare httpx/s | ratio |")
    print(f"|{'-' * 46}|-----------:|-----------:|-------------:|------:|")
    for name, count, pipe_s, bare_s in results:
        pipe_rate, bare_rate = count / pipe_s, count / bare_s
        print(
            f"| {name:<44} | {count:>10,} | {pipe_rate:>10,.0f} | {bare_rate:>12,.0f} | {pipe_rate / bare_rate:>5.0%} |"
        )
    name, count, seconds = floor
    print(f"| {name:<44} | {count:>10,} | {count / seconds:>10,.0f} | {'-':>12} | {'-':>5} |")
    print("(the floor: tasks/s the same worker runs when each task is one Redis round trip and no HTTP)")


if __name__ == "__main__":
    main()
