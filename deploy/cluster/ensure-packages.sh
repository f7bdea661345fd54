#!/usr/bin/env bash
# The Debian packages the cluster and `make test` need: PostgreSQL 15 (initdb, pg_basebackup), PgBouncer,
# nginx, Redis. Idempotent: installs only what is missing (apt-get update first, once). Needs root.
set -euo pipefail

missing=()
command -v pgbouncer >/dev/null || missing+=(pgbouncer)
command -v nginx >/dev/null || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v pg_basebackup >/dev/null || missing+=(postgresql-client-15)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packages' own services are not ours: the cluster and the tests start private instances.
for unit in pgbouncer; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl stop "$unit" || true
  fi
done
echo "packages: postgresql-15 pgbouncer nginx redis-server present"
