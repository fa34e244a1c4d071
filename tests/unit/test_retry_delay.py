import random

from services.publish.delivery import retry_delay

SCHEDULE = (5.0, 300.0, 1800.0)


def test_each_failed_attempt_waits_its_scheduled_delay_within_jitter():
    rng = random.Random(7)
    for attempts_made, scheduled in enumerate(SCHEDULE, start=1):
        delays = [retry_delay(attempts_made, SCHEDULE, rng) for _ in range(200)]
        assert all(0.8 * scheduled <= d <= 1.2 * scheduled for d in delays)
        assert max(delays) - min(delays) > 0.2 * scheduled  # jitter really spreads retries


def test_schedule_used_up_means_no_more_attempts():
    assert retry_delay(len(SCHEDULE) + 1, SCHEDULE) is None
