"""/metrics of both APIs against real Redis: what workers record through Redis, the gauges read at scrape time,
and gunicorn's HTTP counter summed over its worker processes."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.ingest.app import create_app as create_ingest
from services.publish.app import create_app as create_publish
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import ArticleState, DeliveryStatus, Task
from shared.liveness import record_beat_tick
from shared.metrics import DELIVERIES, ENRICH_DURATION, TASKS, PipelineMetrics
from shared.store import ArticleStore, connect
from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import free_port, wait_for


def scrape(client) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of everything at /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.text if isinstance(response, httpx.Response) else response.get_data(as_text=True)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def metrics(redis_url) -> PipelineMetrics:
    return PipelineMetrics(connect(redis_url))


def test_what_a_worker_records_in_redis_is_served_by_the_api_as_cumulative_histograms(app_env, metrics):
    for seconds in (0.07, 0.3, 0.4, 400):
        metrics.observe(ENRICH_DURATION, seconds)
    with metrics.batch() as batch:
        batch.count(TASKS, task=Task.ENRICH_ARTICLE, outcome="success")
        batch.count(TASKS, task=Task.ENRICH_ARTICLE, outcome="success")

    served = scrape(create_ingest(app_env).test_client())

    bucket = "newsflow_enrich_duration_seconds_bucket"
    assert served[(bucket, (("le", "0.05"),))] == 0
    assert served[(bucket, (("le", "0.1"),))] == 1
    assert served[(bucket, (("le", "0.5"),))] == 3
    assert served[(bucket, (("le", "300.0"),))] == 3
    assert served[(bucket, (("le", "+Inf"),))] == 4
    assert served[("newsflow_enrich_duration_seconds_count", ())] == 4
    assert served[("newsflow_enrich_duration_seconds_sum", ())] == pytest.approx(400.77)
    assert served[("newsflow_tasks_total", (("outcome", "success"), ("task", Task.ENRICH_ARTICLE)))] == 2


def test_each_pipeline_metric_is_served_by_one_api_only(app_env, metrics):
    metrics.count(DELIVERIES, outcome=DeliveryStatus.SUCCEEDED)
    metrics.count(TASKS, task=Task.PUBLISH_ARTICLE, outcome="success")

    ingest, publish = scrape(create_ingest(app_env).test_client()), scrape(create_publish(app_env).test_client())

    assert ("newsflow_deliveries_total", (("outcome", DeliveryStatus.SUCCEEDED),)) in publish
    assert not any(name.startswith("newsflow_deliveries") for name, _ in ingest)
    assert ("newsflow_tasks_total", (("outcome", "success"), ("task", Task.PUBLISH_ARTICLE))) in ingest
    assert not any(name.startswith("newsflow_tasks") for name, _ in publish)


def test_articles_by_state_and_queue_depths_are_read_when_scraped(app_env, redis_url):
    store = ArticleStore(connect(redis_url))
    store.accept("a1", {"title": "T", "body": "one"}, "h1")
    store.accept("a2", {"title": "T", "body": "two"}, "h2")
    store.start_enriching("a2", 1)
    celery = make_celery("tests", Settings.from_env(app_env))
    celery.send_task(Task.ENRICH_ARTICLE, args=["a1", 1])  # no worker runs: it waits in the queue

    served = scrape(create_ingest(app_env).test_client())

    assert served[("newsflow_articles", (("state", ArticleState.RECEIVED),))] == 1
    assert served[("newsflow_articles", (("state", ArticleState.ENRICHING),))] == 1
    assert served[("newsflow_articles", (("state", ArticleState.PUBLISHED),))] == 0
    assert served[("newsflow_queue_depth", (("queue", "enrich"),))] == 1
    assert served[("newsflow_queue_depth", (("queue", "publish"),))] == 0


def test_beats_last_tick_is_read_when_scraped_and_zero_before_the_first(app_env, redis_url):
    client = create_ingest(app_env).test_client()
    assert scrape(client)[("newsflow_beat_last_tick_timestamp_seconds", ())] == 0

    record_beat_tick(connect(redis_url), 1_790_000_000.5)

    assert scrape(client)[("newsflow_beat_last_tick_timestamp_seconds", ())] == 1_790_000_000.5


def test_disabled_subscriptions_are_counted_when_scraped(app_env):
    client = create_publish(app_env).test_client()
    auth = {"Authorization": f"Bearer {PUBLISH_KEY}"}
    subs = [client.post("/v1/subscriptions", json={"url": f"http://127.0.0.1/{n}"}, headers=auth).get_json()
            for n in range(3)]  # fmt: skip
    assert scrape(client)[("newsflow_subscriptions_disabled", ())] == 0

    client.patch(f"/v1/subscriptions/{subs[1]['id']}", json={"enabled": False}, headers=auth)

    assert scrape(client)[("newsflow_subscriptions_disabled", ())] == 1


@pytest.mark.slow
def test_every_gunicorn_worker_process_counts_its_requests_into_one_total(processes, tmp_path):
    port = free_port()
    processes(["ingest"], WEB_CONCURRENCY="2", INGEST_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 60, "ingest to answer")

    def unauthorized(_) -> str:  # a new connection each, several at once: both worker processes get some
        return httpx.get(f"{base}/v1/articles/nope", headers={"Authorization": "Bearer wrong"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(unauthorized, range(60))) == {401}
    served = scrape(httpx.Client(base_url=base))

    access = [json.loads(line) for line in (tmp_path / "ingest.log").read_text().splitlines() if "nope" in line]
    assert len({line["pid"] for line in access}) == 2, "one worker process served them all: nothing to sum"
    assert served[("newsflow_http_requests_total", _labels(401))] == 60


def _labels(status: int) -> tuple:
    return (("route", "/v1/articles/<article_id>"), ("service", "ingest"), ("status", str(status)))


def test_every_response_returns_the_clients_request_id_or_a_new_one(app_env):
    client = create_ingest(app_env).test_client()
    auth = {"Authorization": f"Bearer {INGEST_KEY}"}

    kept = client.get("/v1/articles/nope", headers={**auth, "X-Request-Id": "upstream-42"})
    made = client.get("/v1/articles/nope", headers=auth)
    forged = client.get("/v1/articles/nope", headers={**auth, "X-Request-Id": 'x" level=error'})

    assert kept.headers["X-Request-Id"] == "upstream-42"
    assert len(made.headers["X-Request-Id"]) == 32
    assert forged.headers["X-Request-Id"] not in ('x" level=error', made.headers["X-Request-Id"])
