# eim — two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench install clean snapshot-update

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Open the TUI on the default SQLite store (demo data on first run).
run: $(STAMP)
	$(BIN)/eim --demo-if-empty

## Install and run the whole suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## Print the speed and memory figures (one JSON line per figure).
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run_all

snapshot-update: $(STAMP)
	$(BIN)/python -m pytest -q tests/snapshots --snapshot-update

clean:
	rm -rf $(VENV) build *.egg-info

## Until the first release, the initial migration is regenerated from store/tables.py.
initial-migration: $(STAMP)
	rm -f eim_tui/store/migrations/versions/0001_initial_schema.py /tmp/eim-gen-$$$$.db
	$(BIN)/python -c "from alembic.config import Config; from alembic import command; \
	c = Config(); c.set_main_option('script_location', 'eim_tui/store/migrations'); \
	c.set_main_option('sqlalchemy.url', 'sqlite:////tmp/eim-gen-$$$$.db'); \
	command.revision(c, message='initial schema', autogenerate=True, rev_id='0001')" >/dev/null
	sed -i 's/^Create Date: .*/Create Date: 2026-11-26/; /### commands auto generated/d; /### end Alembic commands/d' \
	  eim_tui/store/migrations/versions/0001_initial_schema.py
	rm -f /tmp/eim-gen-$$$$.db
