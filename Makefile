# The two set-up commands of the README, both idempotent and both fine straight after `git clone`:
#   make synth   install pinned dependencies, synthesize every stage and the pipeline offline into
#                cdk.out, run the compliance checks, print a summary
#   make test    install pinned dependencies, lint, run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk

# Node 20 works but jsii prints an end-of-life banner on every run.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# CDK's own template schema check duplicates cfn-lint (which runs on every template) at twice the cost.
export CDK_VALIDATION := false

.PHONY: install synth test test-fast lint bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet --no-notices --no-lookups
	$(PY) -m tools.synth_summary cdk.out

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

test: install lint
	$(PY) -m pytest

# What the pipeline's synth step runs: no local services needed.
test-fast: install
	$(PY) -m pytest -m "not services and not moodle"

bench: install
	$(PY) -m tools.benchmark

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
