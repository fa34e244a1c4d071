import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.publish.signing import new_secret, webhook_headers


def test_signed_webhook_verifies_with_standardwebhooks():
    secret, body = new_secret(), '{"type": "article.published"}'
    headers = webhook_headers(secret, "msg_1", body, time.time())
    assert Webhook(secret).verify(body, headers) == {"type": "article.published"}


def test_tampered_body_or_other_secret_fails_verification():
    secret, body = new_secret(), '{"a": 1}'
    headers = webhook_headers(secret, "msg_1", body, time.time())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a": 2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_headers_carry_the_message_id_and_attempt_time():
    headers = webhook_headers(new_secret(), "msg_xyz", "{}", 1_700_000_000.9)
    assert headers["webhook-id"] == "msg_xyz"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")


def test_secrets_are_whsec_prefixed_and_unique():
    a, b = new_secret(), new_secret()
    assert a.startswith("whsec_") and a != b
