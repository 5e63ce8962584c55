#!/usr/bin/env bash
# dudao-ingest beside NATS JetStream on the shared neutral harness (../shared/bench: loadgen.c and
# ingest_vs_nats.sh, three rounds per shape), and the CPU time one accepted heartbeat costs the
# ingest, with perf's profile of where it goes, and callgrind's count of the instructions it runs.
#
#   deploy/bench-vs-nats.sh                 # the side-by-side table (installs nats-server if missing)
#   deploy/bench-vs-nats.sh --profile N     # the ingest's CPU per accepted heartbeat, and perf's profile
#   deploy/bench-vs-nats.sh --callgrind N   # instructions per acknowledged heartbeat (valgrind), and where
#   SUBSCRIBED=1 deploy/bench-vs-nats.sh    # the same with dudao-safety and dudao-indicators following the log
#                                           # (also for --callgrind: the record frames sent to them counted)
#   deploy/bench-vs-nats.sh --alarm-in-burst AT  # an alarm sent AT s into the 64 x 64 burst, both consumers
#                                           # following: how long until dudao-safety has it (RUNS=3)
#   deploy/bench-vs-nats.sh --callgrind-consumer indicators|safety N
#                                           # instructions per record that consumer applies, and where
#
# BIN=.build/release (swift build -c release --product dudao-ingest, and --product dudao; the
# consumers' products for SUBSCRIBED and --callgrind-consumer);
# HARNESS=../shared/bench; INGEST_SETTINGS='"delivery": {"hold_ms": 0}' adds members to the ingest's
# configuration. A temporary folder holds the certificates and the SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/.build/release}
HARNESS=${HARNESS:-$ROOT/../shared/bench}
DIR=$(mktemp -d /tmp/dudao-vs-nats.XXXXXX)
PID=
cleanup() {
  for pid in "${SUBSCRIBERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$BIN/dudao" certs init "$DIR/certs" >/dev/null
cp deploy/access.json "$DIR/access.json"
# No subscribers (the harness measures the ingest alone), no compaction during the run.
cat >"$DIR/ingest.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": 0},
 "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"},
 "access_file": "access.json", "database": "data/ingest.sqlite", "consumers": [],
 "retention": {"compact_interval_seconds": 86400}${INGEST_SETTINGS:+, $INGEST_SETTINGS}}
JSON
cat >"$DIR/registry.jsonl" <<'JSONL'
{"v": 1, "kind": "feed", "id": "vs-town", "type": "registry.town", "body": {"town_id": "bench", "name": "压测镇", "kind": "town"}}
{"v": 1, "kind": "feed", "id": "vs-kg", "type": "registry.institution", "body": {"institution_id": "bench-kg", "name": "压测幼儿园", "town_id": "bench", "level": "kindergarten", "ownership": "public"}}
JSONL

# start [PREFIX...]: the ingest ($INGEST_EXE, else $BIN's; run under PREFIX, e.g. valgrind) on a
# free port, the bench town and kindergarten registered; sets PORT and PID.
start() {
  PORT=$(free_port)
  DUDAO_INGEST_LISTEN_PORT=$PORT "$@" "${INGEST_EXE:-$BIN/dudao-ingest}" --config "$DIR/ingest.json" >"$DIR/ingest.out" 2>"$DIR/ingest.log" &
  PID=$!
  for _ in $(seq 1200); do grep -q 'listening on' "$DIR/ingest.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$DIR/ingest.out" || { cat "$DIR/ingest.log" >&2; exit 1; }
  "$BIN/dudao" send --quiet --certs "$DIR/certs" --port "$PORT" "$DIR/registry.jsonl" >/dev/null
}

stop() {
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
}

# consumer_config NAME: dudao-NAME's configuration (safety or indicators), following the ingest
# (their alerts queue in their outboxes: no notify here).
consumer_config() {
  local name=$1 tls='"tls": {"ca": "certs/ca.pem", "certificate": "certs/NAME.pem", "key": "certs/NAME.key"}' extra=""
  [ "$name" = indicators ] && extra=", \"catalog\": \"$ROOT/deploy/catalog/enping-2023-2025.json\""
  cat >"$DIR/$name.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $(free_port)}, ${tls//NAME/dudao-$name}, "access_file": "access.json",
 "database": "data/$name.sqlite", "ingest": {"host": "127.0.0.1", "port": $PORT}, "notify": {"host": "127.0.0.1", "port": 9}$extra}
JSON
}
SUBSCRIBERS=()

# subscribe: dudao-safety and dudao-indicators following the ingest, as in production (their
# alerts queue in their outboxes: no notify here); waits until both follow.
subscribe() {
  for name in safety indicators; do
    consumer_config "$name"
    local args=(--config "$DIR/$name.json")
    [ "$name" = indicators ] && args=(serve "${args[@]}")
    "$BIN/dudao-$name" "${args[@]}" >"$DIR/$name.out" 2>"$DIR/$name.log" &
    SUBSCRIBERS+=($!)
  done
  for _ in $(seq 300); do
    if grep -q 'listening on' "$DIR/safety.out" 2>/dev/null && grep -q 'listening on' "$DIR/indicators.out" 2>/dev/null; then
      sleep 2  # their first subscribe
      return
    fi
    sleep 0.2
  done
  echo "the subscribers did not start (see $DIR/*.log)" >&2
  exit 1
}

if [ "${1:-}" = "--alarm-in-burst" ]; then
  # How long an alarm sent AT seconds into the harness's 64 x 64 burst (128 000 heartbeats) takes
  # to reach dudao-safety (polled with `dudao query safety.alarms` every 20 ms), with both
  # consumers following: what holding news back during a burst costs an alarm (README,
  # "Delivery during a burst"). Runs RUNS times (3), a fresh ingest and consumers each time.
  AT=${2:-0.4}
  cc -O2 -o "$DIR/loadgen" "$HARNESS/loadgen.c" -lssl -lcrypto -lpthread
  for run in $(seq "${RUNS:-3}"); do
    start
    subscribe
    SAFETY_PORT=$(python3 -c "import json; print(json.load(open('$DIR/safety.json'))['listen']['port'])")
    printf '{"v":1,"kind":"feed","id":"burst-alarm-%s","type":"safety.alarm","body":{"device_id":"burst-alarm","institution_id":"bench-kg","at":"2025-09-01T09:00:00+08:00"}}\n' "$run" >"$DIR/alarm.jsonl"
    "$DIR/loadgen" dudao 127.0.0.1 "$PORT" 64 2000 64 "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key" >"$DIR/burst.out" &
    LOADGEN=$!
    sleep "$AT"
    "$BIN/dudao" send --quiet --certs "$DIR/certs" --port "$PORT" "$DIR/alarm.jsonl" >/dev/null
    acked=$(date +%s%N)
    until "$BIN/dudao" query --certs "$DIR/certs" --port "$SAFETY_PORT" --server-identity dudao-safety safety.alarms 2>/dev/null |
      grep -q burst-alarm; do
      [ $(($(date +%s%N) - acked)) -lt 30000000000 ] || { echo "run $run: the alarm was not in dudao-safety after 30 s (see $DIR/safety.log)" >&2; exit 1; }
      sleep 0.02
    done
    seen=$(date +%s%N)
    wait "$LOADGEN"
    echo "run $run: the alarm sent ${AT} s into the burst was in dudao-safety $(((seen - acked) / 1000000)) ms after its ack; burst $(grep -o 'rate=[0-9]* msg/s' "$DIR/burst.out")"
    for pid in "${SUBSCRIBERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait "${SUBSCRIBERS[@]}" 2>/dev/null || true
    SUBSCRIBERS=()
    stop
    rm -rf "$DIR/data"
  done
  exit 0
fi

if [ "${1:-}" = "--profile" ]; then
  N=${2:-100000}
  cc -O2 -o "$DIR/loadgen" "$HARNESS/loadgen.c" -lssl -lcrypto -lpthread
  start
  # The ingest's own CPU time (user + system, from /proc) around N heartbeats (8 connections ×
  # window 32): what one accepted heartbeat costs it — TLS, framing, JSON, validation, the group
  # commit, the ack — whatever the client and the disk cost. perf samples where it goes.
  ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
  hz=$(getconf CLK_TCK)
  before=$(ticks)
  perf record -q -F 999 -e cpu-clock -g -p "$PID" -o "$DIR/perf.data" 2>/dev/null &
  PERF=$!
  sleep 0.5
  "$DIR/loadgen" dudao 127.0.0.1 "$PORT" 8 $((N / 8)) 32 "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key"
  kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true
  after=$(ticks)
  echo "ingest CPU per acknowledged heartbeat: $(( (after - before) * 1000000 / hz / N )) µs ($(( after - before )) ticks of 1/$hz s for $N)"
  echo "where it goes (self time, top symbols):"
  perf report -i "$DIR/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40 | cut -c1-180
  if [ -n "${PROFILE_INCLUSIVE:-}" ]; then
    echo "inclusive (with what they call), the project's functions:"
    perf report -i "$DIR/perf.data" --children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | grep -E 'Dudao|dudao|Ingest|Feed|JSON|Frame|Wire' | head -60 | cut -c1-200
  fi
  exit 0
fi

# callgrind_report FILE N WHAT: the instructions in FILE per one of N (WHAT names them), by
# library and by function (self time).
callgrind_report() {
  python3 - "$1" "$2" "$3" <<'PY'
import collections, re, subprocess, sys
out, n, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True, text=True).stdout.splitlines()
rows = []
for line in lines:
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
    if m and "PROGRAM TOTALS" not in m.group(2):
        rows.append((int(m.group(1).replace(",", "")), m.group(2)))
total = sum(count for count, _ in rows)
print(f"instructions per {what}: {total / n:,.0f} ({total:,} for {n})")
groups = [("SQLite", r"libsqlite3"), ("malloc and free", r"malloc\.c"), ("libc strings and memory", r"string/"),
          ("locks", r"nptl"), ("BoringSSL", r"CRYPTO|SSL|ssl_|aes|gcm|sha|EVP|BIO|bn_|ec_"),
          ("Swift runtime and libraries", r"libswift|libdispatch|libFoundation"), ("SwiftNIO", r"NIO"), ("GRDB", r"4GRDB"),
          ("Dudao", r"Dudao|dudao"), ("other", r".")]
by = collections.Counter()
for count, name in rows:
    by[next(g for g, pattern in groups if re.search(pattern, name))] += count
print("by library (self):")
for group, count in by.most_common():
    print(f"  {group:28} {count / n:8,.0f}  {100 * count / total:5.1f} %")
print("top functions (self):")
for count, name in sorted(rows, reverse=True)[:25]:
    print(f"  {count / n:8,.0f}  {name[:150]}")
PY
}

# valgrind_prep EXE: what valgrind 3.19 needs to run a Swift executable, set aside in $DIR:
# - it cannot read the DWARF 5 that swiftc writes: the copy it runs ($DIR/counted) has no debug
#   information (symbols stay, so functions are still named);
# - libdispatch calls sigsuspend with a mask in read-only memory, which valgrind writes to and
#   dies: a preloaded sigsuspend ($DIR/sigsuspend.so) passes it a copy.
valgrind_prep() {
  cat >"$DIR/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) { sigset_t copy; memcpy(&copy, mask, sizeof copy); return (int)syscall(SYS_rt_sigsuspend, &copy, 8); }
C
  cc -O2 -shared -fPIC -o "$DIR/sigsuspend.so" "$DIR/sigsuspend.c"
  cp "$1" "$DIR/counted" && strip -g "$DIR/counted"
}

if [ "${1:-}" = "--callgrind" ]; then
  # Instructions, not seconds: the same for the same executable and load, whatever else the
  # machine does.
  N=${2:-20000}
  cc -O2 -o "$DIR/loadgen" "$HARNESS/loadgen.c" -lssl -lcrypto -lpthread
  valgrind_prep "${INGEST:-$BIN/dudao-ingest}"
  INGEST_EXE="$DIR/counted" start env LD_PRELOAD="$DIR/sigsuspend.so" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DIR/callgrind.out"
  # SUBSCRIBED=1: with the two consumers following, the record frames sent to them counted too.
  [ -z "${SUBSCRIBED:-}" ] || subscribe
  # Counted from the first heartbeat to the last ack: 8 connections × window 32, as --profile.
  callgrind_control -i on "$PID" >/dev/null
  "$DIR/loadgen" dudao 127.0.0.1 "$PORT" 8 $((N / 8)) 32 "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key"
  [ -z "${SUBSCRIBED:-}" ] || sleep 5  # the last records on their way to the consumers
  callgrind_control -d "$PID" >/dev/null
  stop
  callgrind_report "$DIR/callgrind.out.1" "$N" "acknowledged heartbeat"
  exit 0
fi

if [ "${1:-}" = "--callgrind-consumer" ]; then
  # The same count for a consumer (safety or indicators) applying N heartbeats the ingest
  # stored: it starts under valgrind once 200 are in the log, follows them, then is counted
  # from the moment it has caught up until it has applied N more (8 × 32, new readings).
  WHO=${2:?safety or indicators}
  N=${3:-16000}
  cc -O2 -o "$DIR/loadgen" "$HARNESS/loadgen.c" -lssl -lcrypto -lpthread
  valgrind_prep "$BIN/dudao-$WHO"
  start
  "$DIR/loadgen" dudao 127.0.0.1 "$PORT" 1 200 1 "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key" >/dev/null
  consumer_config "$WHO"
  args=(--config "$DIR/$WHO.json")
  [ "$WHO" = indicators ] && args=(serve "${args[@]}")
  LD_PRELOAD="$DIR/sigsuspend.so" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DIR/callgrind.out" \
    "$DIR/counted" "${args[@]}" >"$DIR/$WHO.out" 2>"$DIR/$WHO.log" &
  SUBSCRIBERS+=($!)
  # caught_up: waits until the consumer's committed position is the log's head; sets HEAD.
  caught_up() {
    for _ in $(seq 900); do
      read -r position HEAD < <("$BIN/dudao" query --certs "$DIR/certs" --port "$PORT" ingest.status 2>/dev/null |
        python3 -c "import json, sys; b = json.load(sys.stdin)['body']; print(b['consumers'].get('dudao-$WHO', 0), b['head'])" 2>/dev/null || echo "0 1")
      [ "$position" -ge "$HEAD" ] && return
      sleep 2
    done
    echo "dudao-$WHO did not catch up (see $DIR/$WHO.log)" >&2
    exit 1
  }
  caught_up
  first=$HEAD
  callgrind_control -i on "${SUBSCRIBERS[0]}" >/dev/null
  "$DIR/loadgen" dudao 127.0.0.1 "$PORT" 8 $((N / 8)) 32 "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key" >/dev/null
  caught_up
  callgrind_control -d "${SUBSCRIBERS[0]}" >/dev/null
  callgrind_report "$DIR/callgrind.out.1" "$((HEAD - first))" "applied record (dudao-$WHO)"
  exit 0
fi


command -v nats-server >/dev/null || apt-get install -y nats-server >/dev/null
start
[ -z "${SUBSCRIBED:-}" ] || subscribe
bash "$HARNESS/ingest_vs_nats.sh" "$PORT" "$DIR/certs/ca.pem" "$DIR/certs/operator.pem" "$DIR/certs/operator.key"
