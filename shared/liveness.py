"""Is a Celery worker (or the scheduler's beat, or the delivery engine) still working? The healthcheck compose runs.

`python -m shared.liveness <name>` (enrich, publish, deliver, scheduler) exits 0 when the worker of this host (node
`<name>@<hostname>`, as the Procfile names it) refreshed its heartbeat within MAX_AGE_S and, for the scheduler,
beat ticked within MAX_AGE_S too; else it prints why and exits 1.

Each worker refreshes its heartbeat from its consumer's event loop (shared.celery_app.Heartbeat), the loop that
takes messages and hands them to the pool: if that loop hangs, or the process is stopped, the heartbeat ages. The
delivery engine (services.publish.engine) refreshes its own from its asyncio loop, once a round.
Beat records each tick (services.scheduler.worker), which ingest also serves as a metric. A key in Redis costs
the check one round trip and no broker traffic; `celery inspect ping` would take seconds and a broadcast to
every worker.
"""

from __future__ import annotations

import socket
import sys
import time

import redis

from shared.config import Settings

HEARTBEAT_S = 5  # how often a worker refreshes its heartbeat
MAX_AGE_S = 30  # older than this, the worker (or beat) counts as hung
BEAT_TICK_KEY = "nf:beat:last_tick"


def heartbeat_key(node: str) -> str:
    return f"nf:heartbeat:{node}"


def record_heartbeat(client: redis.Redis, node: str, now: float | None = None) -> None:
    """The key outlives a stopped worker a while (so its healthcheck reports it hung), then goes."""
    client.set(heartbeat_key(node), now or time.time(), ex=10 * MAX_AGE_S)


def record_beat_tick(client: redis.Redis, now: float | None = None) -> None:
    client.set(BEAT_TICK_KEY, now or time.time())


def last_beat_tick(client: redis.Redis) -> float:
    """Unix time of beat's last tick; 0 if it never ticked."""
    return float(client.get(BEAT_TICK_KEY) or 0)


def problems(client: redis.Redis, name: str, host: str, now: float | None = None) -> list[str]:
    """Why the worker `name@host` (and for the scheduler, beat) is not healthy; empty when it is."""
    now = now or time.time()
    node = f"{name}@{host}"
    beats = {f"worker {node}": client.get(heartbeat_key(node))}
    if name == "scheduler":
        beats["beat"] = client.get(BEAT_TICK_KEY)
    found = []
    for what, at in beats.items():
        if at is None:
            found.append(f"{what} has no heartbeat yet")
        elif now - float(at) > MAX_AGE_S:
            found.append(f"{what} last beat {now - float(at):.0f} s ago (more than {MAX_AGE_S} s)")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m shared.liveness <node name before the @: enrich, publish, deliver, scheduler>",
            file=sys.stderr,
        )
        return 2
    client = redis.Redis.from_url(Settings.from_env().redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        found = problems(client, argv[0], socket.gethostname())
    except redis.RedisError as exc:
        found = [f"Redis did not answer: {exc}"]
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
