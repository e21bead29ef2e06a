#!/usr/bin/env bash
# Before the first release only: rebuild the initial revision from tables.py.
set -eu
cd "$(dirname "$0")/.."
rm -f src/octopus/store/migrations/versions/*_initial_schema_*.py
.venv/bin/python scripts/new_migration.py "initial schema"
.venv/bin/ruff format -q src/octopus/store/migrations/versions/
.venv/bin/ruff check -q --fix src/octopus/store/migrations/versions/ || true
