#!/usr/bin/env bash
# Installs what is missing, builds everything with the tests (debug) and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
swift build --build-tests
# Only Swift Testing is used; --disable-xctest keeps XCTest's empty run out of the output.
SWIFT_BACKTRACE=enable=no swift test --skip-build --disable-xctest
