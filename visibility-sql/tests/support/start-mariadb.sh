#!/usr/bin/env bash
# Starts a throwaway MariaDB on 127.0.0.1 for visibility-sql's tests and prints its URL
# (export it as VISIBILITY_SQL_MYSQL_URL). Idempotent: a server already running from the
# same directory is reused. `start-mariadb.sh stop` stops it.
#   VISIBILITY_SQL_MARIADB_PORT (default 3399), VISIBILITY_SQL_MARIADB_DIR (default /tmp/visibility-sql-mariadb-<port>)
# Installs the Debian package when mariadbd is missing. Fails loudly.
set -euo pipefail
port="${VISIBILITY_SQL_MARIADB_PORT:-3399}"
dir="${VISIBILITY_SQL_MARIADB_DIR:-/tmp/visibility-sql-mariadb-$port}"
sock="$dir/mysqld.sock"
db=visibility_test
# A local throwaway server: the test user's password is not a secret.
url="mysql://visibility:visibility@127.0.0.1:$port/$db"

die() { echo "start-mariadb.sh: $*" >&2; exit 1; }

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "start-mariadb.sh: no mariadbd; installing the Debian package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >&2
fi
PATH="$PATH:/usr/sbin"
command -v mariadbd >/dev/null || die "mariadbd not found after installing mariadb-server"

client() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }

if [ "${1:-}" = stop ]; then
  [ -S "$sock" ] && mariadb-admin --no-defaults --socket="$sock" -uroot shutdown >&2
  exit 0
fi

if [ -S "$sock" ] && mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then
  echo "$url"
  exit 0
fi

(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
  && die "port $port is taken by another server: set VISIBILITY_SQL_MARIADB_PORT"
user=$(id -un)
[ "$(id -u)" = 0 ] && user=mysql
id "$user" >/dev/null 2>&1 || useradd --system mysql
mkdir -p "$dir"
chown "$user" "$dir"
if [ ! -d "$dir/data/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
fi
nohup mariadbd --no-defaults --datadir="$dir/data" --user="$user" --port="$port" \
  --bind-address=127.0.0.1 --socket="$sock" --pid-file="$dir/mysqld.pid" \
  --skip-log-bin --innodb-flush-log-at-trx-commit=0 --max-connections=200 \
  --character-set-server=utf8mb4 \
  >"$dir/server.log" 2>&1 &
for _ in $(seq 1 60); do
  mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
  sleep 1
done
mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 \
  || { tail -n 50 "$dir/server.log" >&2; die "mariadbd did not start"; }
client -e "CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4;
  CREATE USER IF NOT EXISTS 'visibility'@'127.0.0.1' IDENTIFIED BY 'visibility';
  GRANT ALL ON $db.* TO 'visibility'@'127.0.0.1';" || die "creating database $db failed"
echo "$url"
