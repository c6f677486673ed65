# Newsroom: `make run` to serve the site, `make test` to run the tests.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell scripts/find-python)
HOST ?= 127.0.0.1:8000

.PHONY: setup run test lint bench bench-admin clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "No Python 3.12 or newer found." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $@

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_seeds seeds/
	$(BIN)/python manage.py runserver $(HOST)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/import_bench.py

bench-admin: setup
	$(BIN)/python bench/admin_bench.py

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles .pytest_cache
