#!/usr/bin/env bash
# The reliability suite at full strength (tests/reliability, HANDLERLENS_SOAK=1): 500 fuzzed LSP
# edit plans of up to 40 steps, 10,000 runner requests from 50 clients with 40 saves and every
# fault three times, 100 of each kind of slow client. `make test` runs the same checks smaller.
# Extra arguments go to pytest, e.g. scripts/soak.sh -k runner_load
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
export HANDLERLENS_SOAK=1
started=$(date +%s)
status=0
"$python" -m pytest -q -rxX --durations=10 tests/reliability "$@" || status=$?
echo "soak: $(($(date +%s) - started)) s wall time, pytest exit status $status"
exit $status
