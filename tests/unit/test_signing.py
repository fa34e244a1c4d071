import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError as SvixVerificationError

from services.publish.signing import live_secrets, new_secret, rotated, webhook_headers
from shared.contracts import EventType

BODY = '{"type": "article.published", "data": {"uri": "urn:newsflow:article:a"}}'


def test_signed_webhook_verifies_with_standardwebhooks_and_svix():
    secret = new_secret()
    headers = webhook_headers(secret, "msg_1", BODY, time.time())
    assert Webhook(secret).verify(BODY, headers)["type"] == EventType.PUBLISHED
    SvixWebhook(secret).verify(BODY, headers)  # raises when it does not verify


def test_tampered_body_or_other_secret_fails_verification():
    secret, body = new_secret(), '{"a": 1}'
    headers = webhook_headers(secret, "msg_1", body, time.time())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a": 2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(SvixVerificationError):
        SvixWebhook(new_secret()).verify(body, headers)


def test_headers_carry_the_message_id_and_attempt_time():
    headers = webhook_headers(new_secret(), "msg_xyz", "{}", 1_700_000_000.9)
    assert headers["webhook-id"] == "msg_xyz"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")


def test_secrets_are_whsec_prefixed_and_unique():
    a, b = new_secret(), new_secret()
    assert a.startswith("whsec_") and a != b


def test_during_the_grace_period_both_secrets_sign_and_each_verifies_with_both_libraries():
    now = time.time()
    old, new = new_secret(), new_secret()
    sub = rotated({"secret": old, "previous_secrets": []}, new, now, grace_s=3600)
    assert live_secrets(sub, now) == [new, old]
    headers = webhook_headers(live_secrets(sub, now), "msg_1", BODY, now)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert signatures[0] == webhook_headers(new, "msg_1", BODY, now)["webhook-signature"]  # the new one first
    for secret in (new, old):
        assert Webhook(secret).verify(BODY, headers)["type"] == EventType.PUBLISHED
        SvixWebhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_after_the_grace_period_only_the_new_secret_signs():
    now = time.time()
    old, new = new_secret(), new_secret()
    sub = rotated({"secret": old, "previous_secrets": []}, new, now, grace_s=60)
    later = now + 61
    assert live_secrets(sub, later) == [new]
    headers = webhook_headers(live_secrets(sub, later), "msg_1", BODY, time.time())
    assert " " not in headers["webhook-signature"]
    assert Webhook(new).verify(BODY, headers)["type"] == EventType.PUBLISHED
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, headers)
    with pytest.raises(SvixVerificationError):
        SvixWebhook(old).verify(BODY, headers)


def test_rotating_twice_within_the_grace_keeps_every_live_secret_signing():
    now = time.time()
    first, second, third = new_secret(), new_secret(), new_secret()
    sub = rotated({"secret": first, "previous_secrets": []}, second, now, 3600)
    sub = rotated(sub, third, now + 10, 3600)
    assert live_secrets(sub, now + 20) == [third, second, first]
    assert live_secrets(sub, now + 3605) == [third, second]
