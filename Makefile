# soilapi's front door. `make run` serves the API; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run stop test lint typecheck schema schema-check migration clean bench bench-smoke bench-soak bench-neighbours bench-persisted bench-writes bench-compare fuzz

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), sys.version' 2>/dev/null \
	  || { echo "soilapi needs Python 3.11 or newer as '$(PYTHON)' (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -m venv $(TOOLS) || { echo "Python's venv module is missing (Debian: apt-get install python3-venv)"; exit 1; }
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed ## Install the locked dependencies into .venv

# `make run` needs the runtime dependencies and the embedded PostgreSQL, not the dev tools;
# --inexact keeps those of an earlier `make install`.
$(VENV)/.runtime: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --no-default-groups --group devdb --inexact
	@touch $@

run: $(VENV)/.runtime ## Serve the API with GraphiQL at http://127.0.0.1:8000/graphql (private PostgreSQL unless DATABASE_URL is set)
	$(BIN)/soilapi run

stop: $(VENV)/.runtime ## Stop what `make run` started: the server and its private PostgreSQL
	$(BIN)/soilapi stop

test: install lint typecheck ## Run every check: ruff, the import contracts, mypy, the pytest suite on a real PostgreSQL, the benchmark's smoke run
	$(BIN)/python -m pytest
	$(BIN)/python -m bench --smoke

fuzz: install ## Compare the SQL compiler with the resolvers on generated queries (MINUTES=20)
	@end=$$(( $$(date +%s) + 60 * $(or $(MINUTES),20) )); batch=0; \
	while [ $$(date +%s) -lt $$end ]; do \
	  batch=$$((batch + 1)); seed=$$RANDOM$$RANDOM; \
	  SOILAPI_FUZZ_EXAMPLES=500 $(BIN)/python -m pytest tests/api/test_differential.py -q -s \
	    -p no:logging -p no:cacheprovider --hypothesis-seed=$$seed | tee .fuzz.log | grep '^differential:' \
	    || { echo "fuzz: batch $$batch (seed $$seed) found a disagreement:"; cat .fuzz.log; exit 1; }; \
	done; echo "fuzz: $$batch batches of 500 queries per database agreed"

lint: install ## ruff check, format check, and the import contracts (layers) in pyproject.toml
	$(BIN)/ruff check src tests migrations bench examples
	$(BIN)/ruff format --check src tests migrations bench examples
	$(BIN)/lint-imports --no-logo


typecheck: install ## mypy --strict on src/
	$(BIN)/mypy

schema: install ## Rewrite schema.graphql from the code
	$(BIN)/soilapi export-schema --output schema.graphql

migration: install ## Autogenerate a migration: make migration m="what changed" (needs DATABASE_URL)
	$(BIN)/alembic revision --autogenerate -m "$(m)"

bench: install ## Benchmark soilapi against the raw-SQL floor and PostGraphile (options: ARGS="--scales 1,10 --duration 5")
	$(UV) sync --frozen --python $(PYTHON) --group bench
	$(BIN)/python -m bench $(ARGS)

bench-smoke: install ## Keep the benchmark working: scale 1, 1 s per operation, floor and soilapi only
	$(BIN)/python -m bench --smoke $(ARGS)

bench-soak: install ## Memory under a 60 s load: RSS of the first and last 10 s (options: ARGS="--op per_parent_pages" or "--unique-large")
	$(BIN)/python -m bench.soak $(ARGS)

bench-persisted: install ## One query sent in full, by hash (automatic persisted queries) and revalidated (304): req/s, latency, bytes (options: ARGS="--op dashboard")
	$(BIN)/python -m bench.persisted $(ARGS)

bench-writes: install ## Writes and the change feed at scale 100: mutation p50/p99, a feed page of 100 changes (options: ARGS="--writes 500")
	$(UV) sync --frozen --python $(PYTHON) --group bench
	$(BIN)/python -m bench.writes $(ARGS)

bench-compare: install ## Before and after: this checkout against REV, runs alternating on one database (REV=<commit> ARGS="--scales 1,100 --ops ...")
	@test -n "$(REV)" || { echo "usage: make bench-compare REV=<commit> [ARGS=...]"; exit 2; }
	$(BIN)/python -m bench.compare $(REV) $(ARGS)

bench-neighbours: install ## One client's latency while another sends the heaviest documents its rate limit allows (options: ARGS="--attack-seconds 30")
	$(BIN)/python -m bench.neighbours $(ARGS)

clean: ## Stop the private PostgreSQL and remove generated folders
	-$(BIN)/python -m soilapi.devdb stop --dir .pgdata
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
