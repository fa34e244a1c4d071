"""The filtered feed beside a plain article read, on 10,000 published articles (`make bench-feed`).

The articles are published as fan-out publishes them (store transitions, feed index entries), each with about
1,700 characters of text, into a Redis db of their own; the publish API runs as its real gunicorn process and is
asked over HTTP. Three filters: a topic on every other article (50 %), a person in 1 % of them, and a person named
only in the 10 oldest (0.1 %: the old implementation's worst case, with 9,990 newer articles in between). For
each: the first page (`limit=20`) and the walk through every match (`limit=100`, page after page), beside
`GET /v1/articles/<id>`, in alternating rounds so that load on the machine weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from services.enrich.ninjs import finished_article
from services.publish.fanout import webhook_body
from services.publish.feed import article_index
from services.publish.repository import PublishRepository
from shared.contracts import EventType
from shared.mediatopics import IPTC_URI, NAMES
from shared.store import ArticleStore, connect
from shared.times import iso
from tests.helpers import Processes, claim_redis_db, free_port, release_redis_db, wait_for

ARTICLES = 10_000
WORDS = "minister talks market storm league court vaccine election budget border ceasefire rally".split()
FILTERS = {  # name -> (query, which articles match)
    "50 %": ("topic=medtop:11000000", lambda n: n % 2 == 0),
    "1 %": ("entity=Grace%20Hopper", lambda n: n % 100 == 7),
    "0.1 %": ("entity=Ada%20Lovelace", lambda n: n < 10),
}


def article(n: int) -> dict:
    rng = random.Random(n)
    text = " ".join(rng.choice(WORDS) for _ in range(260))[:1700]
    people = ["Ada Lovelace"] * (n < 10) + ["Grace Hopper"] * (n % 100 == 7) + [f"Person {n % 500}"]
    entities = {
        "people": [{"name": name, "relevance": 60, "mentions": 2} for name in people],
        "organisations": [{"name": f"Org {n % 300}", "relevance": 40, "mentions": 1}],
        "places": [{"name": "Pakistan", "country": "PK", "relevance": 50, "mentions": 1}],
    }
    code = "11000000" if n % 2 == 0 else "15000000"
    subject = {"name": NAMES[code], "uri": IPTC_URI + code, "code": f"medtop:{code}", "relevance": 100}
    raw = {"id": f"bench{n:05d}", "version": 1, "title": f"Story {n}", "source": "bench", "received_at": iso(n)}
    return finished_article(raw, text, "en", text[:300], entities, [{**subject, "confidence": 90}], WORDS[:8])


def publish_all(store: ArticleStore, count: int) -> None:
    """As enrich and fan-out store them (no subscriber): enriched, webhook payload, published and indexed."""
    repo = PublishRepository(store.redis)
    for n in range(count):
        doc = article(n)
        article_id = doc["data"]["uri"].rsplit(":", 1)[1]
        store.accept(article_id, {"title": f"Story {n}"}, "h")
        store.start_enriching(article_id, 1)
        store.save_enriched(article_id, 1, doc)
        repo.save_payloads([(article_id, 1, webhook_body(EventType.PUBLISHED, doc))])
        store.mark_published(article_id, 1, article_index(doc))


def timed_get(client: httpx.Client, url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def walk(client: httpx.Client, query: str) -> tuple[float, int, int]:
    """Seconds to read every match page by page, matches, pages."""
    total, items, pages, cursor = 0.0, 0, 0, None
    while True:
        elapsed, body = timed_get(client, f"/v1/articles?{query}&limit=100" + (f"&cursor={cursor}" if cursor else ""))
        total, items, pages = total + elapsed, items + len(body["items"]), pages + 1
        if (cursor := body["next_cursor"]) is None:
            return total, items, pages


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds of single reads and first pages")
    parser.add_argument("--walk-rounds", type=int, default=4, help="rounds of walking every match")
    args = parser.parse_args()
    redis_url = claim_redis_db("bench-feed")
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REDIS_URL": redis_url,
        "PUBLISH_API_KEY": "bench",
        "PUBLISH_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    processes = Processes(env, Path(tempfile.mkdtemp(prefix="bench-feed-")))
    samples: dict[str, list[float]] = {"GET /v1/articles/<id>": []}
    shape: dict[str, tuple[int, int]] = {"GET /v1/articles/<id>": (1, 1)}  # label -> (articles, pages) per run
    try:
        started = time.perf_counter()
        publish_all(ArticleStore(connect(redis_url)), ARTICLES)
        print(f"published {ARTICLES:,} articles in {time.perf_counter() - started:.0f} s")
        processes.start("publish")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": "Bearer bench"})
        wait_for(lambda: client.get("/readyz").status_code == 200, 30, "the publish API")
        rng = random.Random(1)
        for round_no in range(args.rounds):
            read = f"/v1/articles/bench{rng.randrange(ARTICLES):05d}"
            samples["GET /v1/articles/<id>"].append(timed_get(client, read)[0])
            for name, (query, wanted) in FILTERS.items():
                matches = sum(map(wanted, range(ARTICLES)))
                elapsed, body = timed_get(client, f"/v1/articles?{query}&limit=20")
                assert len(body["items"]) == min(20, matches), name
                samples.setdefault(f"first page, {name}", []).append(elapsed)
                shape[f"first page, {name}"] = (len(body["items"]), 1)
                if round_no < args.walk_rounds:
                    seconds, items, pages = walk(client, query)
                    assert items == matches, (name, items)
                    samples.setdefault(f"every match, {name}", []).append(seconds)
                    shape[f"every match, {name}"] = (items, pages)
    finally:
        processes.stop_all()
        release_redis_db(redis_url)
    report(samples, shape, args)


def report(samples: dict[str, list[float]], shape: dict[str, tuple[int, int]], args: argparse.Namespace) -> None:
    single = statistics.median(samples["GET /v1/articles/<id>"])
    print(f"\nGET /v1/articles on {ARTICLES:,} published articles, through gunicorn over HTTP; {os.cpu_count()} CPUs")
    print("| request                   | articles | pages | runs | p50 ms | p99 ms | p50 / single read |")
    print("|---------------------------|---------:|------:|-----:|-------:|-------:|------------------:|")
    for label, values in samples.items():
        (items, pages), p50, p99 = shape[label], statistics.median(values), percentile(values, 99)
        print(
            f"| {label:<25} | {items:>8,} | {pages:>5} | {len(values):>4} | {p50 * 1000:>6.1f} | {p99 * 1000:>6.1f} "
            f"| {p50 / single:>16.1f}x |"
        )
    print(f"(first pages: limit=20, {args.rounds} rounds; every match: limit=100 per page, {args.walk_rounds} rounds)")


if __name__ == "__main__":
    main()
