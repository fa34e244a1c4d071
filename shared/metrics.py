"""Every Prometheus metric Newsflow exposes, defined once; how workers record them and APIs serve them.

The workers run in other processes (in compose, other containers) than the APIs, so what they measure
goes to Redis: one hash per metric, written in one round trip per event, and read by `PipelineCollector`
when an API is scraped. The APIs' own HTTP counter lives in the process (prometheus_client's
multiprocess mode under gunicorn, see gunicorn.conf.py), so a request costs no Redis round trip.
Gauges (articles by state, queue depth, disabled subscriptions) are read live at scrape time.
"""

from __future__ import annotations

import collections
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from prometheus_client import CollectorRegistry, Counter, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"
INGEST, PUBLISH = "ingest", "publish"
PREFIX = "nf:metrics:"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str
    labels: tuple[str, ...]
    doc: str
    served_by: tuple[str, ...]
    buckets: tuple[float, ...] = ()


HTTP_REQUESTS = Metric(
    "newsflow_http_requests_total",
    COUNTER,
    ("service", "route", "status"),
    "HTTP requests answered, by route template and status code.",
    (INGEST, PUBLISH),
)
ARTICLES = Metric(
    "newsflow_articles",
    GAUGE,
    ("state",),
    "Articles in each processing state: received, enriching, enriched, published, failed.",
    (INGEST,),
)
QUEUE_DEPTH = Metric(
    "newsflow_queue_depth",
    GAUGE,
    ("queue",),
    "Task messages waiting in each Celery queue; deliver holds the last release's attempts until they drain.",
    (INGEST,),
)
TASKS = Metric(
    "newsflow_tasks_total",
    COUNTER,
    ("task", "outcome"),
    "Celery tasks run by every worker, by task name and outcome: success, failure or retry.",
    (INGEST,),
)
TASK_REDELIVERIES = Metric(
    "newsflow_task_redeliveries_total",
    COUNTER,
    ("task",),
    "Task messages delivered a second time because the worker holding them died (or never acknowledged).",
    (INGEST,),
)
ENRICH_DURATION = Metric(
    "newsflow_enrich_duration_seconds",
    HISTOGRAM,
    (),
    "Enriching one article version, claim to stored.",
    (INGEST,),
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FANOUT_DURATION = Metric(
    "newsflow_fanout_duration_seconds",
    HISTOGRAM,
    (),
    "Fanning out one batch of article versions (the outbox drained, or one publish.article): matching "
    "subscriptions and creating their deliveries.",
    (PUBLISH,),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DELIVERY_ATTEMPT_DURATION = Metric(
    "newsflow_delivery_attempt_duration_seconds",
    HISTOGRAM,
    (),
    "One webhook POST, sent to answered (or failed).",
    (PUBLISH,),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
ACCEPT_TO_DELIVERED = Metric(
    "newsflow_accept_to_delivered_seconds",
    HISTOGRAM,
    (),
    "From ingest accepting an article version to its first successful delivery to a subscriber "
    "(replays and manual redeliveries left out).",
    (PUBLISH,),
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400),
)
DELIVERIES = Metric(
    "newsflow_deliveries_total",
    COUNTER,
    ("outcome",),
    "Delivery attempts by what they left the delivery in: succeeded, retrying or failed "
    "(failed also counts deliveries ended without an attempt, e.g. subscription disabled).",
    (PUBLISH,),
)
SUBSCRIPTIONS_DISABLED = Metric(
    "newsflow_subscriptions_disabled",
    GAUGE,
    (),
    "Subscriptions currently disabled (410 Gone, failing too long, or through the API).",
    (PUBLISH,),
)
BEAT_LAST_TICK = Metric(
    "newsflow_beat_last_tick_timestamp_seconds",
    GAUGE,
    (),
    "Unix time of the scheduler's last beat tick (at least every 5 s; 0: never). A silent beat stops the sweeper "
    "and every webhook retry.",
    (INGEST,),
)

METRICS: tuple[Metric, ...] = (
    HTTP_REQUESTS, ARTICLES, QUEUE_DEPTH, TASKS, TASK_REDELIVERIES, ENRICH_DURATION, FANOUT_DURATION,
    DELIVERY_ATTEMPT_DURATION, ACCEPT_TO_DELIVERED, DELIVERIES, SUBSCRIPTIONS_DISABLED, BEAT_LAST_TICK,
)  # fmt: skip
RECORDED = tuple(m for m in METRICS if m.kind != GAUGE and m is not HTTP_REQUESTS)  # written to Redis

disable_created_metrics()  # no `_created` series beside each counter (multiprocess mode has none either)

# The in-process HTTP counter; registered with each app's registry, not the global one.
http_requests = Counter(HTTP_REQUESTS.name, HTTP_REQUESTS.doc, HTTP_REQUESTS.labels, registry=None)


def metrics_table() -> str:
    """The metrics table of docs/operations.md: `python -m shared.metrics` prints it."""
    rows = ["| Metric | Type | Labels | Served by | Meaning |", "|---|---|---|---|---|"]
    for m in METRICS:
        labels = ", ".join(f"`{label}`" for label in m.labels) or "—"
        rows.append(f"| `{m.name}` | {m.kind} | {labels} | {', '.join(m.served_by)} | {m.doc} |")
    return "\n".join(rows)


# recording (any process)


def _series(labels: Mapping[str, str], metric: Metric) -> str:
    if set(labels) != set(metric.labels):
        raise ValueError(f"{metric.name} takes labels {metric.labels}, got {tuple(labels)}")
    return json.dumps([str(labels[name]) for name in metric.labels])


def bucket_for(value: float, buckets: tuple[float, ...]) -> str:
    """The smallest bucket bound `value` fits under, as Prometheus writes it (`+Inf` past the last)."""
    return next((repr(float(b)) for b in buckets if value <= b), "+Inf")


class Batch:
    """Metric updates queued on one Redis transaction, sent when the `with` block ends."""

    def __init__(self, pipe: redis.client.Pipeline):
        self._pipe = pipe

    def count(self, metric: Metric, amount: int = 1, **labels: str) -> None:
        self._pipe.hincrby(PREFIX + metric.name, _series(labels, metric), amount)

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        self.observe_many(metric, [value], **labels)

    def observe_many(self, metric: Metric, values: list[float], **labels: str) -> None:
        """Several observations of one series: one command per bucket they fall in, and one for their sum."""
        if not values:
            return
        series = _series(labels, metric)
        for bucket, count in collections.Counter(bucket_for(value, metric.buckets) for value in values).items():
            self._pipe.hincrby(PREFIX + metric.name, f"{series}|{bucket}", count)
        self._pipe.hincrbyfloat(PREFIX + metric.name, f"{series}|sum", sum(values))


class PipelineMetrics:
    """Counters and histograms that worker processes write to Redis for the APIs to serve.
    A failed write is logged and dropped: metrics never fail the work they measure."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Several updates in one round trip: `with metrics.batch() as m: m.count(...); m.observe(...)`."""
        with self.redis.pipeline(transaction=True) as pipe:
            yield Batch(pipe)
            try:
                pipe.execute()
            except redis.RedisError as exc:
                log.warning("metrics not recorded: %s", exc)

    def count(self, metric: Metric, amount: int = 1, **labels: str) -> None:
        with self.batch() as batch:
            batch.count(metric, amount, **labels)

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        with self.batch() as batch:
            batch.observe(metric, value, **labels)


# serving (the APIs)

Live = Callable[[], Mapping[str, float] | float]  # label value -> value, or one value for a metric without labels


class PipelineCollector(Collector):
    """At scrape time: the recorded metrics this service serves, read from Redis in one round trip,
    and its live gauges."""

    def __init__(self, client: redis.Redis, service: str, live: Mapping[Metric, Live]):
        self.redis = client
        self.recorded = [m for m in RECORDED if service in m.served_by]
        self.live = live

    def collect(self) -> Iterator:
        with self.redis.pipeline(transaction=False) as pipe:
            for metric in self.recorded:
                pipe.hgetall(PREFIX + metric.name)
            stored = pipe.execute()
        for metric, fields in zip(self.recorded, stored, strict=True):
            yield _family(metric, fields)
        for metric, read in self.live.items():
            family = GaugeMetricFamily(metric.name, metric.doc, labels=metric.labels)
            values = read()
            for label, value in values.items() if isinstance(values, Mapping) else [((), values)]:
                family.add_metric([label] if metric.labels else [], value)
            yield family


def _family(metric: Metric, fields: Mapping[str, str]):
    if metric.kind == COUNTER:
        family = CounterMetricFamily(metric.name, metric.doc, labels=metric.labels)
        for series, value in sorted(fields.items()):
            family.add_metric(json.loads(series), float(value))
        return family
    family = HistogramMetricFamily(metric.name, metric.doc, labels=metric.labels)
    for series, buckets, total in _histograms(metric, fields):
        family.add_metric(series, buckets, total)
    return family


def _histograms(metric: Metric, fields: Mapping[str, str]) -> Iterator[tuple[list[str], list, float]]:
    """Redis keeps a count per bucket; Prometheus wants them cumulative, ending with +Inf."""
    per_series: dict[str, dict[str, float]] = {}
    for field, value in fields.items():
        series, _, key = field.rpartition("|")
        per_series.setdefault(series, {})[key] = float(value)
    bounds = [repr(float(b)) for b in metric.buckets] + ["+Inf"]
    for series, values in sorted(per_series.items()):
        running, buckets = 0.0, []
        for bound in bounds:
            running += values.get(bound, 0.0)
            buckets.append((bound, running))
        yield json.loads(series), buckets, values.get("sum", 0.0)


def exposition(collector: Collector | None) -> bytes:
    """The /metrics body: this API's HTTP counter (summed over its gunicorn workers when they share a
    multiprocess directory) and the pipeline's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(http_requests)
    if collector is not None:
        registry.register(collector)
    return generate_latest(registry)


if __name__ == "__main__":
    print(metrics_table())
