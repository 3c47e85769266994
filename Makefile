# Parvis: `make run` serves the API on the embedded default, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-pg check migrate migrations schema check-contract seed-demo clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Parvis needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["test"]))' > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python server.py serve

# Two workers (pytest-xdist), one test module per work unit so a module's fixtures (its servers)
# start once; WORKERS=0 runs in one process.
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadscope --no-loadscope-reorder)

test: $(STAMP)
	$(PYTEST)

# Lint and types: ruff, then mypy on the application code ([tool.mypy] in pyproject.toml).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The same suite against the local PostgreSQL and Redis.
test-pg: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/0} $(PYTEST)

migrate: $(STAMP)
	$(BIN)/python server.py migrate

# After changing models/: writes the next migration under migrations/.
migrations: $(STAMP)
	$(BIN)/tortoise makemigrations

schema: $(STAMP)
	$(BIN)/python server.py export-schema > schema.graphql

check-contract: $(STAMP)
	$(BIN)/python ../shared/tools/contract_diff.py schema.graphql

seed-demo: $(STAMP)
	$(BIN)/python server.py seed-demo

clean:
	rm -rf $(VENV) parvis.sqlite3
