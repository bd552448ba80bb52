#!/usr/bin/env bash
# `make demo`, the way a user meets HandlerLens: builds the VSIX, installs it into a local
# code-server (VS Code in the browser; Node 24 and code-server cached outside the checkout) and
# serves the repository's examples/ on 127.0.0.1. Prints the URL to open; Ctrl+C stops it.
# Env: PORT (default 8765, else a free one), VSIX (skip the build), HANDLERLENS_CACHE.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
say() { echo "demo: $*" >&2; }

eval "$(bash scripts/e2e-setup.sh --no-browser)"
VSIX="${VSIX:-$(bash scripts/package.sh | tail -1)}"

STATE="${HANDLERLENS_CACHE:-$HOME/.cache/handlerlens}/demo"
mkdir -p "$STATE/data/User" "$STATE/ext" "$STATE/xdg" "$STATE/tmp"
[ -f "$STATE/data/User/settings.json" ] || cp tests/e2e/settings.json "$STATE/data/User/settings.json"
export XDG_CONFIG_HOME="$STATE/xdg/config" XDG_DATA_HOME="$STATE/xdg/data" XDG_CACHE_HOME="$STATE/xdg/cache"
export TMPDIR="$STATE/tmp" PATH="$(dirname "$E2E_NODE24"):$PATH"
CSARGS=(--user-data-dir "$STATE/data" --extensions-dir "$STATE/ext")
"$E2E_CODE_SERVER" "${CSARGS[@]}" --force --install-extension "$VSIX" >&2

PORT="${PORT:-8765}"
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$PORT" 2>/dev/null; then
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
setsid "$E2E_CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust "${CSARGS[@]}" "$REPO/examples" \
  >"$STATE/code-server.log" 2>&1 &
SID=$!
stop() {
  local pids
  pids=$(ps -o pid= -s "$SID" 2>/dev/null || true)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
}
trap stop EXIT INT TERM
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$STATE/code-server.log" >&2; exit 1; }
cat <<MSG

  HandlerLens in VS Code (code-server) is ready. Open in your browser:

      http://127.0.0.1:$PORT/?folder=$REPO/examples

  Open greeter/main.py and click "▶ Run handler"; orders/template.yaml has a misspelt
  handler on purpose (see Problems). Ctrl+C stops the server.

MSG
wait "$SID"
