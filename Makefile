# The README's two commands: `make demo` and `make test`. Both set up .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot]"
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/python -m featherflow demo $(ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check featherflow tests $(wildcard benchmarks examples)

test: $(VENV)/.dev-installed
	$(BIN)/ruff check featherflow tests $(wildcard benchmarks examples)
	$(BIN)/python -m pytest featherflow tests $(ARGS)

clean:
	rm -rf $(VENV) demo-output build *.egg-info
