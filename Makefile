# Werkplek: the two commands a newcomer needs are `make demo` and `make test`.
# Both create the virtualenv in .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# The tests mostly wait on real services, so more pytest workers than cores pays off
# (on 2 cores the suite used about one core with 4 workers; with 8 it was CPU-bound at
# load 14-17, so 6 leave some room for a busy machine).
PYTEST_WORKERS ?= 6

.PHONY: demo test test-services lint format typecheck pytest pytest-parallel pytest-serial bench clean help

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

# Lint and type checks run beside the parallel tests; a failure in any fails `make test`.
# The virtualenv and the test services (apt, npm) are installed side by side.
test:
	$(MAKE) --no-print-directory -j2 $(DEV_STAMP) test-services
	$(MAKE) --no-print-directory -j3 lint typecheck pytest-parallel
	$(MAKE) --no-print-directory pytest-serial

test-services:
	scripts/ensure-test-services.sh

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
	$(MAKE) --no-print-directory pytest-parallel
	$(MAKE) --no-print-directory pytest-serial

# Each worker starts its own private services (tests/conftest.py). Tests marked
# `serial` assert the timing or memory of one process: they run afterwards, away from
# the parallel run's load, two at a time (the two longest, both `slow`, on separate
# workers: --maxschedchunk 1 hands out one test at a time). They pass beside two busy
# loops, which load the machine more than a second serial test does.
pytest-parallel: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m 'not serial'

pytest-serial: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 --maxschedchunk 1 -m serial

bench: $(DEV_STAMP)
	scripts/ensure-test-services.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
