"""`docker compose stop`, reproduced without Docker: each Procfile line runs as PID 1 of a PID namespace of its own
(`unshare --pid --fork --mount-proc sh -c '<line>'`, as compose runs `sh -c '<line>'` in a container), gets one
SIGTERM, and must exit 0 within compose's stop_grace_period, answering the request or finishing the task it
held. A PID 1 ignores every signal it has no handler for (a shell ignores SIGTERM), and when it exits the
kernel kills whatever else is left in its namespace, as Docker does."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from services.publish.app import create_app as create_publish
from services.publish.engine import STOP_S
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import ArticleState, DeliveryStatus, Task
from shared.store import ArticleStore, connect
from tests.articles import finished
from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.faults import corpus_articles
from tests.helpers import ROOT, Receiver, Reply, free_port, liveness, process_env, procfile, queued_messages, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.broker("redis", "rabbitmq"),
    pytest.mark.skipif(os.geteuid() != 0, reason="a PID namespace of its own needs root (unshare --pid)"),
]

GRACE_S = float(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["stop_grace_period"].rstrip("s"))


class Pid1:
    """A Procfile line as PID 1 of its own PID namespace; `pid` is that process as this namespace sees it."""

    def __init__(self, name: str, env: dict[str, str], log: Path):
        self.name, self.env, self.log = name, env, log
        with open(log, "ab") as out:
            self.unshare = subprocess.Popen(
                ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", procfile()[name]],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        children = Path(f"/proc/{self.unshare.pid}/task/{self.unshare.pid}/children")
        self.pid = int(wait_for(lambda: children.read_text().split(), 10, f"{name}'s PID 1")[0])

    def wait_ready(self) -> None:
        line = procfile()[self.name]
        if port := re.search(r"--bind \S+:\$\{(\w+):-\d+\}", line):
            address = ("127.0.0.1", int(self.env[port[1]]))
            wait_for(lambda: _http(address, b"GET /healthz HTTP/1.0\r\n\r\n").split()[1] == b"200", 60, self.name)
        elif node := re.search(r"--hostname ([\w-]+)@%h(?: |$)", line):
            wait_for(lambda: liveness(node[1], self.env).returncode == 0, 90, f"{self.name}'s heartbeat")
        else:
            raise AssertionError(f"no way to tell when {self.name} is ready: {line}")

    def sigterm(self) -> float:
        """SIGTERM to PID 1, as `docker stop` sends it; the time it was sent."""
        self.sent = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        return time.time()

    def exited(self) -> tuple[int | None, float]:
        """PID 1's exit code (None: still running long after the grace period) and seconds since SIGTERM."""
        try:
            code = self.unshare.wait(GRACE_S + 30)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - self.sent
        print(f"{self.name} as PID 1: SIGTERM -> exit {code} after {took:.1f} s (grace {GRACE_S:g} s)")
        return code, took

    def kill(self) -> None:
        if self.unshare.poll() is None:
            os.kill(self.pid, signal.SIGKILL)  # takes the whole namespace with it
            self.unshare.wait(10)


def _http(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        return sock.recv(65536)


@pytest.fixture
def start(app_env, tmp_path, request):
    started: list[Pid1] = []
    env = process_env(**app_env, INGEST_PORT=str(free_port()), PUBLISH_PORT=str(free_port()))

    def start(name: str, **overrides: str) -> Pid1:
        process = Pid1(name, {**env, **overrides}, tmp_path / f"{name}.log")
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in started:
        process.kill()
        if getattr(request.node, "rep_call_failed", False):
            print(f"--- {process.name}\n{process.log.read_text(errors='replace')[-4000:]}")


@pytest.mark.parametrize("name", list(procfile()))
def test_every_procfile_process_as_pid_1_exits_cleanly_on_sigterm_within_the_grace_period(start, name):
    process = start(name)
    process.sigterm()
    code, took = process.exited()
    assert code == 0 and took < GRACE_S, f"{name} exited {code} after {took:.1f} s (grace {GRACE_S:g} s)"


def test_an_enrich_task_running_when_sigterm_arrives_is_finished_and_handed_on(start, redis_url, broker_url):
    store = ArticleStore(connect(redis_url))
    worker = start("enrich")
    store.accept("long", next(corpus_articles(1, texts_each=20)), "h1")  # a second or more to enrich
    make_celery("tests", Settings.from_env(worker.env)).send_task(Task.ENRICH_ARTICLE, args=["long", 1])
    wait_for(lambda: store.status("long")["status"] == ArticleState.ENRICHING, 30, "the worker to start on the article")

    sent_at = worker.sigterm()
    code, took = worker.exited()

    assert store.transition_times("long")[ArticleState.ENRICHED] > sent_at, (
        "the task finished before SIGTERM: none in flight"
    )
    assert code == 0 and took < GRACE_S, f"enrich exited {code} after {took:.1f} s"
    assert store.status("long")["status"] == ArticleState.ENRICHED
    assert [(a, v) for a, v, _ in store.take_publish_outbox(10)] == [("long", 1)]  # handed on to publish


SLOW_POSTS = {
    "ingest": ("/v1/articles", INGEST_KEY, b'{"title": "Slow upload", "body": "Sent in two halves, SIGTERM between."}'),
    "publish": ("/v1/subscriptions", PUBLISH_KEY, b'{"url": "http://127.0.0.1:9/hook"}'),
}


@pytest.mark.parametrize("name", SLOW_POSTS)
def test_a_request_in_flight_when_sigterm_arrives_is_answered(start, name, redis_url, broker_url):
    """The client sends half its body, the API gets SIGTERM, then the client sends the rest."""
    api = start(name)
    path, key, body = SLOW_POSTS[name]
    port = int(api.env[f"{name.upper()}_PORT"])
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=GRACE_S) as sock:
        sock.sendall(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body[:10])
        time.sleep(1)  # the request is in a worker thread, reading its body
        api.sigterm()
        time.sleep(1)
        sock.sendall(body[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    code, took = api.exited()

    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 202 ACCEPTED", b"HTTP/1.1 201 CREATED"), answer[:300]
    assert code == 0 and took < GRACE_S, f"{name} exited {code} after {took:.1f} s"
    if name == "ingest":  # the outbox was flushed to the queue before the process went
        article_id = re.search(rb'"id": ?"(\w+)"', answer)[1].decode()
        assert queued_messages(broker_url, "enrich") == [(Task.ENRICH_ARTICLE, [article_id, 1])]


def test_a_webhook_attempt_outlasting_the_engines_stop_budget_is_cancelled_and_handed_back(start, app_env):
    """The delivery engine gives a POST to a slow subscriber STOP_S (a worker's warm and soft shutdown together),
    then cancels it: it exits within the grace period, and the delivery is back in the due-set, due now, pending,
    unlocked and with no attempt logged."""
    store = ArticleStore(connect(app_env["REDIS_URL"]))
    api = create_publish(app_env).test_client()
    with Receiver([Reply(200, delay_s=GRACE_S + 15)]) as receiver:
        receiver.server.block_on_close = False  # don't wait for the hanging answer at the end
        engine = start("deliver", WEBHOOK_TIMEOUT_S=str(GRACE_S + 30))
        auth = {"Authorization": f"Bearer {PUBLISH_KEY}"}
        assert api.post("/v1/subscriptions", json={"url": receiver.url}, headers=auth).status_code == 201
        store.accept("a1", {"title": "T", "body": "B"}, "h1")
        store.start_enriching("a1", 1)
        store.save_enriched("a1", 1, finished("a1"))  # handed to the engine through the publish outbox
        wait_for(lambda: receiver.in_progress, 30, "the webhook POST to be in flight")

        engine.sigterm()
        code, took = engine.exited()

    assert code == 0 and took < GRACE_S, f"deliver exited {code} after {took:.1f} s"
    assert took > STOP_S - 1  # it did wait for the attempt first
    [sub] = api.get("/v1/subscriptions", headers=auth).get_json()["items"]
    [delivery] = api.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=auth).get_json()["items"]
    assert delivery["status"] == DeliveryStatus.PENDING and delivery["attempts"] == []
    assert store.redis.zscore("nf:due", delivery["id"]) <= time.time()
    assert not store.redis.exists(f"nf:delivery:{delivery['id']}:lock")
    assert not store.redis.zcard(f"nf:sub:{sub['id']}:inflight")  # its concurrency slot freed
