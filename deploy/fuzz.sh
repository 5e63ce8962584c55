#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a fixed time.
#
#   deploy/fuzz.sh [target] [seconds]     target: frames, envelope, feeds or all (default); 30 s each
#
# frames    the real FrameDecoder (ByteToMessageHandler on an EmbeddedChannel) fed a byte stream in
#           reads of varying sizes, checked against an independent reading of the stream; every
#           payload then goes through the envelope checks
# envelope  Envelope.parse on a frame payload, JSONParser/JSONWriter round trip (parse → write →
#           parse gives an equal value), replies, and the feed checks for feed envelopes
# feeds     FeedValidator.validate for every FeedType (byte 0 chooses it), then Registry.check/apply
#
# Everything lives in .build-fuzz (git-ignored; the normal .build is never touched): the build
# (DUDAO_FUZZ=1 adds the fuzz products to Package.swift), the seed corpus written by
# Tests/Fuzz/make-corpus.py, the corpus each target grows (work/), logs and crash artifacts.
# Prints each target's executions, seconds and whether it found anything; exits 1 when a target
# found a crash, a hang (> 5 s for one input) or ran out of memory. To reproduce a finding:
#   SWIFT_BACKTRACE=enable=no .build-fuzz/release/fuzz-<target> <artifact file>
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-all}
seconds=${2:-30}
case "$target" in
  all) targets=(frames envelope feeds) ;;
  frames | envelope | feeds) targets=("$target") ;;
  *) echo "usage: deploy/fuzz.sh [frames|envelope|feeds|all] [seconds]" >&2; exit 2 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: seconds must be a whole number" >&2; exit 2; }

OUT=.build-fuzz
# Release (-O) by default: NIO's debug build made the frames target ~8x slower. FUZZ_CONFIG=debug
# for -Onone; either way Dudao's code gets AddressSanitizer and libFuzzer's coverage.
CONFIG=${FUZZ_CONFIG:-release}
command -v swift >/dev/null || { echo "fuzz: swift is not on PATH" >&2; exit 1; }
if ! command -v python3 >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3
fi

max_len() {
  case "$1" in frames | envelope) echo 4096 ;; feeds) echo 2048 ;; esac
}

mkdir -p "$OUT/logs"
for t in "${targets[@]}"; do
  echo "== building fuzz-$t ($CONFIG; the first build of the dependencies takes several minutes)"
  # gold warns about every ASan helper symbol it cannot export; those lines are noise.
  # Package.swift gives Dudao's own targets AddressSanitizer and libFuzzer coverage.
  if ! DUDAO_FUZZ=1 swift build -c "$CONFIG" --scratch-path "$OUT" --product "fuzz-$t" >"$OUT/logs/build-$t.log" 2>&1; then
    grep -v "Cannot export local symbol" "$OUT/logs/build-$t.log" | tail -n 40
    echo "fuzz: the build of fuzz-$t failed (log: $OUT/logs/build-$t.log)" >&2
    exit 1
  fi
done
python3 Tests/Fuzz/make-corpus.py "$OUT/corpus" >/dev/null

found=0
summary=()
for t in "${targets[@]}"; do
  work="$OUT/work/$t"
  artifacts="$OUT/artifacts/$t"
  log="$OUT/logs/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz-$t for ${seconds} s"
  start=$(date +%s)
  status=0
  # SWIFT_BACKTRACE=enable=no: otherwise Swift's backtracer can hold a crashing process for minutes.
  SWIFT_BACKTRACE=enable=no timeout --signal=INT $((seconds + 120)) "$OUT/$CONFIG/fuzz-$t" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=5 -rss_limit_mb=2048 \
    -dict="$OUT/corpus/dudao.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "$work" "$OUT/corpus/$t" >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "$work" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result="nothing found"
  else
    found=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    result="FOUND (exit $status): ${artifact:-see $log}"
    grep -E "fuzz invariant broken|Fatal error|ERROR: (libFuzzer|AddressSanitizer)|SUMMARY" "$log" | head -n 5 | sed 's/^/   /'
  fi
  line=$(printf "%-9s %10s executions in %3d s (%s/s), coverage %s, corpus %s: %s" \
    "$t" "${runs:-?}" "$elapsed" "${rate:-?}" "${cov:-?}" "$corpus" "$result")
  echo "$line"
  summary+=("$line")
done

echo "== summary (logs in $OUT/logs, findings in $OUT/artifacts)"
printf '%s\n' "${summary[@]}"
exit "$found"
