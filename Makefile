# Two commands matter: `make run` (demo school hub on SQLite) and `make test` (everything).
PY ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_HOME := $(CURDIR)/.kalan-test
PYTEST := KALAN_HOME=$(TEST_HOME) $(BIN)/pytest

.PHONY: install run test check lint format types contracts migrations messages messages-check \
        test-sqlite test-postgres test-browser vendor clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip==26.3"
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/kalan demo
	$(BIN)/kalan start --host 127.0.0.1 --port 8000

test: check

check: install lint types contracts migrations messages-check test-sqlite test-postgres test-browser
	@echo "make check: all green"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/vendor_assets.py --check

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

types: install
	KALAN_HOME=$(TEST_HOME) $(BIN)/mypy kalan tests

contracts: install
	$(BIN)/lint-imports

migrations: install
	KALAN_HOME=$(TEST_HOME) DJANGO_SETTINGS_MODULE=kalan.config.settings.test \
		$(BIN)/django-admin makemigrations --check --dry-run

messages-check: install
	$(BIN)/python scripts/check_messages.py

test-sqlite: install
	@bash scripts/ensure_ffmpeg.sh
	$(PYTEST) -n 2 -m "not browser" -p no:cacheprovider

test-postgres: install
	@if bash scripts/ensure_postgres.sh; then \
		KALAN_DATABASE_URL=$(PG_URL) $(PYTEST) -n 2 -m "not browser" -p no:cacheprovider; \
	fi

test-browser: install
	@if bash scripts/ensure_chromium.sh; then \
		$(PYTEST) -m browser -p no:cacheprovider -p no:randomly; \
		if bash scripts/ensure_postgres.sh quiet; then \
			KALAN_DATABASE_URL=$(PG_URL) $(PYTEST) -m browser -p no:cacheprovider -p no:randomly; \
		fi; \
	fi

# Extract every translatable string, then compile the catalogues (needs Debian's gettext).
messages: install
	cd kalan && KALAN_HOME=$(TEST_HOME) DJANGO_SETTINGS_MODULE=kalan.config.settings.test \
		$(BIN)/django-admin makemessages --no-obsolete --add-location=never \
		-l en -l fr -l ru -l tg -l bm
	$(BIN)/python scripts/fix_po_headers.py
	cd kalan && KALAN_HOME=$(TEST_HOME) DJANGO_SETTINGS_MODULE=kalan.config.settings.test \
		$(BIN)/django-admin compilemessages

vendor:
	$(BIN)/python scripts/vendor_assets.py

clean:
	rm -rf $(VENV) $(TEST_HOME) .pytest_cache .mypy_cache .ruff_cache
