"""Faults injected into the whole Procfile: workers SIGKILLed mid-task, Redis crashed or stopped, a subscriber
cut off, task messages sent twice. Through each the promise holds: every article answered 202 reaches every
subscriber (verified with standardwebhooks), none is lost, and no subscriber sees one article version under two
webhook-ids. The store is the source of truth; the queue is only a hint (DESIGN §4)."""

import time
from dataclasses import dataclass

import httpx
import pytest
from celery import Celery
from standardwebhooks import Webhook

from services.publish.fanout import delivery_id
from shared.celery_app import make_celery, queue_depth
from shared.config import Settings
from shared.contracts import ArticleState, DeliveryStatus, EventType, Task
from shared.store import ArticleStore, connect
from tests.faults import Cable, Ledger, RedisServer, Stream, corpus_articles
from tests.helpers import Processes, Receiver, wait_for

pytestmark = pytest.mark.slow

# Short enough for a test, long enough that a slow, shared machine does not trip them by itself.
RECOVERY = {
    "STUCK_AFTER_S": "10",  # the sweeper re-enqueues an article that has not moved on for this long
    "BROKER_VISIBILITY_TIMEOUT_S": "30",  # Redis broker: an unacked message comes back after this
    "TASK_TIME_LIMIT_S": "20",
    "WEBHOOK_TIMEOUT_S": "5",
    "WEBHOOK_RETRY_SCHEDULE": "1,1,2,2,4,4,8,8,8,8",  # about 46 s of retries: outlasts every outage below
    "WEBHOOK_MIN_BACKOFF_S": "1",
    "WEBHOOK_BREAKER_COOLDOWN_S": "2",
}
SETTLE_S = 240


@dataclass
class Stack:
    ingest: httpx.Client
    publish: httpx.Client
    processes: Processes
    store: ArticleStore
    celery: Celery  # sends task messages the way the services do


@pytest.fixture
def stack(start_stack, app_env):
    """`stack(**overrides)`: every Procfile process with the RECOVERY timings, and what a test needs to
    fault and watch them."""
    apps: list[Celery] = []

    def start(**overrides: str) -> Stack:
        ingest, publish = start_stack(**{**RECOVERY, **overrides})
        settings = Settings.from_env({**app_env, **overrides})
        apps.append(make_celery("faults", settings))
        store = ArticleStore(connect(settings.redis_url))
        return Stack(ingest, publish, start_stack.processes, store, apps[-1])

    yield start
    for app in apps:
        app.close()


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


def store_on(server: RedisServer, broker: str) -> dict[str, str]:
    """Settings that put the store on `server`, and the broker too when the broker is Redis."""
    return {"REDIS_URL": server.url, **({"BROKER_URL": server.url} if broker == "redis" else {})}


def deliveries(stack: Stack, sub_id: str, status: str | None = None) -> list[dict]:
    params = {"limit": 200, **({"status": status} if status else {})}
    response = stack.publish.get(f"/v1/subscriptions/{sub_id}/deliveries", params=params)
    return response.json()["items"]


def idle(stack: Stack, ledger: Ledger) -> bool:
    """Every accepted version received by every subscriber, and nothing left to do: no article in progress,
    no delivery waiting, no message queued."""
    if not ledger.settled():
        return False
    counts = stack.store.state_counts()
    if counts[ArticleState.RECEIVED] + counts[ArticleState.ENRICHING] + counts[ArticleState.ENRICHED]:
        return False
    if any(
        deliveries(stack, sub.id, status)
        for sub in ledger.subscribers
        for status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
    ):
        return False
    return not any(queue_depth(stack.celery, queue) for queue in ("enrich", "publish"))


def exited(stack: Stack) -> list[str]:
    """Procfile entries that exited by themselves (the tests kill and restart them only through `processes`)."""
    return [name for name, process in stack.processes.running.items() if process.poll() is not None]


def restart_exited(stack: Stack) -> None:
    """What compose's `restart: unless-stopped` does. Needed after a Redis outage: a Celery worker whose Redis
    broker connection drops while it holds an unacknowledged task can die inside kombu 5.7's channel close
    (AttributeError: 'NoneType' object has no attribute 'hostname'); see docs/operations.md, "Worked around"."""
    for name in exited(stack):
        stack.processes.start(name)


def assert_promise_kept(stack: Stack, ledger: Ledger, supervised: bool = False) -> None:
    """Wait until the pipeline falls idle (twice, a second apart, so a straggling duplicate shows), then check.
    `supervised`: restart a process that exits, as compose would; otherwise an exit fails the test."""

    def settled() -> bool:
        if supervised:
            restart_exited(stack)
        return bool(exited(stack)) or idle(stack, ledger)

    for what in ("every article delivered and the pipeline idle", "the pipeline to stay idle"):
        wait_for(settled, SETTLE_S, what, 0.5)
        assert exited(stack) == [], "a process exited by itself: nothing restarts it under the Procfile"
        time.sleep(1)
    assert ledger.accepted, "nothing was accepted: the scenario tested nothing"
    assert ledger.missing() == []
    assert ledger.duplicates() == []
    assert [sub.unverified for sub in ledger.subscribers] == [0] * len(ledger.subscribers)
    assert stack.store.state_counts()[ArticleState.FAILED] == 0
    assert [deliveries(stack, sub.id, DeliveryStatus.FAILED) for sub in ledger.subscribers] == [[]] * len(
        ledger.subscribers
    )


def assert_refusals_are_problems(stream: Stream) -> None:
    """Every post not accepted was answered 503, problem+json with Retry-After; none went unanswered."""
    assert stream.unanswered == []
    for refusal in stream.refusals:
        assert refusal.status_code == 503, refusal.text
        assert refusal.headers["content-type"] == "application/problem+json"
        assert int(refusal.headers["retry-after"]) > 0


@pytest.mark.broker("redis", "rabbitmq")  # the broker redelivers the unacked task
def test_enrich_worker_killed_mid_task_then_restarted_delivers_every_article_once(stack, ledger):
    s = stack()
    with Receiver() as receiver:
        ledger.subscribe(s.publish, receiver)
        for article in corpus_articles(12, texts_each=3):  # about a second each to enrich
            assert ledger.post(s.ingest, article).status_code == 202
        wait_for(lambda: s.store.state_counts()[ArticleState.ENRICHING], 120, "an article being enriched", 0.02)
        s.processes.kill("enrich")
        assert s.store.state_counts()[ArticleState.ENRICHING] == 1, "the worker was killed mid-task"
        s.processes.start("enrich")
        assert_promise_kept(s, ledger)


def test_delivery_engine_killed_mid_delivery_then_restarted_delivers_every_article_once(stack, ledger):
    s = stack()
    with Receiver(delay_s=2) as receiver:  # answers slowly: deliveries stay in flight
        sub_id = ledger.subscribe(s.publish, receiver)
        for article in corpus_articles(8):
            assert ledger.post(s.ingest, article).status_code == 202
        wait_for(lambda: receiver.in_progress, 120, "a delivery in flight", 0.02)
        s.processes.kill("deliver")
        cut_short = receiver.received[-1].headers["webhook-id"]
        assert cut_short not in {d["id"] for d in deliveries(s, sub_id, DeliveryStatus.SUCCEEDED)}
        s.processes.start("deliver")
        assert_promise_kept(s, ledger)
        assert cut_short in {d["id"] for d in deliveries(s, sub_id, DeliveryStatus.SUCCEEDED)}


@pytest.mark.broker("redis", "rabbitmq")  # issue 12 asks for both: the article reaches enrich through the broker
def test_delivery_engine_killed_mid_batch_of_500_in_flight_sends_each_again_under_its_one_webhook_id(stack):
    """One article to 500 subscriptions (one receiver behind them all), every delivery in flight when the
    engine is SIGKILLed: a new engine sends each again once its lease ends, under the same webhook-id."""
    s = stack(DELIVER_CONCURRENCY="500", WEBHOOK_TIMEOUT_S="15")  # 500 answers at once take a loaded machine a while
    lease_s = 2 * 15 + 5  # Publisher.lease_s
    with Receiver(delay_s=3) as receiver:  # answers slowly: the whole batch is in flight at once
        secrets = {}
        for _ in range(500):
            sub = s.publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
            secrets[sub["id"]] = sub["secret"]
        response = s.ingest.post("/v1/articles", json=next(corpus_articles(1)))
        article_id, version = response.json()["id"], response.json()["version"]
        expected = {delivery_id(sub_id, article_id, version, EventType.PUBLISHED): sub_id for sub_id in secrets}
        wait_for(lambda: receiver.in_progress >= 490, 120, "the batch in flight", 0.02)
        in_flight = receiver.in_progress
        s.processes.kill("deliver")
        killed_at = time.time()
        assert not succeeded(s, secrets), "the engine was killed mid-batch"
        s.processes.start("deliver")
        wait_for(lambda: len(succeeded(s, secrets)) == len(secrets), lease_s + 30, "every delivery to succeed")
        recovered_s = time.time() - killed_at
        complete = [r for r in receiver.received if len(r.body) == int(r.headers["Content-Length"])]
        for request in complete:  # each signed for its subscription (the kill cut a few requests short)
            sub_id = expected[request.headers["webhook-id"]]
            Webhook(secrets[sub_id]).verify(request.body, request.headers)
        assert {r.headers["webhook-id"] for r in receiver.received} == set(expected)
        assert set(succeeded(s, secrets)) == set(expected)
        print(f"\nSIGKILL with {in_flight} attempts in flight; {len(receiver.received)} requests for 500 deliveries, "
              f"every one succeeded {recovered_s:.1f} s after the kill (lease {lease_s:g} s)")  # fmt: skip
        assert recovered_s < lease_s + 10


def succeeded(stack: Stack, secrets: dict[str, str]) -> list[str]:
    """Ids of the succeeded deliveries of these subscriptions, read from the store in one round trip."""
    with stack.store.redis.pipeline(transaction=False) as pipe:
        for sub_id in secrets:
            pipe.zrange(f"nf:sub:{sub_id}:deliveries:succeeded", 0, -1)
        return [delivery for ids in pipe.execute() for delivery in ids]


@pytest.mark.broker("redis", "rabbitmq")  # the store alone, or the store and the broker, go down
def test_redis_crashed_mid_stream_and_restarted_loses_no_accepted_article(stack, ledger, broker, tmp_path):
    # appendfsync always: every write acknowledged to a client is on disk, so even a crash of the machine
    # could not lose it (SIGKILL of the process alone loses nothing already written under everysec either)
    with RedisServer(tmp_path / "redis", appendfsync="always") as server:
        s = stack(**store_on(server, broker))
        with Receiver() as receiver:
            ledger.subscribe(s.publish, receiver)
            with Stream(ledger, s.ingest, corpus_articles(40), rate=4) as upstream:
                wait_for(lambda: s.store.state_counts()[ArticleState.PUBLISHED] >= 5, 120, "the stream to be flowing")
                server.crash()
                server.start()
                wait_for(lambda: upstream.done, 120, "the rest of the stream")
            assert_refusals_are_problems(upstream)
            assert_promise_kept(s, ledger, supervised=True)


@pytest.mark.broker("redis", "rabbitmq")  # the store alone, or the store and the broker, go down
def test_posts_while_redis_is_down_get_503_and_every_202_is_delivered(stack, ledger, broker, tmp_path):
    # compose's appendfsync everysec, and a clean stop: Redis fsyncs its AOF on the way down
    with RedisServer(tmp_path / "redis", appendfsync="everysec") as server:
        s = stack(**store_on(server, broker))
        with Receiver() as receiver:
            ledger.subscribe(s.publish, receiver)
            with Stream(ledger, s.ingest, corpus_articles(300), rate=5) as upstream:
                wait_for(lambda: len(ledger.accepted) >= 5, 60, "articles accepted before the outage")
                server.stop()
                wait_for(lambda: len(upstream.refusals) >= 5, 60, "posts refused during the outage")
                server.start()
                before = len(ledger.accepted)
                wait_for(lambda: len(ledger.accepted) >= before + 5, 120, "articles accepted after the outage")
            assert_refusals_are_problems(upstream)
            assert_promise_kept(s, ledger, supervised=True)


def test_subscriber_unreachable_for_a_while_gets_every_article_once_it_is_back(stack, ledger):
    s = stack()
    with Receiver() as receiver, Cable(receiver.port) as cable:
        sub_id = ledger.subscribe(s.publish, receiver, cable.url())
        cable.unplug()
        for article in corpus_articles(10):
            assert ledger.post(s.ingest, article).status_code == 202
        wait_for(
            lambda: len(deliveries(s, sub_id, DeliveryStatus.RETRYING)) == 10, 120, "every delivery to have failed"
        )
        cable.plug()
        assert_promise_kept(s, ledger)


def test_duplicate_task_messages_send_no_article_version_under_two_webhook_ids(stack, ledger):
    s = stack(PUBLISH_CONCURRENCY="4")

    def send_twice(name: str, args: list) -> None:
        for _ in range(2):
            s.celery.send_task(name, args=args)

    with Receiver(delay_s=1) as receiver:  # answers slowly: deliveries stay in flight
        ledger.subscribe(s.publish, receiver)
        for article in corpus_articles(6):
            response = ledger.post(s.ingest, article)
            assert response.status_code == 202
            send_twice(Task.ENRICH_ARTICLE, [response.json()["id"], response.json()["version"]])

        waiting = set(ledger.accepted)

        def publish_twice_once_enriched() -> bool:  # alongside the genuine publish.article
            for article_id, version in list(waiting):
                if s.store.status(article_id)["status"] in (ArticleState.ENRICHED, ArticleState.PUBLISHED):
                    send_twice(Task.PUBLISH_ARTICLE, [article_id, version])
                    waiting.discard((article_id, version))
            return not waiting

        wait_for(publish_twice_once_enriched, 120, "every article enriched", 0.02)
        assert_promise_kept(s, ledger)

        for article_id, version in ledger.accepted:  # and once more, after everything was delivered
            send_twice(Task.ENRICH_ARTICLE, [article_id, version])
            send_twice(Task.PUBLISH_ARTICLE, [article_id, version])
        assert_promise_kept(s, ledger)
