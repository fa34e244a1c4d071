"""The consumer portal over the real Flask app and Redis: sign-in, the session cookie, what a consumer sees and
may do, and what it may not (another consumer's resources, cross-site posts, a revoked key)."""

from standardwebhooks import Webhook

from shared.contracts import EventType
from tests.helpers import Receiver
from tests.integration.test_consumers import OPERATOR, new_consumer, subscribe
from tests.integration.test_publish_api import publish

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def signed_in(app, headers) -> object:
    """A browser-like client of its own, signed in with the consumer key in `headers`."""
    browser = app.test_client()
    key = headers["Authorization"].removeprefix("Bearer ")
    response = browser.post("/portal/login", data={"key": key}, headers=SAME_ORIGIN)
    assert response.status_code == 303
    return browser


def test_signing_in_sets_a_strict_httponly_short_lived_cookie_holding_no_key(app, api):
    _, headers = new_consumer(api, "acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    response = app.test_client().post("/portal/login", data={"key": key}, headers=SAME_ORIGIN)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/portal" in cookie
    assert "Max-Age=900" in cookie and key not in cookie and "Secure" not in cookie  # plain http here
    over_https = app.test_client().post(
        "/portal/login", data={"key": key}, headers=SAME_ORIGIN, base_url="https://newsflow.example"
    )
    assert "Secure" in over_https.headers["Set-Cookie"]
    behind_a_proxy = app.test_client().post(
        "/portal/login", data={"key": key}, headers={**SAME_ORIGIN, "X-Forwarded-Proto": "https"}
    )
    assert "Secure" in behind_a_proxy.headers["Set-Cookie"]


def test_wrong_or_operator_keys_do_not_sign_in(app):
    for key in ("nfc_key_0000.nope", "test-publish-key", ""):
        response = app.test_client().post("/portal/login", data={"key": key}, headers=SAME_ORIGIN)
        assert response.status_code == 401 and "not a live consumer key" in response.text


def test_a_consumer_sees_its_own_subscriptions_and_deliveries_only(app, api):
    _, key_a = new_consumer(api, "a")
    _, key_b = new_consumer(api, "b")
    mine = subscribe(api, key_a, description="mine")
    theirs = subscribe(api, key_b, description="theirs")
    legacy = subscribe(api, OPERATOR, description="the operator's")
    publish(app, "art-portal")
    page = signed_in(app, key_a).get("/portal").text
    assert mine["id"] in page and theirs["id"] not in page and legacy["id"] not in page
    delivery = api.get(f"/v1/subscriptions/{mine['id']}/deliveries", headers=key_a).json["items"][0]
    assert delivery["id"] in page


def test_actions_on_another_consumers_resources_are_404_and_change_nothing(app, api):
    _, key_a = new_consumer(api, "a")
    _, key_b = new_consumer(api, "b")
    theirs = subscribe(api, key_b)
    publish(app, "art-portal-bola")
    [delivery] = api.get(f"/v1/subscriptions/{theirs['id']}/deliveries", headers=key_b).json["items"]
    browser = signed_in(app, key_a)
    for path, form in [
        (f"/portal/subscriptions/{theirs['id']}/enabled", {"enabled": "false"}),
        (f"/portal/subscriptions/{theirs['id']}/rotate-secret", {}),
        (f"/portal/subscriptions/{theirs['id']}/test", {}),
        (f"/portal/deliveries/{delivery['id']}/redeliver", {}),
    ]:
        response = browser.post(path, data=form, headers=SAME_ORIGIN)
        missing = "No delivery with id" if "deliveries" in path else "No subscription with id"
        assert response.status_code == 404 and missing in response.text, path
        assert f'data-subscription="{theirs["id"]}"' not in response.text, path
    after = api.get(f"/v1/subscriptions/{theirs['id']}", headers=key_b).json
    assert after["enabled"] is True and after["previous_secret_expires_at"] is None


def test_cross_site_posts_are_refused(app, api):
    _, headers = new_consumer(api, "a")
    browser = signed_in(app, headers)
    refused = browser.post(
        "/portal/subscriptions", data={"url": "http://127.0.0.1:9/h"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert api.get("/v1/subscriptions", headers=headers).json["items"] == []


def test_create_shows_the_secret_once_and_a_test_event_arrives_signed(app, api):
    _, headers = new_consumer(api, "a")
    browser = signed_in(app, headers)
    with Receiver([204]) as receiver:
        form = {"url": receiver.url, "description": "from the portal", "languages": "en, fr"}
        created = browser.post("/portal/subscriptions", data=form, headers=SAME_ORIGIN)
        assert created.status_code == 201
        [sub] = api.get("/v1/subscriptions", headers=headers).json["items"]
        assert sub["filters"]["languages"] == ["en", "fr"] and sub["description"] == "from the portal"
        secret = created.text.split('<code id="secret">')[1].split("<")[0]
        assert secret not in browser.get("/portal").text
        sent = browser.post(f"/portal/subscriptions/{sub['id']}/test", headers=SAME_ORIGIN)
        assert sent.status_code == 200 and "HTTP 204" in sent.text
        [request] = receiver.received
        event = Webhook(secret).verify(request.body, request.headers)
        assert event["type"] == EventType.TEST and event["data"]["uri"] == "urn:newsflow:article:sample"


def test_an_invalid_form_names_the_field_and_a_revoked_key_ends_the_session(app, api):
    consumer, headers = new_consumer(api, "a")
    browser = signed_in(app, headers)
    bad = browser.post("/portal/subscriptions", data={"url": "not a url", "topics": "politics"}, headers=SAME_ORIGIN)
    assert bad.status_code == 422 and "url:" in bad.text and "filters:" in bad.text
    key_id = api.get(f"/v1/consumers/{consumer['id']}", headers=OPERATOR).json["keys"][0]["id"]
    api.delete(f"/v1/consumers/{consumer['id']}/keys/{key_id}", headers=OPERATOR)
    assert 'name="key"' in browser.get("/portal").text  # signed out: the sign-in form
    assert browser.post("/portal/subscriptions", data={"url": "http://x"}, headers=SAME_ORIGIN).status_code == 303


def test_portal_changes_are_audited_under_the_key_id(app, api):
    consumer, headers = new_consumer(api, "a")
    sub = subscribe(api, headers)
    signed_in(app, headers).post(f"/portal/subscriptions/{sub['id']}/rotate-secret", headers=SAME_ORIGIN)
    [entry] = api.get("/v1/audit", query_string={"limit": 1}, headers=OPERATOR).json["items"]
    assert entry["action"] == "rotate_secret" and entry["actor"]["consumer_id"] == consumer["id"]


def test_the_portal_counts_against_the_consumers_rate_limit(app, api):
    _, headers = new_consumer(api, "busy", rate_limit=0.5)  # a bucket of 1
    browser = signed_in(app, headers)
    assert browser.get("/portal").status_code == 200
    limited = browser.get("/portal")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
