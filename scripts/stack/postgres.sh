#!/usr/bin/env bash
# PostgreSQL from Debian's packages, with a role and database for Tributary.
# Idempotent.   postgres.sh up | down | status | url
source "$(dirname "$0")/common.sh"

DATABASE_URL_DEFAULT="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"

cluster() { pg_lsclusters --no-header 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2; exit}'; }

ensure_installed() {
    if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ]; then
        log "installing postgresql from Debian's packages"
        apt_install postgresql
    fi
    if [ -z "$(cluster)" ]; then
        local ver; ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
        log "creating cluster $ver/main on port $PG_PORT"
        pg_createcluster "$ver" main --port "$PG_PORT" >&2
    fi
}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

up() {
    ensure_installed
    read -r ver name <<<"$(cluster)"
    if ! pg_lsclusters --no-header | awk -v p="$PG_PORT" '$3 == p && $4 == "online" {found=1} END {exit !found}'; then
        log "starting postgresql $ver/$name"
        pg_ctlcluster "$ver" "$name" start >&2
    fi
    wait_for "postgresql on 127.0.0.1:$PG_PORT" 60 port_open "$PG_PORT" || die "postgresql did not start"
    # Role and database are created only if missing; the password is reset so
    # DATABASE_URL below is always right. CREATEROLE (dev stack only): the
    # integration tests create a role without write grants to prove that a
    # database refusing the indexer's writes pauses it and loses nothing.
    as_postgres psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 <<SQL >&2
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEROLE PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEROLE PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SQL
    if ! as_postgres psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
        as_postgres createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB"
    fi
    log "DATABASE_URL=$DATABASE_URL_DEFAULT"
}

down() {
    local c; c=$(cluster)
    if [ -n "$c" ]; then read -r ver name <<<"$c"; pg_ctlcluster "$ver" "$name" stop >&2 || true; fi
}

status() {
    if port_open "$PG_PORT"; then echo "postgres: up   $DATABASE_URL_DEFAULT" | sed "s/:$PG_PASSWORD@/:***@/"; return 0; fi
    echo "postgres: down"; return 1
}

case "${1:-}" in
    up) up ;; down) down ;; status) status ;; url) echo "$DATABASE_URL_DEFAULT" ;;
    *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac
