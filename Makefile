# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(STAMP)
	$(BIN)/loadgate run examples/seed/browse.py -u 20 -r 10 -t 20s --name demo --report loadgate-demo.html

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples/gateways
	$(BIN)/ruff format --check src tests bench examples/gateways

typecheck: $(STAMP)
	$(BIN)/mypy

test: system-deps $(STAMP) lint typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	bash bench/gateway.sh
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/hub_stall.py
	$(BIN)/python bench/long_run.py --hours 1 4
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
