# Quick start: `make demo` and `make test` each create .venv and install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The CPU wheel of torch on these machines; a looser pin pulls a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0

.PHONY: install demo test fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet $(TORCH_PIN)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/likely demo --out runs/demo --force

test: install
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# the fuzz tests with 20x the examples of `make test` (about 3 minutes on 2 cores)
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n 2 --timeout 0 --hypothesis-show-statistics tests/test_fuzz_readers.py

bench: install
	$(BIN)/python benchmarks/flows.py

clean:
	rm -rf $(VENV) runs .pytest_cache
