import pytest

from shared.contracts import Task
from shared.metrics import ENRICH_DURATION, METRICS, TASKS, Batch, bucket_for, metrics_table
from tests.helpers import ROOT


def test_operations_metrics_table_is_the_one_in_shared_metrics():
    assert metrics_table() in (ROOT / "docs" / "operations.md").read_text()


def test_every_metric_is_named_newsflow_and_served_by_an_api():
    assert [m.name for m in METRICS if not m.name.startswith("newsflow_")] == []
    assert [m.name for m in METRICS if not set(m.served_by) <= {"ingest", "publish"} or not m.served_by] == []
    assert len({m.name for m in METRICS}) == len(METRICS)


def test_a_value_falls_in_the_smallest_bucket_that_holds_it():
    buckets = (0.1, 0.5, 1)
    assert [bucket_for(v, buckets) for v in (0.0, 0.1, 0.10001, 1, 7)] == ["0.1", "0.1", "0.5", "1.0", "+Inf"]


class RecordingPipe:
    def __init__(self):
        self.commands = []

    def hincrby(self, *args):
        self.commands.append(("hincrby", *args))

    def hincrbyfloat(self, *args):
        self.commands.append(("hincrbyfloat", *args))


def test_an_observation_adds_one_to_its_bucket_and_its_value_to_the_sum():
    pipe = RecordingPipe()
    Batch(pipe).observe(ENRICH_DURATION, 0.3)
    assert pipe.commands == [
        ("hincrby", "nf:metrics:newsflow_enrich_duration_seconds", "[]|0.5", 1),
        ("hincrbyfloat", "nf:metrics:newsflow_enrich_duration_seconds", "[]|sum", 0.3),
    ]


def test_many_observations_cost_one_command_per_bucket_and_one_for_the_sum():
    pipe = RecordingPipe()
    Batch(pipe).observe_many(ENRICH_DURATION, [0.3, 0.4, 0.3, 2.0])
    assert pipe.commands == [
        ("hincrby", "nf:metrics:newsflow_enrich_duration_seconds", "[]|0.5", 3),
        ("hincrby", "nf:metrics:newsflow_enrich_duration_seconds", "[]|2.5", 1),
        ("hincrbyfloat", "nf:metrics:newsflow_enrich_duration_seconds", "[]|sum", 3.0),
    ]


def test_recording_with_other_labels_than_the_metric_declares_is_refused():
    with pytest.raises(ValueError, match="newsflow_tasks_total takes labels"):
        Batch(RecordingPipe()).count(TASKS, task=Task.ENRICH_ARTICLE)
