"""Redis memory per published article, by key family, before and after retention (`make bench-memory`).

1,310 excerpts of `../shared/corpus/dev.jsonl` (about 1,700 characters each: the 35 articles, each cut at 38
different offsets, so that every excerpt is an article of its own) go through the real code, in process: the
store accepts each as ingest does, `enrich()` enriches it and the store saves it as the enrich task does, fan-out
publishes it to one subscriber (the delivery engine draining the publish outbox, run in process), and the engine
delivers it to a local receiver, so that the delivery log is in. Every key of the benchmark's own Redis db is then
weighed with MEMORY USAGE and summed by family; then the retention sweep runs as the scheduler runs it once the
articles are old enough. Payloads and deliveries carry their own TTL (the same retention periods) and go by
themselves; they are shown apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import defaultdict

from services.enrich.pipeline import enrich
from services.publish import subscriptions
from services.publish.engine import Engine
from services.publish.publisher import Publisher
from services.publish.repository import PublishRepository
from services.publish.schemas import SubscriptionIn
from services.publish.transport import webhook_client
from shared.config import Settings
from shared.identity import article_id, content_hash
from shared.store import ArticleStore, connect
from shared.times import iso
from tests.helpers import CORPUS, Receiver, claim_redis_db, release_redis_db

EXCERPT_CHARS = 1700
FAMILIES = [  # (family, key pattern), first match wins
    ("article state (hash)", r"nf:article:[^:]+$"),
    ("feed index entries of an article", r"nf:article:[^:]+:facets$"),
    ("raw article", r"nf:article:[^:]+:raw$"),
    ("enriched article", r"nf:article:[^:]+:enriched$"),
    ("webhook payload (the published article)", r"nf:payload:"),
    ("delivery records", r"nf:delivery:"),
    ("delivery log indexes", r"nf:sub:[^:]+:deliveries"),
    ("feed index", r"nf:ix:"),
    ("feed, deadlines", r"nf:(feed|deadlines)$"),
    ("everything else (subscription, metrics, counters)", r""),
]


def excerpts(count: int) -> list[dict]:
    corpus = [json.loads(line) for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    items = []
    for n in range(count):
        source = corpus[n % len(corpus)]
        offset = (n // len(corpus)) * 7
        text = source["text"][offset : offset + EXCERPT_CHARS]
        title = next(line for line in text.splitlines() if line.strip())[:200]
        items.append({"title": title, "body": text, "source": "bench", "external_id": f"{source['id']}-{n}"})
    return items


def enrich_all(p: Publisher, raws: list[dict]) -> None:
    """Accepted and enriched as ingest and the enrich task do: each handed to publish through the outbox."""
    for raw in raws:
        new_id = article_id(raw)
        p.store.accept(new_id, raw, content_hash(raw))
        p.store.start_enriching(new_id, 1)
        received_at = p.store.status(new_id)["version_received_at"]
        p.store.save_enriched(new_id, 1, enrich({**raw, "id": new_id, "version": 1, "received_at": received_at}))


async def deliver_all(p: Publisher, receiver: Receiver, count: int) -> None:
    """The delivery engine, in process, until `count` webhooks arrived."""
    async with webhook_client(p.settings.webhook_allow_private) as client:
        engine = Engine(p, client, p.settings.deliver_concurrency)
        running = asyncio.create_task(engine.run())
        while len(receiver.received) < count:
            await asyncio.sleep(0.2)
        engine.stopping.set()
        await running


def weigh(client) -> dict[str, tuple[int, int]]:
    """family -> (bytes, of which in keys with a TTL)."""
    keys = list(client.scan_iter(count=1000))
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.memory_usage(key, samples=0)
            pipe.ttl(key)
        answers = pipe.execute()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, size, ttl in zip(keys, answers[::2], answers[1::2], strict=True):
        family = next(name for name, pattern in FAMILIES if re.match(pattern, key))
        totals[family][0] += size or 0
        totals[family][1] += (size or 0) if ttl and ttl > 0 else 0
    return {family: (total, expiring) for family, (total, expiring) in totals.items()}


def report(before: dict, after: dict, articles: int, keep_raw: bool) -> None:
    print(f"\nRedis memory per published article (KiB), {articles:,} dev-corpus excerpts of ~{EXCERPT_CHARS:,} chars, "
          f"1 subscriber with its delivery log; ENRICH_KEEP_RAW={str(keep_raw).lower()}")  # fmt: skip
    print("| key family                                         | published | after retention sweep | of which TTL'd |")
    print("|----------------------------------------------------|----------:|----------------------:|---------------:|")
    for family, _ in FAMILIES:
        b, (a, ttl) = before.get(family, (0, 0))[0], after.get(family, (0, 0))
        kib = [value / 1024 / articles for value in (b, a, ttl)]
        print(f"| {family:<50} | {kib[0]:>9.2f} | {kib[1]:>21.2f} | {kib[2]:>14.2f} |")
    total_b, total_a = sum(v[0] for v in before.values()), sum(v[0] for v in after.values())
    total_ttl = sum(v[1] for v in after.values())
    print(f"| {'total':<50} | {total_b / 1024 / articles:>9.2f} | {total_a / 1024 / articles:>21.2f} "
          f"| {total_ttl / 1024 / articles:>14.2f} |")  # fmt: skip
    print("(after the sweep, what is TTL'd expires by itself at the same age: payloads with ARTICLE_RETENTION_S, "
          "deliveries with DELIVERY_RETENTION_S)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1310)
    parser.add_argument("--keep-raw", action="store_true", help="as with ENRICH_KEEP_RAW=true")
    args = parser.parse_args()
    redis_url = claim_redis_db("bench-memory")
    settings = Settings.from_env({"REDIS_URL": redis_url, "PUBLISH_API_KEY": "bench", "WEBHOOK_ALLOW_PRIVATE": "true"})
    client = connect(redis_url)
    store = ArticleStore(client, settings.stuck_after_s, keep_raw=args.keep_raw)
    repo = PublishRepository(client, settings.article_retention_s, settings.delivery_retention_s)
    p = Publisher(settings, store, repo, lambda queue: 0)
    try:
        with Receiver() as receiver:
            subscriptions.create_subscription(p, SubscriptionIn().load({"url": receiver.url}))
            started = time.perf_counter()
            enrich_all(p, excerpts(args.articles))
            asyncio.run(deliver_all(p, receiver, args.articles))
            assert len(receiver.received) == args.articles, len(receiver.received)
        print(f"published and delivered {args.articles:,} articles in {time.perf_counter() - started:.0f} s "
              f"(at {iso(time.time())})")  # fmt: skip
        before = weigh(client)
        while store.expire_published(time.time() + 1):
            pass
        report(before, weigh(client), args.articles, args.keep_raw)
    finally:
        release_redis_db(redis_url)


if __name__ == "__main__":
    main()
