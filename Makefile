# Collection CRM: `make run` starts everything, `make test` runs the whole suite.
# Both set up their own virtual environment from pyproject.toml + constraints.txt (pinned).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov (tests/deploy) in an environment of its own: its pins conflict with the application's.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
ASSETS := src/crm/web/assets
ASSETS_STAMP := $(ASSETS)/node_modules/.installed

.PHONY: run test screenshots install lint typecheck check-python browser clean

# Running needs the application and its web assets; checkov is only for the tests.
run: $(STAMP) $(ASSETS_STAMP)
	$(BIN)/crm up --demo

test: install lint typecheck browser
	$(BIN)/pytest

# The README's screenshots, taken again by the browser tests (a plain test run does not write them).
screenshots: install browser
	CRM_SCREENSHOTS=1 $(BIN)/pytest tests/web

install: $(STAMP) $(ASSETS_STAMP) $(CHECKOV_STAMP)

$(STAMP): pyproject.toml constraints.txt | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

$(CHECKOV_STAMP): constraints-checkov.txt | check-python
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints-checkov.txt checkov
	touch $(CHECKOV_STAMP)

# The web UI's front-end packages (htmx, Chart.js; axe-core for the tests), pinned in package-lock.json.
$(ASSETS_STAMP): $(ASSETS)/package.json $(ASSETS)/package-lock.json
	npm ci --prefix $(ASSETS) --no-audit --no-fund --loglevel=error
	touch $(ASSETS_STAMP)

# The browser tests drive Debian's chromium (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null || { \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(ASSETS)/node_modules .pytest_cache .mypy_cache .ruff_cache
