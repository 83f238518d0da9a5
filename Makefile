# Two commands for a newcomer: `make run` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
KSEF_FAKE_PORT ?= 5081
PAYU_FAKE_PORT ?= 5082
export FLASK_APP := run.py

RUN_DEB := fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext
TEST_DEB := $(RUN_DEB) chromium postgresql poppler-utils dovecot-imapd dovecot-lmtpd

.PHONY: run test setup setup-test deps-run deps-test i18n lint clean

run: setup
	HOST=$(HOST) PORT=$(PORT) KSEF_FAKE_PORT=$(KSEF_FAKE_PORT) PAYU_FAKE_PORT=$(PAYU_FAKE_PORT) bash scripts/run-dev.sh

test: setup-test lint
	$(BIN)/python -m pytest tests
	CRM_TEST_DB=postgresql $(BIN)/python -m pytest tests/integration

setup: deps-run $(VENV)/.installed translations/pl/LC_MESSAGES/messages.mo

setup-test: deps-test $(VENV)/.installed-dev translations/pl/LC_MESSAGES/messages.mo

deps-run:
	@bash scripts/apt-deps.sh $(RUN_DEB)

deps-test:
	@bash scripts/apt-deps.sh $(TEST_DEB)

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $(VENV)/.installed $@

translations/pl/LC_MESSAGES/messages.mo: translations/pl/LC_MESSAGES/messages.po | $(VENV)/bin/python
	$(BIN)/pybabel compile -f -d translations

i18n:
	$(BIN)/python scripts/i18n.py extract

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app config.py run.py tests scripts bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance
