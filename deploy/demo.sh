#!/usr/bin/env bash
# Sets up and runs Dudao on the embedded default (SQLite) with the synthetic sample city:
# installs what is missing, builds, issues certificates, starts the services, sends the sample
# feeds and prints what happened. The services keep running; `deploy/demo.sh stop` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=run
BIN=.build/debug

stop() {
  if [ -d "$RUN/pids" ]; then
    for f in "$RUN"/pids/*.pid; do
      [ -e "$f" ] || continue
      kill "$(cat "$f")" 2>/dev/null || true
      rm -f "$f"
    done
  fi
}
if [ "${1:-}" = "stop" ]; then stop; echo "demo: stopped"; exit 0; fi

deploy/setup.sh
stop
mkdir -p "$RUN/pids" "$RUN/logs" "$RUN/data"

echo "== certificates (run/certs)"
$BIN/dudao certs init "$RUN/certs" --integrator kg-census-system --integrator alarm-platform \
  --integrator police-video-platform --integrator town-dongcheng --integrator dudao-web | tail -n 3

start() { # name config
  local name=$1 config=$2
  $BIN/$name --config "$config" >"$RUN/logs/$name.out" 2>"$RUN/logs/$name.log" &
  echo $! >"$RUN/pids/$name.pid"
  for _ in $(seq 1 100); do
    grep -q "listening on" "$RUN/logs/$name.out" 2>/dev/null && { echo "started $(cat "$RUN/logs/$name.out")"; return 0; }
    sleep 0.1
  done
  echo "demo: $name did not start; see $RUN/logs/$name.log"; cat "$RUN/logs/$name.log"; exit 1
}
echo "== services"
start dudao-ingest deploy/ingest.json
start dudao-notify deploy/notify.json
start dudao-indicators deploy/indicators.json
start dudao-safety deploy/safety.json

export DUDAO_CERTS="$RUN/certs"
echo "== sending the sample city (deploy/sample/data, synthetic)"
$BIN/dudao send --identity kg-census-system --quiet deploy/sample/data/0[1-7]-*.jsonl
# The sample heartbeats carry a fixed time; send them as of now, so the devices are live.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sed "s/2026-11-29T08:00:00+08:00/$now/" deploy/sample/data/09-safety-heartbeats.jsonl | sed "s/sample-safety.heartbeat/demo-$now-heartbeat/" \
  > "$RUN/heartbeats-now.jsonl"
$BIN/dudao send --identity alarm-platform --quiet deploy/sample/data/08-*.jsonl "$RUN/heartbeats-now.jsonl"
echo "== sending it again, as the same senders: every line is a duplicate, nothing is stored twice"
$BIN/dudao send --identity kg-census-system --quiet deploy/sample/data/0[1-7]-*.jsonl
$BIN/dudao send --identity alarm-platform --quiet deploy/sample/data/08-*.jsonl "$RUN/heartbeats-now.jsonl"
echo "== a town office may only send for its own town"
$BIN/dudao send --identity town-dongcheng deploy/sample/data/04-preschool-census.jsonl 2>/dev/null | grep -m 2 forbidden || true
echo "== ingest status"
$BIN/dudao status
echo "== waiting for the indicators and safety services to consume the log"
for _ in $(seq 1 100); do
  $BIN/dudao status --ingest-only | python3 -c 'import json,sys; s=json.load(sys.stdin); c=s["consumers"]; sys.exit(0 if all(c.get(n,0)>=s["head"] for n in ("dudao-indicators","dudao-safety")) else 1)' && break
  sleep 0.3
done
YEAR=2025
MONTH=$(date +%-m)
echo "== the monthly report, city level ($YEAR, markdown; --format html gives charts)"
$BIN/dudao report --year $YEAR --month "$MONTH" --format md | sed -n '1,45p'
$BIN/dudao report --year $YEAR --month "$MONTH" --format html --out "$RUN/report-$YEAR-$MONTH.html" >/dev/null
echo "   (HTML report: $RUN/report-$YEAR-$MONTH.html)"
echo "== will the county pass its assessment? the national criteria ($YEAR): gaps and who makes them"
$BIN/dudao report --readiness --year $YEAR --catalog national-2020 --format md | sed -n '1,40p'
$BIN/dudao report --readiness --year $YEAR --format html --out "$RUN/readiness-$YEAR.html" >/dev/null
echo "   (HTML readiness report, every catalog: $RUN/readiness-$YEAR.html)"
echo "== safety systems (dudao safety)"
$BIN/dudao safety --limit 5
echo "== a one-key alarm is pressed at 东成镇中心幼儿园's gate"
printf '{"device_id":"alarm-kg-dongcheng-01-1","institution_id":"kg-dongcheng-01","at":"%s","note":"demo"}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$RUN/alarm.jsonl"
$BIN/dudao send --identity alarm-platform --type safety.alarm "$RUN/alarm.jsonl" | tail -n 1
sleep 2
echo "== alerts (dudao alerts list)"
$BIN/dudao alerts list | head -n 12
echo "   alert messages delivered as files: $(ls "$RUN"/alerts/ 2>/dev/null | tr '\n' ' ')"
echo
echo "== the dashboard (dudao-web)"
start dudao-web deploy/web.json
echo "   open http://127.0.0.1:8080/ and log in as zhang / zhang-example (bureau), wang / safety-example"
echo "   (safety staff) or dong / dong-example (东成镇 only): example accounts, deploy/web/accounts.example.json"
echo
echo "Services are running (logs in $RUN/logs). Try: $BIN/dudao tail --to-head | head -3"
echo "Stop them with: deploy/demo.sh stop"
