"""Ingest throughput and latency, beside the floor of our stack, in one run.

    .venv/bin/python -m benchmarks.ingest [--seconds 10] [--connections 16]

Needs `wrk` (Debian package `wrk`) and a Redis: NEWSFLOW_BENCH_REDIS names a db, else it claims the
lowest free db of 127.0.0.1:6379 (as a test run does) and flushes it. Starts, one after the other, on free ports:
- the floor: a minimal Flask app under the same gunicorn settings that parses the JSON and does
  one Redis write (scripts in benchmarks/floor_app.py);
- the real ingest service (its Procfile command), rate limits lifted, no enrich worker.
wrk posts a new article each request (16 keep-alive connections), then batches of 100. Prints
requests/s, articles/s and p50/p99 latency of each, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from tests.helpers import ROOT, claim_redis_db, free_port, procfile, release_redis_db

KEY = "bench-key"
# wrk's Lua: every request a new article (a counter in its body), so nothing is a duplicate.
LUA = """
local counter = 0
local thread_id = 0
setup = function(thread) thread:set("id", math.random(1, 1e9)) end
init = function(args) thread_id = id end
local function article(n)
  return '{"title": "Benchmark article ' .. n .. '", "body": "Text of article ' .. n .. '. ' ..
    string.rep("Some words of the story. ", 40) .. '"}'
end
request = function()
  counter = counter + 1
  local n = string.format("%d-%d", thread_id, counter)
  local body = article(n)
  if BATCH > 1 then
    local items = {}
    for i = 1, BATCH do items[i] = article(n .. "-" .. i) end
    body = '{"articles": [' .. table.concat(items, ",") .. ']}'
  end
  return wrk.format("POST", PATH, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY"}, body)
end
"""


def start(command: str, env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start: {command}")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(20)


def wrk(url: str, path: str, batch: int, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.replace("BATCH", str(batch)).replace("PATH", f'"{path}"').replace("KEY", KEY))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "articles_per_s": rps * batch,
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    owner = f"bench-ingest-{os.getpid()}"
    redis_url = claim_redis_db(owner, os.environ.get("NEWSFLOW_BENCH_REDIS"), dbs=range(1, 16))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "REDIS_URL": redis_url,
           "INGEST_API_KEYS": f"bench:{KEY}", "INGEST_RATE_LIMIT": "1000000", "INGEST_RATE_BURST": "1000000",
           "INGEST_MAX_BACKLOG": "100000000", "LOG_LEVEL": "WARNING"}  # fmt: skip
    floor_command = procfile()["ingest"].replace("services.ingest.app:create_app()", "benchmarks.floor_app:app")
    rows = []
    for name, command, port_var in (("floor (parse + 1 Redis write)", floor_command, "INGEST_PORT"),
                                    ("newsflow ingest", procfile()["ingest"], "INGEST_PORT")):  # fmt: skip
        port = free_port()
        claim_redis_db(owner, pinned=redis_url)  # flushed again, still ours
        proc = start(command, {**env, port_var: str(port)}, port)
        try:
            url = f"http://127.0.0.1:{port}"
            single = wrk(url, "/v1/articles", 1, args.seconds, args.connections)
            batch = wrk(url, "/v1/articles/batch", 100, args.seconds, args.connections)
        finally:
            stop(proc)
        rows.append((name, single, batch))
    client = redis.Redis.from_url(redis_url)
    # the last run was ours: every new article it stored should be on the enrich queue by now
    stored, handed_over, left = (
        int(client.hget("nf:states", "received") or 0),
        client.llen("enrich"),
        client.llen("nf:outbox"),
    )
    release_redis_db(redis_url)
    widths = (("single req/s", 12), ("p50", 9), ("p99", 9), ("batch art/s", 12), ("p50", 9), ("p99", 9), ("non-2xx", 8))
    print(" " * 32 + "".join(f" {title:>{width}}" for title, width in widths))
    for name, single, batch in rows:
        print(f"{name:32} {single['rps']:12.0f} {single['p50']:>9} {single['p99']:>9} "
              f"{batch['articles_per_s']:12.0f} {batch['p50']:>9} {batch['p99']:>9} "
              f"{single['errors'] + batch['errors']:>8}")  # fmt: skip
    (_, floor_single, floor_batch), (_, ours_single, ours_batch) = rows
    print(f"\nsingle POSTs: newsflow/floor = {ours_single['rps'] / floor_single['rps']:.2f} (target >= 0.50)")
    print(
        f"newsflow stored {stored} new articles; its outbox dispatcher handed {handed_over} to the enrich queue, "
        f"{left} left in the outbox"
    )
    print(f"batches of 100: newsflow {ours_batch['articles_per_s']:.0f} articles/s (target >= 1000), "
          f"floor {floor_batch['articles_per_s']:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
