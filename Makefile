# Two commands matter: `make demo` (the site on its embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/campaign
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install install-dev install-node lint typecheck services bench bench-tools lock clean lighthouse messages makemessages

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

# Spanish (and any other) catalogues: locale/*/LC_MESSAGES/django.po compiled to .mo by
# GNU gettext's msgfmt (Debian package `gettext`). The .mo files are build output, not in git.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "msgfmt is missing: install GNU gettext (apt-get install gettext; see .ci/run)"; exit 1; }
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

messages: $(MO_FILES)

# After changing translatable strings: refresh the catalogue, translate, then `make messages`.
makemessages: install
	$(BIN)/python manage.py makemessages -l es --no-obsolete --ignore=.venv --ignore=node_modules --ignore=tests --ignore=benchmarks --ignore=artifacts

# The demo ignores DATABASE_URL/REDIS_URL/Stripe keys from your shell: it is the embedded defaults.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL -u STRIPE_SECRET_KEY -u DJANGO_ENV -u CELERY_BROKER_URL SITE_URL=http://127.0.0.1:$(PORT)

demo: install messages
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

# --create-db: a test database left by another checkout (other migrations) is never reused.
test: install-dev install-node messages services lint typecheck
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(BIN)/pytest --create-db $(PYTEST_ARGS)

# The pages benchmark runs the shipped nginx config under Debian's nginx and loads it with wrk.
bench-tools:
	@command -v wrk >/dev/null && { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; } || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk; }

bench: install-dev install-node services bench-tools
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
	rm -rf $(VENV) node_modules $(MO_FILES) db.sqlite3 media staticfiles .pytest_cache .mypy_cache .ruff_cache artifacts
