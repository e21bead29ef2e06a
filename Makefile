# The two commands: `make run` starts the gateway, `make test` passes the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the C part (setup.py) rebuilds when its source changes
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml setup.py src/octopus/_cpart.h src/octopus/relay/_passsink.c src/octopus/upstream/_pushread.c | cksum | cut -d' ' -f1)

.PHONY: run test check lint services browser bench clean

$(STAMP):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/octopus start

check: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

services:
	bash scripts/services.sh

browser:
	bash scripts/browser.sh

# the suite under coverage (floors and the least-covered modules: scripts/coverage_floor.py)
test: $(STAMP) services browser check
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/python scripts/coverage_floor.py

# --profile: py-spy's top frames go into RESULTS.md (full tables: bench/PROFILE.md)
bench: $(STAMP)
	$(BIN)/pip install --disable-pip-version-check -q py-spy
	$(BIN)/python bench/run.py --profile

clean:
	rm -rf $(VENV) build *.egg-info
