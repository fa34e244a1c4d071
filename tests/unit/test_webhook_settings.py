import pytest

from shared.config import ConfigError, Settings


def test_webhook_defaults_are_the_production_ones():
    s = Settings.from_env({})
    assert s.webhook_min_backoff_s == 60
    assert s.webhook_secret_grace_s == 24 * 3600
    assert s.webhook_disable_after_s == 5 * 86400
    assert s.webhook_max_in_flight == 4
    assert (s.webhook_breaker_window, s.webhook_breaker_threshold, s.webhook_breaker_cooldown_s) == (20, 0.8, 60)
    assert s.webhook_replay_max == 1000


def test_tests_can_shrink_every_webhook_timing():
    s = Settings.from_env(
        {"WEBHOOK_MIN_BACKOFF_S": "0.5", "WEBHOOK_SECRET_GRACE_S": "2", "WEBHOOK_DISABLE_AFTER_S": "1.5"}
    )
    assert (s.webhook_min_backoff_s, s.webhook_secret_grace_s, s.webhook_disable_after_s) == (0.5, 2, 1.5)


@pytest.mark.parametrize(
    "name, value",
    [
        ("WEBHOOK_BREAKER_THRESHOLD", "1.5"),
        ("WEBHOOK_BREAKER_THRESHOLD", "0"),
        ("WEBHOOK_MAX_IN_FLIGHT", "0"),
        ("WEBHOOK_MAX_IN_FLIGHT", "2.5"),
        ("WEBHOOK_REPLAY_MAX", "many"),
        ("WEBHOOK_MIN_BACKOFF_S", "-1"),
    ],
)
def test_bad_webhook_settings_are_named(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
