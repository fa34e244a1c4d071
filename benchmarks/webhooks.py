"""Webhook delivery throughput and a slow subscriber's effect, beside a bare httpx sender, in one run.

    .venv/bin/python -m benchmarks.webhooks [--processes 2] [--rounds 5] [--articles 1000]

Needs a Redis: NEWSFLOW_BENCH_REDIS names a db, else it claims the lowest free db of 127.0.0.1:6379 (as a test
run does, then flushed). Starts local receivers (one asyncio process, one port per subscriber, keep-alive,
answering 200 at once; one port answers after 2 s), then alternates, round after round:
- the pipeline: --processes delivery engines (the Procfile's `deliver`), handed enriched articles the way
  enrich hands them over (the store's publish outbox): fan-out, signing, the delivery log, endpoint health,
  concurrency slots, all of it;
- the bare sender: as many processes, each with one keep-alive httpx.Client, POSTing the same bodies to the
  same receivers one after the other, and nothing else.
Scenarios: one article to 200 subscribers; --articles articles to one subscriber (handed over while the
engines are paused, so the clock starts with a backlog, as the bare sender's does); and 50 fast subscribers
with and without one that answers after 2 s beside them (p95 of the fast ones' latency from hand-over to
arrival). Then the RSS of one engine holding 10,000 pending deliveries. Medians printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from services.enrich.ninjs import finished_article
from services.publish import subscriptions
from services.publish.bootstrap import bootstrap
from services.publish.schemas import SubscriptionIn
from shared.celery_app import make_celery
from shared.config import DEFAULTS, Settings
from shared.contracts import EventType
from shared.mediatopics import IPTC_URI
from shared.times import iso
from tests.helpers import Processes, claim_redis_db, release_redis_db

FANOUT_SUBSCRIBERS, FAST_SUBSCRIBERS, SLOW_ANSWER_S, PENDING = 200, 50, 2.0, 10_000
IN_FLIGHT = int(DEFAULTS["DELIVER_CONCURRENCY"])


# receivers: a separate process so they do not share a CPU slot with the senders' Python
async def _receive(ports: int, conn) -> None:
    arrivals: list[float] = []  # when each request to a fast port arrived

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slow: bool) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /arrivals"):
                    body = json.dumps(arrivals).encode()
                elif head.startswith(b"GET /count"):  # polled: cheap whatever the number of arrivals
                    body = str(len(arrivals)).encode()
                elif slow:
                    await asyncio.sleep(SLOW_ANSWER_S)
                    body = b"ok"
                else:
                    arrivals.append(time.time())
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [
        await asyncio.start_server(lambda r, w, slow=(i == ports): handle(r, w, slow), "127.0.0.1", 0, backlog=1024)
        for i in range(ports + 1)
    ]
    conn.send([s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.Event().wait()


def _receiver_main(ports: int, conn) -> None:
    asyncio.run(_receive(ports, conn))


class Receivers:
    """`urls`: fast ports, then `slow_url` (answers after SLOW_ANSWER_S); GET /arrivals or /count on any port."""

    def __init__(self, ports: int):
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_receiver_main, args=(ports, child), daemon=True)
        self.process.start()
        *fast, slow = parent.recv()
        self.urls = [f"http://127.0.0.1:{p}/hook" for p in fast]
        self.slow_url = f"http://127.0.0.1:{slow}/hook"
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{fast[0]}", timeout=30)

    def arrivals(self) -> list[float]:
        return self.control.get("/arrivals").json()

    def count(self) -> int:
        return int(self.control.get("/count").text)

    def wait_for(self, total: int, timeout: float = 600) -> list[float]:
        """Arrival times once `total` webhooks arrived at fast ports. The count is polled every 20 ms, not the
        list: the receivers answer webhooks on the same loop, and a list growing round after round took ever
        more of it while the pipeline ran (never while the bare sender did)."""
        deadline = time.monotonic() + timeout
        while (seen := self.count()) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {seen} of {total} webhooks arrived in {timeout:g} s")
            time.sleep(0.02)
        return self.arrivals()

    def close(self) -> None:
        self.process.terminate()


# the bare sender: what the baseline was measured with
def _bare_worker(jobs: list[tuple[str, str]], headers: dict[str, str]) -> int:
    sent = 0
    with httpx.Client(headers=headers) as client:
        for url, body in jobs:
            response = client.post(url, content=body.encode())
            sent += response.status_code == 200
    return sent


def bare_send(jobs: list[tuple[str, str]], processes: int) -> float:
    """Seconds to POST every (url, body), spread over `processes` processes (started and warmed up first)."""
    headers = {"content-type": "application/json", "webhook-id": "msg_bare", "webhook-timestamp": "0"}
    slices = [jobs[i::processes] for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.starmap(_bare_worker, [(s[:1], headers) for s in slices if s])
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


def payload(n: int) -> str:
    return json.dumps({"type": EventType.PUBLISHED, "timestamp": iso(time.time()), **article(n)})


class Pipeline:
    def __init__(self, env: dict[str, str], log_dir: Path, engines: int):
        self.p = bootstrap(Settings.from_env(env), make_celery("bench", Settings.from_env(env)))
        self.engines = [Processes(env, log_dir) for _ in range(engines)]  # one `deliver` each
        self.n = 0

    def start(self) -> None:
        for group in self.engines:
            group.start("deliver")

    def pids(self) -> list[int]:
        """The engines' Python processes (each Procfile line `exec`s its program in place of the shell)."""
        return [g.running["deliver"].pid for g in self.engines]

    def pause(self, sig: int) -> None:
        for pid in self.pids():
            os.kill(pid, sig)

    def subscribe(self, urls: list[str]) -> list[dict]:
        return [subscriptions.create_subscription(self.p, SubscriptionIn().load({"url": url})) for url in urls]

    def unsubscribe(self, subs: list[dict]) -> None:
        for sub in subs:
            self.p.repo.delete_subscription(sub["id"])

    def hand_over(self, count: int) -> list[float]:
        """`count` articles enriched and handed to publish as enrich does it; when each was handed over."""
        times = []
        for _ in range(count):
            self.n += 1
            article_id = f"bench{self.n}"
            self.p.store.accept(article_id, {"title": "t", "body": article_id}, article_id)
            self.p.store.start_enriching(article_id, 1)
            times.append(time.time())
            self.p.store.save_enriched(article_id, 1, article(self.n))
        return times

    def settled(self, subs: list[dict], count: int, timeout: float = 120) -> None:
        """Every delivery of `subs` logged as succeeded (the log is written just after the receiver answers)."""
        deadline = time.monotonic() + timeout
        succeeded = [f"nf:sub:{s['id']}:deliveries:succeeded" for s in subs]
        while (done := sum(self.p.repo.redis.zcard(key) for key in succeeded)) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done} of {count} deliveries logged as succeeded")
            time.sleep(0.05)

    def stop(self) -> None:
        for group in self.engines:
            group.stop_all()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def slow_neighbour_round(pipeline: Pipeline, receivers: Receivers, subs: list[dict], articles: int) -> float:
    """p95 seconds from hand-over to arrival of the deliveries to the fast subscribers `subs`, one article
    handed over every 0.2 s."""
    latencies = []
    for _ in range(articles):
        before = receivers.count()
        [handed] = pipeline.hand_over(1)
        arrived = receivers.wait_for(before + len(subs))[before:]
        latencies += [t - handed for t in arrived]
        time.sleep(0.2)
    return p95(latencies)


def engine_rss_with_pending(pipeline: Pipeline, receivers: Receivers) -> float:
    """MiB of one engine's RSS while 10,000 deliveries wait for the slow subscriber (4 in flight at a time)."""
    subs = pipeline.subscribe([receivers.slow_url] * 50)
    pipeline.hand_over(PENDING // 50)
    deadline = time.monotonic() + 120
    while pipeline.p.repo.redis.zcard("nf:due") < PENDING - 500:
        if time.monotonic() > deadline:
            raise SystemExit("the pending deliveries were not created")
        time.sleep(0.2)
    time.sleep(3)  # a few rounds of claiming and putting back
    rss = max(psutil.Process(pid).memory_info().rss for pid in pipeline.pids()) / 2**20
    pipeline.unsubscribe(subs)
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="delivery engines, and bare sender processes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=1000, help="articles to one subscriber, per round")
    args = parser.parse_args()

    redis_url = claim_redis_db(
        f"bench-webhooks-{os.getpid()}", os.environ.get("NEWSFLOW_BENCH_REDIS"), dbs=range(1, 16)
    )
    receivers = Receivers(FANOUT_SUBSCRIBERS)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REDIS_URL": redis_url,
        "PUBLISH_API_KEY": "bench",
        "INGEST_API_KEYS": "bench:bench",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "LOG_LEVEL": "WARNING",
    }
    pipeline = Pipeline(env, Path(tempfile.mkdtemp(prefix="bench-webhooks-")), args.processes)
    rates: dict[str, list[tuple[float, float]]] = {}
    slow: list[tuple[float, float]] = []
    try:
        pipeline.start()
        warm = pipeline.subscribe([receivers.urls[0]])  # engines up, connections open, scripts loaded
        pipeline.hand_over(1)
        receivers.wait_for(1, timeout=60)
        pipeline.unsubscribe(warm)
        for _ in range(args.rounds):
            rates.setdefault(f"fan-out: 1 article -> {FANOUT_SUBSCRIBERS} subscribers", []).append(
                fan_out(pipeline, receivers, args.processes)
            )
            rates.setdefault(f"{args.articles:,} articles -> 1 subscriber", []).append(
                backlog(pipeline, receivers, args.processes, args.articles)
            )
            slow.append(slow_neighbour(pipeline, receivers))
        rss = engine_rss_with_pending(pipeline, receivers)
    finally:
        pipeline.stop()
        receivers.close()
        release_redis_db(redis_url)
    report(args, rates, slow, rss)


def fan_out(pipeline: Pipeline, receivers: Receivers, processes: int) -> tuple[float, float]:
    """Deliveries/s of the pipeline and of the bare sender: one article to 200 subscribers."""
    subs = pipeline.subscribe(receivers.urls[:FANOUT_SUBSCRIBERS])
    before = receivers.count()
    started = time.perf_counter()
    pipeline.hand_over(1)
    receivers.wait_for(before + FANOUT_SUBSCRIBERS)
    pipeline_s = time.perf_counter() - started
    pipeline.settled(subs, FANOUT_SUBSCRIBERS)
    pipeline.unsubscribe(subs)
    bare_s = bare_send([(url, payload(pipeline.n)) for url in receivers.urls[:FANOUT_SUBSCRIBERS]], processes)
    return FANOUT_SUBSCRIBERS / pipeline_s, FANOUT_SUBSCRIBERS / bare_s


def backlog(pipeline: Pipeline, receivers: Receivers, processes: int, articles: int) -> tuple[float, float]:
    """Deliveries/s of both: `articles` articles to one subscriber, handed over while the engines were paused."""
    subs = pipeline.subscribe([receivers.urls[0]])
    before = receivers.count()
    pipeline.pause(signal.SIGSTOP)
    first = pipeline.n + 1
    pipeline.hand_over(articles)
    started = time.perf_counter()
    pipeline.pause(signal.SIGCONT)
    receivers.wait_for(before + articles)
    pipeline_s = time.perf_counter() - started
    pipeline.settled(subs, articles)
    pipeline.unsubscribe(subs)
    bare_s = bare_send([(receivers.urls[0], payload(n)) for n in range(first, first + articles)], processes)
    return articles / pipeline_s, articles / bare_s


def slow_neighbour(pipeline: Pipeline, receivers: Receivers, articles: int = 10) -> tuple[float, float]:
    """p95 latency of the fast subscribers' deliveries with the slow one beside them, and without."""
    fast = pipeline.subscribe(receivers.urls[:FAST_SUBSCRIBERS])
    alone = slow_neighbour_round(pipeline, receivers, fast, articles)
    laggard = pipeline.subscribe([receivers.slow_url])
    beside = slow_neighbour_round(pipeline, receivers, fast, articles)
    pipeline.settled(laggard, articles, timeout=articles * SLOW_ANSWER_S + 60)
    pipeline.unsubscribe(fast + laggard)
    return beside, alone


def report(args, rates: dict, slow: list[tuple[float, float]], rss: float) -> None:
    engines = f"{args.processes} delivery engines (DELIVER_CONCURRENCY {IN_FLIGHT})"
    print(f"\nmedians of {args.rounds} rounds; pipeline: {engines}, bare: {args.processes} httpx.Client processes; "
          f"{os.cpu_count()} CPUs, LOG_LEVEL=WARNING")  # fmt: skip
    print(f"| {'scenario':<44} | pipeline/s | bare httpx/s | ratio |")
    print(f"|{'-' * 46}|-----------:|-------------:|------:|")
    for name, pairs in rates.items():
        ours, bare = statistics.median(p for p, _ in pairs), statistics.median(b for _, b in pairs)
        ratios = ", ".join(f"{p / b:.2f}" for p, b in pairs)
        print(f"| {name:<44} | {ours:>10,.0f} | {bare:>12,.0f} | {ours / bare:>5.2f} |  rounds: {ratios}")
    beside, alone = statistics.median(b for b, _ in slow), statistics.median(a for _, a in slow)
    print(f"\n{FAST_SUBSCRIBERS} fast subscribers, p95 hand-over to arrival: {alone * 1000:.0f} ms alone, "
          f"{beside * 1000:.0f} ms beside one answering after {SLOW_ANSWER_S:g} s: "
          f"ratio {beside / alone:.2f}")  # fmt: skip
    print(f"engine RSS with {PENDING:,} deliveries pending: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
