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
	$(BIN)/ruff check featherflow tests $(wildcard benchmarks examples tools)

test: $(VENV)/.dev-installed
	$(BIN)/ruff check featherflow tests $(wildcard benchmarks examples tools)
	$(BIN)/python -m pytest featherflow tests $(ARGS)

# `make bench`: the peers' environment (.venv-bench: featherflow editable with its `fast` extra beside
# tensorflow-cpu + tf-keras, keras + jax, and the CPU build of torch), then every script in benchmarks/.
# Not part of `make test`. A peer that cannot be installed is reported as missing by the scripts.
# BENCH="seed_mlp cnn_epoch" runs only those scripts; BENCH_ARGS=--quick makes a short smoke run.
BENCH_VENV := .venv-bench
BENCH ?=
BENCH_ARGS ?=
TORCH_SPEC ?= torch==2.13.0+cpu

$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e ".[fast]"
	$(BENCH_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" || echo "make bench: torch CPU not installed ($(TORCH_SPEC))"
	$(BENCH_VENV)/bin/python -m pip install --quiet tensorflow-cpu || echo "make bench: tensorflow-cpu not installed"
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps tf-keras || echo "make bench: tf-keras not installed"
	$(BENCH_VENV)/bin/python -m pip install --quiet keras "jax[cpu]" psutil || echo "make bench: keras/jax not installed"
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run_all.py $(BENCH) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) demo-output build *.egg-info
