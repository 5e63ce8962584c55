#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a data folder of its
# own, listening on loopback (TCP, with TLS on: a CA and server certificate made here) and on a
# Unix socket in the folder. As root the server runs as the `postgres` user (initdb refuses root).
#   test-cluster.sh start DIR PORT   # prints the postgres:// URL (trust authentication on loopback)
#   test-cluster.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL's server is not installed (Debian: apt-get install postgresql)" >&2; exit 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
  port=${3:?port}
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir/data" "$dir/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" \
      -days 30 -subj "/CN=dudao test PostgreSQL CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" \
      -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/tls/ext.cnf"
    openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" -CAcreateserial \
      -out "$dir/tls/server.pem" -days 30 -extfile "$dir/tls/ext.cnf" 2>/dev/null
    chmod 600 "$dir/tls/server.key"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/tls/server.pem'
ssl_key_file = '$dir/tls/server.key'
max_connections = 200
fsync = on
synchronous_commit = on
CONF
  fi
  # After a kill -9 the dead postmaster may linger as a zombie until something reaps it, and
  # PostgreSQL takes a zombie's PID in postmaster.pid for a live server: such a file is stale.
  if [ -f "$dir/data/postmaster.pid" ]; then
    old=$(head -n 1 "$dir/data/postmaster.pid")
    state=$(awk '{print $3}' "/proc/$old/stat" 2>/dev/null || true)
    if [ -z "$state" ] || [ "$state" = Z ]; then rm -f "$dir/data/postmaster.pid" "$dir"/.s.PGSQL.*.lock; fi
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
*) echo "start|stop" >&2; exit 2 ;;
esac
