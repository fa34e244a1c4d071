"""The publish API over its real Flask app and real Redis."""

import pytest

from services.publish.app import create_app
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
    assert sub["enabled"] is True and sub["event_types"] == ["article.published", "article.updated"]
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
