"""`make run` (scripts/run_local.py) as a supervisor or `kill` stops it: with SIGTERM to it alone, not to its
process group as Ctrl-C in a terminal is. Every process it started must stop with it."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys

import httpx
import psutil
import pytest

from tests.helpers import ROOT, free_port, process_env, wait_for

pytestmark = pytest.mark.slow


def test_make_run_stopped_with_sigterm_stops_every_process_it_started(redis_url, tmp_path):
    publish_port = free_port()
    env = process_env(REDIS_URL=redis_url, INGEST_PORT=str(free_port()), PUBLISH_PORT=str(publish_port))
    with open(tmp_path / "run.log", "wb") as log:
        run = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    started: list[psutil.Process] = []
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{publish_port}/healthz").status_code == 200, 60, "publish")
        started = psutil.Process(run.pid).children(recursive=True)
        run.send_signal(signal.SIGTERM)
        run.wait(60)
        _, alive = psutil.wait_procs(started, timeout=60)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], (tmp_path / "run.log").read_text()[-3000:]
    finally:  # whatever the outcome, nothing of it outlives the test
        if run.poll() is None:
            started = [*psutil.Process(run.pid).children(recursive=True), psutil.Process(run.pid)]
        for process in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
