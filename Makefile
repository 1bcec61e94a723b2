# ContentFlow — the two commands a newcomer needs:
#   make run    install, migrate, seed demo data, serve on http://127.0.0.1:5000
#   make test   install (pip, npm, apt: postgresql, redis-server, chromium), start
#               throw-away PostgreSQL + Redis, run the whole suite, stop them
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test lint install install-dev vendor system-deps migrate seed worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_QUIET) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install $(PIP_QUIET) -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed vendor
install-dev: $(VENV)/.installed-dev vendor

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

vendor: node_modules/.package-lock.json
	node scripts/vendor.mjs

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed

run: seed
	@echo "ContentFlow on http://127.0.0.1:5000  (Ctrl-C to stop)"
	LOG_FORMAT=$${LOG_FORMAT:-console} $(BIN)/flask run --host 127.0.0.1 --port 5000

worker: install
	$(BIN)/python worker.py

# Debian packages the suite needs; installed only when missing.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != "0" ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# ruff, then the dependency direction of DESIGN.md (import-linter contract in pyproject.toml;
# it counts imports written inside functions too). tests/unit/test_structure.py adds no circles,
# no module over 400 lines, status changes only in transition functions.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests scripts worker.py wsgi.py gunicorn.conf.py
	$(BIN)/lint-imports --no-cache

test: system-deps install-dev
	@scripts/test-services.sh start
	@. .test-services/env && $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	  scripts/test-services.sh stop; exit $$status

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
