#!/usr/bin/env bash
# The load benchmark: `bash bench/run.sh quick|full` (make bench-quick / make bench).
#
# Starts the production shape on loopback — nginx :8088 → gunicorn :8089 → PostgreSQL (database
# cerebrum_bench) and Redis (own servers: cache :6390, Celery broker :6391), one Celery worker — then
# drives it with Locust (headless, FastHttpUser) in four phases:
#   steady    N users (70% signed-in students, 20% visitors, 10% free-test visitors), think 5-15 s,
#             measured after ramp-up;
#   held      the most learners the box holds at the steady targets (p95 < 100 ms, p99 < 300 ms, 0
#             errors): bisection over short steady runs of the same mix (the steady run counts as the
#             first probe), at most BENCH_HELD_PROBES of them, each bounded in time;
#   storm     N students start the same scheduled exam within 10 s, answer and submit;
#   ceiling   /bench/bare (bare Django JSON) at full load, no think time;
#   capacity  the steady mix at full load, no think time.
# Results: bench/results/<timestamp>-<mode>.json and docs/performance.md (+ docs/performance.svg).
# Every phase is bounded by --run-time and `timeout`; the EXIT trap stops every process it started.
set -euo pipefail

MODE="${1:-quick}"
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
ROOT="$PWD"
# bash reads a script as it runs: run from a private copy so editing bench/run.sh mid-run is harmless.
if [ -z "${BENCH_SCRIPT_COPY:-}" ]; then
  BENCH_SCRIPT_COPY="$(mktemp /tmp/cerebrum-bench-run.XXXXXX.sh)"
  cp bench/run.sh "$BENCH_SCRIPT_COPY"
  BENCH_ROOT="$ROOT" BENCH_SCRIPT_COPY="$BENCH_SCRIPT_COPY" exec bash "$BENCH_SCRIPT_COPY" "$@"
fi
PY="$ROOT/.venv/bin/python"
RUN="$(mktemp -d /tmp/cerebrum-bench.XXXXXX)"
PG_BASE="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${BENCH_DB:-cerebrum_bench}"
REDIS_PORT="${BENCH_REDIS_PORT:-6390}"
BROKER_PORT="${BENCH_BROKER_PORT:-6391}"
HTTP_PORT="${BENCH_HTTP_PORT:-8088}"
APP_PORT="${BENCH_APP_PORT:-8089}"
SEED_SIZE="${BENCH_SEED_SIZE:-large}"
LOCUST_PROCESSES="${BENCH_LOCUST_PROCESSES:-1}"
export GUNICORN_WORKER_CLASS="${GUNICORN_WORKER_CLASS:-gthread}"
export GUNICORN_WORKERS="${GUNICORN_WORKERS:-3}"
export GUNICORN_THREADS="${GUNICORN_THREADS:-2}"
# gunicorn masters, each on its own port and listed as its own nginx upstream server (least_conn then
# balances requests across them; within one master the kernel spreads connections over the workers'
# SO_REUSEPORT sockets, and nginx's kept-alive connections stay with the worker that accepted them).
INSTANCES="${GUNICORN_INSTANCES:-1}"

case "$MODE" in
  quick) STEADY_USERS=1000; STEADY_SPAWN=250; STEADY_SECONDS=30; SETTLE_SECONDS=10; STORM_USERS=1000; STORM_SECONDS=45
         STORM_ANSWERS=5; FULL_LOAD_USERS=48; FULL_LOAD_SECONDS=12; HELD_SECONDS=15 ;;
  full)  STEADY_USERS=10000; STEADY_SPAWN=200; STEADY_SECONDS=130; SETTLE_SECONDS=20; STORM_USERS=10000; STORM_SECONDS=90
         STORM_ANSWERS=10; FULL_LOAD_USERS=96; FULL_LOAD_SECONDS=30; HELD_SECONDS=40 ;;
  *) echo "usage: bench/run.sh quick|full" >&2; exit 2 ;;
esac
STEADY_USERS="${BENCH_STEADY_USERS:-$STEADY_USERS}"
STORM_USERS="${BENCH_STORM_USERS:-$STORM_USERS}"
STEADY_SPAWN="${BENCH_STEADY_SPAWN:-$STEADY_SPAWN}"
RAMP_SECONDS=$(( (STEADY_USERS + STEADY_SPAWN - 1) / STEADY_SPAWN ))
HELD_SECONDS="${BENCH_HELD_SECONDS:-$HELD_SECONDS}"
HELD_PROBES="${BENCH_HELD_PROBES:-6}"
PHASES="${BENCH_PHASES:-steady held storm ceiling capacity}"
want() { [[ " $PHASES " == *" $1 "* ]]; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 10,000 simulated users hold 10,000 sockets, and so does nginx

PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pidfile in "$RUN"/gunicorn-*.pid; do [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null; done
  [ -f "$RUN/nginx.pid" ] && kill -QUIT "$(cat "$RUN/nginx.pid")" 2>/dev/null
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
  redis-cli -p "$BROKER_PORT" shutdown nosave >/dev/null 2>&1
  sleep 2
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  echo "bench: stopped everything; logs in $RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench [$(date -u +%H:%M:%S)] $*"; }

export DJANGO_SETTINGS_MODULE=cerebrum.settings.production
export DJANGO_SECRET_KEY="bench-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Production refuses to start without gateway and webhook secrets; the benchmark never pays or receives webhooks.
for var in RAZORPAY_KEY_ID RAZORPAY_KEY_SECRET RAZORPAY_WEBHOOK_SECRET WHATSAPP_APP_SECRET WHATSAPP_VERIFY_TOKEN; do
  export "$var=${!var:-bench-$var-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
done
export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
export DJANGO_SECURE_SSL_REDIRECT=0
export DATABASE_URL="$PG_BASE/$DB"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$BROKER_PORT/0"
export PROMETHEUS_MULTIPROC_DIR="$RUN/prometheus"
export BENCH_MODE=1 SQL_COUNT_HEADER=1
export THROTTLE_ANON=1000000/min THROTTLE_USER=1000000/min THROTTLE_AUTH=1000000/min AXES_FAILURE_LIMIT=1000000
export GUNICORN_MAX_REQUESTS=0
export BENCH_GUNICORN_PIDFILES="$RUN/gunicorn-*.pid" BENCH_METRICS_URL="http://127.0.0.1:$HTTP_PORT/metrics"
export BENCH_REDIS_PORT="$REDIS_PORT" BENCH_PROCESSES="$LOCUST_PROCESSES"
export EDGE_PURGE_URLS="http://127.0.0.1:$HTTP_PORT"  # an edit during a run expires nginx's copies (cerebrum/edge.py)
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# --- services -----------------------------------------------------------------------------------
log "redis: cache :$REDIS_PORT (allkeys-lru), broker :$BROKER_PORT (noeviction)"
redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$RUN" \
  --logfile "$RUN/redis-cache.log" --maxmemory 2gb --maxmemory-policy allkeys-lru
redis-server --daemonize yes --bind 127.0.0.1 --port "$BROKER_PORT" --save "" --appendonly no --dir "$RUN" \
  --logfile "$RUN/redis-broker.log" --maxmemory-policy noeviction
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && redis-cli -p "$BROKER_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

learners() { psql "$PG_BASE/$DB" -tAc "SELECT count(*) FROM users WHERE email LIKE '%@learners.cerebrum.test'" 2>/dev/null || echo 0; }
if [ "$(learners)" -lt 24 ]; then
  log "database $DB: creating, migrating, seed_demo --size $SEED_SIZE"
  psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB" && psql "$PG_BASE/postgres" -qc "CREATE DATABASE $DB"
  timeout 1800 "$PY" manage.py migrate --noinput -v0
  timeout 3600 "$PY" manage.py seed_demo --size "$SEED_SIZE"
else
  log "database $DB: reusing ($(learners) learners); migrating"
  timeout 600 "$PY" manage.py migrate --noinput -v0
fi
# collectstatic compresses every file (minutes on a busy box): only when there is no manifest yet, or
# when asked (BENCH_COLLECTSTATIC=1); a slightly older stylesheet does not change what is measured.
if [ ! -f staticfiles/staticfiles.json ] || [ -n "${BENCH_COLLECTSTATIC:-}" ]; then
  log "collectstatic"
  timeout 600 "$PY" manage.py collectstatic --noinput -v0
fi

SESSIONS=$(( STEADY_USERS > STORM_USERS ? STEADY_USERS : STORM_USERS ))
log "sessions for $SESSIONS learners"
BENCH_SESSIONS="$SESSIONS" timeout 600 "$PY" bench/prepare.py sessions "$RUN/data.json"

log "gunicorn ${INSTANCES} x $GUNICORN_WORKER_CLASS workers=$GUNICORN_WORKERS threads=$GUNICORN_THREADS from :$APP_PORT"
UPSTREAMS=""
for i in $(seq 0 $(( INSTANCES - 1 ))); do
  port=$(( APP_PORT + i ))
  GUNICORN_BIND="127.0.0.1:$port" .venv/bin/gunicorn cerebrum.wsgi:application -c deploy/gunicorn.conf.py \
    --pid "$RUN/gunicorn-$i.pid" >"$RUN/gunicorn-$i.log" 2>&1 &
  PIDS+=($!)
  UPSTREAMS+="        server 127.0.0.1:$port max_fails=3 fail_timeout=30s;\n"
done
.venv/bin/celery -A cerebrum worker -Q communications,analytics,payments,default -c 1 --without-heartbeat \
  --without-gossip --without-mingle -l WARNING >"$RUN/celery.log" 2>&1 &
PIDS+=($!)

log "nginx on :$HTTP_PORT"
mkdir -p "$RUN"/{client_body,proxy,fastcgi,uwsgi,scgi,cache}
# nginx workers run as an unprivileged user when the master is root: they need these writable.
chmod 755 "$RUN" && chmod 777 "$RUN"/{client_body,proxy,fastcgi,uwsgi,scgi,cache}
ACCESS_LOG=off
[ -n "${BENCH_ACCESS_LOG:-}" ] && ACCESS_LOG="$RUN/nginx-access.log timed"
# Anonymous pages come from nginx's cache in the steady and storm phases, as deployed; the ceiling and
# capacity phases send everything to Django (BENCH_FULL_LOAD_PROXY_CACHE=off) so both measure Django
# alike, and closed-loop visitors answered by nginx in a millisecond do not swamp the mix.
PROXY_CACHE="${BENCH_PROXY_CACHE:-pages}"
# Two nginx workers: one process may hold only the machine's open-file limit (20,000 here; nginx cannot raise
# it without CAP_SYS_RESOURCE), and 10,000 connected learners plus one upstream connection per queued request
# exhausted one worker's 16,384 worker_connections ("worker_connections are not enough": the storm's learners
# saw closed connections). Each worker has its own limit.
NGINX_WORKERS="${BENCH_NGINX_WORKERS:-2}"
FULL_LOAD_PROXY_CACHE="${BENCH_FULL_LOAD_PROXY_CACHE:-off}"
render_nginx() {  # proxy_cache mode (pages|off)
  sed -e "s#@@NGINX_WORKERS@@#$NGINX_WORKERS#" -e "s#@@RUN_DIR@@#$RUN#g" -e "s#@@ACCESS_LOG@@#$ACCESS_LOG#" \
      -e "s#@@UNLIMITED_CIDR@@#127.0.0.0/8#" -e "s#@@EDGE_REFRESH_FROM@@#127.0.0.0/8#" -e "s#@@API_RATE@@#100r/m#" -e "s#@@AUTH_RATE@@#10r/m#" \
      -e "s#@@UPSTREAM_SERVERS@@#${UPSTREAMS%\\n}#" \
      -e "s#@@LISTEN@@#127.0.0.1:$HTTP_PORT#" -e "s#@@STATIC_ROOT@@#$ROOT/staticfiles#" \
      -e "s#@@PROXY_CACHE@@#$1#g" deploy/nginx.conf.template >"$RUN/nginx.conf"
  nginx -t -c "$RUN/nginx.conf" -p "$RUN" -g "error_log $RUN/nginx-error.log;" 2>>"$RUN/nginx-error.log"
}
render_nginx "$PROXY_CACHE"
nginx -c "$RUN/nginx.conf" -p "$RUN" -g "error_log $RUN/nginx-error.log;"

for _ in $(seq 120); do curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null || { log "gunicorn did not come up"; tail -50 "$RUN"/gunicorn-*.log; exit 1; }
# Warm every worker's imports and caches a little, as a deploy's health checks would.
for _ in $(seq 30); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/courses/"; curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/bench/bare"; done

log "warming leaderboards"
BENCH_BASE_URL="http://127.0.0.1:$HTTP_PORT" timeout 300 "$PY" bench/prepare.py warm "$RUN/warm.json"

cat >"$RUN/config.json" <<JSON
{"command": "make bench$([ "$MODE" = quick ] && echo -quick)", "gunicorn": "$GUNICORN_WORKER_CLASS workers=$GUNICORN_WORKERS threads=$GUNICORN_THREADS connections=${GUNICORN_WORKER_CONNECTIONS:-1000} keepalive=${GUNICORN_KEEPALIVE:-75} reuse_port=${GUNICORN_REUSE_PORT:-1}", "gunicorn_instances": $INSTANCES,
 "locust_processes": $LOCUST_PROCESSES, "steady_users": $STEADY_USERS, "steady_ramp_seconds": $RAMP_SECONDS,
 "steady_measured_seconds": $STEADY_SECONDS, "storm_users": $STORM_USERS, "storm_answers": $STORM_ANSWERS,
 "held_most": $STEADY_USERS, "held_measured_seconds": $HELD_SECONDS, "held_probes_at_most": $HELD_PROBES,
 "full_load_users": $FULL_LOAD_USERS, "full_load_seconds": $FULL_LOAD_SECONDS, "seed_size": "$SEED_SIZE",
 "database": "$DB", "proxy_cache": "$PROXY_CACHE", "full_load_proxy_cache": "$FULL_LOAD_PROXY_CACHE"}
JSON

# --- phases -------------------------------------------------------------------------------------
drain() {
  # An overloaded phase leaves gunicorn working through requests whose clients have gone; the next
  # phase must not measure that backlog. /health goes straight to each gunicorn master, behind
  # whatever is queued: wait (at most 180 s in all) until two in a row answer within 100 ms.
  local deadline=$(( SECONDS + 180 )) i fast took
  for (( i = 0; i < INSTANCES; i++ )); do
    fast=0
    while [ "$fast" -lt 2 ] && [ "$SECONDS" -lt "$deadline" ]; do
      # A refused or failed request counts as slow, whatever time curl reports for it.
      took=$(curl -sf -o /dev/null -m 10 -w '%{time_total}' "http://127.0.0.1:$(( APP_PORT + i ))/health") || took=10
      if awk -v t="$took" 'BEGIN { exit !(t < 0.1) }'; then fast=$(( fast + 1 )); else fast=0; sleep 1; fi
    done
    [ "$fast" -ge 2 ] || log "gunicorn :$(( APP_PORT + i )) still busy after 180 s; measuring anyway"
  done
}

locust_phase() {  # name users spawn_rate seconds_after_ramp ramp_seconds classes...
  local name="$1" users="$2" rate="$3" seconds="$4" ramp="$5"; shift 5
  local total=$(( ramp + seconds ))
  drain
  local options=()
  [ "$LOCUST_PROCESSES" -gt 1 ] && options+=(--processes "$LOCUST_PROCESSES")
  # Steady-state phases count only after ramp-up and settling (locust resets its statistics at
  # BENCH_RESET_AFTER, when the "before" snapshot is taken); the storm's spawn IS the measurement.
  log "phase $name: $users users ($*), spawn $rate/s, ramp ${ramp}s + ${seconds}s measured"
  BENCH_RESET_AFTER="$ramp" BENCH_EXTRA_OUT="$RUN/$name-tally.json" timeout $(( total + 90 )) .venv/bin/locust -f bench/locustfile.py \
    --headless --host "http://127.0.0.1:$HTTP_PORT" -u "$users" -r "$rate" --run-time "${total}s" \
    --stop-timeout 5 --csv "$RUN/$name" --only-summary --loglevel WARNING "${options[@]}" "$@" \
    >"$RUN/$name-locust.log" 2>&1 &
  local locust_pid=$!
  PIDS+=("$locust_pid")
  sleep "$ramp"
  "$PY" bench/report.py snapshot "$RUN/$name-before.json" || log "snapshot before $name failed"
  if [ -n "${BENCH_PYSPY:-}" ] && [ "$name" = "$BENCH_PYSPY" ]; then
    # Where the workers' CPU goes at full load: stacks of the thread holding the GIL, every worker.
    for pidfile in "$RUN"/gunicorn-*.pid; do
      timeout $(( seconds + 30 )) .venv/bin/py-spy record --pid "$(cat "$pidfile")" --subprocesses \
        --duration $(( seconds - 2 )) --rate 100 --gil --nonblocking --format raw \
        --output "$RUN/$name-pyspy-$(basename "$pidfile" .pid).txt" >>"$RUN/pyspy.log" 2>&1 &
    done
  fi
  wait "$locust_pid" || log "locust $name exited with $? (see $RUN/$name-locust.log)"
  "$PY" bench/report.py snapshot "$RUN/$name-after.json" || log "snapshot after $name failed"
  # A broken phase is reported as missing rather than ending the run.
  "$PY" bench/report.py phase "$name" "$RUN" || log "phase $name could not be reported"
}

export BENCH_DATA="$RUN/data.json" BENCH_THINK=10
want steady && locust_phase steady "$STEADY_USERS" "$STEADY_SPAWN" "$STEADY_SECONDS" "$(( RAMP_SECONDS + SETTLE_SECONDS ))" Student Visitor FreeVisitor

if want held; then
  # The steady run at STEADY_USERS is the first probe; then halve the gap between held and not held.
  if [ -f "$RUN/steady-phase.json" ]; then
    cp "$RUN/steady-phase.json" "$RUN/held-$STEADY_USERS-phase.json"
  else
    # Without the steady phase before it, the first probe would meet cold caches, cold workers and an
    # unbuilt dashboard for every learner (its p95 seconds, not milliseconds): warm up first, unmeasured.
    warm=$(( STEADY_USERS < 1000 ? STEADY_USERS : 1000 ))
    locust_phase warmup "$warm" "$STEADY_SPAWN" 30 "$(( (warm + STEADY_SPAWN - 1) / STEADY_SPAWN ))" Student Visitor FreeVisitor
  fi
  for (( probe = 0; probe < HELD_PROBES; probe++ )); do
    users=$("$PY" bench/report.py held-next "$RUN" "$STEADY_USERS")
    [ -z "$users" ] && break
    locust_phase "held-$users" "$users" "$STEADY_SPAWN" "$HELD_SECONDS" \
      "$(( (users + STEADY_SPAWN - 1) / STEADY_SPAWN + SETTLE_SECONDS ))" Student Visitor FreeVisitor
  done
  log "held: $("$PY" bench/report.py held "$RUN" "$STEADY_USERS")"
fi

if want storm; then
log "storm: opening the scheduled exam now and pre-warming its paper"
timeout 300 "$PY" bench/prepare.py storm "$RUN/storm.json"
export BENCH_STORM="$RUN/storm.json" BENCH_STORM_ANSWERS="$STORM_ANSWERS"
STORM_RATE=$(( (STORM_USERS + 9) / 10 ))
locust_phase storm "$STORM_USERS" "$STORM_RATE" "$STORM_SECONDS" 0 ExamStudent
timeout 600 "$PY" bench/prepare.py verify-storm "$RUN/storm-extra.json" || log "storm verification failed"
"$PY" - "$RUN" <<'PY' || true
import json, sys, pathlib
run = pathlib.Path(sys.argv[1])
extra = json.loads((run / "storm-extra.json").read_text())
extra["builds_after_prewarm"] = json.loads((run / "storm.json").read_text())["builds_after_prewarm"]
(run / "storm-extra.json").write_text(json.dumps(extra))
PY
"$PY" bench/report.py phase storm "$RUN" >/dev/null || true
fi

export BENCH_THINK=0
if [ "$FULL_LOAD_PROXY_CACHE" != "$PROXY_CACHE" ] && { want ceiling || want hot || want capacity; }; then
  log "nginx: proxy_cache $FULL_LOAD_PROXY_CACHE for the full-load phases"
  render_nginx "$FULL_LOAD_PROXY_CACHE"
  nginx -s reload -c "$RUN/nginx.conf" -p "$RUN" -g "error_log $RUN/nginx-error.log;"
  sleep 2
fi
want ceiling && locust_phase ceiling "$FULL_LOAD_USERS" "$FULL_LOAD_USERS" "$FULL_LOAD_SECONDS" 2 BareCeiling
want hot && locust_phase hot "$FULL_LOAD_USERS" "$FULL_LOAD_USERS" "$FULL_LOAD_SECONDS" 2 HotDashboard
want capacity && locust_phase capacity "$FULL_LOAD_USERS" "$FULL_LOAD_USERS" "$FULL_LOAD_SECONDS" 2 Student Visitor FreeVisitor
if [ -n "${BENCH_PYSPY:-}" ] && ls "$RUN/$BENCH_PYSPY"-pyspy-*.txt >/dev/null 2>&1; then
  cat "$RUN/$BENCH_PYSPY"-pyspy-*.txt >"$RUN/$BENCH_PYSPY-pyspy.txt"
  "$PY" bench/report.py profile "$RUN/$BENCH_PYSPY-pyspy.txt" >"$RUN/profile-top.txt"
  cp "$RUN/profile-top.txt" "bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$MODE-profile-$BENCH_PYSPY.txt"
fi

RESULT=$("$PY" bench/report.py finish "$RUN" "$MODE")
log "results: $RESULT; docs/performance.md regenerated"
"$PY" -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['verdict'], indent=1))" "$RESULT"
