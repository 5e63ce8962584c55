#!/usr/bin/env bash
# Benchmarks dudao-safety (README, "dudao-safety" > Performance). Starts a private dudao-ingest,
# dudao-safety and dudao-notify in a temporary folder (their own certificates, databases and ports), then runs
#   1. the state benchmark       — the engine in process: heartbeats/s and resident memory, 1 000 000 devices
#                                  (Tests/DudaoTests/SafetyStateBenchmark.swift, run by swift test in release)
#   2. dudao bench safety        — heartbeats through the running ingest into the running safety,
#                                  alarms alongside: latency from the ingest's ack of an alarm to
#                                  dudao-notify writing the alert (file channel, fsync'd)
#                                  (STANDIN=1: no notify; the bench listens on notify's port instead)
# Usage: deploy/bench-safety.sh [extra options for dudao bench safety, e.g. --devices 200000]
# BIN=.build/release by default (build it first: swift build -c release); PORT_BASE=17400;
# SKIP_STATE=1 skips step 1; KEEP=1 leaves the services running and the folder in place.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
BASE=${PORT_BASE:-17400}
DIR=$(mktemp -d /tmp/dudao-safety-bench.XXXXXX)
PIDS=()
cleanup() {
  if [ -n "${KEEP:-}" ]; then echo "kept $DIR; services: ${PIDS[*]}"; return; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

"$BIN/dudao" certs init "$DIR/certs" >/dev/null
cp deploy/access.json "$DIR/access.json"
cat >"$DIR/ingest.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $((BASE + 1))},
 "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"},
 "access_file": "access.json", "database": "data/ingest.sqlite", "consumers": ["dudao-safety"]}
JSON
cat >"$DIR/notify.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $((BASE + 4))},
 "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-notify.pem", "key": "certs/dudao-notify.key"},
 "access_file": "access.json", "routes_file": "routes.json", "database": "data/notify.sqlite"}
JSON
cat >"$DIR/routes.json" <<JSON
{"routes": [
   {"match": {"event": "safety.alarm"}, "to": ["police"], "group_by": ["alert_key"], "group_wait_seconds": 0, "repeat_interval_seconds": 300},
   {"match": {}, "to": ["education"]}],
 "departments": {
   "police": {"channels": [{"type": "file", "path": "alerts/police.jsonl"}]},
   "education": {"channels": [{"type": "file", "path": "alerts/education.jsonl"}]}}}
JSON
cat >"$DIR/safety.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $((BASE + 3))},
 "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-safety.pem", "key": "certs/dudao-safety.key"},
 "access_file": "access.json", "database": "data/safety.sqlite",
 "consumer_batch": ${CONSUMER_BATCH:-512},
 "ingest": {"host": "127.0.0.1", "port": $((BASE + 1))}, "notify": {"host": "127.0.0.1", "port": $((BASE + 4))}}
JSON

echo "== 1. in process (no services running)"
[ -n "${SKIP_STATE:-}" ] || DUDAO_BENCH_DEVICES=1000000 SWIFT_BACKTRACE=enable=no \
  swift test -c release -Xswiftc -enable-testing --disable-xctest --filter SafetyStateBenchmark/aProvince

start() { # name
  "$BIN/$1" --config "$DIR/${1#dudao-}.json" >"$DIR/$1.out" 2>"$DIR/$1.log" &
  echo "$1: pid $!" >&2
  PIDS+=($!)
  for _ in $(seq 1 200); do grep -q "listening on" "$DIR/$1.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "$1 did not start:"; cat "$DIR/$1.log"; exit 1
}
start dudao-ingest
start dudao-safety
TARGET=(--notify-port $((BASE + 4)))
if [ -z "${STANDIN:-}" ]; then
  start dudao-notify
  TARGET=(--alerts-file "$DIR/alerts/police.jsonl")
fi
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' /proc/"$1"/stat; }  # user + system seconds
BEFORE=(); for pid in "${PIDS[@]}"; do BEFORE+=("$(cpu "$pid")"); done
echo
echo "== 2. end to end: client -> dudao-ingest -> dudao-safety -> dudao-notify (all on this machine)"
"$BIN/dudao" bench safety --certs "$DIR/certs" --ingest-port $((BASE + 1)) --safety-port $((BASE + 3)) "${TARGET[@]}" "$@"
NAMES=(dudao-ingest dudao-safety dudao-notify)
for i in "${!PIDS[@]}"; do
  echo "${NAMES[$i]} CPU during the run: $(echo "$(cpu "${PIDS[$i]}") ${BEFORE[$i]}" | awk '{printf "%.1f s", $1 - $2}')"
done
echo "dudao-safety resident now: $(grep VmRSS /proc/"${PIDS[1]}"/status | awk '{print $2/1024 " MB"}')"
