"""Keys of the publish API (pure): consumer key shape, digest, constant-time comparison, who owns what."""

import hmac

import pytest

from services.publish import auth
from services.publish.auth import CONSUMER, OPERATOR, Principal, digest, key_id_of, matches, new_key
from services.publish.ssrf import dev_mode_warnings
from shared.config import ConfigError, Settings


def test_a_new_key_names_its_id_and_is_high_entropy():
    key_id, key = new_key()
    assert key_id_of(key) == key_id and key.startswith("nfc_key_")
    assert len(key.partition(".")[2]) >= 43  # 32 random bytes, base64url
    assert new_key()[1] != key


@pytest.mark.parametrize("presented", ["", "operator-key", "nfc_", "nfc_key_abc", "nfc_key_abc.", "nfc_other.x"])
def test_keys_not_shaped_like_a_consumer_key_claim_no_id(presented):
    assert key_id_of(presented) is None


def test_only_the_digest_is_compared_and_with_the_constant_time_function(monkeypatch):
    _, key = new_key()
    calls, constant_time = [], hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or constant_time(a, b))
    assert matches(key, digest(key)) and not matches(key + "x", digest(key))
    assert len(calls) == 2 and all(key.encode() not in pair for pair in calls)


def test_operators_own_everything_consumers_their_own():
    operator, consumer = Principal(OPERATOR, "ops"), Principal(CONSUMER, "key_1", "con_a")
    legacy, theirs, mine = {}, {"consumer_id": "con_b"}, {"consumer_id": "con_a"}
    assert operator.owns(legacy) and operator.owns(theirs)
    assert consumer.owns(mine) and not consumer.owns(theirs) and not consumer.owns(legacy)


def test_operator_keys_come_from_both_settings():
    settings = Settings.from_env({"PUBLISH_API_KEY": "k0", "PUBLISH_API_KEYS": "ops-a:k1, ops-b:k2"})
    assert settings.publish_api_keys == {"k0": "operator", "k1": "ops-a", "k2": "ops-b"}
    assert Settings.from_env({"PUBLISH_API_KEYS": "ops-a:k1"}).require("PUBLISH_API_KEY")
    with pytest.raises(ConfigError, match="PUBLISH_API_KEYS"):
        Settings.from_env({"PUBLISH_API_KEYS": "no-colon"})


@pytest.mark.parametrize(
    "url, warned",
    [
        ("http://169.254.169.254/latest/meta-data/", True),
        ("http://[fe80::1]:8080/", True),
        ("http://metadata.google.internal/", True),
        ("http://127.0.0.1:9000/hook", False),
        ("https://hooks.example.com/x", False),
    ],
)
def test_dev_mode_warns_about_metadata_and_link_local_urls(url, warned):
    assert bool(dev_mode_warnings(url)) is warned
