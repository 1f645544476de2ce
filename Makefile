# jdm-cds: the two commands are `make run` and `make test` (see README.md).
# Works on a fresh machine with python3 (3.11+) only: everything else is installed here.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FHIR_VENV := .fhir-venv
SEKMET_VERSION := 0.1.1
PYTEST_ARGS ?=
# pytest-xdist: the tests spread over every core, a group at a time on one worker (tests/conftest.py:
# a module is a group, so its fixtures are made once; the tests that time the service or load the
# machine are one group, run one after another). `make pytest XDIST=` runs all in this process.
XDIST ?= -n auto --dist loadgroup

.PHONY: run test test-fast lint format typecheck pytest install install-test fhir-server bench load clean

# --- environments ------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The test FHIR server lives in its own venv: its dependencies must not leak into the app's.
$(FHIR_VENV)/bin/sekmet:
	$(PYTHON) -m venv $(FHIR_VENV)
	$(FHIR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FHIR_VENV)/bin/python -m pip install --quiet 'sekmet-fhir==$(SEKMET_VERSION)'

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
fhir-server: $(FHIR_VENV)/bin/sekmet

# --- the two commands ----------------------------------------------------------

# Local service on http://127.0.0.1:8080 (the CDS_* defaults: loopback, auth off, SQLite in var/).
run: install
	@echo "jdm-cds: starting gunicorn; discovery at http://$${CDS_HOST:-127.0.0.1}:$${CDS_PORT:-8080}/cds-services"
	$(BIN)/gunicorn -c cds_service/serving/gunicorn_conf.py

test: install-test fhir-server lint typecheck pytest

# The pure and in-process tests (under a minute): everything but the tests marked `server`, which
# start sekmet, gunicorn or PostgreSQL in another process (tests/conftest.py marks them), and
# those marked `slow` (the OpenAPI fuzzing). `make test` runs them all.
test-fast: install-test
	$(BIN)/pytest -m "not server and not slow" $(XDIST) $(PYTEST_ARGS)

# --- pieces of `make test` -----------------------------------------------------

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .

typecheck: install-test
	$(BIN)/mypy

pytest: install-test fhir-server
	JDM_CDS_SEKMET=$(CURDIR)/$(FHIR_VENV)/bin/sekmet $(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# --- load and durability (docs/security.md) ------------------------------------

# Long forms of tests/test_load_durability.py against gunicorn with the repo's config, auth on:
# 60 s of mixed load with 8 clients, 60 s of feedback from 8 writers, then kill -9 mid-run.
# (bench/ and fhir_fixtures/ are packages of this checkout: their scripts run as modules.)
load: install
	$(BIN)/python -m bench.load load --duration 60 --concurrency 8
	$(BIN)/python -m bench.load durability --duration 60 --writers 8
	$(BIN)/python -m bench.load durability --duration 30 --writers 8 --kill-after 15

# --- benchmark (docs/benchmarks.md) ---------------------------------------------

PEER_VENV := .peer-venv

# The HealthChain peer lives in its own venv too (its fhir.resources pin differs from ours).
$(PEER_VENV)/.installed: bench/peer/requirements.txt
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet -r bench/peer/requirements.txt
	touch $@

# The history model's target (docs/therapy-history.md, ~30 s), then the service's: prints the
# tables with the targets met/missed and writes docs/benchmarks.md (about 5 minutes).
bench: install fhir-server $(PEER_VENV)/.installed
	$(BIN)/python -m bench.history
	JDM_CDS_SEKMET=$(CURDIR)/$(FHIR_VENV)/bin/sekmet $(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(FHIR_VENV) $(PEER_VENV) build .pytest_cache .ruff_cache .mypy_cache *.egg-info
