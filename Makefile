# Two entry points for a fresh machine with Python >= 3.11 and make:
#   make run   - install, start Postgres (embedded unless MARKET_PULSE_DATABASE_URL is set),
#                migrate, and serve the UI behind its login on http://127.0.0.1:3000
#   make test  - install, lint and run the whole test suite (Dagster UI suite included)
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

.PHONY: run test lint format bench install bytecode clean-state

install: .venv/.installed

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

# Bytecode is written at install time: every Dagster run worker, step process and code server
# imports the whole code location, and where PYTHONDONTWRITEBYTECODE is set (containers often
# set it) each of them would otherwise compile ~8,000 files again (~7 s per process instead of ~2).
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

bytecode: install
	@$(UV) run --frozen python -m compileall -q pipelines downloader infra cli demo web >/dev/null

run: bytecode
	$(UV) run --frozen market-pulse dev

test: bytecode lint
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# Style (ruff), the import rules of README's layout table (import-linter) and types (mypy).
lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen mypy

format: install
	$(UV) run --frozen ruff format .

bench: install
	$(UV) run --frozen python -m bench

clean-state:
	-$(UV) run --frozen market-pulse db down
	rm -rf .market-pulse
