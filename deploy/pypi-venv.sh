#!/usr/bin/env bash
# The independent checkers from PyPI the tests use, in .build/pypi-venv (made once, reused):
# openpyxl (xlsx written and read by someone else), jsonschema + rfc3339-validator (the JSON
# Schemas of deploy/docs/schemas checked by a draft 2020-12 validator). Prints the python.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.build/pypi-venv"
mkdir -p "$root/.build"
exec 9>"$root/.build/pypi-venv.lock"
flock 9  # tests running side by side make it once
if ! "$venv/bin/python" -c "import openpyxl, jsonschema, rfc3339_validator" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check openpyxl jsonschema rfc3339-validator >&2
fi
echo "$venv/bin/python"
