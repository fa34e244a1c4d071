"""Real processes, a real webhook receiver, and waiting with deadlines."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kombu
import redis
from kombu.exceptions import ChannelError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SEED_ARTICLE = CORPUS / "seed-article.txt"


def seed_article() -> dict:
    """The seed article as an upstream would post it: title = second non-empty line, body = all."""
    text = SEED_ARTICLE.read_text()
    title = [line for line in text.splitlines() if line.strip()][1]
    return {"title": title, "body": text}


RUN_LOCK = "newsflow:test-run"  # set in a db while a test run or a benchmark uses it
LOCAL_REDIS = "redis://127.0.0.1:6379"


def claim_redis_db(owner: str, pinned: str | None = None, base: str = LOCAL_REDIS, dbs=range(15, 0, -1)) -> str:
    """The URL of a Redis db that no other test run or benchmark holds, claimed for 3 h and flushed: `pinned`
    (a URL) if given, else the first free one of `dbs` at `base` (db 0 is left to `make run`)."""
    for url in [pinned] if pinned else [f"{base}/{db}" for db in dbs]:
        client = redis.Redis.from_url(url)
        if client.set(RUN_LOCK, owner, nx=True, ex=3 * 3600) or pinned:
            client.flushdb()
            client.set(RUN_LOCK, owner, ex=3 * 3600)
            return url
    raise RuntimeError(f"every db of {base} is held by another test run or benchmark ({RUN_LOCK} is set)")


def release_redis_db(url: str) -> None:
    """Flush a claimed db, its RUN_LOCK with it."""
    redis.Redis.from_url(url).flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    """Poll until `predicate()` is truthy and return it; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except Exception:  # a service still starting refuses connections
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def queued_messages(broker_url: str, queue: str = "enrich") -> list[tuple[str, list]]:
    """(task name, args) of each message waiting on a Celery queue, newest first, left in place."""
    if broker_url.startswith("redis"):  # Celery LPUSHes JSON envelopes with a base64 body
        messages = [json.loads(m) for m in redis.Redis.from_url(broker_url).lrange(queue, 0, -1)]
        return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]
    found = []
    with kombu.Connection(broker_url) as conn, conn.channel() as channel:  # unacked, so requeued on close
        try:
            while (message := kombu.Queue(queue, channel=channel).get(no_ack=False)) is not None:
                found.append((message.headers["task"], message.decode()[0]))
        except ChannelError:  # no such queue: nothing was ever sent to it
            pass
    return found[::-1]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def process_env(**overrides: str) -> dict[str, str]:
    """The environment a test gives the real processes: venv on PATH, short timings."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "WEB_CONCURRENCY": "1",
        "ENRICH_CONCURRENCY": "1",
        "PUBLISH_CONCURRENCY": "2",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": "0.3,0.6,1",
        "WEBHOOK_POLL_INTERVAL_S": "0.2",
        "WEBHOOK_TIMEOUT_S": "3",
        "WEBHOOK_MIN_BACKOFF_S": "0.5",
        "SWEEP_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


# A Procfile process a test starts gets SIGTERM when the test process ends, however it ends: a test run killed
# midway would otherwise leave its stack running against a Redis db that the next run claims again, taking that
# run's outbox entries and tasks (util-linux's setpriv sets the parent-death signal, which survives the execs).
DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "TERM"] if shutil.which("setpriv") else []


@dataclass
class Processes:
    """Procfile entries started as real processes, stopped (and their logs kept) at the end."""

    env: dict[str, str]
    log_dir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                [*DIE_WITH_PARENT, "/bin/sh", "-c", procfile()[name]],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.running.pop(name)
        _signal_group(proc, sig)
        _wait_group_gone(proc, 30)

    def stop_all(self) -> None:
        """SIGTERM every process group and wait until no member is left (SIGKILL after 20 s):
        a worker still shutting down must not consume the next test's messages."""
        for proc in self.running.values():
            _signal_group(proc, signal.SIGTERM)
        for proc in self.running.values():
            _await_group_or_kill(proc, 20)
        self.running.clear()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.log_dir.glob("*.log"))


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM a process started with start_new_session and wait until no member of its group is left: the
    shell that started it may be gone long before a gunicorn finishing its requests."""
    _signal_group(proc, signal.SIGTERM)
    _await_group_or_kill(proc, timeout)


def _await_group_or_kill(proc: subprocess.Popen, timeout: float) -> None:
    if not _wait_group_gone(proc, timeout):
        _signal_group(proc, signal.SIGKILL)
        _wait_group_gone(proc, 10)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _wait_group_gone(proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()  # reap the group leader
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    client: tuple[str, int]  # the sender's address and port: one TCP connection

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """One scripted answer of a Receiver: a status, extra headers (Location, Retry-After, ...), a delay
    before answering (longer than WEBHOOK_TIMEOUT_S: a timeout) and a body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: bytes | None = None


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the listen backlog: a delivery engine opens hundreds of connections at once

    def handle_error(self, request, client_address):  # a sender that timed out and hung up
        pass


class Receiver:
    """A local webhook endpoint. `responses` scripts the answer to each successive request, as a status
    or a Reply (the last one repeats; `script()` replaces the script while it runs); every request is
    recorded, whatever it was answered, and so are the most requests it ever had in progress at once and
    the TCP connections they came on (it keeps connections alive, HTTP/1.1)."""

    def __init__(self, responses: list[int | Reply] | None = None, delay_s: float = 0.0):
        self.responses = list(responses or [200])
        self.delay_s = delay_s
        self.received: list[Received] = []
        self.in_progress = 0
        self.max_in_progress = 0
        self.connections: set[tuple[str, int]] = set()  # client (address, port): one per TCP connection
        self._lock = threading.Lock()
        self._offset = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            disable_nagle_algorithm = True  # headers and body go out in two writes; don't hold the body back

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    receiver.connections.add(self.client_address)
                    receiver.received.append(
                        Received(dict(self.headers.items()), body, time.time(), self.client_address)
                    )
                    index = min(len(receiver.received) - receiver._offset, len(receiver.responses)) - 1
                    reply = receiver.responses[index]
                    receiver.in_progress += 1
                    receiver.max_in_progress = max(receiver.max_in_progress, receiver.in_progress)
                reply = reply if isinstance(reply, Reply) else Reply(reply)
                try:
                    time.sleep(reply.delay_s or receiver.delay_s)
                finally:  # before the answer goes out: a sender may start its next request the moment it arrives
                    with receiver._lock:
                        receiver.in_progress -= 1
                answer = reply.body if reply.body is not None else f"answered {reply.status}".encode()
                answer = b"" if reply.status in (204, 304) else answer  # those carry no body (RFC 9110)
                self.send_response(reply.status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def script(self, *responses: int | Reply) -> None:
        """Answer the requests from now on with `responses` (the last one repeats)."""
        with self._lock:
            self.responses, self._offset = list(responses), len(self.received)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def liveness(node: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The healthcheck compose runs in a worker's container: `python -m shared.liveness <node>`."""
    return subprocess.run(
        [sys.executable, "-m", "shared.liveness", node], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
