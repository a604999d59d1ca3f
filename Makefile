# The two set-up commands of the README, both idempotent and both fine straight after `git clone`:
#   make synth   install pinned dependencies, synthesize every stage and the pipeline offline into
#                cdk.out, run the compliance checks, print a summary
#   make test    install pinned dependencies, lint, synthesize with the compliance checks, run the
#                whole test suite
# Compliance (docs/COMPLIANCE.md): cdk-nag runs inside the synthesis (registered on the App in app.py),
# then compliance.gate runs cfn-lint and checkov on every template and writes cdk.out/compliance-report.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# checkov lives in its own virtualenv: its pins would drag the CDK app's and the test tools' pins around.
CHECKOV_VENV := .venv-checkov
CDK := node_modules/.bin/cdk
# The exam load test's Locust and matplotlib (requirements-bench.txt), only for `make bench-exam`.
BENCH_VENV := .venv-bench

# Node 20 works but jsii prints an end-of-life banner on every run.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# CDK's own template schema check duplicates cfn-lint (which runs on every template) at twice the cost.
export CDK_VALIDATION := false
# Nothing may call AWS at synth time: the CDK CLI would otherwise start a telemetry sender on every run.
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: install checkov-install synth compliance acknowledgments diagram pins test test-fast lint bench bench-moodle bench-exam bench-journey clean

install: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

checkov-install: $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --disable-pip-version-check --quiet -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# An unacknowledged cdk-nag finding fails `cdk synth`; the report is still written, to show what failed.
# A bad configuration writes no cloud assembly: app.py has printed its problems, and there is no report.
synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet --no-notices --no-lookups \
		|| { [ ! -f cdk.out/manifest.json ] || $(PY) -m compliance.gate cdk.out || true; exit 1; }
	$(PY) -m tools.synth_summary cdk.out
	$(PY) -m compliance.gate cdk.out

# cfn-lint, checkov and the report again, over the cdk.out that is there.
compliance: install
	$(PY) -m compliance.gate cdk.out

# Rewrite the committed acknowledgment ledger (compliance/acknowledgments.jsonl) from a fresh synthesis;
# a test fails while it differs from the code, so every new or removed acknowledgment shows in review.
acknowledgments: synth
	$(PY) -m compliance.ledger write cdk.out

# The README's architecture diagram (docs/diagram/dev.dot and .png) of the dev stage, drawn by cdk-dia
# from a fresh synthesis; the picture needs Graphviz (Debian package graphviz). A test fails while the
# committed .dot differs from what the code draws.
diagram: synth
	$(PY) -m tools.diagram cdk.out docs/diagram

# image/debian-pins.json made anew from a build of the image's packages stage (docs/IMAGE.md, "Security
# rebuilds"): after the Dockerfile installs other packages. Needs podman, mmdebstrap and runc.
pins: install
	$(PY) -m tools.image_pins

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

test: install lint synth
	$(PY) -m pytest

# What the pipeline's synth step runs: no local services, no containers.
test-fast: install
	$(PY) -m pytest -m "not services and not moodle and not container"

bench: install
	$(PY) -m tools.benchmark

# Real Moodle with Redis over verified TLS against plain Redis, on the container harness (opt-in:
# MOODLE_SRC=/path/to/moodle; needs wrk, a Debian package). About 4 minutes: tools/bench_moodle.py.
bench-moodle: install
	$(PY) -m tools.bench_moodle

$(BENCH_VENV)/.installed: requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --disable-pip-version-check --quiet -r requirements-bench.txt
	touch $@

# Exam-day capacity per Fargate task size: simulated students take one quiz with a synchronized start on the
# container harness (opt-in: MOODLE_SRC=/path/to/moodle). Writes docs/capacity/: docs/CAPACITY.md.
bench-exam: install $(BENCH_VENV)/.installed
	$(PY) -m tools.bench_exam

# The browser journey's step durations against real Moodle, cold and warm, and the budgets they give
# (opt-in: MOODLE_SRC; needs chromium and chromium-driver). About 3 minutes: tools/bench_journey.py.
bench-journey: install
	$(PY) -m tools.bench_journey

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
