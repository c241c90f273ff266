# Switchboard — the interface. CI calls these same targets (.ci/run → make test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Python 3.13 (the Lambda runtime) where present — on PATH or through pyenv — else python3 >= 3.11.
PYTHON ?= $(shell for c in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 python3; do \
  command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  && { command -v $$c; break; }; done)
STAMP := $(VENV)/.installed
SRC := $(wildcard shared functions tests switchboard bench)

.PHONY: help venv lint format typecheck unit test run clean

help:
	@echo "make run    - set everything up and run the local stack"
	@echo "make test   - set everything up and run lint, type checks and the tests"
	@echo "make lint   - ruff + mypy only"
	@echo "make clean  - remove the virtualenv and build output"

venv: $(STAMP)

$(STAMP): requirements-dev.lock shared/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: need Python >= 3.11 (3.13 preferred) on PATH" >&2; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy $(SRC)

format: $(STAMP)
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test: lint
	$(BIN)/python -m pytest -q

run: $(STAMP)
	@echo "The local stack (moto server + the real handlers on 127.0.0.1:3000) arrives with the [local] issue."
	@echo "Until then: make test runs every verifier and normaliser against the providers' own vectors."

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
