# eim — two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench speed-table install clean snapshot-update

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Open the TUI on the default SQLite store (demo data on first run).
run: $(STAMP)
	$(BIN)/eim --demo-if-empty

## Install and run the whole suite, on two workers; the e2e tests run one after another on one of
## them (their xdist group, tests/conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

## Print the speed and memory figures (one JSON line per figure).
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run_all

## Rewrite the README's speed table from the last `make bench` run (.bench/figures.jsonl).
speed-table: $(STAMP)
	$(BIN)/python -m tests.bench.speed_table

snapshot-update: $(STAMP)
	$(BIN)/python -m pytest -q tests/snapshots --snapshot-update

clean:
	rm -rf $(VENV) build *.egg-info
