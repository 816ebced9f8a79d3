# Two commands on a fresh machine: `make run` and `make test`. Nothing else by hand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test fuzz lint install install-dev browser fonts messages clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(STAMP_DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP_RUN) $@

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

## Serve the demo town on http://$(HOST):$(PORT) (SQLite under var/ unless DATABASE_URL is set).
run: $(STAMP_RUN) fonts
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo --if-empty
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py demo_accounts
	@# The task worker (notifications) and the periodic sweep run beside gunicorn and stop with it.
	@$(BIN)/python manage.py db_worker --interval 1 --verbosity 0 & worker=$$!; \
	 (while sleep 60; do $(BIN)/python manage.py sweep >/dev/null; done) & sweeper=$$!; \
	 trap 'kill $$worker $$sweeper 2>/dev/null' EXIT INT TERM; \
	 $(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --access-logfile - --graceful-timeout 5

## The whole suite on SQLite (or on PostgreSQL when DATABASE_URL is set), browser tests included.
test: $(STAMP_DEV) browser
	$(BIN)/python -m pytest -p no:cacheprovider --create-db $(PYTEST_ARGS)

## schemathesis over the OpenAPI document as three roles (≥ 100 examples per operation; ~10 min).
fuzz: $(STAMP_DEV)
	$(BIN)/python -m pytest -p no:cacheprovider --create-db -n 2 -m fuzz tests/test_api_schemathesis.py $(PYTEST_ARGS)

## The TrueType CJK font reportlab embeds in certificates (Debian's fonts-wqy-zenhei).
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || { \
	  echo "Installing Debian's fonts-wqy-zenhei for PDF certificates (needs root and the Debian mirror)…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null) \
	  || { echo "Could not install it: run 'apt-get install fonts-wqy-zenhei' as root."; exit 1; }; }

## Chromium, a CJK screen font and poppler (PDF → PNG checks) for the tests: Debian's packages.
browser: fonts
	@{ command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
	   && fc-list 2>/dev/null | grep -q "Noto Sans CJK"; } || { \
	  echo "Installing Debian's chromium, fonts-noto-cjk and poppler-utils for the tests (needs root and the Debian mirror)…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null) \
	  || { echo "Could not install them: run 'apt-get install chromium fonts-noto-cjk poppler-utils' as root."; exit 1; }; }

lint: $(STAMP_DEV)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

## Collect new strings into locale/en (then give each its English; tests/test_translations.py
## fails while any is missing) and recompile the catalogue.
messages: $(STAMP_DEV)
	$(BIN)/python manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=var --ignore=bench --ignore=tests
	msgcat --width=79 -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv

clean:
	rm -rf var/static var/test.sqlite3*
