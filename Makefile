# Weft: `make run` serves the app with demo-ready data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/weft_test
SQLITE_TEST_URL ?= sqlite:///$(CURDIR)/var/test.sqlite3
PYTEST_ARGS ?= -n 2

.PHONY: run test install install-test assets lint pg-up test-sqlite test-postgres bench clean browser messages diagrams

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

assets: node_modules/.package-lock.json

run: install
	mkdir -p var
	$(BIN)/weft db upgrade
	$(BIN)/weft demo
	$(BIN)/weft serve

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Start the local PostgreSQL when it is installed but down; say so loudly when there is none.
pg-up:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi; \
	if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	fi; \
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	echo "!!! WARNING: no PostgreSQL on 127.0.0.1:5432 - tests run on SQLite ONLY !!!"; \
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	touch var/.no-postgres

test-sqlite: install-test
	mkdir -p var
	WEFT_TEST_DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: install-test
	WEFT_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

test: install-test lint browser
	mkdir -p var && rm -f var/.no-postgres
	$(MAKE) --no-print-directory pg-up
	$(MAKE) --no-print-directory test-sqlite
	@if [ -f var/.no-postgres ]; then echo "WARNING: PostgreSQL tests SKIPPED (no server)"; \
	else $(MAKE) --no-print-directory test-postgres; fi

# The browser tests drive Debian's chromium through Playwright (no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  echo "installing chromium and Chinese fonts for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

# Extract the UI's strings and merge them into the Chinese catalogue (then fill in msgstr).
messages: install-test
	$(BIN)/pybabel extract -k _l -F web/translations/babel.cfg -o web/translations/messages.pot web
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -l zh_CN --no-fuzzy-matching

# Re-draw docs/diagrams/*.svg from the shipped BPMN (after changing a process).
diagrams: install-test browser
	$(BIN)/python docs/tools/render_diagrams.py

bench: install-test
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) node_modules var/test.sqlite3*
