"""Ingest throughput and latency, beside the floor of our stack, in one run.

    .venv/bin/python -m benchmarks.ingest [--seconds 5] [--rounds 3] [--connections 16]

Needs `wrk` (Debian package `wrk`) and a Redis: NEWSFLOW_BENCH_REDIS names a db, else it claims the
lowest free db of 127.0.0.1:6379 (as a test run does) and flushes it. Runs side by side, on free ports:
- the floor: a minimal Flask app under the same gunicorn settings that parses the JSON and does
  one Redis write (benchmarks/floor_app.py);
- the real ingest service (its Procfile command), rate limits lifted, no enrich worker.
wrk posts a new article each request (16 keep-alive connections), then batches of 100, to one
server then the other, for several rounds after a warm-up: this machine's CPU speed drifts under load
(a burst allowance), so alternating keeps the comparison fair. Prints the median requests/s,
articles/s and p50/p99 latency of each, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from shared.contracts import ArticleState
from tests.helpers import ROOT, claim_redis_db, free_port, procfile, release_redis_db, stop_group

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
        "p50": milliseconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": milliseconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def milliseconds(wrk_time: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", wrk_time).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def median_run(runs: list[dict]) -> dict:
    return {field: statistics.median(run[field] for run in runs) for field in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
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
    servers = {"floor (parse + 1 Redis write)": floor_command, "newsflow ingest": procfile()["ingest"]}
    runs: dict[tuple[str, int], list[dict]] = {(name, batch): [] for name in servers for batch in (1, 100)}
    procs, urls = [], {}
    try:
        for name, command in servers.items():
            port = free_port()
            procs.append(start(command, {**env, "INGEST_PORT": str(port)}, port))
            urls[name] = f"http://127.0.0.1:{port}"
        for url in urls.values():  # warm-up: imports, connections, scripts
            wrk(url, "/v1/articles", 1, 2, args.connections)
        for _ in range(args.rounds):
            for batch, path in ((1, "/v1/articles"), (100, "/v1/articles/batch")):
                for name, url in urls.items():
                    runs[name, batch].append(wrk(url, path, batch, args.seconds, args.connections))
    finally:
        for proc in procs:
            stop_group(proc)  # every in-flight request answered and its article handed over
    client = redis.Redis.from_url(redis_url)
    stored, handed_over, left = (
        int(client.hget("nf:states", ArticleState.RECEIVED) or 0),
        client.llen("enrich"),
        client.llen("nf:outbox"),
    )
    release_redis_db(redis_url)
    report(servers, runs, args.rounds)
    print(
        f"newsflow stored {stored} new articles; its outbox dispatcher handed {handed_over} to the enrich queue, "
        f"{left} left in the outbox"
    )


def report(servers: dict, runs: dict, rounds: int) -> None:
    print(f"medians of {rounds} rounds")
    widths = (("single req/s", 12), ("p50 ms", 9), ("p99 ms", 9), ("batch art/s", 12), ("p50 ms", 9), ("p99 ms", 9),
              ("non-2xx", 8))  # fmt: skip
    print(" " * 32 + "".join(f" {title:>{width}}" for title, width in widths))
    for name in servers:
        single, batch = median_run(runs[name, 1]), median_run(runs[name, 100])
        errors = sum(run["errors"] for run in runs[name, 1] + runs[name, 100])
        print(f"{name:32} {single['rps']:12.0f} {single['p50']:9.1f} {single['p99']:9.1f} "
              f"{batch['articles_per_s']:12.0f} {batch['p50']:9.1f} {batch['p99']:9.1f} {errors:8}")  # fmt: skip
    floor, ours = list(servers)
    ratios = [o["rps"] / f["rps"] for f, o in zip(runs[floor, 1], runs[ours, 1], strict=True)]
    print(f"\nsingle POSTs: newsflow/floor = {statistics.median(ratios):.2f} (target >= 0.50); "
          f"per round: {', '.join(f'{r:.2f}' for r in ratios)}")  # fmt: skip
    print(f"batches of 100: newsflow {median_run(runs[ours, 100])['articles_per_s']:.0f} articles/s (target >= 1000)")


if __name__ == "__main__":
    main()
