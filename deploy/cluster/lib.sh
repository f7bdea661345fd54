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
