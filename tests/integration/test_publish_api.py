"""The publish API over its real Flask app and real Redis."""

import time
from dataclasses import replace
from datetime import datetime

import pytest

from services.publish import fanout, subscriptions
from services.publish.app import create_app
from services.publish.signing import live_secrets
from shared.contracts import DeliveryStatus, EventType
from shared.times import iso
from tests.articles import finished
from tests.conftest import PUBLISH_KEY

AUTH = {"Authorization": f"Bearer {PUBLISH_KEY}"}


@pytest.fixture
def client(app_env):
    return create_app(app_env).test_client()


def create(client, **payload):
    return client.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook", **payload}, headers=AUTH)


def test_create_returns_the_secret_once(client):
    response = create(client, description="newsroom", filters={"places": ["PK"]})
    assert response.status_code == 201
    sub = response.get_json()
    assert sub["secret"].startswith("whsec_") and sub["id"].startswith("sub_")
    assert sub["enabled"] is True and sub["event_types"] == [EventType.PUBLISHED, EventType.UPDATED]
    assert sub["filters"]["places"] == ["PK"] and sub["filters"]["topics"] == []
    assert response.headers["Location"] == f"/v1/subscriptions/{sub['id']}"
    shown = client.get(response.headers["Location"], headers=AUTH).get_json()
    assert "secret" not in shown and shown["description"] == "newsroom"
    listed = client.get("/v1/subscriptions", headers=AUTH).get_json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]


def test_patch_changes_url_filters_description_and_enabled(client):
    sub = create(client).get_json()
    changes = {"url": "http://127.0.0.1:10/new", "filters": {"languages": ["en"]}, "description": "d", "enabled": False}
    patched = client.patch(f"/v1/subscriptions/{sub['id']}", json=changes, headers=AUTH)
    assert patched.status_code == 200
    assert {k: patched.get_json()[k] for k in changes} == {
        **changes,
        "filters": {**sub["filters"], "languages": ["en"]},
    }


def test_delete_then_404(client):
    sub = create(client).get_json()
    assert client.delete(f"/v1/subscriptions/{sub['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH).status_code == 404
    assert client.delete(f"/v1/subscriptions/{sub['id']}", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "not-a-url"}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"event_types": ["article.deleted"]}, "event_types"),
        ({"filters": {"topics": ["politics"]}}, "filters"),
        ({"filters": {"colour": ["red"]}}, "filters"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_invalid_subscription_is_422_naming_the_field(client, payload, field):
    response = client.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/h", **payload}, headers=AUTH)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_private_webhook_urls_are_refused_unless_allowed(app_env):
    strict = create_app({**app_env, "WEBHOOK_ALLOW_PRIVATE": "false"}).test_client()
    response = create(strict)
    assert response.status_code == 422 and "url" in response.get_json()["errors"]
    sub = create(create_app(app_env).test_client()).get_json()
    patched = strict.patch(f"/v1/subscriptions/{sub['id']}", json={"url": "http://10.0.0.1/x"}, headers=AUTH)
    assert patched.status_code == 422 and "url" in patched.get_json()["errors"]


def test_every_route_needs_the_key(client):
    assert client.get("/v1/subscriptions").status_code == 401
    assert client.get("/v1/articles/x", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/healthz").status_code == 200


def test_article_is_404_until_enriched(client):
    response = client.get("/v1/articles/unknown", headers=AUTH)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


# --- webhooks: health, rotation, delivery log, redeliver, replay, SSRF ---------------------------------


def publisher_of(app):
    return app.extensions["newsflow"]


def publish(app, article_id, version=1, **fields):
    """An article through enrich's store transitions and the real fan-out use case, so it is in the feed."""
    p = publisher_of(app)
    for v in range(1, version + 1):
        p.store.accept(article_id, {"title": "T", "body": f"{article_id} v{v}"}, f"{article_id}-h{v}")
        p.store.start_enriching(article_id, v)
        p.store.save_enriched(article_id, v, finished(article_id, v, **fields))
        fanout.publish_article(p, article_id, v, None)


def add_deliveries(app, sub_id, statuses, created_ts):
    """Deliveries in the log with the given statuses, all created at `created_ts` (ties on purpose)."""
    repo = publisher_of(app).repo
    made = []
    for i, status in enumerate(statuses):
        d = fanout.new_delivery(sub_id, f"art{created_ts}-{i}", 1, EventType.PUBLISHED, created_ts)
        repo.create_deliveries([(d, created_ts)])
        repo.save_delivery(
            replace(d, status=status),
            None if status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED) else created_ts,
        )
        made.append(d.id)
    return made


def later_than_the_last_publication() -> float:
    """A time apart from the publications before and after it at the API's millisecond resolution."""
    time.sleep(0.005)
    now = time.time()
    time.sleep(0.005)
    return now


def test_get_shows_health_and_rotation_state_never_a_secret(api):
    sub = create(api).get_json()
    shown = api.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH).get_json()
    assert shown["health"] == {
        "circuit": "closed",
        "paused_until": None,
        "last_success_at": None,
        "failing_since": None,
    }
    assert shown["previous_secret_expires_at"] is None and shown["disabled_reason"] is None
    assert not {"secret", "previous_secrets", "created_ts"} & set(shown)


def test_rotate_secret_returns_a_new_secret_and_the_old_one_signs_through_the_grace(api, app):
    sub = create(api).get_json()
    before = time.time()
    rotated = api.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", headers=AUTH)
    assert rotated.status_code == 200
    body = rotated.get_json()
    assert body["secret"].startswith("whsec_") and body["secret"] != sub["secret"]
    expires = datetime.fromisoformat(body["previous_secret_expires_at"]).timestamp()
    assert before + 24 * 3600 - 1 <= expires <= time.time() + 24 * 3600
    stored = publisher_of(app).repo.subscription(sub["id"])
    assert live_secrets(stored, time.time()) == [body["secret"], sub["secret"]]
    assert "secret" not in api.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH).get_json()
    assert api.post("/v1/subscriptions/sub_nope/rotate-secret", headers=AUTH).status_code == 404


def test_delivery_log_filters_by_status_and_pages_newest_first_with_a_cursor(api, app):
    sub = create(api).get_json()
    now = time.time()  # within the log's retention
    older = add_deliveries(app, sub["id"], [DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED], now - 2000.0)
    tied = add_deliveries(
        app,
        sub["id"],
        [
            DeliveryStatus.FAILED,
            DeliveryStatus.PENDING,
            DeliveryStatus.RETRYING,
            DeliveryStatus.FAILED,
            DeliveryStatus.SUCCEEDED,
        ],
        now - 1000.0,
    )
    expected = sorted(tied, reverse=True) + sorted(older, reverse=True)  # ties: by id, descending
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/subscriptions/{sub['id']}/deliveries", query_string=query, headers=AUTH).get_json()
        seen += [d["id"] for d in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == 3
    failed = api.get(f"/v1/subscriptions/{sub['id']}/deliveries?status=failed", headers=AUTH).get_json()
    assert {d["id"] for d in failed["items"]} == {older[1], tied[0], tied[3]}
    assert all(d["status"] == DeliveryStatus.FAILED for d in failed["items"]) and failed["next_cursor"] is None


def test_delivery_log_items_have_the_documented_shape(api, app):
    sub = create(api).get_json()
    add_deliveries(app, sub["id"], [DeliveryStatus.RETRYING], time.time())
    [item] = api.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=AUTH).get_json()["items"]
    assert {"id", "article_id", "event_type", "status", "next_attempt_at", "attempts"} <= set(item)
    assert item["status"] == DeliveryStatus.RETRYING and item["next_attempt_at"] and item["attempts"] == []
    assert "next_attempt_ts" not in item and "created_ts" not in item
    assert api.get(f"/v1/deliveries/{item['id']}", headers=AUTH).get_json() == item


@pytest.mark.parametrize(
    "query, field", [("status=done", "status"), ("limit=0", "limit"), ("limit=x", "limit"), ("cursor=zzz", "cursor")]
)
def test_delivery_log_rejects_bad_parameters_naming_them(api, query, field):
    sub = create(api).get_json()
    response = api.get(f"/v1/subscriptions/{sub['id']}/deliveries?{query}", headers=AUTH)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_unknown_ids_are_404_problems(api):
    for method, path in [
        ("get", "/v1/subscriptions/sub_nope/deliveries"),
        ("get", "/v1/deliveries/msg_nope"),
        ("post", "/v1/deliveries/msg_nope/redeliver"),
        ("post", "/v1/subscriptions/sub_nope/replay"),
        ("patch", "/v1/subscriptions/sub_nope"),
    ]:
        response = getattr(api, method)(path, json={"since": "2026-01-01T00:00:00Z"}, headers=AUTH)
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path


def test_redeliver_of_a_final_delivery_makes_one_more_attempt_due_now_and_wakes_the_engine(api, app):
    sub = create(api).get_json()
    [failed] = add_deliveries(app, sub["id"], [DeliveryStatus.FAILED], time.time() - 60)
    response = api.post(f"/v1/deliveries/{failed}/redeliver", headers=AUTH)
    assert response.status_code == 202
    assert response.get_json()["status"] == DeliveryStatus.PENDING and response.get_json()["id"] == failed
    repo = publisher_of(app).repo
    stored = repo.delivery(failed)
    assert stored.redeliver is True and stored.next_attempt_ts <= time.time()
    assert repo.redis.zscore("nf:due", failed) <= time.time() and repo.redis.llen("nf:deliver-wake") == 1


def test_redeliver_is_409_while_the_subscription_is_disabled_or_an_attempt_is_running(api, app):
    sub = create(api).get_json()
    [first, second] = add_deliveries(app, sub["id"], [DeliveryStatus.FAILED, DeliveryStatus.FAILED], time.time())
    publisher_of(app).repo.lock_and_read(first, 30)  # a worker is attempting it
    busy = api.post(f"/v1/deliveries/{first}/redeliver", headers=AUTH)
    assert busy.status_code == 409 and "in progress" in busy.get_json()["detail"]
    api.patch(f"/v1/subscriptions/{sub['id']}", json={"enabled": False}, headers=AUTH)
    disabled = api.post(f"/v1/deliveries/{second}/redeliver", headers=AUTH)
    assert disabled.status_code == 409 and "disabled" in disabled.get_json()["detail"]


def test_replay_resends_matching_articles_of_the_window_oldest_first_as_new_deliveries(api, app):
    pk = {"Pakistan": "PK"}
    publish(app, "before", places=pk)
    since = later_than_the_last_publication()
    publish(app, "first", places=pk)
    publish(app, "elsewhere", places={"France": "FR"})
    publish(app, "updated", version=2, places=pk)
    sub = create(api, filters={"places": ["PK"]}).get_json()  # a new subscriber wants the backlog
    response = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(since)}, headers=AUTH)
    assert response.status_code == 202
    result = response.get_json()
    assert result["count"] == 2 and result["capped"] is False and result["replay_id"].startswith("rpl_")
    repo = publisher_of(app).repo
    due = repo.redis.zrange("nf:due", 0, -1)  # the order the scheduler hands them out in
    replayed = [repo.delivery(i) for i in due]
    assert [(d.article_id, d.version) for d in replayed] == [("first", 1), ("updated", 2)]
    assert all(d.replay_id == result["replay_id"] and d.status == DeliveryStatus.PENDING for d in replayed)
    again = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(since)}, headers=AUTH).get_json()
    assert again["count"] == 2 and len(repo.redis.zrange("nf:due", 0, -1)) == 4  # new deliveries each time


def test_replay_is_capped_and_says_where_to_carry_on(app_env):
    app = create_app({**app_env, "WEBHOOK_REPLAY_MAX": "2"})
    api = app.test_client()
    since = time.time()
    for name in ("a", "b", "c", "d", "e"):
        publish(app, name)
    sub = create(api).get_json()
    first = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(since)}, headers=AUTH).get_json()
    assert first["count"] == 2 and first["capped"] is True
    second = api.post(
        f"/v1/subscriptions/{sub['id']}/replay", json={"since": first["next_since"]}, headers=AUTH
    ).get_json()
    third = api.post(
        f"/v1/subscriptions/{sub['id']}/replay", json={"since": second["next_since"]}, headers=AUTH
    ).get_json()
    assert (second["count"], second["capped"], third["count"], third["capped"]) == (2, True, 1, False)
    assert third["next_since"] is None
    repo = publisher_of(app).repo
    assert [repo.delivery(i).article_id for i in repo.redis.zrange("nf:due", 0, -1)] == list("abcde")


def test_replay_with_until_stops_at_it(api, app):
    since = later_than_the_last_publication()
    publish(app, "in")
    until = later_than_the_last_publication()
    publish(app, "out")
    sub = create(api).get_json()
    result = api.post(
        f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(since), "until": iso(until)}, headers=AUTH
    ).get_json()
    assert result["count"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "since"),
        ({"since": "last week"}, "since"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
    ],
)
def test_replay_rejects_a_bad_window_naming_the_field(api, body, field):
    sub = create(api).get_json()
    response = api.post(f"/v1/subscriptions/{sub['id']}/replay", json=body, headers=AUTH)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_replay_to_a_disabled_subscription_is_409(api):
    sub = create(api).get_json()
    api.patch(f"/v1/subscriptions/{sub['id']}", json={"enabled": False}, headers=AUTH)
    response = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": iso(0)}, headers=AUTH)
    assert response.status_code == 409


def test_reenabling_clears_the_reason_and_the_endpoint_record(api, app):
    sub = create(api).get_json()
    p = publisher_of(app)
    subscriptions.disable(p, sub["id"], "endpoint answered 410 Gone")
    p.repo.open_circuit(sub["id"], time.time() + 60)
    p.repo.redis.hset(f"nf:sub:{sub['id']}:health", "failing_since_ts", time.time() - 10)
    shown = api.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH).get_json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "endpoint answered 410 Gone"
    assert shown["health"]["circuit"] == "open" and shown["health"]["failing_since"]
    enabled = api.patch(f"/v1/subscriptions/{sub['id']}", json={"enabled": True}, headers=AUTH).get_json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert enabled["health"]["circuit"] == "closed" and enabled["health"]["failing_since"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.1/hook",
        "http://172.16.5.4/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://2130706433/hook",
        "http://localhost:8000/hook",
    ],
)
def test_webhook_urls_on_non_public_addresses_are_422_on_create_and_patch(app_env, url):
    strict = create_app({**app_env, "WEBHOOK_ALLOW_PRIVATE": "false"}).test_client()
    created = strict.post("/v1/subscriptions", json={"url": url}, headers=AUTH)
    assert created.status_code == 422 and "url" in created.get_json()["errors"]
    sub = create(create_app(app_env).test_client()).get_json()
    patched = strict.patch(f"/v1/subscriptions/{sub['id']}", json={"url": url}, headers=AUTH)
    assert patched.status_code == 422 and "url" in patched.get_json()["errors"]


@pytest.mark.parametrize("url", ["http://user:pw@127.0.0.1/hook", "http://example.com@127.0.0.1/hook"])
def test_webhook_urls_with_userinfo_are_422_even_for_local_runs(api, url):
    response = api.post("/v1/subscriptions", json={"url": url}, headers=AUTH)
    assert response.status_code == 422 and "url" in response.get_json()["errors"]


def test_repository_reloads_scripts_redis_has_lost(app):
    """After a Redis restart its scripts are gone; the one-round-trip pipelines load them again."""
    repo = publisher_of(app).repo
    delivery = fanout.new_delivery("sub_x", "art", 1, EventType.PUBLISHED)
    repo._create.sha = repo._acquire_slots.sha = "0" * 40  # as if Redis had never seen them
    assert repo.create_deliveries([(delivery, time.time())]) == [True]
    assert [ctx.slot for ctx in repo.prepare_attempts([delivery], 1, 10, {})] == [True]
    assert repo.redis.zscore("nf:due", delivery.id) is not None


def test_openapi_document_and_docs_page_need_no_key(api):
    spec = api.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/v1/subscriptions/{sub_id}/replay" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert "secret" not in spec["components"]["schemas"]["Subscription"]["properties"]
    assert api.get("/docs", follow_redirects=True).status_code == 200  # Swagger UI: test_api_docs.py
