#!/usr/bin/env bash
# Install the benchmark's peers into bench/.peers (gitignored), pinned, apart from .venv:
#   bench/.peers/venv  functions-framework, python-lambda-local, jedi-language-server,
#                      python-lsp-server[all] (pip)
#   bench/.peers/node  pyright (npm install --prefix)
#   bench/.peers/sls   serverless v3 and serverless-offline (npm install --prefix), the whole
#                      app's peer: `sls offline` serves a serverless.yml app, Python included;
#                      serverless-offline 13 is the last major that takes serverless v3 (14
#                      wants v4, which needs a login). Only the npm registry is used; the
#                      bench runs it with telemetry, notifications and update checks off.
#   wrk                the throughput figure's load generator (apt, system-wide), when missing
#                      and this runs as root with apt-get; otherwise the bench falls back to its
#                      Python client and says so in the report
# Idempotent: each part leaves a stamp holding its pins and is reinstalled only when the pins
# change or the stamp is missing (a half-finished install has none). Progress goes to stderr.
#
# Env: PYTHON (default python3) creates the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=bench/.peers
PIP_PINS=(
  "functions-framework==3.10.2"
  "python-lambda-local==0.1.13"
  "jedi-language-server==0.47.0"
  "python-lsp-server[all]==1.15.0"
)
PYRIGHT_PIN="pyright@1.1.414"
SLS_PINS=("serverless@3.40.0" "serverless-offline@13.9.0")

say() { echo "bench-setup: $*" >&2; }

venv_stamp="$PEERS/venv/.installed"
if [ "$(cat "$venv_stamp" 2>/dev/null)" != "${PIP_PINS[*]}" ]; then
  say "creating $PEERS/venv with ${PIP_PINS[*]}"
  rm -rf "$PEERS/venv"
  "${PYTHON:-python3}" -m venv "$PEERS/venv"
  "$PEERS/venv/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PINS[@]}" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
  "$PEERS/venv/bin/python" -c "import functions_framework, lambda_local, jedi_language_server, pylsp"
  echo "${PIP_PINS[*]}" >"$venv_stamp"
fi

node_stamp="$PEERS/node/.installed"
if [ "$(cat "$node_stamp" 2>/dev/null)" != "$PYRIGHT_PIN" ]; then
  command -v npm >/dev/null || { say "npm is needed for pyright (Node 20+)"; exit 2; }
  say "installing $PYRIGHT_PIN into $PEERS/node"
  rm -rf "$PEERS/node"
  mkdir -p "$PEERS/node"
  npm install --prefix "$PEERS/node" --no-audit --no-fund --silent "$PYRIGHT_PIN" >&2
  test -f "$PEERS/node/node_modules/pyright/langserver.index.js"
  echo "$PYRIGHT_PIN" >"$node_stamp"
fi
sls_stamp="$PEERS/sls/.installed"
if [ "$(cat "$sls_stamp" 2>/dev/null)" != "${SLS_PINS[*]}" ]; then
  command -v npm >/dev/null || { say "npm is needed for serverless-offline (Node 20+)"; exit 2; }
  say "installing ${SLS_PINS[*]} into $PEERS/sls (about 280 MB, a minute or two)"
  rm -rf "$PEERS/sls"
  mkdir -p "$PEERS/sls"
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
    npm install --prefix "$PEERS/sls" --no-audit --no-fund --silent "${SLS_PINS[@]}" >&2
  test -x "$PEERS/sls/node_modules/.bin/sls"
  test -f "$PEERS/sls/node_modules/serverless-offline/package.json"
  echo "${SLS_PINS[*]}" >"$sls_stamp"
fi
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing wrk (apt)"
    if ! { apt-get update -qq >&2 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }; then
      say "note: could not install wrk; the throughput figure falls back to the Python client"
    fi
  else
    say "note: wrk is not installed (apt-get install wrk, as root); the throughput figure" \
      "falls back to the Python client"
  fi
fi
say "peers ready in $PEERS"
