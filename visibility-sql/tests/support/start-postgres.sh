#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 for visibility-sql's tests and prints its URL
# (export it as VISIBILITY_SQL_POSTGRES_URL). Idempotent: a server already running from the
# same data directory is reused. `start-postgres.sh stop` stops it.
#   VISIBILITY_SQL_PG_PORT (default 54329), VISIBILITY_SQL_PG_DIR (default /tmp/visibility-sql-pg-<port>)
# Installs the Debian package when no PostgreSQL binaries are found. Fails loudly.
set -euo pipefail
port="${VISIBILITY_SQL_PG_PORT:-54329}"
dir="${VISIBILITY_SQL_PG_DIR:-/tmp/visibility-sql-pg-$port}"
db=visibility_test
url="postgres://postgres@127.0.0.1:$port/$db"

die() { echo "start-postgres.sh: $*" >&2; exit 1; }

find_bin() {
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}
bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "start-postgres.sh: no PostgreSQL binaries; installing the Debian package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bin=$(find_bin || true)
  [ -n "$bin" ] || die "postgresql installed but pg_ctl not found"
fi

# The server refuses to run as root: run it as `postgres` when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-}" = stop ]; then
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
  exit 0
fi

if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  echo "$url"
  exit 0
fi

(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
  && die "port $port is taken by another server: set VISIBILITY_SQL_PG_PORT"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # No psql needed: create the test database in single-user mode before the server starts.
  echo "CREATE DATABASE $db;" | as_pg "$bin/postgres" --single -D "$dir/data" postgres >"$dir/createdb.log" 2>&1 \
    || { cat "$dir/createdb.log" >&2; die "creating database $db failed"; }
fi
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
  start >&2 || { cat "$dir/server.log" >&2; die "pg_ctl start failed"; }
echo "$url"
