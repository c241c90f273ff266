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
# sam needs the runtime's Python (3.13) on PATH: the virtualenv provides it when made with 3.13.
SAM_ENV := PATH="$(CURDIR)/$(BIN):$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
SRC := $(wildcard shared functions tests switchboard bench)

.PHONY: help venv lint format unit integration validate build smoke events browser inspector-screenshot test fuzz bench run clean

help:
	@echo "make run    - set everything up and run the local stack"
	@echo "make test   - set everything up and run lint, type checks and the tests"
	@echo "make lint   - ruff + mypy only"
	@echo "make fuzz   - the heavy fuzzing, fault-injection and load runs"
	@echo "make bench  - benchmarks; writes bench/RESULTS.md"
	@echo "make build  - sam build + hash-based bytecode, ready for sam deploy"
	@echo "make clean  - remove the virtualenv and build output"

venv: $(STAMP)

$(STAMP): requirements-dev.lock shared/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: need Python >= 3.11 (3.13 preferred) on PATH" >&2; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@echo "==> installing $$(grep -c '==' requirements-dev.lock) pinned packages (first run: about a minute; one line each)"
	@set -o pipefail; $(BIN)/python -m pip install --disable-pip-version-check --progress-bar off \
	  -r requirements-dev.lock | sed -un -e 's/^Collecting \([^ ]*\).*/    \1/p' \
	  -e 's|^Processing .*/\([^/-]*-[^-/]*\)-[^/]*\.whl.*|    \1|p' -e 's/^Installing collected.*/==> unpacking…/p'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> $(VENV) is ready"
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

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration -q

validate: $(STAMP)
	$(SAM_ENV) $(BIN)/sam validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml

# sam build, then hash-based bytecode: a SAM zip stores 1980 mtimes, so timestamp .pyc never
# validate and every cold start would recompile everything (bench/ measures the difference).
build: $(STAMP)
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	  echo "error: sam build needs Python 3.13 (the Lambda runtime); .venv has $$($(BIN)/python --version)." >&2; \
	  echo "       install 3.13 (e.g. pyenv install 3.13), then make clean && make build" >&2; exit 1; fi
	$(SAM_ENV) $(BIN)/sam build --template template.yaml
	$(BIN)/python -m compileall -q --invalidation-mode unchecked-hash .aws-sam/build

# Without Python 3.13 (the Lambda runtime) there is nothing to build: say so and go on.
smoke: $(STAMP)
	@if $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	  $(MAKE) --no-print-directory build && $(BIN)/python -m switchboard.smoke; \
	else echo "warning: skipping sam build and the built-handler smoke test: .venv has $$($(BIN)/python --version), not 3.13"; fi

# Regenerate events/ (signed at the fixed time in switchboard/samples.py; the tests pin their clock
# to it). For events signed *now*, for `sam local invoke`: .venv/bin/switchboard events --out DIR
events: $(STAMP)
	$(BIN)/python -c 'from pathlib import Path; from switchboard.samples import generate; generate(Path("events"))'

# The inspector's browser tests (tests/e2e/test_inspector.py) drive Debian's Chromium through its
# chromedriver. Installed here when missing and this user may (root, or sudo without a password);
# otherwise those tests skip, naming what to install (under CI=true they fail instead of skipping).
BROWSER_PKGS := chromium chromium-driver
BROWSER_BINS := chromium chromedriver
BROWSER_LOG := /tmp/switchboard-browser-install.log
browser:
	@missing=""; for b in $(BROWSER_BINS); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "note:$$missing not found and not root: the inspector's browser tests will skip (sudo apt-get install $(BROWSER_PKGS))"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "note:$$missing not found and no apt-get: the inspector's browser tests will skip (install Chromium and its chromedriver)"; exit 0; fi; \
	echo "==> installing $(BROWSER_PKGS) for the inspector's browser tests (apt-get; log: $(BROWSER_LOG))"; \
	{ $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	  --no-install-recommends $(BROWSER_PKGS); } >$(BROWSER_LOG) 2>&1 \
	  || { tail -5 $(BROWSER_LOG); echo "warning: could not install $(BROWSER_PKGS): the inspector's browser tests will skip"; }

# docs/inspector.png, the README's picture: the browser tests' last one takes it from their real run.
inspector-screenshot: $(STAMP) browser
	SWITCHBOARD_INSPECTOR_SCREENSHOT=docs/inspector.png $(BIN)/python -m pytest tests/e2e/test_inspector.py -q

test: lint validate smoke browser
	$(BIN)/python -m pytest -q

# The heavy hardening runs: 5,000 fuzz cases per property, 400 events through injected faults.
fuzz: $(STAMP)
	SWITCHBOARD_FUZZ=1 $(BIN)/python -m pytest tests/hardening -q

# Benchmarks (not part of make test): writes bench/RESULTS.md.
bench: build
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python -m bench

run: $(STAMP)
	$(BIN)/switchboard run

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
