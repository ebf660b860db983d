# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Front-end packages from npm (package.json, package-lock.json): nhsuk-frontend, and axe-core for the browser tests.
NODE_STAMP := node_modules/.installed
DEMO_PASSWORD ?= talking-therapies-demo
# The demo's port: `make run PORT=8018` serves http://127.0.0.1:8018/ instead of :8000.
PORT ?= 8000
# The demo server runs like production (DEBUG off), so a newcomer sees the app's own "Page not found" and
# "not allowed" pages; `make run DEBUG=1` shows Django's debug pages and tracebacks instead. Demo-only
# secret and plain-http cookies: it listens on 127.0.0.1 only.
DEBUG ?= 0
DEMO_ENV := SECRET_KEY=demo-only-not-secret SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 \
	SECURE_HSTS_SECONDS=0
# Tests run like production (DEBUG off); these are test-only values.
TEST_ENV := SECRET_KEY=test-only-not-secret SECURE_SSL_REDIRECT=0 DEBUG=0
PYTEST_ARGS ?=

.PHONY: run test lint bench screenshots install migrate demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# `npm ci` installs exactly the lock file into node_modules/ (git-ignored). Without npm, outside CI, the
# app still runs; the browser tests then skip with the reason.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	elif [ "$$CI" = "true" ]; then \
		echo "npm is needed in CI: the browser tests run axe-core from node_modules/" >&2; exit 1; \
	else \
		echo "npm not found: front-end packages not installed (browser tests will skip; install Node.js 20)" >&2; \
	fi

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo "Serving the demo at http://127.0.0.1:$(PORT)/ (another port: make run PORT=8001); Ctrl-C stops it."
	$(DEMO_ENV) DEBUG=$(DEBUG) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP) $(NODE_STAMP)
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Security linter over our packages (every top-level folder with an __init__.py but tests): no medium or high findings.
BANDIT_TARGETS := $(filter-out tests,$(patsubst %/,%,$(dir $(wildcard */__init__.py))))

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m bandit -q -r $(BANDIT_TARGETS) -ll
	$(VENV)/bin/lint-imports

# Benchmarks need PostgreSQL; --reuse-db keeps the seeded data between runs.
# One of them: `make bench BENCH=tests/bench/test_load_bench.py` (PYTEST_ARGS adds options, not files).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stepped_care_bench
BENCH ?= tests/bench
bench: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(TEST_ENV) $(PY) -m pytest $(BENCH) --run-bench --reuse-db -s -q $(PYTEST_ARGS)

# Refresh the README's pictures: the browser journeys, saving their screenshots into docs/screenshots.
screenshots: $(STAMP) $(NODE_STAMP)
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(TEST_ENV) $(PY) -m pytest tests/e2e -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles
