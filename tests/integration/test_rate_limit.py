"""The ingest token bucket on real Redis, shared by several processes (two limiters here)."""

from shared.ratelimit import RateLimiter
from shared.store import connect


def test_leases_spare_round_trips_but_never_admit_more_than_the_bucket_holds(redis_url):
    client = connect(redis_url)
    first, second = (RateLimiter(client, rate=0.01, burst=20) for _ in "ab")
    first.lease = second.lease = 10  # as a rate of 100/s would give

    assert first.take("wire") == 0 and second.take("wire") == 0  # each leased 10 of the 20
    assert float(client.hget("nf:ratelimit:wire", "tokens")) < 1
    admitted = sum(limiter.take("wire") == 0 for limiter in (first, second) for _ in range(12))
    assert admitted == 18  # the 9 left in each lease, then refusals: 20 in all, the burst
    assert first.take("wire") >= 1  # seconds to wait, as Retry-After


def test_a_batch_takes_its_whole_cost_or_nothing_counting_what_the_process_holds(redis_url):
    limiter = RateLimiter(connect(redis_url), rate=0.01, burst=10)
    limiter.lease = 3
    assert limiter.take("cms") == 0  # leased 3, holds 2
    assert limiter.take("cms", cost=9) == 0  # the 2 held and 7 of the 7 left in the bucket
    assert limiter.take("cms", cost=1) >= 1
