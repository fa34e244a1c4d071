"""The enrich worker and the sweeper as real processes (the Procfile's commands) on real Redis, and those
processes ending with the test that started them. Delivery by the delivery engine is tested in test_webhooks.py."""

import subprocess
import sys
import time

import psutil
import pytest

from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import ArticleState, Task
from shared.store import ArticleStore, connect
from tests.articles import assert_finished_article, finished
from tests.helpers import DIE_WITH_PARENT, ROOT, queued_messages, seed_article, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def store(redis_url):
    return ArticleStore(connect(redis_url))


@pytest.fixture
def send(app_env):
    celery = make_celery("tests", Settings.from_env(app_env))
    return lambda name, *args: celery.send_task(name, args=list(args))


def state_of(store, article_id):
    return store.status(article_id)["status"]


@pytest.mark.smoke
@pytest.mark.broker("redis", "rabbitmq")  # consumes from and sends to the broker
def test_enrich_worker_enriches_hands_on_and_fails_poison_articles(processes, store, send, broker_url):
    processes(["enrich"])
    store.accept("good", seed_article(), "h1")
    store.accept("poison", {"title": "Empty", "html": "<html><script>x()</script></html>"}, "h1")
    send(Task.ENRICH_ARTICLE, "good", 1)
    send(Task.ENRICH_ARTICLE, "poison", 1)
    wait_for(lambda: state_of(store, "good") == ArticleState.ENRICHED, 60, "the seed article to be enriched")
    assert_finished_article(store.enriched("good"))
    assert "Anthony Blinken" in {p["name"] for p in store.enriched("good")["data"]["people"]}
    # handed on through the publish outbox, in the script that saved it: no publish.article message any more
    assert [(a, v) for a, v, _ in store.take_publish_outbox(10)] == [("good", 1)]
    assert queued_messages(broker_url, "publish") == []
    wait_for(lambda: state_of(store, "poison") == ArticleState.FAILED, 30, "the poison article to fail")
    assert "no article text" in store.status("poison")["error"]


def test_duplicate_and_stale_messages_change_nothing(processes, store, send, broker_url):
    processes(["enrich"])
    store.accept("a", {"title": "Storm", "body": "A storm hit Lisbon on Monday."}, "h1")
    store.accept("a", {"title": "Storm", "body": "A storm hit Porto on Monday."}, "h2")
    send(Task.ENRICH_ARTICLE, "a", 1)  # stale: version 2 exists
    send(Task.ENRICH_ARTICLE, "a", 2)
    send(Task.ENRICH_ARTICLE, "a", 2)  # the same message twice
    wait_for(lambda: state_of(store, "a") == ArticleState.ENRICHED, 60, "version 2 to be enriched")
    time.sleep(1)
    item = store.enriched("a")["data"]
    assert item["version"] == "2" and "Porto" in item["bodies"][0]["value"]
    assert [(a, v) for a, v, _ in store.take_publish_outbox(10)] == [("a", 2)]
    assert queued_messages(broker_url, "publish") == []


def test_sweeper_recovers_an_article_whose_message_was_lost(processes, store):
    processes(["enrich", "scheduler"], STUCK_AFTER_S="1")
    store.stuck_after_s = 1
    store.accept("lost", {"title": "Storm", "body": "A storm hit Lisbon on Monday."}, "h1")  # never enqueued
    wait_for(lambda: state_of(store, "lost") == ArticleState.ENRICHED, 60, "the sweeper to re-enqueue the article")


def test_sweeper_hands_an_enriched_article_whose_fan_out_was_lost_back_to_the_delivery_engine(processes, store):
    store.stuck_after_s = 1
    store.accept("unpublished", {"title": "Storm", "body": "A storm hit Lisbon on Monday."}, "h1")
    assert store.start_enriching("unpublished", 1)
    assert store.save_enriched("unpublished", 1, finished("unpublished"))
    assert store.take_publish_outbox(10)  # taken by an engine that died before fanning it out
    processes(["scheduler", "deliver"], STUCK_AFTER_S="1")
    wait_for(
        lambda: state_of(store, "unpublished") == ArticleState.PUBLISHED, 60, "the sweeper to hand the article back"
    )


def test_the_processes_a_test_starts_stop_when_the_test_process_dies(app_env, tmp_path):
    """A test run killed midway leaves no stack behind to take the next run's work from the db it claims again."""
    if not DIE_WITH_PARENT:
        pytest.skip("util-linux's setpriv is not installed")
    starter = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        "from tests.helpers import Processes, process_env; "
        f"proc = Processes(process_env(**{app_env!r}), Path({str(tmp_path)!r})).start('deliver'); "
        "print(proc.pid, flush=True); time.sleep(600)"
    )
    test_process = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    engine = psutil.Process(int(test_process.stdout.readline()))
    wait_for(lambda: engine.cmdline()[1:3] == ["-m", "services.publish.engine"], 30, "the engine to start")
    test_process.kill()
    test_process.wait()
    wait_for(lambda: not engine.is_running() or engine.status() == psutil.STATUS_ZOMBIE, 30, "the engine to stop")
