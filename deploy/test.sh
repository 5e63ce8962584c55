#!/usr/bin/env bash
# Installs what is missing, builds everything with the tests (debug) and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
# The PostgreSQL backend's tests run against a real server: Debian's, in a throwaway cluster
# (a temporary folder, a free port on loopback, TLS on) that this script starts and stops.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test: installing postgresql"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql postgresql-client openssl
fi
DUDAO_TEST_POSTGRES_DIR=$(mktemp -d /tmp/dudao-test-pg.XXXXXX)
chmod 755 "$DUDAO_TEST_POSTGRES_DIR"
DUDAO_TEST_POSTGRES_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DUDAO_TEST_POSTGRES_DIR DUDAO_TEST_POSTGRES_PORT
trap 'deploy/postgres/test-cluster.sh stop "$DUDAO_TEST_POSTGRES_DIR"; rm -rf "$DUDAO_TEST_POSTGRES_DIR"' EXIT
deploy/postgres/test-cluster.sh start "$DUDAO_TEST_POSTGRES_DIR" "$DUDAO_TEST_POSTGRES_PORT" >/dev/null
swift build --build-tests
# Only Swift Testing is used; --disable-xctest keeps XCTest's empty run out of the output.
SWIFT_BACKTRACE=enable=no swift test --skip-build --disable-xctest
