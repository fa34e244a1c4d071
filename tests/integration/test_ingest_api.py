"""The ingest API over its real Flask app, real Redis and the real Celery producer."""

import time

import pytest

from services.ingest.app import create_app
from shared.contracts import ArticleState, Task
from tests.conftest import INGEST_KEY
from tests.helpers import queued_messages

AUTH = {"Authorization": f"Bearer {INGEST_KEY}"}


@pytest.fixture
def client(app_env):
    return create_app(app_env).test_client()


def enqueued(client, redis_url) -> list[tuple[str, list]]:
    """Run the app's outbox dispatcher (gunicorn runs it in a thread) until the outbox is empty, then
    read the enrich queue."""
    dispatcher = client.application.extensions["newsflow"].dispatcher
    while dispatcher.store.outbox_length():
        dispatcher.dispatch_once()
    return queued_messages(redis_url)


def post(client, payload, headers=AUTH):
    return client.post("/v1/articles", json=payload, headers=headers)


def test_accepted_article_is_stored_and_queued_for_enrich(client, redis_url):
    response = post(client, {"title": "Storm", "body": "A storm hit.", "url": "https://example.com/a"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == ArticleState.RECEIVED and body["version"] == 1
    assert response.headers["Location"] == body["links"]["self"] == f"/v1/articles/{body['id']}"
    assert enqueued(client, redis_url) == [(Task.ENRICH_ARTICLE, [body["id"], 1])]
    status = client.get(body["links"]["self"], headers=AUTH).get_json()
    assert status["status"] == ArticleState.RECEIVED and status["version"] == 1 and status["received_at"]


def test_source_defaults_to_the_key_name(client, app_env):
    body = post(client, {"title": "T", "body": "B"}).get_json()
    from shared.store import ArticleStore, connect

    assert ArticleStore(connect(app_env["REDIS_URL"])).raw(body["id"])["source"] == "wire"


def test_identical_repost_is_a_duplicate_and_not_requeued(client, redis_url):
    article = {"title": "T", "body": "B", "external_id": "x-1"}
    first = post(client, article).get_json()
    again = post(client, article)
    assert again.status_code == 200
    assert again.get_json() | {"status": ArticleState.RECEIVED} == first | {"duplicate": True}
    assert len(enqueued(client, redis_url)) == 1


def test_changed_content_under_the_same_id_is_a_new_version(client, redis_url):
    first = post(client, {"title": "T", "body": "B", "external_id": "x-2"}).get_json()
    second = post(client, {"title": "T", "body": "B, corrected", "external_id": "x-2"})
    assert second.status_code == 202
    assert second.get_json()["id"] == first["id"] and second.get_json()["version"] == 2
    assert enqueued(client, redis_url) == [
        (Task.ENRICH_ARTICLE, [first["id"], 2]),
        (Task.ENRICH_ARTICLE, [first["id"], 1]),
    ]


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        assert field in problem["errors"]
    return problem


def test_missing_or_wrong_key_is_401(client):
    assert_problem(post(client, {"title": "T", "body": "B"}, headers={}), 401)
    assert_problem(post(client, {"title": "T", "body": "B"}, headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(client.get("/v1/articles/x", headers={"Authorization": "Basic abc"}), 401)


def test_not_json_is_415_and_malformed_json_is_400(client):
    assert_problem(client.post("/v1/articles", data="title=T", headers=AUTH), 415)
    bad = client.post("/v1/articles", data="{not json", content_type="application/json", headers=AUTH)
    assert_problem(bad, 400)


def test_validation_errors_are_422_naming_the_field(client, redis_url):
    assert_problem(post(client, {"title": "T", "body": "B", "extra": 1}), 422, "extra")
    assert_problem(post(client, {"body": "B"}), 422, "title")
    assert_problem(post(client, ["not", "an", "object"]), 422, "_schema")
    assert enqueued(client, redis_url) == []


def test_body_over_the_limit_is_413(app_env):
    client = create_app({**app_env, "INGEST_MAX_BYTES": "1000"}).test_client()
    assert_problem(post(client, {"title": "T", "body": "x" * 2000}), 413)


def test_unknown_article_is_404_and_wrong_method_405(client):
    assert_problem(client.get("/v1/articles/nope", headers=AUTH), 404)
    problem = client.delete("/v1/articles/nope", headers=AUTH)
    assert_problem(problem, 405)
    assert "GET" in problem.headers["Allow"]


def test_health_needs_no_key_and_readiness_checks_redis(app_env):
    client = create_app(app_env).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ready"}
    assert b"newsflow_http_requests_total" in client.get("/metrics").data
    down = create_app({**app_env, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    assert_problem(down.get("/readyz"), 503)


def test_redis_down_during_post_is_503_never_202(app_env):
    down = create_app({**app_env, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    response = post(down, {"title": "T", "body": "B"})
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


def test_missing_keys_fail_at_start(app_env):
    from shared.config import ConfigError

    with pytest.raises(ConfigError, match="INGEST_API_KEYS"):
        create_app({**app_env, "INGEST_API_KEYS": ""})


def test_json_that_is_not_an_object_or_not_unicode_is_refused(client, redis_url):
    headers = {**AUTH, "content-type": "application/json"}
    assert_problem(client.post("/v1/articles", data=b"null", headers=headers), 422)
    assert_problem(client.post("/v1/articles", data=b'{"title": "\\ud800", "body": "x"}', headers=headers), 400)
    assert_problem(client.post("/v1/articles", data=b"\xff\xfe", headers=headers), 400)
    assert enqueued(client, redis_url) == []


def batch(client, articles, headers=AUTH):
    return client.post("/v1/articles/batch", json={"articles": articles}, headers=headers)


def test_batch_answers_each_item_in_order_and_one_bad_item_rejects_nothing_else(client, redis_url):
    first = post(client, {"title": "Old", "body": "Already here", "external_id": "b-0"}).get_json()
    response = batch(
        client,
        [
            {"title": "One", "body": "First", "external_id": "b-1"},
            {"title": "Two"},  # no body
            {"title": "Old", "body": "Already here", "external_id": "b-0"},  # duplicate
            "not an object",
            {"title": "Three", "html": "<p>Third</p>", "external_id": "b-3"},
        ],
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [202, 422, 200, 422, 202]
    assert "body" in results[1]["errors"] and "_schema" in results[3]["errors"]
    assert results[2]["id"] == first["id"] and results[2]["duplicate"] is True
    queued = [args for _, args in enqueued(client, redis_url)]
    assert sorted(queued) == sorted([[first["id"], 1], [results[0]["id"], 1], [results[4]["id"], 1]])


def test_batch_of_more_than_a_hundred_or_none_is_422(client):
    assert_problem(batch(client, [{"title": "T", "body": "B"}] * 101), 422, "articles")
    assert_problem(batch(client, []), 422, "articles")
    assert_problem(client.post("/v1/articles/batch", json={"items": []}, headers=AUTH), 422, "items")


def test_idempotency_key_replays_the_first_response(client, redis_url):
    headers = {**AUTH, "Idempotency-Key": "req-1"}
    first = post(client, {"title": "T", "body": "B"}, headers=headers)
    again = post(client, {"title": "T", "body": "B"}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(enqueued(client, redis_url)) == 1


def test_idempotency_key_reused_with_another_body_is_422(client):
    headers = {**AUTH, "Idempotency-Key": "req-2"}
    assert post(client, {"title": "T", "body": "B"}, headers=headers).status_code == 202
    assert_problem(post(client, {"title": "T", "body": "other"}, headers=headers), 422, "Idempotency-Key")


def test_a_failed_request_does_not_burn_its_idempotency_key(client):
    headers = {**AUTH, "Idempotency-Key": "req-3"}
    assert_problem(post(client, {"title": "T"}, headers=headers), 422, "body")
    assert post(client, {"title": "T", "body": "B"}, headers=headers).status_code == 202


def test_rate_limit_per_key_answers_429_with_retry_after(app_env):
    client = create_app({**app_env, "INGEST_RATE_LIMIT": "0.5", "INGEST_RATE_BURST": "2"}).test_client()
    assert [post(client, {"title": "T", "body": f"B{i}"}).status_code for i in range(2)] == [202, 202]
    limited = post(client, {"title": "T", "body": "B3"})
    assert_problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    other_key = {"Authorization": "Bearer other-key"}
    other = create_app({**app_env, "INGEST_API_KEYS": f"wire:{INGEST_KEY},cms:other-key"}).test_client()
    assert post(other, {"title": "T", "body": "B4"}, headers=other_key).status_code == 202  # its own bucket


def test_a_deep_enrich_backlog_answers_503_instead_of_accepting(app_env, redis_url):
    client = create_app({**app_env, "INGEST_MAX_BACKLOG": "2"}).test_client()
    assert [post(client, {"title": "T", "body": f"B{i}"}).status_code for i in range(2)] == [202, 202]
    time.sleep(1.1)  # the depth is read at most once a second
    response = post(client, {"title": "T", "body": "B3"})
    assert_problem(response, 503)
    assert response.headers["Retry-After"] and len(enqueued(client, redis_url)) == 2


def test_duplicates_and_versions_survive_a_restart(app_env):
    article = {"title": "T", "body": "B", "external_id": "r-1"}
    first = post(create_app(app_env).test_client(), article).get_json()
    restarted = create_app(app_env).test_client()
    assert post(restarted, article).get_json()["duplicate"] is True
    assert post(restarted, {**article, "body": "B2"}).get_json()["version"] == first["version"] + 1


def test_openapi_document_and_docs_page_need_no_key(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/v1/articles/batch" in spec["paths"]
    assert spec["components"]["schemas"]["ArticleIn"]["additionalProperties"] is False
    assert client.get("/docs", follow_redirects=True).status_code == 200  # Swagger UI: test_api_docs.py


def test_the_dispatcher_hands_the_outbox_to_the_enrich_queue_in_order(client, redis_url):
    ids = [post(client, {"title": "T", "body": f"B{i}"}).get_json()["id"] for i in range(3)]
    dispatcher = client.application.extensions["newsflow"].dispatcher
    assert dispatcher.dispatch_once() == 3 and dispatcher.store.outbox_length() == 0
    assert queued_messages(redis_url)[::-1] == [(Task.ENRICH_ARTICLE, [article_id, 1]) for article_id in ids]


HTML_BODY = "<p>Floods closed the Portville bridge on Monday.</p><p>Mayor Alice Brown asked drivers to stay home.</p>"


def test_a_body_sent_as_html_is_accepted_and_read_as_html_single_or_batched(client, app_env):
    from services.enrich.cleaning import article_text
    from shared.store import ArticleStore, connect

    single = post(client, {"title": "Floods", "body": HTML_BODY, "external_id": "h-1"})
    batched = batch(client, [{"title": "Floods", "body": HTML_BODY, "external_id": "h-2"}])
    assert single.status_code == 202 and batched.get_json()["results"][0]["status"] == 202
    store = ArticleStore(connect(app_env["REDIS_URL"]))
    for receipt in (single.get_json(), batched.get_json()["results"][0]):
        assert article_text(store.raw(receipt["id"])).splitlines() == [
            "Floods closed the Portville bridge on Monday.",
            "Mayor Alice Brown asked drivers to stay home.",
        ]


def test_the_language_a_request_gives_is_stored_for_enrich_to_use(client, app_env):
    from shared.store import ArticleStore, connect

    body = post(client, {"title": "Habari", "body": "Habari za leo.", "language": "sw"}).get_json()
    assert ArticleStore(connect(app_env["REDIS_URL"])).raw(body["id"])["language"] == "sw"
