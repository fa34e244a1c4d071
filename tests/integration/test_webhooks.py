"""Webhook delivery with the Procfile's real publish worker and delivery engine, real Redis and scripted receivers
on loopback: retries, Retry-After, endpoint health, rotation, redeliver, replay, concurrency and the
connection-time SSRF guard. Timings come from settings shrunk per test."""

import time
from datetime import datetime

import psutil
import pytest
from standardwebhooks import Webhook, WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError as SvixVerificationError

from services.publish import attempts
from services.publish.app import create_app
from services.publish.attempts import Ready
from services.publish.bootstrap import bootstrap
from services.publish.delivery import Attempt
from services.publish.engine import IDLE_HOLD_S, Engine
from services.publish.fanout import delivery_id, new_delivery, webhook_body
from services.publish.model import Delivery
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import ArticleState, DeliveryStatus, EventType, Task
from shared.store import ArticleStore, connect
from shared.times import iso
from tests.articles import finished
from tests.conftest import PUBLISH_KEY
from tests.helpers import Processes, Receiver, Reply, process_env, wait_for

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PUBLISH_KEY}"}
PK = {"Pakistan": "PK"}


@pytest.fixture
def store(redis_url):
    return ArticleStore(connect(redis_url))


@pytest.fixture
def api(app_env):
    return create_app(app_env).test_client()


@pytest.fixture
def publish(app_env, store):
    """Store an enriched article (as enrich would) and send publish.article for it."""
    celery = make_celery("tests", Settings.from_env(app_env))

    def publish(article_id: str, version: int = 1, **fields) -> None:
        store.accept(article_id, {"title": "T", "body": f"{article_id} v{version}"}, f"{article_id}-h{version}")
        store.start_enriching(article_id, version)
        store.save_enriched(article_id, version, finished(article_id, version, **{"places": PK, **fields}))
        celery.send_task(Task.PUBLISH_ARTICLE, args=[article_id, version])

    return publish


def subscribe(api, url, **fields) -> dict:
    response = api.post("/v1/subscriptions", json={"url": url, **fields}, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def subscription(api, sub) -> dict:
    return api.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH).get_json()


def log(api, sub, **query) -> list[dict]:
    return api.get(f"/v1/subscriptions/{sub['id']}/deliveries", query_string=query, headers=AUTH).get_json()["items"]


def one_delivery(api, sub, status: str, timeout: float = 30) -> dict:
    [delivery] = wait_for(lambda: log(api, sub, status=status), timeout, f"a {status} delivery")
    return delivery


def verify_both(secret: str, request) -> dict:
    """Verify with the standardwebhooks library and with svix's verifier, as two different receivers would."""
    SvixWebhook(secret).verify(request.body, request.headers)
    return Webhook(secret).verify(request.body, request.headers)


def ts(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


def test_every_kind_of_failure_is_retried_with_one_webhook_id_until_a_2xx(processes, api, publish, redis_url):
    with Receiver() as target, Receiver() as receiver:
        receiver.script(500, Reply(302, {"Location": target.url}), Reply(200, delay_s=2.5), 404, 204)
        sub = subscribe(api, receiver.url)
        processes(["publish-worker", "deliver"], WEBHOOK_RETRY_SCHEDULE="0.3,0.3,0.3,0.3,0.3", WEBHOOK_TIMEOUT_S="1")
        publish("art")
        delivery = one_delivery(api, sub, DeliveryStatus.SUCCEEDED)
        assert len(receiver.received) == 5 and target.received == []  # the redirect was not followed
        assert {r.headers["webhook-id"] for r in receiver.received} == {delivery["id"]}
        for request in receiver.received:
            assert verify_both(sub["secret"], request)["type"] == EventType.PUBLISHED
            assert abs(int(request.headers["webhook-timestamp"]) - request.at) <= 1.5  # this attempt's time
        attempts = delivery["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 302, None, 404, 204]
        assert [a["error"] for a in attempts] == [
            "HTTP 500",
            "HTTP 302 (redirects are not followed)",
            "timed out after 1 s",
            "HTTP 404",
            None,
        ]
        assert attempts[0]["response_excerpt"] == "answered 500" and attempts[2]["response_excerpt"] == ""
        assert 900 <= attempts[2]["duration_ms"] < 2500
        assert delivery["next_attempt_at"] is None
        assert connect(redis_url).zscore("nf:due", delivery["id"]) is None  # nothing more is scheduled


def test_a_delivery_fails_when_the_schedule_is_used_up(processes, api, publish):
    with Receiver([503]) as receiver:
        sub = subscribe(api, receiver.url)
        processes(["publish-worker", "deliver"], WEBHOOK_RETRY_SCHEDULE="0.2,0.2", WEBHOOK_MIN_BACKOFF_S="0.3")
        publish("art")
        delivery = one_delivery(api, sub, DeliveryStatus.FAILED)
        assert [a["status_code"] for a in delivery["attempts"]] == [503, 503, 503]
        assert len(receiver.received) == 3
        # the body is stored once, compressed, and sent byte for byte the same on every attempt
        assert len({request.body for request in receiver.received}) == 1
        assert all(verify_both(sub["secret"], request)["data"]["uri"] for request in receiver.received)


@pytest.mark.parametrize(
    "first, schedule, timeout, least, most",
    [
        (Reply(429, {"Retry-After": "3600"}), "1", "3", 1.6, 2.4),  # honoured, but at most twice the schedule
        (Reply(429, {"Retry-After": "0"}), "1", "3", 0.8, 1.2),  # never sooner than the schedule
        (Reply(503), "0.2", "3", 1.0, 1.0),  # slow-down statuses wait the minimum backoff
        (Reply(200, delay_s=2), "0.2", "0.5", 1.0, 1.0),  # and so do timeouts
    ],
    ids=["retry-after-long", "retry-after-zero", "503-min-backoff", "timeout-min-backoff"],
)
def test_the_wait_before_a_retry_honours_retry_after_and_the_minimum_backoff(
    processes, api, publish, first, schedule, timeout, least, most
):
    with Receiver([first, 200]) as receiver:
        sub = subscribe(api, receiver.url)
        processes(
            ["publish-worker", "deliver"],
            WEBHOOK_RETRY_SCHEDULE=schedule,
            WEBHOOK_TIMEOUT_S=timeout,
            WEBHOOK_MIN_BACKOFF_S="1",
        )
        publish("art")
        waiting = one_delivery(api, sub, DeliveryStatus.RETRYING)
        [attempt] = waiting["attempts"]
        ended = ts(attempt["at"]) + attempt["duration_ms"] / 1000
        assert least - 0.01 <= ts(waiting["next_attempt_at"]) - ended <= most + 0.01
        done = one_delivery(api, sub, DeliveryStatus.SUCCEEDED)
        assert ts(done["attempts"][1]["at"]) >= ts(waiting["next_attempt_at"]) - 0.01
        assert receiver.received[1].at - receiver.received[0].at >= least


def test_410_disables_the_subscription_at_once_and_patch_reenables_it(processes, api, publish, store):
    with Receiver([410, 200]) as receiver:
        sub = subscribe(api, receiver.url)
        processes(["publish-worker", "deliver"])
        publish("gone")
        wait_for(lambda: not subscription(api, sub)["enabled"], 30, "the subscription disabled")
        shown = subscription(api, sub)
        assert shown["disabled_reason"] == "endpoint answered 410 Gone"
        assert [d["status"] for d in log(api, sub)] == [DeliveryStatus.FAILED]

        publish("while-disabled")
        wait_for(lambda: store.status("while-disabled")["status"] == ArticleState.PUBLISHED, 30, "the second article")
        assert len(log(api, sub)) == 1 and len(receiver.received) == 1  # no delivery was even created

        patched = api.patch(f"/v1/subscriptions/{sub['id']}", json={"enabled": True}, headers=AUTH).get_json()
        assert patched["enabled"] is True and patched["disabled_reason"] is None
        publish("after")
        wait_for(lambda: len(receiver.received) == 2, 30, "a delivery after re-enabling")
        assert verify_both(sub["secret"], receiver.received[1])["type"] == EventType.PUBLISHED


def test_a_subscription_failing_with_no_success_for_the_disable_period_is_disabled(processes, api, publish):
    with Receiver([500]) as dead, Receiver([200]) as alive:
        dead_sub, alive_sub = subscribe(api, dead.url), subscribe(api, alive.url)
        processes(
            ["publish-worker", "deliver"],
            WEBHOOK_RETRY_SCHEDULE=",".join(["0.3"] * 20),
            WEBHOOK_DISABLE_AFTER_S="1.5",
        )
        publish("art")
        wait_for(lambda: not subscription(api, dead_sub)["enabled"], 30, "the failing subscription disabled")
        shown = subscription(api, dead_sub)
        assert shown["disabled_reason"].startswith("no successful delivery since")
        assert ts(shown["disabled_at"]) - dead.received[0].at >= 1.5
        delivery = one_delivery(api, dead_sub, DeliveryStatus.FAILED)
        assert delivery["error"] == "subscription disabled"
        assert subscription(api, alive_sub)["enabled"] is True and len(alive.received) == 1


def test_the_circuit_breaker_pauses_a_dead_endpoint_without_using_up_retries_and_a_probe_closes_it(
    processes, api, publish
):
    with Receiver([500]) as dead, Receiver([200]) as alive:
        dead_sub, alive_sub = subscribe(api, dead.url), subscribe(api, alive.url)
        processes(
            ["publish-worker", "deliver"],
            PUBLISH_CONCURRENCY="2",
            WEBHOOK_RETRY_SCHEDULE=",".join(["0.2"] * 6),  # 1.2 s in all: shorter than one pause
            WEBHOOK_BREAKER_WINDOW="3",
            WEBHOOK_BREAKER_THRESHOLD="1",
            WEBHOOK_BREAKER_COOLDOWN_S="2",
        )
        for i in range(4):
            publish(f"art{i}")
        health = wait_for(
            lambda: (h := subscription(api, dead_sub)["health"])["circuit"] == "open" and h, 30, "the circuit to open"
        )
        dead.script(200)  # the endpoint comes back during the pause
        paused_until = ts(health["paused_until"])
        opened_at = paused_until - 2
        wait_for(
            lambda: len(log(api, dead_sub, status=DeliveryStatus.SUCCEEDED)) == 4,
            30,
            "every paused delivery to succeed",
        )
        assert subscription(api, dead_sub)["health"]["circuit"] == "closed"
        starts = sorted(ts(a["at"]) for d in log(api, dead_sub) for a in d["attempts"])
        assert not [t for t in starts if opened_at + 0.05 < t < paused_until - 0.05]  # nothing went out while open
        assert len([t for t in starts if t <= opened_at + 0.05]) >= 3  # the failures that opened it
        assert len(alive.received) == 4 and len(log(api, alive_sub, status=DeliveryStatus.SUCCEEDED)) == 4


def test_rotated_secret_signs_with_both_secrets_through_the_grace_period_then_only_the_new_one(
    processes, app_env, publish
):
    api = create_app({**app_env, "WEBHOOK_SECRET_GRACE_S": "3"}).test_client()  # the API rotates
    with Receiver() as receiver:
        sub = subscribe(api, receiver.url)
        old = sub["secret"]
        processes(["publish-worker", "deliver"])
        publish("before")
        [before] = wait_for(lambda: receiver.received, 30, "a delivery before the rotation (workers up)")
        assert before.headers["webhook-signature"].count("v1,") == 1 and verify_both(old, before)

        rotated = api.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", headers=AUTH).get_json()
        new = rotated["secret"]
        publish("during")
        during = wait_for(lambda: receiver.received[1:], 30, "a delivery during the grace period")[0]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        for secret in (new, old):
            assert verify_both(secret, during)["type"] == EventType.PUBLISHED

        grace_end = ts(rotated["previous_secret_expires_at"])
        wait_for(lambda: datetime.now().timestamp() > grace_end, 5, "the grace period to end")
        publish("after")
        after = wait_for(lambda: receiver.received[2:], 30, "a delivery after the grace period")[0]
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert verify_both(new, after)["type"] == EventType.PUBLISHED
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(after.body, after.headers)
        with pytest.raises(SvixVerificationError):
            SvixWebhook(old).verify(after.body, after.headers)


def test_redeliver_makes_exactly_one_more_attempt_with_the_same_webhook_id(processes, api, publish, redis_url):
    with Receiver([500]) as receiver:
        sub = subscribe(api, receiver.url)
        processes(["publish-worker", "deliver"], WEBHOOK_RETRY_SCHEDULE="0.2")
        publish("art")
        failed = one_delivery(api, sub, DeliveryStatus.FAILED)
        assert len(failed["attempts"]) == 2

        receiver.script(200)
        response = api.post(f"/v1/deliveries/{failed['id']}/redeliver", headers=AUTH)
        assert response.status_code == 202 and response.get_json()["status"] == DeliveryStatus.PENDING
        succeeded = one_delivery(api, sub, DeliveryStatus.SUCCEEDED)
        assert len(receiver.received) == 3 and len(succeeded["attempts"]) == 3
        assert receiver.received[2].headers["webhook-id"] == failed["id"]
        assert verify_both(sub["secret"], receiver.received[2])["type"] == EventType.PUBLISHED

        receiver.script(500)  # a failed redelivery is one attempt, not a new retry schedule
        api.post(f"/v1/deliveries/{failed['id']}/redeliver", headers=AUTH)
        again = one_delivery(api, sub, DeliveryStatus.FAILED)
        assert len(again["attempts"]) == 4 and len(receiver.received) == 4
        assert connect(redis_url).zscore("nf:due", failed["id"]) is None


def test_replay_sends_a_new_subscriber_the_backlog_oldest_first_as_new_deliveries(processes, api, publish, store):
    processes(["publish-worker", "deliver"], DELIVER_CONCURRENCY="1")
    since = datetime.now().timestamp()
    for name in ("first", "second", "third"):
        publish(name)
        wait_for(lambda n=name: store.status(n)["status"] == ArticleState.PUBLISHED, 30, f"{name} published")
    publish("france", places={"France": "FR"})
    wait_for(lambda: store.status("france")["status"] == ArticleState.PUBLISHED, 30, "france published")
    with Receiver() as receiver:
        sub = subscribe(api, receiver.url, filters={"places": ["PK"]})
        result = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(since)}, headers=AUTH)
        assert result.status_code == 202 and result.get_json()["count"] == 3
        wait_for(lambda: len(receiver.received) == 3, 30, "the replayed articles")
        events = [verify_both(sub["secret"], r) for r in receiver.received]
        assert {(e["type"], e["data"]["version"]) for e in events} == {(EventType.PUBLISHED, "1")}
        ids = [r.headers["webhook-id"] for r in receiver.received]
        sent = [d["article_id"] for d in sorted(log(api, sub), key=lambda d: ids.index(d["id"]))]
        assert sent == ["first", "second", "third"]
        assert all(d["replay_id"] == result.get_json()["replay_id"] for d in log(api, sub))
        originals = {delivery_id(sub["id"], name, 1, EventType.PUBLISHED) for name in sent}
        assert not originals & set(ids)


@pytest.mark.broker("redis", "rabbitmq")  # which worker gets which task is the broker's prefetch and ack
def test_one_slow_subscriber_cannot_take_every_worker(processes, api, publish):
    with Receiver([Reply(200, delay_s=0.7)]) as slow, Receiver() as fast:
        slow_sub, _ = subscribe(api, slow.url), subscribe(api, fast.url)
        processes(["publish-worker", "deliver"], PUBLISH_CONCURRENCY="3", WEBHOOK_MAX_IN_FLIGHT="1")
        for i in range(4):
            publish(f"art{i}")
        wait_for(lambda: len(fast.received) == 4, 30, "the fast subscriber's deliveries")
        assert len(slow.received) <= 2  # the fast one did not wait behind the slow one
        wait_for(
            lambda: len(log(api, slow_sub, status=DeliveryStatus.SUCCEEDED)) == 4,
            30,
            "the slow subscriber's deliveries",
        )
        assert slow.max_in_progress == 1 and len(slow.received) == 4  # held back, never dropped


def test_a_backlog_to_one_subscriber_goes_out_from_both_engines_within_its_in_flight_limit_one_webhook_id_each(
    processes, api, store
):
    """Each running engine has an equal share of a subscription's slots, and an attempt ending beside a free slot
    offers another engine the next delivery in line: one subscriber's backlog goes out from both engines. Successors
    go out the moment a slot frees, and never more than WEBHOOK_MAX_IN_FLIGHT are at the subscriber at once."""
    with Receiver(delay_s=0.02) as receiver:
        sub = subscribe(api, receiver.url)
        engines = [processes(["deliver"], WEBHOOK_MAX_IN_FLIGHT="2").running["deliver"] for _ in range(2)]
        wait_for(lambda: store.redis.zcard("nf:engines") == 2, 30, "both engines to run")
        for i in range(100):  # handed over as enrich does it: through the publish outbox
            store.accept(f"line{i}", {"title": "T", "body": f"line{i}"}, f"line{i}-h")
            store.start_enriching(f"line{i}", 1)
            store.save_enriched(f"line{i}", 1, finished(f"line{i}", 1, places=PK))
        wait_for(
            lambda: len(log(api, sub, status=DeliveryStatus.SUCCEEDED, limit=100)) == 100,
            60,
            "every delivery to succeed",
        )
        assert receiver.max_in_progress == 2
        assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(
            delivery_id(sub["id"], f"line{i}", 1, EventType.PUBLISHED) for i in range(100)
        )
        # which engine sent each: the local ends of its connections (kept alive) are the receiver's clients
        ports_of = {
            engine.pid: {
                c.laddr.port
                for c in psutil.Process(engine.pid).net_connections()
                if c.raddr and c.raddr.port == receiver.port
            }
            for engine in engines
        }
        sent = {pid: sum(r.client[1] in ports for r in receiver.received) for pid, ports in ports_of.items()}
        assert min(sent.values()) >= 20, sent  # a connection closed meanwhile would leave its requests out


def engine_publisher(app_env):
    p = bootstrap(Settings.from_env(app_env), make_celery("tests", Settings.from_env(app_env)))
    p.repo.load_scripts()
    return p


def test_an_engine_sending_nothing_to_a_subscription_puts_what_it_claimed_of_it_in_line_not_in_its_hold(app_env, api):
    """The engine whose attempts have the slots calls the waiting line up as they end; held by an engine with no
    attempt of that subscription, a delivery would wait for that engine's next round (up to a poll interval)."""
    p = engine_publisher(app_env)
    sub = subscribe(api, "https://example.com/hook")
    delivery = new_delivery(sub["id"], "held1", 1, EventType.PUBLISHED)
    p.repo.create_deliveries([(delivery, time.time())])
    assert p.repo.lock_and_read(delivery.id, p.lease_s)[0]  # claimed
    engine = Engine(p, client=None, concurrency=10)
    engine.hold([Ready(delivery, sub, "{}")])
    assert engine.held == {}
    assert p.repo.redis.zscore(f"nf:sub:{sub['id']}:waiting", delivery.id) is not None
    assert p.repo.redis.zscore("nf:due", delivery.id) <= time.time() + IDLE_HOLD_S
    assert p.repo.lock_and_read(delivery.id, p.lease_s)[0]  # its lock released


def test_an_engine_gets_no_slot_past_its_share_of_a_subscriptions_slots_while_others_run(app_env, api):
    p = engine_publisher(app_env)
    sub = subscribe(api, "https://example.com/hook")
    first, second = (new_delivery(sub["id"], f"share{i}", 1, EventType.PUBLISHED) for i in range(2))
    p.repo.create_deliveries([(first, time.time()), (second, time.time())])
    p.repo.redis.zadd("nf:engines", {"engine1": time.time() + 10, "engine2": time.time() + 10})
    # limit 4, two engines: a share of 2; the caller has 1 in flight, so one more slot
    assert [ctx.slot for ctx in p.repo.prepare_attempts([first, second], 4, 10, {sub["id"]: 1})] == [True, False]
    p.repo.redis.zrem("nf:engines", "engine2")  # alone: every slot is its share
    assert [ctx.slot for ctx in p.repo.prepare_attempts([second], 4, 10, {sub["id"]: 2})] == [True]


def engine1_sends_the_due_one(p, room: int = 0, call_up: int = 0) -> tuple[Delivery, list, int | None]:
    """engine1 claims the one delivery due, and records a successful attempt of it with no successor (its slot
    frees), calling up `call_up` of its line with `room`. Returns it, what that record claimed and the share."""
    [(_, claimed)], _ = attempts.record_and_claim(p, "engine1", [], 1)
    [ready], _ = attempts.triage(p, [claimed], {})
    attempt = Attempt(iso(time.time()), 200, 5, None, "ok", ended=time.time())
    called_up, share = attempts.record_and_claim(p, "engine1", [(ready, attempt, None)], room, [call_up])
    return claimed, called_up, share


def offered_to_engine2(p, sub: dict) -> Delivery:
    """engine1 sends one delivery of `sub` and records it beside a free slot, engine2 running: the next one in
    line is offered to engine2. Returns that one."""
    sent, waiting = (new_delivery(sub["id"], f"offer{i}", 1, EventType.PUBLISHED) for i in range(2))
    p.repo.create_deliveries([(sent, time.time()), (waiting, None)], p.lease_s)  # the second waits in line
    p.repo.save_payloads([("offer0", 1, "{}")])
    p.repo.redis.zadd("nf:engines", {"engine2": time.time() + 10})
    claimed, _, share = engine1_sends_the_due_one(p)
    assert claimed.id == sent.id and share == 2
    assert p.repo.redis.lrange("nf:engine:engine2:inbox", 0, -1) == [waiting.id]
    assert p.repo.redis.get(f"nf:delivery:{waiting.id}:lock") == "offer:engine2"
    assert p.lease_s - 2 <= p.repo.redis.zscore("nf:due", waiting.id) - time.time() <= p.lease_s  # due at its lease end
    return waiting


def test_an_attempt_ending_beside_a_free_slot_offers_the_next_delivery_in_line_to_another_engine(app_env, api):
    p = engine_publisher(app_env)
    waiting = offered_to_engine2(p, subscribe(api, "https://example.com/hook"))
    [(offered_id, offered)], _ = attempts.record_and_claim(p, "engine2", [], 10)
    assert offered_id == waiting.id and offered.id == waiting.id
    assert p.repo.redis.get(f"nf:delivery:{waiting.id}:lock") == "1"  # engine2's claim now
    assert p.repo.redis.llen("nf:engine:engine2:inbox") == 0


def test_an_offer_whose_lock_another_took_since_is_skipped_and_a_leaving_engine_hands_its_offers_back(app_env, api):
    p = engine_publisher(app_env)
    sub = subscribe(api, "https://example.com/hook")
    waiting = offered_to_engine2(p, sub)
    p.repo.redis.set(f"nf:delivery:{waiting.id}:lock", "1")  # its offer's lock expired and another engine took it
    assert attempts.record_and_claim(p, "engine2", [], 10)[0] == []
    assert p.repo.redis.get(f"nf:delivery:{waiting.id}:lock") == "1"  # left to its holder

    p.repo.delete_subscription(sub["id"])
    waiting = offered_to_engine2(p, subscribe(api, "https://example.com/hook"))
    p.repo.leave("engine2")
    assert p.repo.redis.zscore("nf:engines", "engine2") is None
    assert p.repo.redis.zscore("nf:due", waiting.id) <= time.time()  # due now, for the others
    assert p.repo.lock_and_read(waiting.id, p.lease_s)[0]  # unlocked


def test_an_attempted_delivery_leaves_its_subscriptions_line_and_is_not_called_up_again(app_env, api):
    """A delivery put back in line and due soon can be claimed from the due set while still in the line; once
    attempted, its record must not call it up again (the stale copy would be sent a second time and its record
    would overwrite the first attempt in the log)."""
    p = engine_publisher(app_env)
    sub = subscribe(api, "https://example.com/hook")
    delivery = new_delivery(sub["id"], "inline", 1, EventType.PUBLISHED)
    p.repo.create_deliveries([(delivery, None)], p.lease_s)  # in line, due a lease later
    p.repo.redis.zadd("nf:due", {delivery.id: time.time()})  # due now all the same
    p.repo.save_payloads([("inline", 1, "{}")])
    _, called_up, _ = engine1_sends_the_due_one(p, room=10, call_up=8)
    assert called_up == []
    assert len(p.repo.delivery(delivery.id).attempts) == 1


@pytest.fixture
def strict_workers(request, app_env, tmp_path):
    """The publish worker and delivery engine with private addresses not allowed (the `processes` fixture cannot
    override a setting app_env already has)."""
    group = Processes(
        process_env(**{**app_env, "WEBHOOK_ALLOW_PRIVATE": "false", "WEBHOOK_RETRY_SCHEDULE": "0.2"}), tmp_path
    )
    yield group
    group.stop_all()
    if getattr(request.node, "rep_call_failed", False):
        print(group.logs())


def test_an_address_that_turns_private_is_refused_at_connection_time(strict_workers, api, publish):
    with Receiver() as receiver:
        sub = subscribe(api, receiver.url)  # accepted while private addresses were allowed
        strict_workers.start("publish-worker")
        strict_workers.start("deliver")
        publish("art")
        delivery = one_delivery(api, sub, DeliveryStatus.FAILED)
        assert [a["status_code"] for a in delivery["attempts"]] == [None, None]
        assert all(
            "127.0.0.1 resolves to 127.0.0.1, a non-public address (loopback)" in a["error"]
            for a in delivery["attempts"]
        )
        assert receiver.received == []


def test_filters_choose_subscribers_by_topic_hierarchy_entities_places_and_event_type(processes, api, publish):
    article = {"topics": ("medtop:11000000", "medtop:20000574"), "organisations": ("Taliban",)}  # politics > elections
    wanted = {
        "politics": {"topics": ["medtop:11000000"]},
        "elections": {"topics": ["20000574"]},
        "taliban-in-pk": {"entities": ["taliban"], "places": ["PK"]},
    }
    unwanted = {
        "government": {"topics": ["medtop:20000593"]},
        "taliban-in-fr": {"entities": ["Taliban"], "places": ["FR"]},
        "french": {"languages": ["fr"]},
    }
    receivers = {name: Receiver() for name in [*wanted, *unwanted, "updates-only"]}
    for r in receivers.values():
        r.__enter__()
    try:
        for name, filters in {**wanted, **unwanted}.items():
            subscribe(api, receivers[name].url, filters=filters)
        subscribe(api, receivers["updates-only"].url, event_types=[EventType.UPDATED])
        processes(["publish-worker", "deliver"])
        publish("art", **article)
        wait_for(lambda: all(receivers[n].received for n in wanted), 30, "the matching subscribers")
        publish("art", version=2, **article)
        wait_for(lambda: receivers["updates-only"].received, 30, "the update")
        wait_for(lambda: all(len(receivers[n].received) == 2 for n in wanted), 30, "the update to match ones")
        assert [r.json()["type"] for r in receivers["updates-only"].received] == [EventType.UPDATED]
        assert all(receivers[n].received == [] for n in unwanted)
    finally:
        for r in receivers.values():
            r.__exit__(None, None, None)


@pytest.mark.broker("redis", "rabbitmq")  # the previous release's messages, taken from the broker
def test_a_previous_releases_publish_deliver_message_is_sent_now_not_a_lease_later(processes, api, app_env, store):
    """The release before the delivery engine created each delivery due a lease ahead and sent publish.deliver on
    queue `deliver` (docs/operations.md, compatibility): this release's publish worker makes it due now."""
    settings = Settings.from_env({**app_env, "WEBHOOK_TIMEOUT_S": "60"})  # a lease of 125 s
    p = bootstrap(settings, make_celery("tests", settings))
    with Receiver() as receiver:
        sub = subscribe(api, receiver.url)
        store.accept("old", {"title": "T", "body": "B"}, "h1")
        store.start_enriching("old", 1)
        store.save_enriched("old", 1, finished("old"))
        store.take_publish_outbox(10)  # the previous release had no publish outbox: it fanned out as below
        body = webhook_body(EventType.PUBLISHED, finished("old"))
        delivery = new_delivery(sub["id"], "old", 1, EventType.PUBLISHED)
        p.repo.save_payloads([("old", 1, body)])
        created = time.time()
        assert p.repo.create_deliveries([(delivery, created + p.lease_s)]) == [True]
        celery = make_celery("tests", settings)
        celery.send_task(Task.PUBLISH_DELIVER, args=[delivery.id], queue="deliver")
        celery.send_task(Task.PUBLISH_POLL_DUE, queue="publish")
        processes(["publish-worker", "deliver"], WEBHOOK_TIMEOUT_S="60")
        [request] = wait_for(lambda: receiver.received, 60, "the delivery")
        assert time.time() < created + p.lease_s
        assert request.headers["webhook-id"] == delivery.id and request.body.decode() == body
        verify_both(sub["secret"], request)
