#!/usr/bin/env bash
# Check out every repository of bench/corpus.txt at its pinned commit, into $1 (default
# $HANDLERLENS_CACHE/corpus). A checkout already at the commit is reused; otherwise it is cloned
# from GitHub, or, with CORPUS_MIRROR=DIR, taken from the bare mirror DIR/owner+name[/repo].
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exec "$PY" -m bench.corpus fetch ${1:+--dir "$1"}
