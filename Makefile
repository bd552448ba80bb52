# HandlerLens — `make demo` shows it working, `make test` runs every test.
# Everything installs itself into the checkout (.venv, node_modules); heavy, reusable downloads
# (code-server, Chromium) are cached outside it, under $(HANDLERLENS_CACHE).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HANDLERLENS_CACHE ?= $(HOME)/.cache/handlerlens

.PHONY: demo test lint venv system-deps clean bench soak package corpus

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Debian packages the tests use: neovim (tests/neovim), curl (README's blocks, tests/test_readme.py).
system-deps:
	bash scripts/apt-ensure.sh neovim curl

# The CLI first (works everywhere), then VS Code in the browser with the extension installed.
demo: venv
	@echo "== handlerlens check examples/ (one entry point is misspelt on purpose) =="
	-$(VENV)/bin/handlerlens check examples/
	@echo "== VS Code (code-server) with HandlerLens on examples/ =="
	bash scripts/demo-vscode.sh

package: venv
	bash scripts/package.sh

test: venv system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

bench: venv
	bash scripts/bench-setup.sh
	$(PY) -m bench.run

soak: venv
	bash scripts/soak.sh

# `handlerlens check` over the public projects of bench/corpus.txt (checked out by commit into
# CORPUS; CORPUS_MIRROR=DIR takes them from local bare mirrors), compared with the judgements in
# bench/corpus-judgements.tsv. CORPUS_ARGS=--strict fails on a false, unjudged or lost problem.
CORPUS ?= $(HANDLERLENS_CACHE)/corpus
corpus: venv
	PY=$(PY) bash scripts/corpus-fetch.sh "$(CORPUS)"
	$(PY) -m bench.corpus run --dir "$(CORPUS)" $(CORPUS_ARGS)

# The boundary test (floors, the worker's stdlib-only rule, import cycles) runs here and in `test`.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q tests/test_boundaries.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
