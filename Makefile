# Two entry points for a fresh machine with Python >= 3.11 and make:
#   make run   - install, start Postgres (embedded unless MARKET_PULSE_DATABASE_URL is set),
#                migrate, and open the Dagster UI on http://127.0.0.1:3000
#   make test  - install and run the whole test suite
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

.PHONY: run test lint format bench install clean-state

install: .venv/.installed

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

run: install
	$(UV) run --frozen market-pulse dev

test: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .

format: install
	$(UV) run --frozen ruff format .

bench: install
	$(UV) run --frozen python -m bench

clean-state:
	-$(UV) run --frozen market-pulse db down
	rm -rf .market-pulse
