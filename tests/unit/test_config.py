import pytest

from shared.config import DEFAULTS, ConfigError, Settings, parse_api_keys, parse_schedule


def test_api_keys_map_key_to_its_name():
    assert parse_api_keys("wire:k1, cms:k2") == {"k1": "wire", "k2": "cms"}


@pytest.mark.parametrize("raw", ["nokey", ":k", "name:", "a:b,broken"])
def test_malformed_api_keys_name_the_variable(raw):
    with pytest.raises(ConfigError, match="INGEST_API_KEYS"):
        parse_api_keys(raw)


def test_retry_schedule_is_parsed_as_seconds():
    assert parse_schedule("5, 300,1800") == (5.0, 300.0, 1800.0)
    with pytest.raises(ConfigError, match="WEBHOOK_RETRY_SCHEDULE"):
        parse_schedule("5,soon")


def test_defaults_are_laptop_friendly():
    settings = Settings.from_env({})
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.broker_url == settings.redis_url
    assert settings.webhook_retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert settings.webhook_allow_private is False
    assert settings.webhook_timeout_s == 15


def test_missing_secrets_fail_loudly_naming_the_variable():
    with pytest.raises(ConfigError, match="PUBLISH_API_KEY"):
        Settings.from_env({}).require("PUBLISH_API_KEY")
    with pytest.raises(ConfigError, match="INGEST_API_KEYS"):
        Settings.from_env({"PUBLISH_API_KEY": "x"}).require("INGEST_API_KEYS", "PUBLISH_API_KEY")


def test_non_numeric_setting_is_named():
    with pytest.raises(ConfigError, match="WEBHOOK_TIMEOUT_S"):
        Settings.from_env({"WEBHOOK_TIMEOUT_S": "soon"})


def test_secrets_have_no_default():
    assert DEFAULTS["INGEST_API_KEYS"] is None and DEFAULTS["PUBLISH_API_KEY"] is None
