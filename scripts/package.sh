#!/usr/bin/env bash
# Builds the self-contained VSIX: the bundled client (esbuild), the server's Python
# dependencies installed from requirements/bundle.txt (hashes required) into bundled/libs for
# CPython 3.10–3.14 on linux x86_64, the handlerlens package itself, then `vsce package`.
# Prints the VSIX path on the last line of stdout. Env: PYTHON (pip's interpreter), VSIX_OUT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bundle-common.sh
say() { echo "package: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }
t_all=$(now)

version=$(node -p 'require("./package.json").version')
out="${VSIX_OUT:-build/vsix/handlerlens-$version-$BUNDLE_VSCE_TARGET.vsix}"

# 1. Node dependencies (esbuild, vsce, …) from the lock file.
if [ ! -x node_modules/.bin/vsce ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  t=$(now); npm ci --no-fund --no-audit >&2; say "TIME npm ci: $(since "$t") s"
fi
# The client's own checks (tsc strict, eslint, prettier, unit tests): no VSIX from a client
# that fails them. SKIP_CLIENT_CHECK=1 skips them for a quick local rebuild.
if [ "${SKIP_CLIENT_CHECK:-0}" != 1 ]; then
  t=$(now); npm run --silent check >&2
  say "TIME client checks: $(since "$t") s"
fi

# 2. Python packages. The oldest supported CPython gets a full install (pure-Python packages are
#    the same for every version); each newer version adds only its compiled `.so` files.
libs=bundled/libs
rm -rf bundled && mkdir -p "$libs"
echo '*' >bundled/.gitignore # a build product: keep it out of git without touching .gitignore
t=$(now)
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
bundle_pip install -q --no-deps --require-hashes --target "$libs" "${BUNDLE_PLATFORM_ARGS[@]}" \
  --python-version "${BUNDLE_PYTHONS[0]}" -r requirements/bundle.txt 2> >(grep -v "is ignored" >&2)
for v in "${BUNDLE_PYTHONS[@]:1}"; do
  bundle_pip download -q --no-deps --require-hashes -d "$wheels/$v" "${BUNDLE_PLATFORM_ARGS[@]}" \
    --python-version "$v" -r requirements/bundle.txt 2> >(grep -v "is ignored" >&2)
done
python3 - "$libs" "$wheels" "${BUNDLE_NATIVE[@]}" <<'PY'
import pathlib, sys, zipfile
libs, wheels, native = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), set(sys.argv[3:])
added = 0
for whl in sorted(wheels.glob("*/*.whl")):
    if whl.name.split("-")[0].lower() not in native:
        continue
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            if name.endswith(".so") and not (libs / name).exists():
                z.extract(name, libs)
                added += 1
print(f"package: added {added} compiled modules for newer CPython versions", file=sys.stderr)
PY
# The server itself: its package tree from this checkout (code and data files, as in the wheel).
cp -r server/handlerlens "$libs/handlerlens"
rm -rf "$libs/bin"
find "$libs" -name __pycache__ -type d -prune -exec rm -rf {} +
say "TIME python packages: $(since "$t") s ($(du -sh "$libs" | cut -f1))"

# 3. The bundle must import in isolation (-S: no site-packages) with the local python3.
PYTHONPATH="$libs" python3 -S - <<'PY'
import sys
import debugpy, hcl2, lsprotocol, pygls, watchfiles, yaml  # noqa: F401
import handlerlens.cli  # noqa: F401
# The HCL2 parse tables, built once into bundled/libs/hcl2/ for this Python (project/hcl_tree.py,
# `parser`): the server's first Terraform read loads them instead of building them (issue #21).
from handlerlens.project import hcl_tree
hcl_tree.parser()
print(f"package: bundle imports on Python {sys.version.split()[0]} (libyaml: {yaml.__with_libyaml__})", file=sys.stderr)
PY
# Byte code for this Python, so that a first start does not compile every module (issue #21:
# ~1-2.5 s of the language server's first start on a loaded 2-core machine). Checked by the
# sources' hash, not their mtime, which unpacking the VSIX changes; other Python versions
# compile as before. debugpy (7 MB of byte code) is left out: only a debug session loads it.
t=$(now)
if ! python3 -m compileall -q -f -j0 --invalidation-mode checked-hash -x '/debugpy/' "$libs" \
  >/dev/null; then
  say "byte code: some files did not compile on $(python3 -V); Python compiles them when loaded"
fi
say "TIME byte code: $(since "$t") s ($(du -sh "$libs" | cut -f1))"

# 4. The client bundle and the VSIX (vsce runs `vscode:prepublish`, the production build).
t=$(now)
mkdir -p "$(dirname "$out")"
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license \
  --target "$BUNDLE_VSCE_TARGET" -o "$out" >&2
say "TIME vsce: $(since "$t") s; total $(since "$t_all") s; $(du -h "$out" | cut -f1) $out"
echo "$out"
