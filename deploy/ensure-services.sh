#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are installed but stopped; fail clearly if they are absent.
# Tests never fall back to SQLite.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "ERROR: PostgreSQL is not installed (apt-get install postgresql). make test needs it." >&2
    exit 1
  fi
  echo "Starting PostgreSQL…"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_up && break; sleep 0.5; done
  pg_up || { echo "ERROR: PostgreSQL did not start" >&2; exit 1; }
fi

if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    echo "ERROR: Redis is not installed (apt-get install redis-server). make test needs it." >&2
    exit 1
  fi
  echo "Starting Redis…"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis_up && break; sleep 0.2; done
  redis_up || { echo "ERROR: Redis did not start" >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up."
