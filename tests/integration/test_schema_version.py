"""nf:schema_version on real Redis, and every Procfile process refusing to start against data that is newer."""

import pytest
import redis

from shared.schema_version import KEY, SCHEMA_VERSION, SchemaTooNew, require_schema_version
from tests.helpers import free_port, procfile


@pytest.fixture
def client(redis_url):
    return redis.Redis.from_url(redis_url, decode_responses=True)


def test_the_version_is_recorded_when_absent_or_older_and_left_alone_when_equal(client):
    assert require_schema_version(client) == SCHEMA_VERSION and client.get(KEY) == str(SCHEMA_VERSION)
    assert require_schema_version(client) == SCHEMA_VERSION
    assert require_schema_version(client, ours=SCHEMA_VERSION + 1) == SCHEMA_VERSION + 1  # an upgrade records it
    assert client.get(KEY) == str(SCHEMA_VERSION + 1)


def test_data_of_a_newer_release_is_refused_and_left_as_it_is(client):
    client.set(KEY, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaTooNew, match=rf"schema version {SCHEMA_VERSION + 1} .*up to {SCHEMA_VERSION}"):
        require_schema_version(client)
    assert client.get(KEY) == str(SCHEMA_VERSION + 1)


@pytest.mark.slow
@pytest.mark.broker("redis")
@pytest.mark.parametrize("name", list(procfile()))
def test_every_process_refuses_to_start_against_a_newer_schema(processes, client, name):
    client.set(KEY, SCHEMA_VERSION + 1)
    group = processes([], INGEST_PORT=str(free_port()), PUBLISH_PORT=str(free_port()))
    code = group.start(name).wait(90)
    group.running.clear()
    assert code != 0
    assert f"schema version {SCHEMA_VERSION + 1}" in group.logs(), group.logs()
