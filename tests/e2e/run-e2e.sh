#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code (code-server), driven by
# Playwright in Debian's Chromium. Installs/reuses the tools (scripts/e2e-setup.sh), builds the
# VSIX (unless VSIX is given), installs it into a fresh code-server profile, opens a copy of
# examples/ (or E2E_WORKSPACE), and runs tests/e2e/vscode.test.js.
# Artifacts (screenshots, timings.json, code-server and extension logs): test-artifacts/e2e/.
# Env: VSIX, E2E_WORKSPACE, E2E_ARTIFACTS, HANDLERLENS_E2E_RUN=0, HANDLERLENS_E2E_DEBUG=1,
#      E2E_SCRIPT (another Playwright script to run instead, e.g. bench/extension_start.js),
#      E2E_NO_EXTENSION=1 (code-server alone: no VSIX built or installed),
#      E2E_SETTINGS (a JSON object merged into the user settings),
#      E2E_SCENARIO=restricted (workspace trust on, the folder left untrusted; artifacts go to
#      test-artifacts/e2e-restricted/).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SCENARIO="${E2E_SCENARIO:-main}"
ART="${E2E_ARTIFACTS:-$REPO/test-artifacts/e2e$([ "$SCENARIO" = main ] || echo "-$SCENARIO")}"
say() { echo "e2e: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }

eval "$(bash "$REPO/scripts/e2e-setup.sh")"
NODE24_BIN="$(dirname "$E2E_NODE24")"

NO_EXT="${E2E_NO_EXTENSION:-0}"
if [ "$NO_EXT" != 1 ] && [ -z "${VSIX:-}" ]; then
  t=$(now); VSIX="$(cd "$REPO" && bash scripts/package.sh | tail -1)"; VSIX="$REPO/${VSIX#"$REPO/"}"
  say "TIME package: $(since "$t") s"
fi
[ "$NO_EXT" = 1 ] || [ -f "$VSIX" ] || { say "no VSIX at $VSIX"; exit 2; }

rm -rf "$ART" && mkdir -p "$ART"
RUN="$(mktemp -d "${TMPDIR:-/tmp}/handlerlens-e2e.XXXXXX")"
mkdir -p "$RUN/data/User" "$RUN/ext" "$RUN/xdg" "$RUN/tmp" "$RUN/workspace"
cp -r "${E2E_WORKSPACE:-$REPO/examples}/." "$RUN/workspace/"
TRUST_ARGS=(--disable-workspace-trust)
[ "$SCENARIO" = restricted ] && TRUST_ARGS=()
# The user settings: tests/e2e/settings.json, workspace trust on in the restricted scenario,
# and E2E_SETTINGS (a JSON object, e.g. '{"handlerlens.trace.server": "verbose"}') on top.
SCENARIO="$SCENARIO" E2E_SETTINGS="${E2E_SETTINGS:-}" \
  python3 - "$HERE/settings.json" "$RUN/data/User/settings.json" <<'PY'
import json, os, sys
settings = json.load(open(sys.argv[1]))
if os.environ["SCENARIO"] == "restricted":
    settings["security.workspace.trust.enabled"] = True
settings.update(json.loads(os.environ["E2E_SETTINGS"] or "{}"))
json.dump(settings, open(sys.argv[2], "w"), indent=2)
PY

# Keep code-server out of ~/.config, ~/.local, ~/.cache and /tmp (ipc sockets).
export XDG_CONFIG_HOME="$RUN/xdg/config" XDG_DATA_HOME="$RUN/xdg/data" XDG_CACHE_HOME="$RUN/xdg/cache"
CSARGS=(--user-data-dir "$RUN/data" --extensions-dir "$RUN/ext")
if [ "$NO_EXT" != 1 ]; then
  t=$(now)
  TMPDIR="$RUN/tmp" PATH="$NODE24_BIN:$PATH" "$E2E_CODE_SERVER" "${CSARGS[@]}" --install-extension "$VSIX" >"$ART/install-extension.log" 2>&1 \
    || { cat "$ART/install-extension.log" >&2; exit 1; }
  say "TIME install-extension: $(since "$t") s"
fi

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
t=$(now)
# Its own session (setsid): extension hosts, the language server, runners, debug adapters and
# debuggees all belong to it and are ended together, by PID, at exit.
TMPDIR="$RUN/tmp" PATH="$NODE24_BIN:$PATH" setsid "$E2E_CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check "${TRUST_ARGS[@]}" "${CSARGS[@]}" "$RUN/workspace" \
  >"$ART/code-server.log" 2>&1 &
CS_SID=$!
cleanup() {
  local pids i
  pids=$(ps -o pid= -s "$CS_SID" 2>/dev/null || true)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  for i in $(seq 1 50); do
    pids=$(ps -o pid= -s "$CS_SID" 2>/dev/null || true)
    [ -z "$pids" ] && break
    sleep 0.1
  done
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  # Extension logs (HandlerLens output channels included) are worth keeping with the screenshots.
  find "$RUN/data/logs" -name '*.log' -path '*handlerlens*' -exec cp {} "$ART/" \; 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$ART/code-server.log" >&2; exit 1; }
say "TIME code-server ready: $(since "$t") s"

set +e
NODE_PATH="$E2E_TOOLS" CS_URL="http://127.0.0.1:$PORT" WS_DIR="$RUN/workspace" ARTIFACTS="$ART" \
  RUN_DIR="$RUN" E2E_SCENARIO="$SCENARIO" \
  E2E_NO_EXTENSION="$NO_EXT" CHROMIUM="$E2E_CHROMIUM" \
  node "$(cd "$REPO" && realpath "${E2E_SCRIPT:-$HERE/vscode.test.js}")"
rc=$?
set -e
exit $rc
