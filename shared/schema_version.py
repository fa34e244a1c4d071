"""The version of the data layout in Redis, which every process checks when it starts.

A release that writes data an older release cannot read raises SCHEMA_VERSION (docs/operations.md, "Upgrade
and rollback"). The first process of that release to start records it; from then on, processes of an older
release refuse to start against that Redis instead of misreading it.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KEY = "nf:schema_version"

# Records our version unless a newer one is there; answers the version now recorded.
_RECORD = """
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if stored < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return tonumber(ARGV[1])
end
return stored
"""


class SchemaTooNew(RuntimeError):
    """Redis holds data of a newer release than this one."""


def require_schema_version(client: redis.Redis, ours: int = SCHEMA_VERSION) -> int | None:
    """Record `ours` in Redis when it holds an older version or none; raise SchemaTooNew when it holds a newer.
    A Redis that does not answer yet is no reason to refuse to start (the APIs then answer 503 on /readyz and
    the workers retry): the check is skipped with a warning and None is returned."""
    try:
        stored = int(client.eval(_RECORD, 1, KEY, ours))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("schema version not checked: Redis did not answer (%s)", exc)
        return None
    if stored > ours:
        raise SchemaTooNew(
            f"Redis holds data of schema version {stored} ({KEY}); this release understands up to {ours}. "
            "Run the release that wrote it, or restore the backup taken before the upgrade "
            "(docs/operations.md, 'Upgrade and rollback')."
        )
    return stored
