"""What an operator sees of the whole Procfile: JSON log lines carrying one request id from the ingest request
to the webhook delivery, the workers' metrics served by the APIs, and a SIGKILLed enrich worker showing up in
both."""

import json
import os
import signal
import uuid
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts import ArticleState, DeliveryStatus, Task
from tests.faults import corpus_articles
from tests.helpers import Receiver, seed_article, wait_for

pytestmark = pytest.mark.slow

# Celery's SIGTERM handler writes this straight to the original stdout; it is the one line not logged.
CELERY_SHUTDOWN_LINE = "worker: Warm shutdown (MainProcess)"


def log_lines(log_dir: Path) -> dict[str, list[dict]]:
    """Every process's log, each line parsed as one JSON object (a line that is not one fails the test)."""
    logs = {}
    for path in log_dir.glob("*.log"):
        lines = [line for line in path.read_text().splitlines() if line.strip() and line != CELERY_SHUTDOWN_LINE]
        logs[path.stem] = [json.loads(line) for line in lines]
    return logs


def samples(client, name: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one metric family at the client's /metrics."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == name:
            return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
    return {}


def post_and_deliver(ingest, publish, receiver, article: dict, request_id: str) -> str:
    sub = publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
    response = ingest.post("/v1/articles", json=article, headers={"X-Request-Id": request_id})
    assert response.status_code == 202, response.text
    assert response.headers["X-Request-Id"] == request_id
    wait_for(lambda: receiver.received, 180, "the webhook delivery")
    deliveries = f"/v1/subscriptions/{sub['id']}/deliveries"
    wait_for(
        lambda: publish.get(deliveries).json()["items"][0]["status"] == DeliveryStatus.SUCCEEDED,
        60,
        "the delivery logged",
    )
    return response.json()["id"]


def test_one_request_id_follows_an_article_from_the_ingest_request_to_its_delivery(start_stack, tmp_path):
    ingest, publish = start_stack()
    request_id = f"obs-{uuid.uuid4().hex[:12]}"
    with Receiver() as receiver:
        article_id = post_and_deliver(ingest, publish, receiver, seed_article(), request_id)

    logs = log_lines(tmp_path)
    traced = {name: [line for line in lines if line.get("request_id") == request_id] for name, lines in logs.items()}
    assert any(line["logger"] == "gunicorn.access" and line["status"] == 202 for line in traced["ingest"])
    enriched = [line for line in traced["enrich"] if line["event"].startswith("enriched")]
    assert enriched and enriched[0]["article_id"] == article_id and enriched[0]["version"] == 1
    delivered = [line for line in traced["deliver"] if line["logger"] == "services.publish.attempts"]
    assert delivered, "no delivery line carries the request id"
    assert {"article_id", "version", "delivery_id", "subscription_id", "ts", "level"} <= set(delivered[-1])
    assert delivered[-1]["article_id"] == article_id


def test_the_apis_serve_the_workers_metrics_for_every_stage_an_article_went_through(start_stack):
    ingest, publish = start_stack()
    with Receiver() as receiver:
        post_and_deliver(ingest, publish, receiver, seed_article(), "metrics-run")

    assert samples(ingest, "newsflow_articles")[("newsflow_articles", (("state", ArticleState.PUBLISHED),))] == 1
    assert ("newsflow_queue_depth", (("queue", "enrich"),)) in samples(ingest, "newsflow_queue_depth")
    enrich_counts = samples(ingest, "newsflow_enrich_duration_seconds")
    assert enrich_counts[("newsflow_enrich_duration_seconds_count", ())] == 1
    tasks = samples(ingest, "newsflow_tasks")
    # fan-out is no task any more (the publish outbox hands articles to the engine): its histogram below counts it
    assert tasks[("newsflow_tasks_total", (("outcome", "success"), ("task", Task.ENRICH_ARTICLE)))] >= 1
    for histogram in (
        "newsflow_fanout_duration_seconds",
        "newsflow_delivery_attempt_duration_seconds",
        "newsflow_accept_to_delivered_seconds",
    ):
        assert samples(publish, histogram)[(f"{histogram}_count", ())] == 1, histogram
    assert (
        samples(publish, "newsflow_deliveries")[("newsflow_deliveries_total", (("outcome", DeliveryStatus.SUCCEEDED),))]
        == 1
    )
    assert samples(publish, "newsflow_subscriptions_disabled")[("newsflow_subscriptions_disabled", ())] == 0
    # each pipeline metric is served by one API only, so summing over both never double-counts
    assert samples(publish, "newsflow_tasks") == {} and samples(ingest, "newsflow_deliveries") == {}


def pool_processes(main: psutil.Process) -> list[psutil.Process]:
    """The Celery pool children (they run the tasks) under a Procfile entry's process."""
    return [p for p in main.children(recursive=True) if p.children() == [] and "celery" in " ".join(p.cmdline())]


def test_a_sigkilled_enrich_worker_shows_as_a_redelivery_in_metrics_and_an_error_in_logs(start_stack, tmp_path):
    ingest, publish = start_stack()
    big = next(corpus_articles(1, texts_each=12))  # several seconds of enrichment: time to kill it mid-task
    with Receiver() as receiver:
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
        response = ingest.post("/v1/articles", json=big, headers={"X-Request-Id": "crash-run"})
        article_id = response.json()["id"]
        wait_for(
            lambda: ingest.get(f"/v1/articles/{article_id}").json()["status"] == ArticleState.ENRICHING,
            120,
            "enriching",
        )
        [victim] = pool_processes(psutil.Process(start_stack.processes.running["enrich"].pid))
        os.kill(victim.pid, signal.SIGKILL)
        wait_for(lambda: receiver.received, 240, "the delivery after the crash")
        assert publish.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()["items"]

    redeliveries = samples(ingest, "newsflow_task_redeliveries")
    assert redeliveries[("newsflow_task_redeliveries_total", (("task", Task.ENRICH_ARTICLE),))] == 1
    enrich_log = log_lines(tmp_path)["enrich"]
    lost = [line for line in enrich_log if line["level"] == "error" and "WorkerLostError" in line["event"]]
    assert lost, "the worker's death is not in the log"
    assert any(line.get("request_id") == "crash-run" and line["event"].startswith("enriched") for line in enrich_log)
    print("\n".join(json.dumps(line) for line in enrich_log if line["level"] != "debug"))
