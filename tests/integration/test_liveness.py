"""The workers' healthcheck, the very command compose runs (`python -m shared.liveness <node>`), on real Redis
and real worker processes: it fails while a worker is stopped (SIGSTOP: hung) or beat is silent, and passes
again once they carry on."""

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import redis

from shared.liveness import MAX_AGE_S, record_beat_tick, record_heartbeat
from tests.helpers import liveness, process_env, wait_for

# Procfile entry: node name (the delivery engine is no Celery worker, but heartbeats as one)
WORKERS = {"enrich": "enrich", "publish-worker": "publish", "deliver": "deliver", "scheduler": "scheduler"}
HOST = socket.gethostname()


@pytest.fixture
def client(redis_url):
    return redis.Redis.from_url(redis_url, decode_responses=True)


@pytest.fixture
def env(app_env):
    return process_env(**app_env)


def test_a_fresh_heartbeat_passes_and_a_stale_or_missing_one_fails(client, env):
    assert "enrich@" in liveness("enrich", env).stderr  # no heartbeat yet
    record_heartbeat(client, f"enrich@{HOST}", time.time() - MAX_AGE_S - 5)
    failed = liveness("enrich", env)
    assert failed.returncode == 1 and f"more than {MAX_AGE_S} s" in failed.stderr
    record_heartbeat(client, f"enrich@{HOST}")
    assert liveness("enrich", env).returncode == 0
    assert liveness("publish", env).returncode == 1  # another node's heartbeat is not this one's


def test_the_scheduler_also_fails_when_beat_stops_ticking(client, env):
    record_heartbeat(client, f"scheduler@{HOST}")
    assert "beat has no heartbeat" in liveness("scheduler", env).stderr
    record_beat_tick(client, time.time() - MAX_AGE_S - 5)
    assert "beat last beat" in liveness("scheduler", env).stderr
    record_beat_tick(client)
    assert liveness("scheduler", env).returncode == 0


def test_an_unreachable_redis_fails_the_check(env):
    failed = liveness("enrich", {**env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert failed.returncode == 1 and "Redis did not answer" in failed.stderr


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        os.kill(pid, sig)


def _healthy(node: str, env: dict) -> bool:
    return liveness(node, env).returncode == 0


@pytest.mark.slow
def test_a_hung_worker_or_a_silent_beat_fails_its_healthcheck_until_it_carries_on(processes, env):
    group = processes(list(WORKERS))
    for node in WORKERS.values():
        wait_for(lambda n=node: _healthy(n, env), 90, f"{node} to be healthy")

    mains = [proc.pid for proc in group.running.values()]  # `exec` in the Procfile: the shell is the process itself
    _signal(mains, signal.SIGSTOP)
    try:
        for node in WORKERS.values():
            wait_for(lambda n=node: not _healthy(n, env), MAX_AGE_S + 20, f"{node}'s check to fail", interval=1)
    finally:
        _signal(mains, signal.SIGCONT)
    for node in WORKERS.values():
        wait_for(lambda n=node: _healthy(n, env), 30, f"{node} to be healthy again")

    # Beat runs in a child of the scheduler (beside its pool process): stopped, it no longer ticks while the
    # worker itself stays alive.
    beat_and_pool = _children(group.running["scheduler"].pid)
    _signal(beat_and_pool, signal.SIGSTOP)
    try:
        failed = wait_for(lambda: "beat last beat" in liveness("scheduler", env).stderr, MAX_AGE_S + 20, "beat", 1)
        assert failed and f"worker scheduler@{HOST}" not in liveness("scheduler", env).stderr
    finally:
        _signal(beat_and_pool, signal.SIGCONT)
    wait_for(lambda: _healthy("scheduler", env), 30, "the scheduler to be healthy again")
