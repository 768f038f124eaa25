# Halqa: `make run` serves the demo, `make test` runs the whole suite. Nothing else is needed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test setup install migrate seed browser lint bench clean

run: setup
	$(PY) manage.py serve --host $(HOST) --port $(PORT) --purge-every 60

test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

setup: install migrate seed

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --with-accounts

# Browser tests drive Debian's chromium through Playwright (the Playwright download is not used).
browser:
	@bash scripts/ensure-chromium.sh

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/pipeline_bench.py

clean:
	rm -rf $(VENV) var/static
