#!/bin/sh
# Restore a backup made by redis_backup.sh into a Redis data directory, in the form Redis loads with
# `appendonly yes` (how compose runs it).
#
#   scripts/redis_restore.sh BACKUP.rdb DATA_DIR      (Redis and every Newsflow process stopped)
#
# With AOF on, Redis loads only appendonlydir/ and ignores a dump.rdb, so copying the backup in as
# dump.rdb starts an EMPTY database (and the next save overwrites the backup). Instead, this script
# moves everything in DATA_DIR aside into DATA_DIR/pre-restore-<UTC time>/ (nothing is deleted), loads
# the backup into a private redis-server (a unix socket, no TCP port) with AOF off, turns AOF on there
# (Redis rewrites the whole dataset as a fresh appendonlydir/: a base RDB and a manifest), stops it, then
# starts Redis once more with AOF on, as compose does, to check it finds every key. Then start Redis.
set -eu
backup=${1:?usage: redis_restore.sh BACKUP.rdb DATA_DIR}
dir=${2:?usage: redis_restore.sh BACKUP.rdb DATA_DIR}
if ! redis-check-rdb "$backup" >/dev/null 2>&1; then
  echo "redis_restore: $backup is not a valid RDB file" >&2
  exit 1
fi
mkdir -p "$dir"
work=$(mktemp -d)  # the socket's path must stay short
sock="$work/redis.sock"
trap 'rm -rf "$work"' EXIT

aside="$dir/pre-restore-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir "$aside"
for entry in "$dir"/* "$dir"/.[!.]*; do
  case "$entry" in "$dir"/pre-restore-*) continue ;; esac
  if [ -e "$entry" ]; then mv "$entry" "$aside/"; fi
done
cp "$backup" "$dir/dump.rdb"

cli() { redis-cli -s "$sock" "$@"; }
info() { cli info persistence | tr -d '\r' | sed -n "s/^$1://p"; }
start() {  # start APPENDONLY: a private redis-server on DATA_DIR, waited for until it has loaded
  redis-server --port 0 --unixsocket "$sock" --dir "$dir" --dbfilename dump.rdb --save "" \
    --appendonly "$1" --logfile "$work/redis.log" &
  server=$!
  tries=0
  until [ "$(cli ping 2>/dev/null)" = PONG ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ] || ! kill -0 "$server" 2>/dev/null; then
      cat "$work/redis.log" >&2
      echo "redis_restore: redis-server did not come up" >&2
      exit 1
    fi
    sleep 0.1
  done
}
stop() {
  cli shutdown >/dev/null 2>&1 || true
  wait "$server"
}

start no
keys=$(cli dbsize)
cli config set appendonly yes >/dev/null
until [ "$(info aof_rewrite_in_progress)$(info aof_rewrite_scheduled)" = 00 ]; do sleep 0.1; done
if [ "$(info aof_last_bgrewrite_status)" != ok ]; then
  cat "$work/redis.log" >&2
  echo "redis_restore: writing the AOF failed; DATA_DIR's old content is in $aside" >&2
  exit 1
fi
stop
rm "$dir/dump.rdb"

start yes
loaded=$(cli dbsize)
stop
if [ "$loaded" != "$keys" ]; then
  echo "redis_restore: the backup holds $keys keys but Redis with AOF on loaded $loaded" >&2
  exit 1
fi
echo "restored $keys keys into $dir (AOF on); the previous content is in $aside"
