# 一本账: `make run` serves the demo, `make test` runs everything on SQLite and PostgreSQL.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Django 6 needs Python >= 3.12 (see docs/decisions/0001-python-3.12-for-django-6.md).
PYTHON_BOOT ?= $(shell scripts/find-python.sh)
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: help install system run serve demo test test-sqlite test-postgres lint format typecheck checks bench clean

help:
	@echo "make run    install everything, migrate, load the demo, serve http://$(HOST):$(PORT)"
	@echo "make test   install everything, lint, type-check, run the suite on SQLite and PostgreSQL"
	@echo "make lint | make format | make bench"

$(PY):
	@test -n "$(PYTHON_BOOT)" || { echo "Python >= 3.12 not found (see README)"; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)

$(VENV)/.installed: $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system:
	@scripts/install-system.sh

install: system $(VENV)/.installed node_modules/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_users
	$(PY) manage.py collectstatic --noinput -v 0
	HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

serve:
	HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: $(VENV)/.installed
	$(PY) -m mypy .

checks: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run
	YBZ_PRODUCTION=1 SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64 | tr -dc a-zA-Z0-9) \
		ALLOWED_HOSTS=ybz.example.org $(PY) manage.py check --deploy --fail-level WARNING

test: install lint typecheck checks test-sqlite test-postgres

test-sqlite:
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(PY) -m pytest -n 2 --dist loadgroup

test-postgres:
	@url="$${DATABASE_URL:-}"; \
	if [ -z "$$url" ]; then \
	  if $(PY) scripts/db_reachable.py "$(PG_URL)"; then url="$(PG_URL)"; fi; \
	fi; \
	if [ -z "$$url" ]; then \
	  if [ -n "$${REQUIRE_POSTGRES:-}" ]; then echo "PostgreSQL not reachable and REQUIRE_POSTGRES is set"; exit 1; fi; \
	  echo "== PostgreSQL not reachable: skipped =="; exit 0; \
	fi; \
	echo "== test suite on PostgreSQL =="; \
	DATABASE_URL="$$url" $(PY) -m pytest -n 2 --dist loadgroup

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules staticfiles .test-media
