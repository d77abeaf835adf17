# Kapcare: `make run` serves the demo; `make test` runs the suite. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PATIENTS ?= 200
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve migrate demo test test-slow test-sqlite test-postgres lint format bench e2e clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	@# opentiva 1.1.2's sdist ships a C file that no longer compiles on Python 3.11
	@# (longintrepr.h); with Cython present its setup.py regenerates it from the .pyx.
	$(BIN)/python -m pip install --quiet "cython==3.2.4" "setuptools==80.9.0"
	$(BIN)/python -m pip install --quiet --no-build-isolation "opentiva==1.1.2"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

migrate: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py seed_demo --patients $(DEMO_PATIENTS)

run: demo
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@echo "Kapcare is serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@$(BIN)/python manage.py clinic_worker & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn kapcare.wsgi:application --bind $(HOST):$(PORT) --workers 3 \
		--access-logfile - --access-logformat '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms' \
		--log-level warning

# axe-core (npm) for the accessibility check in the browser tests; skipped with a
# message where npm is missing.
AXE := node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

$(AXE):
	@if command -v npm >/dev/null; then \
		npm install --no-save --no-audit --no-fund --silent axe-core@$(AXE_VERSION); \
	else echo "npm not found: the accessibility check (axe-core) will be skipped"; fi

test: install $(AXE)
	@mkdir -p var
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2 --dist loadfile
	$(MAKE) --no-print-directory lint

# Real servers, faults and load (tests/slow, marked "slow"): gunicorn with several
# workers and locust against an SQLite file and, when reachable, PostgreSQL.
test-slow: install
	@mkdir -p var
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/pytest -m slow -s

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy kapcare tests bench

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The outcome dashboard is measured on SQLite and, when a local PostgreSQL answers,
# on PostgreSQL too (BENCH_PG_URL; the scratch database is created and dropped).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/test

bench: install
	$(BIN)/python -m bench.run
	env -u DATABASE_URL $(BIN)/python -m bench.outcomes
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		DATABASE_URL=$(BENCH_PG_URL) $(BIN)/python -m bench.outcomes; \
	else echo "PostgreSQL not reachable: the outcome dashboard bench ran on SQLite only"; fi

clean:
	rm -rf $(VENV) var/static
