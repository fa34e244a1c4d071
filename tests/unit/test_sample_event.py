"""The portal's `article.test` event carries a sample article that is valid IPTC ninjs 2.2, as real ones are."""

import json
import time

import jsonschema_rs
from standardwebhooks import Webhook

from services.publish.sample_event import SAMPLE_ARTICLE, sample_body
from services.publish.signing import new_secret, webhook_headers
from shared.contracts import EventType
from tests.helpers import ROOT

NINJS = ROOT.parent / "shared" / "standards" / "ninjs-schema_2.2.json"


def test_the_sample_article_is_valid_ninjs():
    # the schema refers to GeoJSON's by URL for `geojson`, which the sample does not use: no network here
    validator = jsonschema_rs.validator_for(json.loads(NINJS.read_text()), retriever=lambda uri: {})
    assert [error.message for error in validator.iter_errors(SAMPLE_ARTICLE)] == []


def test_the_test_event_verifies_like_any_webhook():
    secret, now = new_secret(), time.time()
    body = sample_body(now)
    event = Webhook(secret).verify(body, webhook_headers(secret, "msg_test_1", body, now))
    assert event["type"] == EventType.TEST and event["data"] == SAMPLE_ARTICLE
