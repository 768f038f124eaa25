# Halqa: `make run` serves the demo, `make test` runs the whole suite. Nothing else is needed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test setup install messages migrate seed browser npm lint bench bench-profile bench-pipeline soak clean

run: setup
	$(PY) manage.py serve --host $(HOST) --port $(PORT) --purge-every 60

test: setup browser npm
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

setup: install messages migrate seed

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Translations: each locale/<lang>/LC_MESSAGES/<domain>.po (django, djangojs) is compiled into
# its .mo, which is not kept in git, with Babel: the build needs no system gettext. Only a .po
# that changed is compiled again. Fuzzy entries are never compiled (resolve them in the .po), and
# a catalog whose header is still fuzzy, or with an entry whose placeholders do not match its
# msgid, stops the build: pybabel still writes a .mo then, so it goes to a temporary file first.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)

messages: $(PO_FILES:.po=.mo)

locale/%.mo: locale/%.po | $(STAMP)
	@rm -f $@.tmp
	$(VENV)/bin/pybabel compile --input-file $< --output-file $@.tmp
	@test -s $@.tmp || { echo "$<: not compiled (is its header marked fuzzy?)"; exit 1; }
	@mv $@.tmp $@

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --with-accounts

# Browser tests drive Debian's chromium through Playwright (the Playwright download is not used).
browser:
	@bash scripts/ensure-chromium.sh

# axe-core, which the accessibility tests run inside the pages (tests/browser), comes from npm:
# test tooling only, the site itself loads nothing from node_modules. `npm ci` runs again only when
# node_modules is missing or package.json/package-lock.json changed since the last install.
NPM_STAMP := node_modules/.installed

npm: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the accessibility tests (install Node.js 18+ with npm)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

lint: install
	$(VENV)/bin/ruff check .

# Fan-out: Halqa beside its baselines (bench/README.md), about 15 minutes; `make bench
# ARGS=--quick` is a short smoke run, `ARGS="--targets halqa,bare"` picks targets. Needs Redis
# (redis-server) and PostgreSQL on 127.0.0.1:5432; nginx is installed with apt when root.
bench: install
	$(PY) bench/run.py $(ARGS)

# Soak (bench/README.md): 30 minutes (ARGS="--minutes 8" for less) of 200 people in 20 circles
# coming and going on two processes behind nginx, Redis + PostgreSQL; fails on any loss or double.
soak: install
	$(PY) bench/soak.py $(ARGS)

# Where a server's CPU goes under a steady load (py-spy), e.g. ARGS="--target halqa-pg --rate 100".
bench-profile: install
	$(PY) bench/profile.py $(ARGS)

# Cost of the house-rules pipeline per message.
bench-pipeline: install
	$(PY) bench/pipeline_bench.py

clean:
	rm -rf $(VENV) var/static
