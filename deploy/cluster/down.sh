#!/usr/bin/env bash
# `make cluster-stop`: stops every process deploy/cluster/up.sh started (by its pid), keeps the data
# under $CLUSTER_DIR (CLUSTER_WIPE=1 removes it, so the next `make cluster` starts from initdb).
set -uo pipefail
cd "$(dirname "$0")/../.."
source deploy/cluster/lib.sh
[ -d "$CLUSTER_DIR" ] || { echo "no cluster at $CLUSTER_DIR"; exit 0; }
touch "$RUN_DIR/stopping"

for loop in "$RUN_DIR"/*.loop.pid; do
  [ -f "$loop" ] || continue
  pid="$(cat "$loop")"
  # Each supervisor loop leads its own process group (setsid): the loop, the master and its workers.
  kill -TERM -- "-$pid" 2>/dev/null && log "stopped $(basename "$loop" .loop.pid)"
done
[ -f "$CLUSTER_DIR/nginx/nginx.pid" ] && kill -QUIT "$(cat "$CLUSTER_DIR/nginx/nginx.pid")" 2>/dev/null && log "stopped nginx"
for port in "$CACHE_REDIS_PORT" "$STATE_REDIS_PORT"; do
  redis-cli -p "$port" shutdown 2>/dev/null && log "stopped redis :$port"
done
for name in primary replica; do
  pidfile="$CLUSTER_DIR/pgbouncer/$name.pid"
  [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null && log "stopped pgbouncer $name"
done
for data in "$CLUSTER_DIR"/pg/[0-9]*; do
  [ -f "$data/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 && log "stopped postgres $(basename "$data")"
done
sleep 2
for loop in "$RUN_DIR"/*.loop.pid; do
  [ -f "$loop" ] || continue
  kill -KILL -- "-$(cat "$loop")" 2>/dev/null
  rm -f "$loop"
done
if [ -n "${CLUSTER_WIPE:-}" ]; then rm -rf "${CLUSTER_DIR:?}"; log "wiped $CLUSTER_DIR"; fi
log "stopped"
