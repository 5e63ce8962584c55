#!/usr/bin/env bash
# The ingest on SQLite and on PostgreSQL, side by side (README, "Several instances on PostgreSQL").
# Starts, in a temporary folder: a throwaway PostgreSQL cluster (deploy/postgres/test-cluster.sh),
# then in turn one dudao-ingest on SQLite, one on PostgreSQL, and two on the same PostgreSQL
# database, and runs `dudao bench` against each (the two instances: connections spread over both).
# Usage: deploy/bench-postgres.sh [options for dudao bench; default --feed heartbeat --connections 1,8,64 --count 40000]
# BIN=.build/release by default (swift build -c release first).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
DIR=$(mktemp -d /tmp/dudao-pg-bench.XXXXXX)
chmod 755 "$DIR"
PIDS=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port)
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/postgres/test-cluster.sh stop "$DIR/pg"
  rm -rf "$DIR"
}
trap cleanup EXIT
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(--feed heartbeat --connections 1,8,64 --count 40000)

"$BIN/dudao" certs init "$DIR/certs" >/dev/null
cp deploy/access.json "$DIR/access.json"
cat >"$DIR/ingest.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": 0},
 "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"},
 "access_file": "access.json", "database": "data/ingest.sqlite", "consumers": []}
JSON
PG=$(deploy/postgres/test-cluster.sh start "$DIR/pg" "$PG_PORT")

# start NAME DATABASE: an instance on a free port; prints the port.
start() {
  local port; port=$(free_port)
  DUDAO_INGEST_DATABASE="$2" DUDAO_INGEST_LISTEN_PORT=$port "$BIN/dudao-ingest" --config "$DIR/ingest.json" \
    >"$DIR/$1.out" 2>"$DIR/$1.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'listening on' "$DIR/$1.out" 2>/dev/null && break; sleep 0.1; done
  echo "$port"
}
stop_all() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }

echo "== SQLite, one instance"
port=$(start sqlite "$DIR/data/ingest.sqlite")
"$BIN/dudao" bench --certs "$DIR/certs" --port "$port" "${ARGS[@]}"
stop_all

psql -q "$PG" -c "CREATE DATABASE one" -c "CREATE DATABASE two"
echo "== PostgreSQL, one instance"
port=$(start pg-one "${PG%/postgres}/one")
"$BIN/dudao" bench --certs "$DIR/certs" --port "$port" "${ARGS[@]}"
stop_all

echo "== PostgreSQL, two instances on one database"
first=$(start pg-two-a "${PG%/postgres}/two")
second=$(start pg-two-b "${PG%/postgres}/two")
"$BIN/dudao" bench --certs "$DIR/certs" --port "$first" --also-port "$second" "${ARGS[@]}"
stop_all
