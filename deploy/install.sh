#!/usr/bin/env bash
# Installs Dudao on a Debian host, or into ROOT (a staging folder or image) with --root.
#
#   deploy/install.sh --bin DIR [--root ROOT] [--services "dudao-ingest dudao-notify"] [--no-systemd]
#
#   --bin DIR       folder holding the executables (e.g. .build/release after
#                   `swift build -c release --static-swift-stdlib`)
#   --root ROOT     install below ROOT instead of / (nothing outside ROOT is changed)
#   --services "…"  the services this host runs (default: all four); `dudao` is always installed
#   --no-systemd    no units, no systemctl; the user is made with useradd
#
# What goes where (all below ROOT):
#   /usr/local/bin/dudao{,-ingest,-indicators,-safety,-notify}   executables (replaced when changed)
#   /etc/dudao/<service>.json, access.json, routes.json, catalog/, reporting.json  configuration, root:dudao 0640;
#        an existing file is never overwritten: the shipped version is written beside it as .new
#   /etc/dudao/tls/        0750 root:dudao; keys (*.key) dudao 0600, the rest root:dudao 0640;
#                          revoked.json (empty list) is created when absent
#   /var/lib/dudao/        0750 dudao:dudao: the SQLite databases (and notify's alert files in alerts/)
#   /etc/systemd/system/   dudao-<service>.service and dudao.target (replaced when changed; local
#                          changes belong in drop-ins: systemctl edit dudao-ingest), enabled, not started
#   /etc/sysusers.d/dudao.conf, /usr/local/share/doc/dudao/DEPLOYING.md
# Running it again changes nothing that is already right.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
all_services="dudao-ingest dudao-indicators dudao-safety dudao-notify"
bin="" root="" services="$all_services" use_systemd=1

say() { echo "install: $*"; }
die() { echo "install: error: $*" >&2; exit 1; }
usage() { sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --services) [ $# -ge 2 ] || usage; services=$2; shift 2 ;;
    --no-systemd) use_systemd=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install: unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$bin" ] || { echo "install: --bin DIR is required" >&2; usage; }
[ -d "$bin" ] || die "--bin $bin is not a folder"
for s in $services; do
  case " $all_services " in *" $s "*) ;; *) die "unknown service '$s' (choose from: $all_services)" ;; esac
done
for exe in dudao $services; do
  [ -x "$bin/$exe" ] || die "$bin/$exe is missing or not executable (build: swift build -c release --static-swift-stdlib)"
done
if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || root=""
fi
has() { case " $services " in *" $1 "*) return 0 ;; esac; return 1; }

owner_ok=1
if [ "$(id -u)" -ne 0 ]; then
  [ -n "$root" ] || die "installing on this host needs root (sudo $0 …)"
  owner_ok=0
  say "warning: not root: files are installed without changing owners"
fi
[ -n "$root" ] && say "installing below $root" || say "installing on this host"

# --- the dudao user and group -------------------------------------------------------------
mkdir -p "$root/etc"
if [ "$use_systemd" = 1 ] && command -v systemd-sysusers >/dev/null; then
  install -d -m 0755 "$root/etc/sysusers.d"
  if [ ! -e "$root/etc/sysusers.d/dudao.conf" ]; then
    install -m 0644 "$here/systemd/dudao.sysusers.conf" "$root/etc/sysusers.d/dudao.conf"
  fi
  if [ -n "$root" ]; then
    systemd-sysusers --root="$root" "$root/etc/sysusers.d/dudao.conf"
  else
    systemd-sysusers /etc/sysusers.d/dudao.conf
  fi
elif [ -n "$root" ]; then
  if ! grep -q '^dudao:' "$root/etc/passwd" 2>/dev/null; then
    for f in passwd group shadow gshadow; do [ -e "$root/etc/$f" ] || : >"$root/etc/$f"; done
    chmod 0600 "$root/etc/shadow" "$root/etc/gshadow"
    useradd --prefix "$root" --system --user-group --home-dir /var/lib/dudao --no-create-home \
      --shell /usr/sbin/nologin --comment "Dudao services" dudao
  fi
elif ! getent passwd dudao >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/dudao --no-create-home \
    --shell /usr/sbin/nologin --comment "Dudao services" dudao
fi
if [ -n "$root" ]; then
  uid=$(awk -F: '$1 == "dudao" { print $3 }' "$root/etc/passwd")
  gid=$(awk -F: '$1 == "dudao" { print $3 }' "$root/etc/group")
else
  uid=$(getent passwd dudao | cut -d: -f3)
  gid=$(getent group dudao | cut -d: -f3)
fi
[ -n "$uid" ] && [ -n "$gid" ] || die "the dudao user or group was not created"
say "user dudao: uid $uid, gid $gid"

# own PATH USER GROUP MODE (owners are numbers: ROOT's passwd is not this host's)
own() {
  [ "$owner_ok" = 1 ] && chown "$2:$3" "$1"
  chmod "$4" "$1"
}
dir() { mkdir -p "$1"; own "$@"; }

# place SOURCE DEST: a configuration file; never replaces one that differs (writes DEST.new)
place() {
  local src=$1 dest=$2
  if [ ! -e "$dest" ]; then
    cp "$src" "$dest"; own "$dest" 0 "$gid" 0640; say "created ${dest#"$root"}"
  elif cmp -s "$src" "$dest"; then
    own "$dest" 0 "$gid" 0640
  elif [ -e "$dest.new" ] && cmp -s "$src" "$dest.new"; then
    :
  else
    cp "$src" "$dest.new"; own "$dest.new" 0 "$gid" 0640
    say "kept ${dest#"$root"} (yours); the shipped version is ${dest#"$root"}.new"
  fi
}

# update SOURCE DEST MODE: a file the product owns (executables, units, docs)
update() {
  if [ -e "$2" ] && cmp -s "$1" "$2"; then chmod "$3" "$2"; return; fi
  install -m "$3" "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
  say "installed ${2#"$root"}"
}

# --- executables, folders, configuration -------------------------------------------------
install -d -m 0755 "$root/usr/local/bin" "$root/usr/local/share/doc/dudao"
for exe in dudao $services; do update "$bin/$exe" "$root/usr/local/bin/$exe" 0755; done
update "$here/DEPLOYING.md" "$root/usr/local/share/doc/dudao/DEPLOYING.md" 0644

dir "$root/etc/dudao" 0 "$gid" 0750
dir "$root/etc/dudao/tls" 0 "$gid" 0750
dir "$root/var/lib/dudao" "$uid" "$gid" 0750

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in $services; do
  place "$here/host/${s#dudao-}.json" "$root/etc/dudao/${s#dudao-}.json"
done
place "$here/host/access.json" "$root/etc/dudao/access.json"
if has dudao-notify; then
  dir "$root/var/lib/dudao/alerts" "$uid" "$gid" 0750
  sed 's#\.\./run/alerts/#/var/lib/dudao/alerts/#g' "$here/routes.json" >"$tmp/routes.json"
  place "$tmp/routes.json" "$root/etc/dudao/routes.json"
fi
if has dudao-indicators; then
  dir "$root/etc/dudao/catalog" 0 "$gid" 0750
  for f in "$here"/catalog/*.json; do place "$f" "$root/etc/dudao/catalog/$(basename "$f")"; done
  place "$here/reporting.json" "$root/etc/dudao/reporting.json"
fi

tls=$root/etc/dudao/tls
if [ ! -e "$tls/revoked.json" ]; then
  printf '{"serials": [], "identities": []}\n' >"$tls/revoked.json"
  say "created ${tls#"$root"}/revoked.json (nothing revoked)"
fi
for f in "$tls"/*; do
  [ -f "$f" ] || continue
  case "$f" in
    *.key) own "$f" "$uid" "$gid" 0600 ;;
    *) own "$f" 0 "$gid" 0640 ;;
  esac
done

# --- systemd units -------------------------------------------------------------------------
if [ "$use_systemd" = 1 ]; then
  units=$root/etc/systemd/system
  install -d -m 0755 "$units"
  update "$here/systemd/dudao.target" "$units/dudao.target" 0644
  for s in $services; do update "$here/systemd/$s.service" "$units/$s.service" 0644; done
  if [ -z "$root" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
  if [ -n "$root" ]; then
    systemctl --root="$root" --quiet enable dudao.target $(for s in $services; do echo "$s.service"; done)
  else
    systemctl --quiet enable dudao.target $(for s in $services; do echo "$s.service"; done)
  fi
  say "enabled dudao.target and: $services (not started)"
fi

missing=""
for s in ca $services; do
  for f in "$s.pem" $([ "$s" = ca ] || echo "$s.key"); do [ -e "$tls/$f" ] || missing="$missing ${tls#"$root"}/$f"; done
done
say "done."
if [ -n "$missing" ]; then
  say "next: certificates are missing:$missing"
  say "  on this host:    dudao certs request NAME --out /etc/dudao/tls --dns HOST.NAME [--ip ADDRESS]"
  say "  on the CA host:  dudao certs sign CADIR NAME.csr   (copy back NAME.pem and ca.pem only)"
  say "  then run this script again (it sets the owners and modes of the key files)"
fi
if [ "$use_systemd" = 1 ]; then
  say "next: edit /etc/dudao/*.json (addresses, host names), then: systemctl start dudao.target"
else
  say "next: edit /etc/dudao/*.json, then run as user dudao: /usr/local/bin/dudao-X --config /etc/dudao/X.json"
fi
