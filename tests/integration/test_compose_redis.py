"""The compose file's Redis-side commands, run as plain processes (no Docker here): Redis's own command and
healthcheck with its password secret, and the backup profile's loop. Paths under /run/secrets, /scripts and
/backups are pointed at temporary ones; the image's docker-entrypoint.sh is stood in for by `exec "$@"`."""

import os
import signal
import subprocess
import time

import pytest
import redis
import yaml

from tests.helpers import ROOT, free_port, wait_for

pytestmark = pytest.mark.usefixtures("redis_tools")  # left out where Debian's redis tools are missing


def service(name: str) -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][name]


def shell(command: str, paths: dict[str, str]) -> str:
    """A compose command string as the container's sh gets it: compose's `$$` is `$`, our paths for its."""
    command = command.replace("$$", "$")
    for theirs, ours in paths.items():
        command = command.replace(theirs, ours)
    return command


def test_redis_runs_with_its_secret_password_and_maxmemory_and_the_healthcheck_authenticates(tmp_path):
    secrets, bin_dir, port = tmp_path / "secrets", tmp_path / "bin", free_port()
    secrets.mkdir()
    bin_dir.mkdir()
    (secrets / "redis_password").write_text("pw-from-the-secret\n")
    (bin_dir / "docker-entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (bin_dir / "docker-entrypoint.sh").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "REDIS_MAXMEMORY": "64mb"}
    command = shell(service("redis")["command"][2], {"/run/secrets": str(secrets)})
    command = command.replace("${REDIS_MAXMEMORY:-2gb}", "64mb")  # compose's interpolation
    server = subprocess.Popen(
        ["sh", "-c", f"{command} --port {port} --bind 127.0.0.1 --dir {tmp_path} --save ''"],
        env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port, password="pw-from-the-secret")
        wait_for(client.ping, 30, "redis from the compose command")
        assert client.config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        health = shell(service("redis")["healthcheck"]["test"][1], {"/run/secrets": str(secrets)})
        health = health.replace("redis-cli ping", f"redis-cli -p {port} ping")
        assert subprocess.run(["sh", "-c", health]).returncode == 0
        (secrets / "redis_password").write_text("a wrong one")
        assert subprocess.run(["sh", "-c", health], capture_output=True).returncode != 0
    finally:
        server.terminate()
        server.wait(10)
    (secrets / "redis_password").write_text("\n")  # an empty password would mean no password at all
    refused = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=10)
    assert refused.returncode == 1 and "redis_password secret is missing or empty" in refused.stderr


def test_the_backup_profile_backs_up_on_its_interval_and_stops_at_once_on_sigterm(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", "",
         "--repl-diskless-sync-delay", "0", "--requirepass", "backup-pw"], stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (tmp_path / "redis_password").write_text("backup-pw\n")
    backups = tmp_path / "backups"
    backup = service("backup")
    env = {**os.environ, **{k: v for k, v in backup["environment"].items() if not v.startswith("${")}}
    env |= {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_PASSWORD_FILE": str(tmp_path / "redis_password"),
            "BACKUP_INTERVAL_S": "1.2", "BACKUP_KEEP": "14"}  # fmt: skip
    command = shell(backup["command"][2], {"/scripts/": f"{ROOT}/scripts/", "/backups": str(backups)})
    try:
        client = redis.Redis(port=port, password="backup-pw")
        wait_for(client.ping, 30, "redis")
        client.set("k", "v")
        loop = subprocess.Popen(["sh", "-c", command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: len(list(backups.glob("redis-*.rdb"))) >= 2, 30, "two scheduled backups")
        started = time.monotonic()
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(10) == 0 and time.monotonic() - started < 2  # the trap: no grace period spent
    finally:
        server.terminate()
        server.wait(10)
