"""deploy/prometheus/alerts.yml speaks of metrics that exist. promtool validates and unit-tests the rules
themselves (`make alerts-check`)."""

import re

import yaml

from shared.config import DEFAULTS
from shared.metrics import HISTOGRAM, METRICS
from tests.helpers import ROOT

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
# The scheduler's last tick, exported by the change that adds the scheduler's healthcheck (issue 15).
BEAT_LAST_TICK = "newsflow_beat_last_tick_timestamp_seconds"


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_every_newsflow_metric_an_alert_reads_is_one_we_export():
    exported = {BEAT_LAST_TICK}
    for metric in METRICS:
        suffixes = ("_bucket", "_sum", "_count") if metric.kind == HISTOGRAM else ("",)
        exported |= {metric.name + suffix for suffix in suffixes}
    read = {name for rule in rules() for name in re.findall(r"\bnewsflow_\w+", rule["expr"])}
    assert read and read <= exported, read - exported


def test_every_alert_says_how_bad_and_what_to_do():
    for rule in rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_the_redis_memory_page_fires_where_ingest_starts_refusing():
    full = next(rule for rule in rules() if rule["alert"] == "RedisMemoryFull")
    assert full["expr"].endswith(f"> {DEFAULTS['INGEST_MAX_REDIS_MEMORY_FRACTION']}")
