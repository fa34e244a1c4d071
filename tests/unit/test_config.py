import pytest
import redis

from shared.config import DEFAULTS, SECRETS, ConfigError, Settings, parse_api_keys, parse_schedule
from tests.helpers import ROOT


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


def test_a_secret_can_come_from_the_file_its_FILE_setting_names(tmp_path):
    (tmp_path / "keys").write_text("wire:k-1,cms:k-2\n")
    (tmp_path / "publish").write_text("p-key\n")
    (tmp_path / "redis").write_text("r pass/1\n")
    settings = Settings.from_env(
        {f"{name}_FILE": str(tmp_path / file) for name, file in
         (("INGEST_API_KEYS", "keys"), ("PUBLISH_API_KEY", "publish"), ("REDIS_PASSWORD", "redis"))}
    )  # fmt: skip
    assert settings.ingest_api_keys == {"k-1": "wire", "k-2": "cms"} and settings.publish_api_key == "p-key"
    assert settings.redis_url == "redis://:r%20pass%2F1@localhost:6379/0" == settings.broker_url
    assert redis.Redis.from_url(settings.redis_url).connection_pool.connection_kwargs["password"] == "r pass/1"


def test_every_secret_setting_and_only_those_take_a_FILE(tmp_path):
    (tmp_path / "s").write_text("amqp://u:real-pw@rabbitmq:5672//")
    assert set(SECRETS) == {"REDIS_URL", "REDIS_PASSWORD", "BROKER_URL", "INGEST_API_KEYS", "PUBLISH_API_KEY"}
    assert Settings.from_env({"BROKER_URL_FILE": str(tmp_path / "s")}).broker_url.startswith("amqp://u:real-pw@")
    assert Settings.from_env({"LOG_LEVEL_FILE": str(tmp_path / "s")}).log_level == "INFO"


def test_a_secret_and_its_file_both_set_or_an_unreadable_file_is_a_clear_error(tmp_path):
    (tmp_path / "k").write_text("k")
    with pytest.raises(ConfigError, match="both PUBLISH_API_KEY and PUBLISH_API_KEY_FILE"):
        Settings.from_env({"PUBLISH_API_KEY": "k", "PUBLISH_API_KEY_FILE": str(tmp_path / "k")})
    with pytest.raises(ConfigError, match="PUBLISH_API_KEY_FILE: cannot read .*missing"):
        Settings.from_env({"PUBLISH_API_KEY_FILE": str(tmp_path / "missing")})


def test_a_redis_password_twice_is_refused():
    with pytest.raises(ConfigError, match="REDIS_PASSWORD"):
        Settings.from_env({"REDIS_URL": "redis://:a@h:6379/0", "REDIS_PASSWORD": "b"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INGEST_API_KEYS", "wire:change-me-ingest-key"),  # what .env.example used to ship
        ("INGEST_API_KEYS", "wire:good-key-1,cms:CHANGEME"),
        ("PUBLISH_API_KEY", "change-me-publish-key"),
        ("PUBLISH_API_KEY", "your-key-placeholder"),
        ("REDIS_PASSWORD", "newsflow"),
        ("BROKER_URL", "amqp://newsflow:newsflow@rabbitmq:5672//"),  # compose's old fallback password
        ("REDIS_URL", "redis://:example-password@redis:6379/0"),
    ],
)
def test_example_and_placeholder_secrets_are_refused_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name} holds an example or placeholder value"):
        Settings.from_env({name: value})


def test_real_secrets_and_example_host_names_pass():
    settings = Settings.from_env(
        {"INGEST_API_KEYS": "wire:Zt3q-8fK", "BROKER_URL": "amqp://nf:Zt3q@mq.example.com:5672//"}
    )
    assert settings.ingest_api_keys == {"Zt3q-8fK": "wire"} and "example.com" in settings.broker_url


def test_env_example_holds_no_secret():
    """Secrets live in files under secrets/ (`make secrets`), never in .env."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = {line.lstrip("# ").split("=", 1)[0] for line in lines if "=" in line}
    assert not assigned & {*SECRETS, *(f"{name}_FILE" for name in SECRETS)}
