"""Operator and consumer keys on the publish API (real Flask app, real Redis): consumers and their keys, what each
key reaches, the abuse limits, the audit log, and the OWASP API cases (BOLA on every id route, keys in URLs,
oversized and malformed bodies on every route with one)."""

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.publish import attempts
from services.publish.access_repository import AccessRepository
from services.publish.app import create_app
from shared.contracts import DeliveryStatus
from tests.conftest import PUBLISH_KEY
from tests.integration.test_publish_api import publish, publisher_of

OPERATOR = {"Authorization": f"Bearer {PUBLISH_KEY}"}
HOOK = "http://127.0.0.1:9/hook"


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def app(app_env):
    return create_app({**app_env, "PUBLISH_API_KEYS": "ops-2026:second-operator-key"})


def new_consumer(api, name: str, **fields) -> tuple[dict, dict]:
    """(the consumer, headers with a fresh key of it)."""
    consumer = api.post("/v1/consumers", json={"name": name, **fields}, headers=OPERATOR).get_json()
    issued = api.post(f"/v1/consumers/{consumer['id']}/keys", json={}, headers=OPERATOR).get_json()
    return consumer, bearer(issued["key"])


def subscribe(api, headers, **payload) -> dict:
    response = api.post("/v1/subscriptions", json={"url": HOOK, **payload}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_several_operator_keys_are_live_at_once_and_the_short_form_still_works(api):
    for headers in (OPERATOR, bearer("second-operator-key")):
        assert api.get("/v1/subscriptions", headers=headers).status_code == 200
    assert api.get("/v1/subscriptions", headers=bearer("second-operator-key-not")).status_code == 401


def test_a_consumer_key_is_shown_once_stored_hashed_and_two_can_be_live(api, redis_url):
    consumer = api.post("/v1/consumers", json={"name": "Acme News", "contact": "ops@acme.test"}, headers=OPERATOR)
    assert consumer.status_code == 201 and consumer.headers["Location"] == f"/v1/consumers/{consumer.json['id']}"
    url = f"/v1/consumers/{consumer.json['id']}/keys"
    first, second = (api.post(url, json={"name": n}, headers=OPERATOR) for n in ("first", "second"))
    assert first.status_code == second.status_code == 201
    assert api.post(url, json={}, headers=OPERATOR).status_code == 409  # a third: revoke one first
    shown = api.get(f"/v1/consumers/{consumer.json['id']}", headers=OPERATOR).get_json()
    assert [k["id"] for k in shown["keys"]] == [first.json["id"], second.json["id"]]
    assert first.json["key"] not in json.dumps(shown) and "digest" not in json.dumps(shown)
    stored = publisher_of(api.application).repo.redis.get(f"nf:consumer:{consumer.json['id']}")
    assert first.json["key"] not in stored and second.json["key"] not in stored
    for key in (first.json["key"], second.json["key"]):
        assert api.get("/v1/subscriptions", headers=bearer(key)).status_code == 200

    assert api.delete(f"{url}/{first.json['id']}", headers=OPERATOR).status_code == 204
    assert api.get("/v1/subscriptions", headers=bearer(first.json["key"])).status_code == 401
    assert api.get("/v1/subscriptions", headers=bearer(second.json["key"])).status_code == 200
    assert api.delete(f"{url}/{first.json['id']}", headers=OPERATOR).status_code == 404


def test_a_wrong_secret_with_a_real_key_id_is_refused(api):
    _, headers = new_consumer(api, "acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    assert api.get("/v1/subscriptions", headers=bearer(key[:-2] + "xx")).status_code == 401


def test_disabling_a_consumer_refuses_its_keys_and_fails_its_deliveries(api, app):
    consumer, headers = new_consumer(api, "acme")
    sub = subscribe(api, headers)
    publish(app, "art-disabled")
    [delivery] = api.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=headers).get_json()["items"]
    patched = api.patch(f"/v1/consumers/{consumer['id']}", json={"enabled": False}, headers=OPERATOR)
    assert patched.status_code == 200 and patched.get_json()["enabled"] is False
    assert api.get("/v1/subscriptions", headers=headers).status_code == 401

    p = publisher_of(app)  # the delivery engine's round: claim, then triage (no receiver: only the check ends it)
    p.repo.load_scripts()
    [(claimed_id, claimed)], _ = attempts.record_and_claim(p, "engine1", [], 10)
    assert claimed_id == delivery["id"] and attempts.triage(p, [claimed], {}) == ([], [])
    ended = api.get(f"/v1/deliveries/{delivery['id']}", headers=OPERATOR).get_json()
    assert (
        ended["status"] == DeliveryStatus.FAILED and ended["error"] == "consumer disabled" and ended["attempts"] == []
    )
    api.patch(f"/v1/consumers/{consumer['id']}", json={"enabled": True}, headers=OPERATOR)
    assert api.get("/v1/subscriptions", headers=headers).status_code == 200


def test_consumer_keys_cannot_use_the_operator_routes(api):
    consumer, headers = new_consumer(api, "acme")
    for method, path in [
        ("get", "/v1/consumers"), ("post", "/v1/consumers"), ("get", f"/v1/consumers/{consumer['id']}"),
        ("post", f"/v1/consumers/{consumer['id']}/keys"), ("get", "/v1/audit"),
    ]:  # fmt: skip
        response = getattr(api, method)(path, json={"name": "x"} if method == "post" else None, headers=headers)
        assert response.status_code == 403 and "operator key" in response.get_json()["detail"], path


def test_each_consumer_sees_its_own_subscriptions_and_the_operator_sees_all(api):
    a, key_a = new_consumer(api, "a")
    b, key_b = new_consumer(api, "b")
    sub_a, sub_b, legacy = subscribe(api, key_a), subscribe(api, key_b), subscribe(api, OPERATOR)
    assert sub_a["consumer_id"] == a["id"] and "consumer_id" not in legacy

    def ids(headers, **params):
        return {s["id"] for s in api.get("/v1/subscriptions", query_string=params, headers=headers).json["items"]}

    assert ids(key_a) == {sub_a["id"]} and ids(key_b) == {sub_b["id"]}
    assert ids(key_a, consumer=b["id"]) == {sub_a["id"]}  # a consumer cannot widen its view
    assert ids(OPERATOR) == {sub_a["id"], sub_b["id"], legacy["id"]}
    assert ids(OPERATOR, consumer=b["id"]) == {sub_b["id"]}
    assert api.get(f"/v1/subscriptions/{legacy['id']}", headers=OPERATOR).status_code == 200
    assert api.get(f"/v1/subscriptions/{legacy['id']}", headers=key_a).status_code == 404


def test_consumers_read_the_article_api_and_feed(api, app):
    _, headers = new_consumer(api, "reader")
    publish(app, "art-read")
    assert api.get("/v1/articles/art-read", headers=headers).status_code == 200
    assert [a["data"]["version"] for a in api.get("/v1/articles", headers=headers).json["items"]] == ["1"]


# --- BOLA: every route with an id, consumer B on consumer A's resources ------------------------------------


ID_ROUTES = [  # (method, path template, body)
    ("get", "/v1/subscriptions/{sub_id}", None),
    ("patch", "/v1/subscriptions/{sub_id}", {"description": "mine now"}),
    ("delete", "/v1/subscriptions/{sub_id}", None),
    ("post", "/v1/subscriptions/{sub_id}/rotate-secret", None),
    ("get", "/v1/subscriptions/{sub_id}/deliveries", None),
    ("post", "/v1/subscriptions/{sub_id}/replay", {"since": "2020-01-01T00:00:00Z"}),
    ("get", "/v1/deliveries/{delivery_id}", None),
    ("post", "/v1/deliveries/{delivery_id}/redeliver", None),
]
OPERATOR_ID_ROUTES = [
    ("get", "/v1/consumers/{consumer_id}", None),
    ("patch", "/v1/consumers/{consumer_id}", {"name": "mine now"}),
    ("delete", "/v1/consumers/{consumer_id}", None),
    ("post", "/v1/consumers/{consumer_id}/keys", {}),
    ("delete", "/v1/consumers/{consumer_id}/keys/{key_id}", None),
]


def test_the_bola_routes_are_every_route_with_an_id(api):
    spec = api.get("/openapi.json").get_json()
    in_spec = {(m, path) for path, ops in spec["paths"].items() if "{" in path for m in ops if m != "parameters"}
    tested = {(m, path) for m, path, _ in ID_ROUTES + OPERATOR_ID_ROUTES} | {("get", "/v1/articles/{article_id}")}
    assert in_spec == tested  # articles are public to every key: no owner to cross


@pytest.fixture
def two_consumers(api, app):
    """Consumer A with a subscription and a delivery; consumer B's key."""
    a, key_a = new_consumer(api, "a")
    _, key_b = new_consumer(api, "b")
    sub = subscribe(api, key_a)
    publish(app, "art-bola")
    [delivery] = api.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=key_a).json["items"]
    key_id = api.get(f"/v1/consumers/{a['id']}", headers=OPERATOR).json["keys"][0]["id"]
    ids = {"sub_id": sub["id"], "delivery_id": delivery["id"], "consumer_id": a["id"], "key_id": key_id}
    return ids, key_a, key_b


@pytest.mark.parametrize("method, template, body", ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
def test_another_consumers_resource_answers_exactly_like_a_missing_one(api, two_consumers, method, template, body):
    ids, key_a, key_b = two_consumers
    before = api.get(f"/v1/subscriptions/{ids['sub_id']}", headers=key_a).json
    theirs = getattr(api, method)(template.format(**ids), json=body, headers=key_b)
    missing_ids = {name: value[:-4] + "0000" for name, value in ids.items()}
    missing = getattr(api, method)(template.format(**missing_ids), json=body, headers=key_b)
    assert theirs.status_code == missing.status_code == 404
    swap = {missing_ids[n]: ids[n] for n in ids}
    expected = re.sub("|".join(swap), lambda m: swap[m.group(0)], json.dumps(missing.json))
    assert json.dumps(theirs.json) == expected
    after = api.get(f"/v1/subscriptions/{ids['sub_id']}", headers=key_a).json
    assert after == before  # nothing changed, nothing deleted
    assert api.get(f"/v1/deliveries/{ids['delivery_id']}", headers=key_a).json["attempts"] == []


@pytest.mark.parametrize("method, template, body", OPERATOR_ID_ROUTES, ids=[p for _, p, _ in OPERATOR_ID_ROUTES])
def test_consumer_routes_refuse_every_consumer_key_even_its_own(api, two_consumers, method, template, body):
    ids, key_a, key_b = two_consumers
    for key in (key_a, key_b):
        assert getattr(api, method)(template.format(**ids), json=body, headers=key).status_code == 403
    assert api.get("/v1/subscriptions", headers=key_a).status_code == 200


# --- keys in URLs, bodies too large or malformed -------------------------------------------------------------


@pytest.mark.parametrize("param", ["api_key", "key", "token", "access_token"])
def test_a_key_in_the_query_string_is_refused_even_beside_a_good_header(api, param):
    response = api.get(f"/v1/subscriptions?{param}={PUBLISH_KEY}", headers=OPERATOR)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "never accepted in the URL" in response.json["detail"]


def spec_routes(api, with_body: bool = False) -> list[tuple[str, str]]:
    spec = api.get("/openapi.json").get_json()
    return [
        (method, path)
        for path, ops in spec["paths"].items()
        if path.startswith("/v1/")
        for method, op in ops.items()
        if "requestBody" in op or not with_body
    ]


def test_every_route_refuses_an_oversized_body_and_every_route_with_one_malformed_json(app_env, two_consumers):
    api = create_app({**app_env, "PUBLISH_MAX_BYTES": "2048"}).test_client()
    ids, _, _ = two_consumers
    headers = {**OPERATOR, "Content-Type": "application/json"}
    routes = spec_routes(api)
    assert len(routes) == 20
    for method, template in routes:
        big = getattr(api, method)(
            template.format(article_id="art-bola", **ids), data=json.dumps({"description": "x" * 4000}), headers=headers
        )
        assert big.status_code == 413 and big.mimetype == "application/problem+json", (method, template)
    body_routes = spec_routes(api, with_body=True)
    assert len(body_routes) == 6
    for method, template in body_routes:
        broken = getattr(api, method)(template.format(**ids), data='{"url": "http://x', headers=headers)
        assert broken.status_code == 400 and broken.mimetype == "application/problem+json", template


# --- abuse limits ----------------------------------------------------------------------------------------------


def test_a_consumer_over_its_rate_gets_429_with_retry_after_and_operators_are_not_limited(api):
    _, headers = new_consumer(api, "busy", rate_limit=0.5)  # a bucket of 1
    assert api.get("/v1/subscriptions", headers=headers).status_code == 200
    limited = api.get("/v1/subscriptions", headers=headers)
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) >= 1
    assert all(api.get("/v1/subscriptions", headers=OPERATOR).status_code == 200 for _ in range(30))


def test_subscriptions_per_consumer_are_capped(app_env):
    api = create_app({**app_env, "CONSUMER_MAX_SUBSCRIPTIONS": "1"}).test_client()
    _, headers = new_consumer(api, "greedy")
    subscribe(api, headers)
    refused = api.post("/v1/subscriptions", json={"url": HOOK}, headers=headers)
    assert refused.status_code == 409 and "CONSUMER_MAX_SUBSCRIPTIONS" in refused.json["detail"]
    subscribe(api, OPERATOR)  # the operator is not capped


def test_concurrent_creations_never_pass_the_subscription_cap(app_env):
    app = create_app({**app_env, "CONSUMER_MAX_SUBSCRIPTIONS": "3"})
    _, headers = new_consumer(app.test_client(), "racing")
    start = threading.Barrier(12)

    def create(_: int) -> int:
        client = app.test_client()
        start.wait()
        return client.post("/v1/subscriptions", json={"url": HOOK}, headers=headers).status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = sorted(pool.map(create, range(12)))
    assert statuses == [201] * 3 + [409] * 9
    assert len(app.test_client().get("/v1/subscriptions", headers=headers).json["items"]) == 3


def test_a_consumers_replay_window_is_capped(app_env):
    api = create_app({**app_env, "CONSUMER_REPLAY_WINDOW_S": "3600"}).test_client()
    _, headers = new_consumer(api, "backfill")
    sub = subscribe(api, headers)
    too_old = api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": "2020-01-01T00:00:00Z"}, headers=headers)
    assert too_old.status_code == 422 and "since" in too_old.json["errors"]
    recent = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    assert api.post(f"/v1/subscriptions/{sub['id']}/replay", json={"since": recent}, headers=headers).status_code == 202


# --- audit --------------------------------------------------------------------------------------------------------


def test_every_change_is_audited_with_who_never_the_key(api):
    consumer, headers = new_consumer(api, "acme")
    sub = subscribe(api, headers)
    api.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", headers=headers)
    api.patch(f"/v1/consumers/{consumer['id']}", json={"enabled": False}, headers=bearer("second-operator-key"))
    api.get("/v1/subscriptions", headers=OPERATOR)  # a read is not audited

    page = api.get("/v1/audit", query_string={"limit": 2}, headers=OPERATOR).json
    rest = api.get("/v1/audit", query_string={"cursor": page["next_cursor"]}, headers=OPERATOR).json
    entries = page["items"] + rest["items"]
    assert [e["action"] for e in entries] == [
        "patch_consumer", "rotate_secret", "create_subscription", "issue_key", "create_consumer",
    ]  # fmt: skip
    assert entries[0]["actor"] == {"kind": "operator", "name": "ops-2026", "consumer_id": None}
    assert entries[0]["changes"] == {"enabled": False} and entries[2]["changes"]["url"] == HOOK
    assert entries[1]["actor"]["kind"] == "consumer" and entries[1]["actor"]["consumer_id"] == consumer["id"]
    assert entries[1]["target"] == {"sub_id": sub["id"]} and entries[2]["target"] == {"id": sub["id"]}
    assert rest["next_cursor"] is None
    key = headers["Authorization"].removeprefix("Bearer ")
    assert key not in json.dumps(entries) and PUBLISH_KEY not in json.dumps(entries)


def test_audit_rejects_a_cursor_it_did_not_hand_out(api):
    response = api.get("/v1/audit", query_string={"cursor": "nope"}, headers=OPERATOR)
    assert response.status_code == 422 and "cursor" in response.json["errors"]


# --- consumers deleted, dev-mode URL warnings -----------------------------------------------------------------


def test_deleting_a_consumer_deletes_its_subscriptions_and_keys(api):
    consumer, headers = new_consumer(api, "gone")
    sub = subscribe(api, headers)
    assert api.delete(f"/v1/consumers/{consumer['id']}", headers=OPERATOR).status_code == 204
    assert api.get(f"/v1/subscriptions/{sub['id']}", headers=OPERATOR).status_code == 404
    assert api.get("/v1/subscriptions", headers=headers).status_code == 401


def test_a_metadata_address_allowed_in_dev_mode_is_accepted_with_a_warning(api, caplog):
    sub = subscribe(api, OPERATOR, url="http://169.254.169.254/latest/meta-data/")
    assert "link-local" in sub["warnings"][0] and "WEBHOOK_ALLOW_PRIVATE" in sub["warnings"][0]
    assert "169.254.169.254" in caplog.text
    assert "warnings" not in subscribe(api, OPERATOR)


def test_audit_entries_older_than_the_retention_period_are_trimmed(app):
    repo = AccessRepository(publisher_of(app).repo.redis)
    repo.append_audit({"action": "old"}, retention_s=3600)
    time.sleep(0.05)
    repo.append_audit({"action": "new"}, retention_s=0.02)
    assert [e["action"] for e in repo.audit_page(10, None)[0]] == ["new"]
