# Two commands matter: `make demo` (the site on its embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/campaign
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install install-dev install-node lint typecheck services bench lock clean lighthouse

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (PYTHON=$(PYTHON))")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

# The browser tests' and benchmarks' tools from the npm registry (axe-core, injected into the
# page under test, never served to visitors; Lighthouse). Pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm (see .ci/run)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-node: node_modules/.installed

# The demo ignores DATABASE_URL/REDIS_URL/Stripe keys from your shell: it is the embedded defaults.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL -u STRIPE_SECRET_KEY -u DJANGO_ENV -u CELERY_BROKER_URL SITE_URL=http://127.0.0.1:$(PORT)

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py load_demo --staff
	@echo "Serving http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

services:
	@DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		bash scripts/ensure-services.sh

lint: install-dev
	$(BIN)/ruff check .

typecheck: install-dev
	$(BIN)/mypy .

test: install-dev install-node services lint typecheck
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(BIN)/pytest $(PYTEST_ARGS)

bench: install-dev install-node services
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(BIN)/python -m benchmarks.run $(BENCH)

# Lighthouse's four scores on list, detail and fact sheet, phone and desktop, against a
# running site (`make demo` in another shell). LIGHTHOUSE_ARGS="--min 95" fails below 95.
lighthouse: install-node
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} node scripts/lighthouse.mjs http://127.0.0.1:$(PORT) $(LIGHTHOUSE_ARGS)

# Regenerate the hash-pinned lock files after changing pyproject.toml (needs uv).
lock:
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) node_modules db.sqlite3 media staticfiles .pytest_cache .mypy_cache .ruff_cache artifacts
