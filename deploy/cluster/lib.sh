# Shared by deploy/cluster/*.sh and bench/drill.py (through cluster.env): ports, directories, helpers.
# Every port can be moved by the environment; none collides with 5432/6379/8000 or the tests' random ports.
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/cerebrum-cluster}"
CLUSTER_NODES="${CLUSTER_NODES:-2}"
PG_PORT_A="${CLUSTER_PG_PORT_A:-55432}"         # first primary
PG_PORT_B="${CLUSTER_PG_PORT_B:-55433}"         # first standby
BOUNCER_PRIMARY_PORT="${CLUSTER_BOUNCER_PRIMARY_PORT:-56432}"
BOUNCER_REPLICA_PORT="${CLUSTER_BOUNCER_REPLICA_PORT:-56433}"
CACHE_REDIS_PORT="${CLUSTER_CACHE_REDIS_PORT:-56379}"
STATE_REDIS_PORT="${CLUSTER_STATE_REDIS_PORT:-56380}"
HTTP_PORT="${CLUSTER_HTTP_PORT:-58080}"
APP_PORT_BASE="${CLUSTER_APP_PORT_BASE:-58001}"  # node i listens on APP_PORT_BASE + i - 1
DB_NAME="${CLUSTER_DB:-cerebrum}"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
RUN_DIR="$CLUSTER_DIR/run"
QUEUES=(communications analytics payments default)

as_postgres() { runuser -u postgres -- "$@"; }
pg_up() { pg_isready -h 127.0.0.1 -p "$1" -q 2>/dev/null; }
redis_up() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
wait_for() {  # seconds command...
  local seconds="$1"; shift
  for _ in $(seq $(( seconds * 5 ))); do "$@" && return 0; sleep 0.2; done
  return 1
}
log() { echo "cluster [$(date -u +%H:%M:%S)] $*"; }

# The port of whichever PostgreSQL is primary now (a failover drill swaps them).
primary_port() { cat "$CLUSTER_DIR/pg/primary_port" 2>/dev/null || echo "$PG_PORT_A"; }
standby_port() { if [ "$(primary_port)" = "$PG_PORT_A" ]; then echo "$PG_PORT_B"; else echo "$PG_PORT_A"; fi; }

# A loop that restarts its command a second after it exits, until the cluster is stopping: the
# supervisor (systemd's Restart=always in production). Its own pid goes to RUN_DIR/<name>.loop.pid.
supervise() {  # name command...
  local name="$1"; shift
  setsid bash -c '
    name="$1"; dir="$2"; shift 2
    echo $$ >"$dir/$name.loop.pid"
    while [ ! -e "$dir/stopping" ]; do
      "$@" >>"$dir/$name.log" 2>&1
      echo "supervisor: $name exited with $? at $(date -u +%T)" >>"$dir/$name.log"
      [ -e "$dir/stopping" ] || sleep 1
    done' supervise "$name" "$RUN_DIR" "$@" </dev/null >/dev/null 2>&1 &
}

# The two Redis roles (also restarted by bench/drill.py).
start_cache_redis() {
  redis_up "$CACHE_REDIS_PORT" || redis-server --daemonize yes --bind 127.0.0.1 --port "$CACHE_REDIS_PORT" \
    --save "" --appendonly no --maxmemory 256mb --maxmemory-policy allkeys-lru \
    --dir "$CLUSTER_DIR/redis-cache" --pidfile "$CLUSTER_DIR/redis-cache/redis.pid" --logfile "$CLUSTER_DIR/redis-cache/redis.log"
}
start_state_redis() {
  redis_up "$STATE_REDIS_PORT" || redis-server --daemonize yes --bind 127.0.0.1 --port "$STATE_REDIS_PORT" \
    --save "" --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --dir "$CLUSTER_DIR/redis-state" --pidfile "$CLUSTER_DIR/redis-state/redis.pid" --logfile "$CLUSTER_DIR/redis-state/redis.log"
}

# PostgreSQL and PgBouncer (also used by bench/drill.py's failover).
pg_start() {  # port
  local data="$CLUSTER_DIR/pg/$1"
  pg_up "$1" && return 0
  rm -f "$data/postmaster.pid"
  as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$CLUSTER_DIR/pg/$1.log" -w -t 60 start >/dev/null
}
# A new standby of the current primary on `port` (also after a failover: the old primary's data is
# thrown away and cloned again). Synchronous: the primary answers a commit once the standby has it on
# disk, so promoting it loses no acknowledged answer or payment.
make_standby() {  # port
  local port="$1" primary; primary="$(primary_port)"
  local data="$CLUSTER_DIR/pg/$port"
  as_postgres "$PGBIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$data"
  psql -h 127.0.0.1 -p "$primary" -U postgres -qc "SELECT pg_drop_replication_slot('standby_$port')" postgres >/dev/null 2>&1 || true
  as_postgres pg_basebackup -h 127.0.0.1 -p "$primary" -U postgres -D "$data" -c fast -X stream -R -C -S "standby_$port"
  cat >>"$data/postgresql.auto.conf" <<CONF
port = $port
primary_conninfo = 'host=127.0.0.1 port=$primary user=postgres application_name=standby_$port'
primary_slot_name = 'standby_$port'
synchronous_standby_names = ''
CONF
  pg_start "$port"
  psql -h 127.0.0.1 -p "$primary" -U postgres -qc "ALTER SYSTEM SET synchronous_standby_names = 'standby_$port'" postgres
  psql -h 127.0.0.1 -p "$primary" -U postgres -qc "SELECT pg_reload_conf()" postgres >/dev/null
}
write_bouncer() {  # name listen_port target_port
  local dir="$CLUSTER_DIR/pgbouncer"
  echo '"postgres" ""' >"$dir/userlist.txt"
  cat >"$dir/$1.ini" <<INI
[databases]
$DB_NAME = host=127.0.0.1 port=$3 dbname=$DB_NAME connect_query='SET statement_timeout = ${DB_STATEMENT_TIMEOUT_MS:-5000}'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $2
unix_socket_dir =
pidfile = $dir/$1.pid
logfile = $dir/$1.log
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
max_client_conn = 4000
default_pool_size = 20
reserve_pool_size = 5
reserve_pool_timeout = 2
; a dead server is given up on fast, so Django sees an error (and the router the replica as down)
server_connect_timeout = 2
server_login_retry = 1
query_wait_timeout = 20
server_check_delay = 5
ignore_startup_parameters = extra_float_digits
INI
  chown postgres:postgres "$dir/$1.ini" "$dir/userlist.txt"
}
start_bouncer() {  # name listen_port target_port
  write_bouncer "$@"
  if [ -f "$CLUSTER_DIR/pgbouncer/$1.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/pgbouncer/$1.pid")" 2>/dev/null; then
    psql -h 127.0.0.1 -p "$2" -U postgres -qc RELOAD pgbouncer >/dev/null  # picks up a new target
  else
    as_postgres pgbouncer -d -q "$CLUSTER_DIR/pgbouncer/$1.ini"
  fi
}
