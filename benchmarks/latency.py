"""End-to-end latency, 202 to webhook, by stage, beside the in-process `enrich()` time, in one run.

    .venv/bin/python -m benchmarks.latency [--rate 10] [--articles 300] [--warmup 20]

Needs a Redis: NEWSFLOW_BENCH_REDIS names a db, else it claims the lowest free db of 127.0.0.1:6379 as a
test run does (they claim from the highest), and flushes it. Starts the whole Procfile as processes on
free ports with production settings (only WEBHOOK_ALLOW_PRIVATE=true, for the loopback receiver),
subscribes one local receiver, warms the workers up, then POSTs --articles articles from
../shared/corpus/dev.jsonl (cycled, titles made unique) at --rate per second, open loop. Per article it
takes the time the 202 came back, the store's per-state timestamps, the delivery's creation and attempt
times, and the webhook's arrival, and splits the end-to-end time into
  queue wait  202 -> an enrich worker claims the article
  enrich      claim -> enriched article stored (load, enrich(), save)
  fan-out     enriched -> delivery created (publish outbox, payload, matching subscriptions)
  delivery    delivery created -> webhook arrived (the engine's claim, then the signed POST)
Then, with the stack stopped, it times `enrich(raw)` in this process on the same articles. Prints p50/p95/p99
of each, the ratios to the in-process time (target: p50 <= 2x, p99 <= 5x), the CPU each process used per
article, whether the enrich workers kept up with the rate (when they do not, the queue wait only grows), and
the Redis memory one published article takes (the sizing rule of docs/operations.md starts from it).
Printed, never asserted. ENRICH_CONCURRENCY and the other settings pass through from the environment.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from itertools import cycle, islice
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from benchmarks.quality import CORPUS_DIR, load_corpus, raw_for
from services.publish.fanout import delivery_id
from services.publish.repository import PublishRepository
from shared.config import DEFAULTS
from shared.contracts import ArticleState, EventType
from shared.store import ArticleStore, connect
from tests.helpers import Processes, Receiver, claim_redis_db, free_port, release_redis_db, wait_for

SERVICES = ("ingest", "publish", "enrich", "publish-worker", "deliver", "scheduler")
INGEST_KEY, PUBLISH_KEY = "bench-ingest", "bench-publish"
STAGES = ("queue wait", "enrich", "fan-out", "delivery")
TARGETS = {"p50": 2.0, "p99": 5.0}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def articles(count: int, tag: str) -> list[dict]:
    """`count` raw articles from the corpus, cycled, each title unique (so each is a new article)."""
    corpus = [raw_for(item) for item in load_corpus([CORPUS_DIR / "dev.jsonl"])]
    return [{**raw, "title": f"{raw['title']} [{tag} {n}]"} for n, raw in enumerate(islice(cycle(corpus), count))]


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


class Stack:
    """The Procfile's processes on free ports, and clients for both APIs."""

    def __init__(self, redis_url: str, log_dir: Path):
        ports = {"INGEST_PORT": str(free_port()), "PUBLISH_PORT": str(free_port())}
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "REDIS_URL": redis_url,
            "INGEST_API_KEYS": f"bench:{INGEST_KEY}",
            "PUBLISH_API_KEY": PUBLISH_KEY,
            "WEBHOOK_ALLOW_PRIVATE": "true",
            **ports,
        }
        self.processes = Processes(self.env, log_dir)
        self.ingest = httpx.Client(
            base_url=f"http://127.0.0.1:{ports['INGEST_PORT']}", headers={"Authorization": f"Bearer {INGEST_KEY}"}
        )
        self.publish = httpx.Client(
            base_url=f"http://127.0.0.1:{ports['PUBLISH_PORT']}", headers={"Authorization": f"Bearer {PUBLISH_KEY}"}
        )
        client = connect(redis_url)
        self.store, self.repo = ArticleStore(client), PublishRepository(client)

    def bytes_stored(self) -> int:
        """What every key of this db takes in Redis (MEMORY USAGE, summed): the other dbs are not ours."""
        client = self.store.redis
        keys = list(client.scan_iter(count=1000))
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.memory_usage(key, samples=0)
            return sum(size or 0 for size in pipe.execute())

    def start(self) -> None:
        for name in SERVICES:
            self.processes.start(name)
        for client in (self.ingest, self.publish):
            wait_for(lambda c=client: c.get("/readyz").status_code == 200, 120, f"{client.base_url} to be ready")

    def subscribe(self, url: str) -> dict:
        response = self.publish.post("/v1/subscriptions", json={"url": url})
        response.raise_for_status()
        return response.json()

    def post_at_rate(self, raws: list[dict], rate: float) -> dict[str, float]:
        """POST each article at its slot of a fixed schedule; article id -> when its 202 came back."""
        accepted: dict[str, float] = {}
        started = time.time()
        for n, raw in enumerate(raws):
            time.sleep(max(0.0, started + n / rate - time.time()))
            response = self.ingest.post("/v1/articles", json=raw)
            if response.status_code != 202:
                raise SystemExit(f"ingest answered {response.status_code}: {response.text[:300]}")
            accepted[response.json()["id"]] = time.time()
        return accepted

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each Procfile entry's processes have used so far (Linux /proc)."""
        used = dict.fromkeys(self.processes.running, 0.0)
        groups = {proc.pid: name for name, proc in self.processes.running.items()}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if (name := groups.get(int(fields[2]))) is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return used

    def stop(self) -> None:
        self.processes.stop_all()
        self.ingest.close()
        self.publish.close()


def wait_for_webhooks(receiver: Receiver, total: int, timeout: float) -> None:
    wait_for(lambda: len(receiver.received) >= total, timeout, f"{total} webhooks", interval=0.05)


def wait_for_delivery_log(stack: Stack, sub_id: str, total: int) -> None:
    """The log is written just after the receiver answers."""
    succeeded = f"nf:sub:{sub_id}:deliveries:succeeded"
    wait_for(lambda: stack.repo.redis.zcard(succeeded) >= total, 60, f"{total} deliveries logged")


def stage_times(stack: Stack, sub_id: str, accepted: dict[str, float], arrived: dict[str, float]) -> dict:
    """Per stage (and end to end), the seconds each article spent in it."""
    spans: dict[str, list[float]] = {name: [] for name in (*STAGES, "deliver pickup", "webhook POST", "end to end")}
    for article_id, at_202 in accepted.items():
        times = stack.store.transition_times(article_id)
        delivery = stack.repo.delivery(delivery_id(sub_id, article_id, 1, EventType.PUBLISHED))
        attempt_at = datetime.fromisoformat(delivery.attempts[-1]["at"]).timestamp()
        points = (
            at_202,
            times[ArticleState.ENRICHING],
            times[ArticleState.ENRICHED],
            delivery.created_ts,
            arrived[article_id],
        )
        for name, start, end in zip(STAGES, points, points[1:], strict=False):
            spans[name].append(end - start)
        spans["deliver pickup"].append(attempt_at - delivery.created_ts)
        spans["webhook POST"].append(arrived[article_id] - attempt_at)
        spans["end to end"].append(arrived[article_id] - at_202)
    return spans


def in_process_enrich(raws: list[dict]) -> tuple[list[float], float]:
    """Seconds `enrich(raw)` took for each article in this process, and the CPU seconds per article."""
    from services.enrich.pipeline import enrich  # loads spaCy: only after the stack ran

    enrich(raws[0])
    timings, cpu_started = [], time.process_time()
    for raw in raws:
        started = time.perf_counter()
        enrich(raw)
        timings.append(time.perf_counter() - started)
    return timings, (time.process_time() - cpu_started) / len(raws)


def arrivals(receiver: Receiver, secret: str, first: int) -> dict[str, float]:
    """article id -> arrival time of its webhook, each verified as a subscriber would."""
    verifier, arrived = Webhook(secret), {}
    for request in receiver.received[first:]:
        event = verifier.verify(request.body, request.headers)
        arrived.setdefault(event["data"]["uri"].rsplit(":", 1)[-1], request.at)
    return arrived


def print_report(spans: dict[str, list[float]], baseline: list[float], run: dict) -> None:
    rows = [(name, percentiles(values)) for name, values in spans.items()]
    rows.append(("in-process enrich()", percentiles(baseline)))
    e2e, inproc = rows[-2][1], rows[-1][1]
    print(
        f"\nend-to-end latency: {len(baseline)} articles at {run['rate']:.1f}/s (asked {run['asked']:g}/s), "
        f"production settings, {os.cpu_count()} CPUs; milliseconds"
    )
    print("machine load (1-min average) at the start, end of the pipeline phase, end of the in-process phase: "
          + ", ".join(f"{load:.1f}" for load in run["loads"]))  # fmt: skip
    print(f"| {'stage':<34} | {'p50':>7} | {'p95':>7} | {'p99':>7} |")
    print(f"|{'-' * 36}|--------:|--------:|--------:|")
    labels = {"deliver pickup": "  of which: engine claim", "webhook POST": "  of which: signed POST"}
    for name, figures in rows:
        cells = " | ".join(f"{figures[q] * 1000:>7.1f}" for q in ("p50", "p95", "p99"))
        print(f"| {labels.get(name, name):<34} | {cells} |")
    ratios = {q: e2e[q] / inproc[q] for q in ("p50", "p95", "p99")}
    cells = " | ".join(f"{ratios[q]:>6.2f}x" for q in ("p50", "p95", "p99"))
    print(f"| {'end to end / in-process':<34} | {cells} |")
    verdicts = ", ".join(
        f"{q} {ratios[q]:.2f}x {'<=' if ratios[q] <= limit else '>'} {limit:g}x" for q, limit in TARGETS.items()
    )
    print(f"target: {verdicts}")
    cpu = ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in run["cpu"].items())
    print(f"CPU per article, ms: {cpu}; in-process enrich() {run['inproc_cpu'] * 1000:.1f}")
    workers = int(run["enrich_concurrency"])
    capacity = workers / statistics.fmean(spans["enrich"])
    saturated = " (saturated: the queue wait grows with --articles)" if capacity < run["rate"] else ""
    print(
        f"enrich capacity in this run: {workers} processes / mean enrich stage = {capacity:.1f} articles/s "
        f"for {run['rate']:.1f}/s offered{saturated}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10, help="articles per second (default %(default)s)")
    parser.add_argument("--articles", type=int, default=300, help="measured articles (default %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="articles sent first, not measured (default %(default)s)"
    )
    args = parser.parse_args()

    raws = articles(args.warmup + args.articles, f"latency {os.getpid()}")
    warmup, measured = raws[: args.warmup], raws[args.warmup :]
    redis_url = claim_redis_db(f"bench-latency-{os.getpid()}", os.environ.get("NEWSFLOW_BENCH_REDIS"), dbs=range(1, 16))
    log_dir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    stack = Stack(redis_url, log_dir)
    try:
        with Receiver() as receiver:
            stack.start()
            sub = stack.subscribe(receiver.url)
            stack.post_at_rate(warmup, args.rate)  # every worker process has its model, connections and scripts
            wait_for_webhooks(receiver, len(warmup), 300)
            loads, cpu_before, started = [os.getloadavg()[0]], stack.cpu_seconds(), time.time()
            accepted = stack.post_at_rate(measured, args.rate)
            rate = len(measured) / (time.time() - started)
            wait_for_webhooks(receiver, len(raws), 300)
            wait_for_delivery_log(stack, sub["id"], len(raws))
            loads.append(os.getloadavg()[0])
            cpu = {name: (used - cpu_before[name]) / len(measured) for name, used in stack.cpu_seconds().items()}
            spans = stage_times(stack, sub["id"], accepted, arrivals(receiver, sub["secret"], len(warmup)))
            stored = stack.bytes_stored() / len(raws)
    finally:
        stack.stop()
        release_redis_db(redis_url)
    baseline, inproc_cpu = in_process_enrich(measured)
    run = {
        "rate": rate,
        "asked": args.rate,
        "loads": [*loads, os.getloadavg()[0]],
        "cpu": cpu,
        "inproc_cpu": inproc_cpu,
        "enrich_concurrency": stack.env.get("ENRICH_CONCURRENCY") or DEFAULTS["ENRICH_CONCURRENCY"],
    }
    print_report(spans, baseline, run)
    print(f"Redis memory per published article with 1 subscriber (all keys of the db / articles): {stored:,.0f} B")
    print(f"(process logs: {log_dir})")


if __name__ == "__main__":
    main()
