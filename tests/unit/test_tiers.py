"""A tier this machine cannot run is left out with a line in the report, or refused when it is required."""

import shutil

import pytest

from tests.tiers import Tiers


@pytest.fixture
def no_redis_tools(monkeypatch):
    real_which = shutil.which

    def which(tool: str, **kwargs) -> str | None:
        return None if tool.startswith("redis-") else real_which(tool, **kwargs)

    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setenv("NEWSFLOW_TEST_BROKERS", "redis")


def test_missing_redis_tools_leave_their_tier_out_with_one_line(no_redis_tools, monkeypatch):
    monkeypatch.delenv("NEWSFLOW_TEST_REQUIRE_TIERS", raising=False)
    report = Tiers.find().report()
    assert (
        "LEFT OUT: the redis-tools tier: redis-server, redis-cli, redis-check-rdb not installed "
        "(apt-get install redis-server)" in report
    )


def test_missing_redis_tools_are_an_error_when_every_tier_is_required(no_redis_tools, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_TEST_REQUIRE_TIERS", "redis-tools")
    with pytest.raises(RuntimeError, match="redis-tools: redis-server, redis-cli, redis-check-rdb not installed"):
        Tiers.find()
