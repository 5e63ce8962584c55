#!/usr/bin/env bash
# Installs what a fresh Debian machine with Swift lacks for Dudao, then builds (debug).
# Usage: deploy/setup.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
# The tests read certificates back with the openssl command (an independent parser).
command -v openssl >/dev/null || need+=(openssl)
# The workbook and schema tests check against openpyxl and jsonschema from PyPI, in a venv
# (deploy/pypi-venv.sh).
command -v python3 >/dev/null || need+=(python3)
python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.2 or later is needed)"; exit 1; }

if [ "${1:-}" = "--release" ]; then
  swift build -c release
else
  swift build
fi
