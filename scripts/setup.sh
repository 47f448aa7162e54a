#!/usr/bin/env bash
# Build the project's virtual environment (.venv) on a fresh machine. Idempotent: a stamp
# file records the hash of the requirement files, so a second call returns at once.
#
#   bash scripts/setup.sh            # core + test dependencies
#   bash scripts/setup.sh --browser  # also Debian's chromium (HTML report and listening-test browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 2; }

want=$(cat requirements/*.txt pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
stamp=.venv/.sabench-setup
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  have_env=1
else
  have_env=0
fi

if [ "$have_env" = 0 ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  pip=".venv/bin/python -m pip"
  $pip install -q --upgrade pip
  # torch first, alone: the resolver then keeps this exact build for everything after it.
  $pip install -q torch==2.9.1 torchvision==0.24.1
  $pip install -q torch==2.9.1 'torchaudio==2.9.*'
  $pip install -q -r requirements/base.txt -c requirements/constraints.txt
  $pip install -q -r requirements/test.txt -c requirements/constraints.txt
  # the optional Ray executor (extra [ray]); CI tests it (~10 s to install from cached wheels).
  # Its protobuf>=3.20.3 meets descript-audiotools' declared <3.20 (requirements/ray.txt says why).
  $pip install -q -r requirements/ray.txt -c requirements/constraints.txt 2>&1 \
    | .venv/bin/python scripts/explain_conflicts.py
  # Declared-vs-actual conflicts are resolved here, explicitly (requirements/overrides.txt says
  # why). pip reports the intended one as an "ERROR: ... dependency conflicts" block; the filter
  # turns it into one explaining line and passes anything unexpected through.
  if [ -s requirements/overrides.txt ]; then
    $pip install -q -r requirements/overrides.txt -c requirements/constraints.txt 2>&1 \
      | .venv/bin/python scripts/explain_conflicts.py
  fi
  # The `peers` test extra (tests/parity, benchmarks/peers.py): --no-deps, see the file.
  $pip install -q --no-deps -r requirements/peers.txt
  $pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--browser" ] || [ "${SABENCH_BROWSER:-0}" = 1 ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      (apt-get update -q && apt-get install -y -q chromium) >/dev/null 2>&1 || echo "setup: chromium not installed; browser tests will skip" >&2
    else
      echo "setup: not root, chromium not installed; browser tests will skip" >&2
    fi
  fi
fi
