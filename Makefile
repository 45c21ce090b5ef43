# Sisters Market — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STRIPE_PORT ?= 8420
export FLASK_APP := market

.PHONY: run test lint install test-deps system-deps i18n i18n-compile migrate seed bench bench-deps bench-meetings serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test,serve]'
	touch $@

install: $(VENV)/.installed i18n-compile

# Debian packages the tests need: Chromium for the browser tests, CJK fonts for screenshots.
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

i18n-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d market/translations

# Re-extract strings and merge them into the catalogues (then translate the new entries).
i18n: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o market/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i market/translations/messages.pot -d market/translations
	$(BIN)/pybabel compile -d market/translations

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed --if-empty

# Starts localstripe on loopback, then the app; stopping the app stops both.
run: seed
	PORT=$(PORT) STRIPE_PORT=$(STRIPE_PORT) $(BIN)/python -m market.devserver

# In TEST_WORKERS pytest-xdist workers (pytest-xdist comes with the test extras): each has its own
# databases, localstripe, live servers and Chromium; `--dist loadgroup` keeps a module that builds
# something once per module in one worker (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: install system-deps
	$(BIN)/pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)

# ruff: lint and import order, configured in pyproject.toml (.ci/run runs it).
lint: $(VENV)/.installed
	$(BIN)/ruff check .

# The app under gunicorn (gunicorn.conf.py): several workers, JSON logs, /metrics. Reads
# DATABASE_URL, REDIS_URL, SECRET_KEY, ... from the environment (README, "Deploying").
serve: migrate
	$(BIN)/gunicorn -c gunicorn.conf.py

# Benchmarks (bench/run.py): wrk against gunicorn on PostgreSQL with 100,000 products, the
# checkout and stock race against localstripe; then the payments API hung (bench/hung_api.py:
# how long each request takes against STRIPE_CALL_BUDGET); results in bench/results/. Then the
# matcher's, the cost of image uploads (python -m bench.uploads), the early-warning backtest over
# 400 shops x 18 months (python -m signals.bench) and the meeting scheduler's.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/sm_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/0
bench: install bench-deps
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.hung_api
	@if [ -f matching/bench.py ]; then $(BIN)/python -m matching.bench; fi
	$(BIN)/python -m bench.uploads
	$(BIN)/python -m signals.bench
	$(BIN)/python -m bench.reports
	$(MAKE) bench-meetings

# The matchmaking-day scheduler alone (about 15 s): 200 participants, 12 slots, 40 tables,
# 1,500 requests, beside a greedy baseline and the LP bound (README, "The meeting scheduler").
bench-meetings: install
	$(BIN)/python -m matching.meetings_bench $(MEETINGS_BENCH_ARGS)

# wrk, the load generator, from Debian.
bench-deps:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; \
	fi

clean:
	rm -rf $(VENV) var build *.egg-info
