#!/usr/bin/env bash
# CI: installs Dudao with deploy/install.sh into a temporary root (nothing outside it changes),
# checks the layout (files, modes, owners, units, configuration), runs `systemd-analyze verify`
# on every unit (and proves it catches a broken one), re-runs the installer to show it is
# idempotent and keeps an edited configuration. Ends with "install-check: N passed, M failed".
#
#   deploy/install-check.sh [BIN]     BIN: the executables (default .build/debug, after `swift build`)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-.build/debug}
if [ ! -d "$bin" ] && [ -z "${1:-}" ] && [ -d ".build/$(uname -m)-unknown-linux-gnu/debug" ]; then
  bin=".build/$(uname -m)-unknown-linux-gnu/debug"
fi
for exe in dudao dudao-ingest dudao-indicators dudao-safety dudao-notify; do
  [ -x "$bin/$exe" ] || { echo "install-check: $bin/$exe is missing: build first (swift build)" >&2; exit 1; }
done
bin=$(cd "$bin" && pwd)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for tool in systemd-analyze:systemd python3:python3-minimal useradd:passwd readelf:binutils; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    echo "install-check: installing ${tool#*:} (for ${tool%%:*})"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${tool#*:}"
  fi
done
[ "$(id -u)" -eq 0 ] || { echo "install-check: needs root (file owners in the temporary root)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "  ok   $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL $*"; }
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/       /' "$work/out"; fi; }
# mode_is PATH MODE OWNER GROUP (numbers)
mode_is() { [ "$(stat -c '%a %u %g' "$1")" = "$2 $3 $4" ] || { echo "$1: $(stat -c '%a %u %g' "$1"), want $2 $3 $4"; return 1; }; }
install_into() { deploy/install.sh --bin "$bin" --root "$@"; }

echo "== install into $root (binaries from $bin)"
host_users=$(md5sum /etc/passwd /etc/group)
check "install.sh runs" install_into "$root"
sed 's/^/       /' "$work/out" | grep -E 'error|warning' || true

uid=$(awk -F: '$1 == "dudao" { print $3 }' "$root/etc/passwd" 2>/dev/null || true)
gid=$(awk -F: '$1 == "dudao" { print $3 }' "$root/etc/group" 2>/dev/null || true)
check "user and group dudao in ROOT/etc/passwd (system uid, nologin)" \
  awk -F: -v u="$uid" '$1 == "dudao" && $3 == u && u < 1000 && $7 == "/usr/sbin/nologin" { found = 1 } END { exit !found }' "$root/etc/passwd"
check "this host's /etc/passwd and /etc/group are untouched" bash -c "[ \"\$(md5sum /etc/passwd /etc/group)\" = '$host_users' ]"
uid=${uid:-0} gid=${gid:-0}

echo "== layout"
for exe in dudao dudao-ingest dudao-indicators dudao-safety dudao-notify; do
  check "/usr/local/bin/$exe (0755, same as $bin/$exe)" \
    bash -c "cmp -s '$bin/$exe' '$root/usr/local/bin/$exe' && [ \$(stat -c %a '$root/usr/local/bin/$exe') = 755 ]"
  # MemoryDenyWriteExecute=yes refuses an executable stack and text relocations.
  check "$exe: no executable stack, no text relocations (MemoryDenyWriteExecute)" \
    bash -c "readelf -lW '$root/usr/local/bin/$exe' | grep GNU_STACK | grep -qv RWE && ! readelf -dW '$root/usr/local/bin/$exe' | grep -q TEXTREL"
done
check "/etc/dudao 0750 root:dudao" mode_is "$root/etc/dudao" 750 0 "$gid"
check "/etc/dudao/tls 0750 root:dudao" mode_is "$root/etc/dudao/tls" 750 0 "$gid"
check "/var/lib/dudao 0750 dudao:dudao" mode_is "$root/var/lib/dudao" 750 "$uid" "$gid"
check "/var/lib/dudao/alerts 0750 dudao:dudao" mode_is "$root/var/lib/dudao/alerts" 750 "$uid" "$gid"
for f in ingest indicators safety notify access routes catalog/enping-2023-2025.json tls/revoked; do
  f=${f%.json}
  check "/etc/dudao/$f.json 0640 root:dudao" mode_is "$root/etc/dudao/$f.json" 640 0 "$gid"
done
check "configurations: valid JSON, paths under /etc/dudao and /var/lib/dudao" python3 - "$root/etc/dudao" <<'EOF'
import json, sys, os
etc = sys.argv[1]; bad = []
def need(cond, msg):
    if not cond: bad.append(msg)
for s in ["ingest", "indicators", "safety", "notify"]:
    c = json.load(open(os.path.join(etc, s + ".json")))
    name = "dudao-" + s
    tls = c.get("tls", {})
    need(tls.get("ca") == "/etc/dudao/tls/ca.pem", f"{s}.json tls.ca")
    need(tls.get("certificate") == f"/etc/dudao/tls/{name}.pem", f"{s}.json tls.certificate")
    need(tls.get("key") == f"/etc/dudao/tls/{name}.key", f"{s}.json tls.key")
    need(tls.get("revoked") == "/etc/dudao/tls/revoked.json", f"{s}.json tls.revoked")
    need(c.get("database") == f"/var/lib/dudao/{s}.sqlite", f"{s}.json database")
    need(c.get("access_file") == "/etc/dudao/access.json", f"{s}.json access_file")
    need(c.get("log_format") == "json", f"{s}.json log_format")
    need(c.get("metrics", {}).get("port") == 9400 + ["ingest", "indicators", "safety", "notify"].index(s) + 1, f"{s}.json metrics.port")
    need(c.get("listen", {}).get("port") == 7400 + ["ingest", "indicators", "safety", "notify"].index(s) + 1, f"{s}.json listen.port")
    for peer in ["ingest", "notify"]:
        if peer in c:
            need(c[peer].get("identity") == "dudao-" + peer, f"{s}.json {peer}.identity")
            need(c[peer].get("host", "").endswith(".enping.example"), f"{s}.json {peer}.host is a DNS name")
    need("../" not in json.dumps(c), f"{s}.json still has a relative ../ path")
need(json.load(open(os.path.join(etc, "indicators.json")))["catalog"] == "/etc/dudao/catalog/enping-2023-2025.json", "indicators.json catalog")
need(json.load(open(os.path.join(etc, "indicators.json"))).get("extra_catalogs") == ["/etc/dudao/catalog/national-2020.json"]
     and os.path.exists(os.path.join(etc, "catalog", "national-2020.json")), "indicators.json extra_catalogs, installed")
need(json.load(open(os.path.join(etc, "indicators.json"))).get("reporting_file") == "/etc/dudao/reporting.json"
     and os.path.exists(os.path.join(etc, "reporting.json")), "indicators.json reporting_file, installed")
need(json.load(open(os.path.join(etc, "notify.json")))["routes_file"] == "/etc/dudao/routes.json", "notify.json routes_file")
routes = json.load(open(os.path.join(etc, "routes.json")))
paths = [ch["path"] for d in routes["departments"].values() for ch in d["channels"] if ch.get("type") == "file"]
need(paths and all(p.startswith("/var/lib/dudao/alerts/") for p in paths), "routes.json file channels under /var/lib/dudao/alerts/")
access = json.load(open(os.path.join(etc, "access.json")))["identities"]
for n in ["dudao-indicators", "dudao-safety", "dudao-notify"]:
    need(access.get(n, {}).get("role") == "service", f"access.json {n} role service")
need(json.load(open(os.path.join(etc, "tls/revoked.json"))) == {"serials": [], "identities": []}, "tls/revoked.json empty list")
json.load(open(os.path.join(etc, "catalog/enping-2023-2025.json")))
for b in bad: print("wrong:", b)
sys.exit(1 if bad else 0)
EOF

echo "== units"
units="dudao.target dudao-ingest.service dudao-indicators.service dudao-safety.service dudao-notify.service"
for u in $units; do
  check "$u installed (0644) and enabled" bash -c \
    "cmp -s deploy/systemd/$u '$root/etc/systemd/system/$u' && [ \$(stat -c %a '$root/etc/systemd/system/$u') = 644 ] && systemctl --root='$root' is-enabled --quiet $u"
done
# verify --root needs what a Debian system has: systemd's own units and /bin/kill (ExecReload).
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$(type -P kill)" "$root/usr/bin/kill"
[ -e "$root/bin" ] || ln -s usr/bin "$root/bin"
# Clean means exit 0 *and* no output: systemd only warns (exit 0) about unknown keys and bad values.
verify_clean() { local out; out=$(systemd-analyze verify --root="$root" "$1" 2>&1) && [ -z "$out" ] || { echo "$out"; return 1; }; }
for u in $units; do check "systemd-analyze verify $u: clean" verify_clean "$u"; done
for u in ingest indicators safety notify; do
  check "dudao-$u.service: exposure (systemd-analyze security) at most 2.0" \
    systemd-analyze security --offline=yes --root="$root" --threshold=20 "dudao-$u.service"
  grep -h 'Overall exposure' "$work/out" | sed 's/^/       /' || true
done
broken=$root/etc/systemd/system
sed 's/^ProtectSystem=strict/ProtectSystm=strict/' "$broken/dudao-ingest.service" >"$broken/dudao-typo.service"
sed 's#/usr/local/bin/dudao-ingest#/usr/local/bin/dudao-missing#' "$broken/dudao-ingest.service" >"$broken/dudao-nobin.service"
sed 's/^Type=notify/Type=notfy/' "$broken/dudao-ingest.service" >"$broken/dudao-badvalue.service"
verify_complains() { if verify_clean "$1"; then echo "verify found nothing wrong"; return 1; fi; }
for u in dudao-typo dudao-nobin dudao-badvalue; do
  check "verify catches a broken unit ($u.service)" verify_complains "$u.service"
  sed -n '1s/^/       /p' "$work/out"
  rm -f "$broken/$u.service"
done

echo "== certificates (as an operator would put them in /etc/dudao/tls)"
tls=$root/etc/dudao/tls
"$bin/dudao" certs init "$work/ca" >/dev/null
certs_help=$("$bin/dudao" certs --help 2>&1 || true)
if grep -qE '^ +request ' <<<"$certs_help" && grep -qE '^ +sign ' <<<"$certs_help"; then
  for s in ingest indicators safety notify; do
    check "certs request dudao-$s on the host, sign on the CA" bash -c \
      "'$bin/dudao' certs request dudao-$s --out '$tls' --dns $s.edu.enping.example && '$bin/dudao' certs sign '$work/ca' '$tls/dudao-$s.csr' --out '$tls/dudao-$s.pem'"
  done
else
  echo "  note: this build has no 'dudao certs request/sign': the certificates are copied from 'dudao certs init'"
  for s in ingest indicators safety notify; do install -m 0644 "$work/ca/dudao-$s.pem" "$work/ca/dudao-$s.key" "$tls/"; done
fi
cp "$work/ca/ca.pem" "$tls/ca.pem"
chmod 0644 "$tls"/*.key
echo "== second run: owners and modes of the key files; check-config; idempotence"
snapshot() { (cd "$root" && find etc var usr/local -printf '%p %m %U %G %l\n' | sort && find etc var usr/local -type f -print0 | sort -z | xargs -0 md5sum); }
check "second run: key files become dudao 0600" install_into "$root"
for k in "$tls"/*.key; do check "${k#"$root"} 0600 dudao:dudao" mode_is "$k" 600 "$uid" "$gid"; done
for c in "$tls"/*.pem; do check "${c#"$root"} 0640 root:dudao" mode_is "$c" 640 0 "$gid"; done
if "$bin/dudao-ingest" --help 2>&1 | grep -q check-config; then
  # The files name /etc/dudao and /var/lib/dudao; check copies that point into the root instead.
  for s in ingest indicators safety notify; do
    sed -e "s#\"/etc/dudao/#\"$root/etc/dudao/#g" -e "s#\"/var/lib/dudao/#\"$root/var/lib/dudao/#g" \
      "$root/etc/dudao/$s.json" >"$root/etc/dudao/check-$s.json"
    check "dudao-$s check-config accepts the host configuration" \
      "$bin/dudao-$s" check-config --config "$root/etc/dudao/check-$s.json"
    rm -f "$root/etc/dudao/check-$s.json"
  done
else
  echo "  note: this build has no 'check-config' subcommand: the configurations were checked as JSON only"
fi

snapshot >"$work/before"
check "third run" install_into "$root"
cp "$work/out" "$work/run3"
said_nothing() { ! grep -E 'created|installed|kept' "$work/run3"; }
unchanged() { snapshot | diff "$work/before" -; }
check "third run reports nothing created, installed or kept" said_nothing
check "third run changes no file, mode or owner" unchanged
echo '{"listen": {"host": "192.0.2.10", "port": 7401}}' >"$root/etc/dudao/ingest.json"
cp "$root/etc/dudao/ingest.json" "$work/edited"
check "run after an edit" install_into "$root"
cp "$work/out" "$work/run4"
check "the edited ingest.json is kept" cmp -s "$work/edited" "$root/etc/dudao/ingest.json"
check "the shipped ingest.json is written beside it as ingest.json.new" cmp -s deploy/host/ingest.json "$root/etc/dudao/ingest.json.new"
check "the installer names the kept file" grep -q 'kept /etc/dudao/ingest.json' "$work/run4"

if command -v promtool >/dev/null; then
  check "deploy/layout/prometheus.yml (promtool check config)" promtool check config deploy/layout/prometheus.yml
else
  echo "  note: no promtool here (Debian package prometheus): deploy/layout/prometheus.yml not checked"
fi
echo "== MemoryDenyWriteExecute: the binaries run with W+X mappings refused (prctl PR_SET_MDWE, Linux 6.3+)"
# mdwe CMD...: runs CMD with writable-and-executable memory refused, as the units do.
mdwe_script='import ctypes, os, sys
if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0: sys.exit(3)
os.execvp(sys.argv[1], sys.argv[1:])'
mdwe() { python3 -c "$mdwe_script" "$@"; }
if mdwe true 2>/dev/null; then
  m=$work/mdwe
  mkdir -p "$m"
  check "dudao certs init under MDWE" mdwe "$bin/dudao" certs init "$m/certs"
  printf '{"listen": {"host": "127.0.0.1", "port": 0}, "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"}, "access_file": "%s", "database": "ingest.sqlite"}\n' \
    "$PWD/deploy/access.json" >"$m/ingest.json"
  # exec all the way down, so that $! is the ingest itself (not a subshell the kill would miss).
  (exec python3 -c "$mdwe_script" "$bin/dudao-ingest" --config "$m/ingest.json") >"$m/stdout" 2>"$m/stderr" &
  ingest_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$m/stdout" && break; kill -0 "$ingest_pid" 2>/dev/null || break; sleep 0.1; done
  port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$m/stdout" | grep -oE '[0-9]+$' || true)
  check "dudao-ingest listens under MDWE" test -n "$port"
  [ -n "$port" ] && check "dudao send (TLS) to it under MDWE" mdwe "$bin/dudao" send --port "$port" --certs "$m/certs" --quiet deploy/sample/data/01-towns.jsonl
  kill -TERM "$ingest_pid" 2>/dev/null || true
  wait "$ingest_pid" 2>/dev/null || true
else
  echo "  note: this kernel has no PR_SET_MDWE: MemoryDenyWriteExecute is checked on the ELF headers only"
fi

echo "== one service, no systemd (useradd)"
check "install.sh --services dudao-safety --no-systemd" deploy/install.sh --bin "$bin" --root "$work/psb" --services dudao-safety --no-systemd
check "only safety's configuration, no units" bash -c \
  "[ -e '$work/psb/etc/dudao/safety.json' ] && [ ! -e '$work/psb/etc/dudao/ingest.json' ] && [ ! -e '$work/psb/etc/dudao/routes.json' ] && [ ! -d '$work/psb/etc/systemd' ] && [ ! -e '$work/psb/usr/local/bin/dudao-ingest' ]"
check "user dudao made by useradd" grep -q '^dudao:x:[0-9]*:[0-9]*:Dudao services:/var/lib/dudao:/usr/sbin/nologin$' "$work/psb/etc/passwd"
refuses_missing() { ! deploy/install.sh --bin "$work" --root "$work/none" 2>&1 | tee "$work/refusal" >/dev/null && grep -q 'is missing' "$work/refusal" && [ ! -e "$work/none" ]; }
check "refuses a missing executable, creates nothing" refuses_missing

if [ -d /run/systemd/system ]; then
  echo "  note: systemd is PID 1 here; the units are verified, not started (they need certificates for real host names)"
else
  echo "  note: PID 1 is $(cat /proc/1/comm), not systemd: the units are verified in the root, not booted"
fi
echo "install-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
