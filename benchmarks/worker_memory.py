"""Memory of a real enrich worker: the Procfile's `enrich` command (Celery prefork, ENRICH_CONCURRENCY 2) fed every
corpus article, the French ones a few times more so that every pool process meets French; then the peak RSS of its
main process and of each pool process, read from /proc, and how many pool processes were replaced on the way.

    .venv/bin/python -m benchmarks.worker_memory [--corpus PATH ...] [--french-copies N]

`--max-memory-per-child` (600 MB in the Procfile) reads a pool process's peak RSS after each task: past it, the
process is replaced and its successor loads the models again. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from benchmarks.quality import CORPORA, load_corpus
from services.enrich.training import raw_for
from shared.celery_app import make_celery
from shared.config import Settings
from shared.store import ArticleStore, connect
from tests.helpers import Processes, claim_redis_db, process_env, release_redis_db, wait_for

DONE = {"enriched", "published", "failed"}


def peak_rss_mib(pid: int) -> float:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmHWM"].split()[0]) / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=list(CORPORA), help="gold JSONL files")
    parser.add_argument("--french-copies", type=int, default=3, help="extra copies of each French article")
    args = parser.parse_args(argv)
    articles = load_corpus(args.corpus)
    articles += [a for a in articles if a["language"] == "fr"] * args.french_copies
    redis_url = claim_redis_db(f"bench-worker-memory-{os.getpid()}", os.environ.get("NEWSFLOW_BENCH_REDIS"))
    env = process_env(REDIS_URL=redis_url, BROKER_URL=redis_url, ENRICH_CONCURRENCY="2")
    with tempfile.TemporaryDirectory() as log_dir:
        processes = Processes(env, Path(log_dir))
        try:
            worker = processes.start("enrich")
            store = ArticleStore(connect(redis_url))
            celery = make_celery("bench-worker-memory", Settings.from_env(env))
            for i, article in enumerate(articles):
                store.accept(f"a{i}", raw_for(article), f"h{i}")
                celery.send_task("enrich.article", args=[f"a{i}", 1])
            ids = [f"a{i}" for i in range(len(articles))]
            wait_for(lambda: all(store.status(i)["status"] in DONE for i in ids), 900, "every article enriched")
            pool = [int(p) for p in Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()]
            main_peak, peaks = peak_rss_mib(worker.pid), [peak_rss_mib(pid) for pid in pool]
            log = (Path(log_dir) / "enrich.log").read_text(errors="replace")
        finally:
            processes.stop_all()
            release_redis_db(redis_url)
    french = sum(a["language"] == "fr" for a in articles)
    print(f"{len(articles)} articles ({french} French) enriched; main process peak RSS: {main_peak:.0f} MiB")
    print("pool processes' peak RSS: " + ", ".join(f"{peak:.0f} MiB" for peak in peaks))
    print(f"pool processes replaced past --max-memory-per-child: {log.count('exceeding memory limit')}; "
          f"killed for starting too slowly: {log.count('Timed out waiting for UP message')}")  # fmt: skip


if __name__ == "__main__":
    main()
