# The two commands: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9

.PHONY: run test setup lint format bench reliability load samples clean

# Bytecode is compiled here, once: each document starts fresh sandboxed interpreters, and where
# PYTHONDONTWRITEBYTECODE is set (this machine, most container images) every one of them
# compiled Django and the project from source again, 1.3 s of CPU before its first page.
APP_PACKAGES := accounts api applications audit config core extraction review rules webhooks

$(VENV)/.synced: pyproject.toml uv.lock Makefile
	@test -x $(VENV)/bin/uv || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q uv==$(UV_VERSION))
	$(VENV)/bin/uv sync --frozen --quiet --compile-bytecode
	@touch $@

setup: $(VENV)/.synced
	@$(PY) -m compileall -q -j 0 $(APP_PACKAGES) >/dev/null

run: setup
	$(PY) scripts/dev.py

test: setup
	scripts/test.sh

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Every benchmark at a quick scale into bench/results.md; `make bench ARGS=--full` for the issues' sizes.
bench: setup
	$(PY) -m bench.run_all $(ARGS)

# Crashes, broker outages and fair queues with real workers and a private redis-server (about
# 20 minutes on 2 cores; not part of `make test`). `make reliability ARGS="--repeat 5"` for a
# quick look; DATABASE_URL=postgres://... to run it on PostgreSQL.
reliability: setup
	$(PY) -m bench.reliability $(ARGS)

# The web app under 50 locust users on PostgreSQL with 100,000 applications (seeded once into
# attest_load, then reused), and documents per minute with 1, 2 and 4 worker processes (about
# 6 minutes; not part of `make test`). LOAD_DATABASE_URL=postgres://... for another database.
load: setup
	$(PY) -m bench.load.run $(ARGS)

samples: setup
	$(PY) manage.py generate_samples

clean:
	rm -rf var/test-db-*.sqlite3* test-artifacts
