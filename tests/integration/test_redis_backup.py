"""Backups that restore: scripts/redis_backup.sh and scripts/redis_restore.sh against a real redis-server
run with compose's flags (appendonly yes, appendfsync everysec, noeviction)."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from shared.contracts import ArticleState
from tests.faults import RedisServer
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("redis_tools")  # left out where Debian's redis tools are missing


def run(script: str, *args: Path, **env: str) -> str:
    done = subprocess.run(
        ["sh", str(ROOT / "scripts" / script), *map(str, args)], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def write_sample(client: redis.Redis) -> None:
    """Every kind of value Newsflow keeps, and enough keys that a half-done restore would show."""
    with client.pipeline() as pipe:
        for n in range(2000):
            pipe.hset(f"nf:article:{n}", mapping={"state": ArticleState.PUBLISHED, "version": n})
            pipe.set(f"nf:article:{n}:raw", f'{{"title": "T{n}"}}')
        pipe.zadd("nf:feed", {str(n): n for n in range(2000)})
        pipe.rpush("nf:outbox", "a 1 r", "b 2 r")
        pipe.sadd("nf:subs", "s1", "s2")
        pipe.set("nf:idem:k", "v", ex=3600)
        pipe.execute()


READ = {
    b"string": lambda c, k: c.get(k),
    b"hash": lambda c, k: c.hgetall(k),
    b"zset": lambda c, k: c.zrange(k, 0, -1, withscores=True),
    b"list": lambda c, k: c.lrange(k, 0, -1),
    b"set": lambda c, k: c.smembers(k),
}


def snapshot(client: redis.Redis) -> dict:
    """Every key's type and value, and whether it expires."""
    typed = {key: client.type(key) for key in client.scan_iter(count=1000)}
    return {key: (kind, READ[kind](client, key), client.ttl(key) > 0) for key, kind in typed.items()}


def test_a_backup_restores_every_key_and_value_into_redis_running_with_aof_on(tmp_path):
    data, backups = tmp_path / "data", tmp_path / "backups"
    with RedisServer(data) as server:
        client = redis.Redis.from_url(server.url)
        write_sample(client)
        before = snapshot(client)
        backup = Path(run("redis_backup.sh", backups, REDIS_URL=server.url))
        client.set("written-after-the-backup", "1")  # a backup is a point in time
        client.flushall()  # the accident the backup is for; the AOF records it
        server.stop()
    assert backup.parent == backups and backup.stat().st_size > 0

    report = run("redis_restore.sh", backup, data)
    assert f"restored {len(before)} keys" in report
    aside = [p for p in data.iterdir() if p.name.startswith("pre-restore-")]
    assert len(aside) == 1 and (aside[0] / "appendonlydir").is_dir()  # the old data, moved, not deleted

    with RedisServer(data) as restored:  # compose's flags, AOF on
        client = redis.Redis.from_url(restored.url)
        assert snapshot(client) == before
        client.set("written-after-the-restore", "1")  # and it is durable again: the AOF is live
        time.sleep(1.5)  # appendfsync everysec
        restored.crash()
        restored.start()
        assert client.get("written-after-the-restore") == b"1" and client.dbsize() == len(before) + 1


def test_the_old_pitfall_a_dump_rdb_alone_with_aof_on_is_an_empty_database_and_the_script_avoids_it(tmp_path):
    with RedisServer(tmp_path / "source") as server:
        write_sample(redis.Redis.from_url(server.url))
        backup = Path(run("redis_backup.sh", tmp_path / "backups", REDIS_URL=server.url))

    naive = tmp_path / "naive"
    naive.mkdir()
    shutil.copy(backup, naive / "dump.rdb")
    with RedisServer(naive) as started:  # what the README used to say: Redis ignores dump.rdb
        assert redis.Redis.from_url(started.url).dbsize() == 0

    scripted = tmp_path / "scripted"
    run("redis_restore.sh", backup, scripted)
    with RedisServer(scripted) as started:
        assert redis.Redis.from_url(started.url).dbsize() == 2000 * 2 + 4


def test_backups_keep_the_newest_and_refuse_a_password_they_do_not_have(tmp_path):
    with RedisServer(tmp_path / "data") as server:
        admin = redis.Redis.from_url(server.url)
        admin.config_set("repl-diskless-sync-delay", "0")  # Redis waits 5 s for more replicas by default
        admin.config_set("requirepass", "s3cret-pw")
        (tmp_path / "pw").write_text("s3cret-pw\n")
        made = []
        for _ in range(3):
            made.append(run("redis_backup.sh", tmp_path / "b", REDIS_URL=server.url, BACKUP_KEEP="2",
                            REDIS_PASSWORD_FILE=str(tmp_path / "pw")))  # fmt: skip
            time.sleep(1.1)  # names are per second
        assert sorted(str(p) for p in (tmp_path / "b").glob("redis-*.rdb")) == made[1:]
        refused = subprocess.run(
            ["sh", str(ROOT / "scripts" / "redis_backup.sh"), str(tmp_path / "c")],
            capture_output=True, env={"PATH": "/usr/bin:/bin", "REDIS_URL": server.url},
        )  # fmt: skip
        assert refused.returncode != 0 and not list((tmp_path / "c").iterdir())
