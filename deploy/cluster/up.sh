#!/usr/bin/env bash
# `make cluster`: Cerebrum scaled out on loopback, from Debian packages (docs/scaling.md):
#   PostgreSQL primary :55432 ─(streaming, synchronous)─► standby :55433 (pg_basebackup), own data dirs
#   PgBouncer (transaction pooling) :56432 → primary, :56433 → standby
#   Redis cache :56379 (allkeys-lru) · Redis state/broker :56380 (noeviction, AOF every second)
#   gunicorn app nodes :58001.. (CLUSTER_NODES, each its own master and metrics dir, supervised)
#   nginx :58080 (least_conn, passive health checks, idempotent retries on another node)
#   Celery: one worker per queue (communications, analytics, payments, default) and exactly one beat.
# Same settings module as production (cerebrum.settings.production); only the environment
# ($CLUSTER_DIR/cluster.env) differs. Idempotent: what runs already is left alone. Needs root (it
# runs PostgreSQL and PgBouncer as the postgres user). `make cluster-stop` stops it all.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
source deploy/cluster/lib.sh

bash deploy/cluster/ensure-packages.sh
mkdir -p "$CLUSTER_DIR"/{pg,pgbouncer,redis-cache,redis-state,metrics,nginx} "$RUN_DIR"
rm -f "$RUN_DIR/stopping"
chown postgres:postgres "$CLUSTER_DIR/pg" "$CLUSTER_DIR/pgbouncer"
chmod 755 "$CLUSTER_DIR"

# --- environment: the only thing that differs from production ----------------------------------
ENV_FILE="$CLUSTER_DIR/cluster.env"
if [ ! -f "$ENV_FILE" ]; then
  secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  cat >"$ENV_FILE" <<ENV
export DJANGO_SETTINGS_MODULE=cerebrum.settings.production
export DJANGO_SECRET_KEY=cluster-$(secret)
export JWT_SIGNING_KEY=cluster-$(secret)
export RAZORPAY_KEY_ID=rzp_test_cluster RAZORPAY_KEY_SECRET=cluster-$(secret) RAZORPAY_WEBHOOK_SECRET=cluster-$(secret)
export WHATSAPP_APP_SECRET=cluster-$(secret) WHATSAPP_VERIFY_TOKEN=cluster-$(secret)
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_SECURE_SSL_REDIRECT=0
export DATABASE_URL=postgres://postgres@127.0.0.1:$BOUNCER_PRIMARY_PORT/$DB_NAME
export DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:$BOUNCER_REPLICA_PORT/$DB_NAME
export DB_PGBOUNCER=1
export REDIS_URL=redis://127.0.0.1:$CACHE_REDIS_PORT/0
export CELERY_BROKER_URL=redis://127.0.0.1:$STATE_REDIS_PORT/0
export GUNICORN_WORKERS=${CLUSTER_WORKERS:-2} GUNICORN_THREADS=2 GUNICORN_MAX_REQUESTS=0
export THROTTLE_ANON=1000000/min THROTTLE_USER=1000000/min THROTTLE_AUTH=1000000/min AXES_FAILURE_LIMIT=1000000
export SQL_COUNT_HEADER=1 LOG_LEVEL=WARNING
ENV
fi
source "$ENV_FILE"
# Migrations and the seed talk to the primary directly (the seed sets session-level statement_timeout).
DIRECT_URL() { echo "postgres://postgres@127.0.0.1:$(primary_port)/$DB_NAME"; }

# --- PostgreSQL: primary + streaming standby ------------------------------------------------------
pg_conf() {  # datadir port
  cat >>"$1/postgresql.conf" <<CONF
# deploy/cluster/up.sh
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CLUSTER_DIR/pg'
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
hot_standby_feedback = on
wal_keep_size = '256MB'
max_connections = 200
shared_buffers = '128MB'
logging_collector = off
CONF
}

if [ ! -f "$CLUSTER_DIR/pg/primary_port" ]; then
  log "postgres: initdb primary :$PG_PORT_A"
  rm -rf "${CLUSTER_DIR:?}/pg/$PG_PORT_A"
  as_postgres "$PGBIN/initdb" -D "$CLUSTER_DIR/pg/$PG_PORT_A" -U postgres -A trust -E UTF8 --locale C.UTF-8 >/dev/null
  pg_conf "$CLUSTER_DIR/pg/$PG_PORT_A" "$PG_PORT_A"
  pg_start "$PG_PORT_A"
  psql -h 127.0.0.1 -p "$PG_PORT_A" -U postgres -qc "CREATE DATABASE $DB_NAME" postgres
  # Django then needs no SET TIME ZONE per connection (session state PgBouncer would have to carry).
  psql -h 127.0.0.1 -p "$PG_PORT_A" -U postgres -qc "ALTER DATABASE $DB_NAME SET timezone TO 'UTC'" postgres
  echo "$PG_PORT_A" >"$CLUSTER_DIR/pg/primary_port"
  log "postgres: standby :$PG_PORT_B by pg_basebackup"
  make_standby "$PG_PORT_B"
else
  log "postgres: starting primary :$(primary_port) and standby :$(standby_port)"
  pg_start "$(primary_port)"
  if [ -f "$CLUSTER_DIR/pg/$(standby_port)/standby.signal" ]; then pg_start "$(standby_port)"; else make_standby "$(standby_port)"; fi
fi

# --- PgBouncer, transaction pooling, one in front of each PostgreSQL ------------------------------
log "pgbouncer: :$BOUNCER_PRIMARY_PORT → :$(primary_port), :$BOUNCER_REPLICA_PORT → :$(standby_port)"
start_bouncer primary "$BOUNCER_PRIMARY_PORT" "$(primary_port)"
start_bouncer replica "$BOUNCER_REPLICA_PORT" "$(standby_port)"

# --- Redis: two roles ------------------------------------------------------------------------------
log "redis: cache :$CACHE_REDIS_PORT (allkeys-lru), state/broker :$STATE_REDIS_PORT (noeviction, AOF everysec)"
start_cache_redis
start_state_redis
wait_for 10 redis_up "$CACHE_REDIS_PORT" && wait_for 10 redis_up "$STATE_REDIS_PORT"

# --- schema, static files, data ---------------------------------------------------------------------
log "migrate (direct to the primary)"
DATABASE_URL="$(DIRECT_URL)" DB_PGBOUNCER=0 DATABASE_REPLICA_URLS="" timeout 900 .venv/bin/python manage.py migrate --noinput -v0
learners=$(psql -h 127.0.0.1 -p "$(primary_port)" -U postgres -tAc "SELECT count(*) FROM users WHERE email LIKE '%@learners.cerebrum.test'" "$DB_NAME")
if [ "$learners" -lt 24 ]; then
  log "seed_demo --size ${CLUSTER_SEED_SIZE:-small}"
  DATABASE_URL="$(DIRECT_URL)" DB_PGBOUNCER=0 DATABASE_REPLICA_URLS="" timeout 3600 .venv/bin/python manage.py seed_demo --size "${CLUSTER_SEED_SIZE:-small}"
fi
if [ ! -f staticfiles/staticfiles.json ]; then
  log "collectstatic"
  timeout 900 .venv/bin/python manage.py collectstatic --noinput -v0
fi

# --- app nodes, Celery, nginx -----------------------------------------------------------------------
running() { [ -f "$RUN_DIR/$1.loop.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.loop.pid")" 2>/dev/null; }
UPSTREAMS=""
for i in $(seq 1 "$CLUSTER_NODES"); do
  port=$(( APP_PORT_BASE + i - 1 ))
  # Passive health checks: 2 failures (refused, reset, timed out, 502/503) within 10 s take a node out for 10 s.
  UPSTREAMS+="        server 127.0.0.1:$port max_fails=2 fail_timeout=10s;\n"
  if running "app-$i"; then
    # Already up: a graceful reload (new workers) so it runs the tree's current code on the migrated schema.
    kill -HUP "$(cat "$RUN_DIR/app-$i.pid")" 2>/dev/null && log "app node $i reloaded"
    continue
  fi
  log "app node $i on :$port"
  supervise "app-$i" env GUNICORN_BIND="127.0.0.1:$port" PROMETHEUS_MULTIPROC_DIR="$CLUSTER_DIR/metrics/node-$i" \
    "$ROOT/.venv/bin/gunicorn" cerebrum.wsgi:application -c "$ROOT/deploy/gunicorn.conf.py" --chdir "$ROOT" \
    --pid "$RUN_DIR/app-$i.pid" --name "cerebrum-node-$i"
done
restart_child() {  # name: a warm shutdown of the supervised process; its loop starts it again on the current code
  pkill -TERM -P "$(cat "$RUN_DIR/$1.loop.pid")" 2>/dev/null && log "$1 restarting"
}
for queue in "${QUEUES[@]}"; do
  if running "worker-$queue"; then restart_child "worker-$queue"; continue; fi
  log "celery worker for queue $queue"
  supervise "worker-$queue" "$ROOT/.venv/bin/celery" --workdir "$ROOT" -A cerebrum worker -Q "$queue" -c 1 \
    -n "$queue@cluster" --without-gossip --without-mingle -l INFO
done
if running beat; then
  restart_child beat
else
  log "celery beat (exactly one)"
  supervise beat "$ROOT/.venv/bin/celery" --workdir "$ROOT" -A cerebrum beat -l INFO -s "$CLUSTER_DIR/celerybeat-schedule"
fi

NGINX="$CLUSTER_DIR/nginx"
mkdir -p "$NGINX"/{client_body,proxy,fastcgi,uwsgi,scgi,cache}
chmod 777 "$NGINX"/{client_body,proxy,fastcgi,uwsgi,scgi,cache}
# The shipped template, rendered for loopback; a node that hangs is given up on after
# CLUSTER_PROXY_READ_TIMEOUT seconds (production: 60 s), a refused connect after 1 s.
sed -e "s#@@NGINX_WORKERS@@#1#" -e "s#@@RUN_DIR@@#$NGINX#g" -e "s#@@ACCESS_LOG@@#$NGINX/access.log timed#" \
    -e "s#@@UNLIMITED_CIDR@@#127.0.0.0/8#" -e "s#@@EDGE_REFRESH_FROM@@#127.0.0.0/8#" -e "s#@@API_RATE@@#100r/m#" -e "s#@@AUTH_RATE@@#10r/m#" \
    -e "s#@@UPSTREAM_SERVERS@@#${UPSTREAMS%\\n}#" -e "s#@@LISTEN@@#127.0.0.1:$HTTP_PORT#" \
    -e "s#@@STATIC_ROOT@@#$ROOT/staticfiles#" -e "s#@@PROXY_CACHE@@#pages#g" \
    -e "s#proxy_connect_timeout 5s;#proxy_connect_timeout 1s;#" \
    -e "s#proxy_read_timeout 60s;#proxy_read_timeout ${CLUSTER_PROXY_READ_TIMEOUT:-10}s;#" \
    deploy/nginx.conf.template >"$NGINX/nginx.conf"
nginx -t -q -c "$NGINX/nginx.conf" -p "$NGINX" -g "error_log $NGINX/error.log;"
if [ -f "$NGINX/nginx.pid" ] && kill -0 "$(cat "$NGINX/nginx.pid")" 2>/dev/null; then
  nginx -s reload -c "$NGINX/nginx.conf" -p "$NGINX" -g "error_log $NGINX/error.log;"
else
  log "nginx on :$HTTP_PORT"
  nginx -c "$NGINX/nginx.conf" -p "$NGINX" -g "error_log $NGINX/error.log;"
fi

healthy() { curl -sf -o /dev/null "http://127.0.0.1:$1/health"; }
for i in $(seq 1 "$CLUSTER_NODES"); do
  wait_for 120 healthy $(( APP_PORT_BASE + i - 1 )) || { log "node $i did not come up"; tail -30 "$RUN_DIR/app-$i.log"; exit 1; }
done
wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/ready" || { log "/ready fails through nginx"; exit 1; }
log "up: http://127.0.0.1:$HTTP_PORT  (environment: $ENV_FILE, state: $CLUSTER_DIR)"
