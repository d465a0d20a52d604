# Werkplek: the two commands a newcomer needs are `make demo` and `make test`.
# Both create the virtualenv in .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format typecheck pytest bench clean help

help:
	@echo "make demo   run the whole system on embedded defaults (no servers needed)"
	@echo "make test   install test services if missing, lint, type-check and run every test"
	@echo "make bench  run the benchmarks in bench/"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Werkplek needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every dependency to the versions the suite was run with.
$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@ $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/werkplek demo

test: $(DEV_STAMP)
	scripts/ensure-test-services.sh
	$(MAKE) --no-print-directory lint typecheck pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy
	$(BIN)/werkplek firmware typecheck

pytest: $(DEV_STAMP)
	$(BIN)/python -m pytest

bench: $(DEV_STAMP)
	scripts/ensure-test-services.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
