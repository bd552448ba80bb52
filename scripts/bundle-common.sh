# Shared by lock-bundle.sh and package.sh (sourced): which CPython versions and platform the
# bundled Python packages serve, and how pip is told so.
BUNDLE_PYTHONS=(3.10 3.11 3.12 3.13 3.14)
# Packages with compiled extensions built per CPython version (not abi3): their `.so` files for
# every version are laid side by side in one folder; the file names carry the version tag.
BUNDLE_NATIVE=(pyyaml regex debugpy)
BUNDLE_PLATFORM_ARGS=(--only-binary=:all: --implementation cp
  --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
BUNDLE_VSCE_TARGET=linux-x64

# The pip used to fetch wheels: the checkout's venv when present, else python3's.
bundle_pip() {
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
  fi
  "$py" -m pip --disable-pip-version-check "$@"
}
