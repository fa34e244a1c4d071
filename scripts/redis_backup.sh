#!/bin/sh
# Back up Redis: one consistent point-in-time snapshot, whether AOF is on or off.
#
#   scripts/redis_backup.sh DEST_DIR      (`make backup`; the compose `backup` service runs it daily)
#
# `redis-cli --rdb` asks Redis for a snapshot the way a replica does: Redis forks and streams an RDB
# of its whole dataset at that instant, so nothing has to be copied out of a data directory that Redis
# is writing to (with AOF on, a copy of appendonlydir/ taken during a rewrite can miss files). The
# snapshot is checked with redis-check-rdb, kept as DEST_DIR/redis-<UTC time>.rdb, and only the newest
# BACKUP_KEEP (default 14) are kept. Restore one with scripts/redis_restore.sh.
# Reads REDIS_URL (default redis://localhost:6379/0) and REDIS_PASSWORD or REDIS_PASSWORD_FILE.
set -eu
dest=${1:?usage: redis_backup.sh DEST_DIR}
keep=${BACKUP_KEEP:-14}
url=${REDIS_URL:-redis://localhost:6379/0}
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE")
  export REDISCLI_AUTH
elif [ -n "${REDIS_PASSWORD:-}" ]; then
  export REDISCLI_AUTH="$REDIS_PASSWORD"
fi

mkdir -p "$dest"
name="redis-$(date -u +%Y%m%dT%H%M%SZ).rdb"
partial="$dest/.$name.partial"
trap 'rm -f "$partial"' EXIT
redis-cli -u "$url" --rdb "$partial" >&2
if ! redis-check-rdb "$partial" >/dev/null 2>&1; then
  echo "redis_backup: the snapshot failed redis-check-rdb; nothing kept" >&2
  exit 1
fi
mv "$partial" "$dest/$name"
# shellcheck disable=SC2012  # our own names: no spaces or newlines
ls -1 "$dest"/redis-*.rdb | sort -r | tail -n "+$((keep + 1))" | xargs rm -f
echo "$dest/$name"
