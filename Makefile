# Two commands: `make demo` and `make test`. Everything else here serves them.
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
# A uv already on PATH is used as it is; otherwise uv is installed into .venv.
UV := $(shell command -v uv 2>/dev/null || echo $(VENV)/bin/uv)
LINLI := $(VENV)/bin/linli

.PHONY: demo test install serve lint types messages bench bench-planning bench-tools

demo: install
	$(LINLI) migrate
	$(LINLI) demo build
	$(LINLI) demo accounts
	$(LINLI) serve --port $(PORT)

test: install
	scripts/test.sh

install: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Linli needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/bin/uv: $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv

# Reinstalled whenever the lock changes; --locked refuses a lock out of step with
# pyproject, --inexact keeps the uv that lives in .venv.
$(VENV)/.installed: pyproject.toml uv.lock | $(VENV)/bin/python $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --python $(VENV)/bin/python
	touch $@

serve: install
	$(LINLI) serve --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy .

# Re-extract translatable texts (needs GNU gettext) and compile the catalogues.
messages: install
	$(VENV)/bin/python manage.py makemessages -l zh_Hans -l en --no-obsolete -i .venv -i var -i tests -i "*/tests/*"
	$(VENV)/bin/python scripts/compile_messages.py

# Performance lives here, not in tests: see docs/benchmarks.md.
bench: install
	$(VENV)/bin/python benchmarks/directory_api.py
	$(VENV)/bin/python benchmarks/residents_import.py
	$(VENV)/bin/python benchmarks/dispatch_round.py
	$(VENV)/bin/python benchmarks/request_create.py
	$(VENV)/bin/python benchmarks/timebank_transfers.py
	$(VENV)/bin/python benchmarks/evaluation_indices.py
	$(VENV)/bin/python benchmarks/participatory_budget.py

# The planning engine beside the tools a planner would otherwise use (networkx, pandana,
# PySAL access, spopt): they live in the `bench` dependency group, not in the runtime.
bench-planning: bench-tools
	$(VENV)/bin/python benchmarks/planning_access.py
	$(VENV)/bin/python benchmarks/planning_siting.py

bench-tools: install
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --group bench --python $(VENV)/bin/python
