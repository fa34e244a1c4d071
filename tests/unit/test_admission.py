from services.ingest.limits import Threshold, memory_fraction


class Info:
    def __init__(self, used: int, maxmemory: int):
        self.memory = {"used_memory": used, "maxmemory": maxmemory}

    def info(self, section: str) -> dict:
        assert section == "memory"
        return self.memory


def test_memory_fraction_is_used_over_maxmemory_and_zero_without_a_maxmemory():
    assert memory_fraction(Info(900, 1000)) == 0.9
    assert memory_fraction(Info(10**9, 0)) == 0.0  # no maxmemory: nothing to stay under


def test_threshold_reads_at_most_once_per_ttl():
    readings = iter([5, 20, 20])
    threshold = Threshold(lambda: next(readings), limit=10, ttl_s=60)
    assert not threshold.full() and not threshold.full()  # the second call used the cached 5
    threshold.ttl_s = 0
    assert threshold.full()
