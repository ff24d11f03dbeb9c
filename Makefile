# Two commands set everything up on a fresh machine:
#   make demo   runs the NYC-taxi training pipeline (examples/taxi) on the embedded store
#   make test   runs lint, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test lint typecheck pytest browser postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs cadenza, its server and the pipeline's data libraries, not the test tools.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[server,taxi]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m examples.taxi $(DEMO_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The web UI's tests drive Debian's Chromium through Playwright (browsers cannot be
# downloaded here: never `playwright install`). Installed when missing; needs root.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing chromium for the web UI tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The store's contract tests run on PostgreSQL too: .ci/postgres installs Debian's
# postgresql when missing (needs root), starts a scratch server of this checkout on a
# unix socket under /tmp and prints its URL, which the tests read from
# CADENZA_TEST_POSTGRES_URL. A URL set already (a server of your own) is used instead.
# `.ci/postgres stop` stops the server, `.ci/postgres remove` deletes it.
postgres:
	@.ci/postgres

pytest: $(STAMP) browser
	@url="$${CADENZA_TEST_POSTGRES_URL:-$$(.ci/postgres)}" && \
		echo "PostgreSQL for the store tests: $$url" && \
		CADENZA_TEST_POSTGRES_URL="$$url" $(PY) -m pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-prefect .mypy_cache .ruff_cache .pytest_cache
