# One command sets up and runs each workflow on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
AZURITE := node_modules/.bin/azurite
HOST ?= 127.0.0.1
PORT ?= 7071

.PHONY: setup chromium test lint typecheck lock lock-check run run-azurite bench fuzz format clean

setup: $(STAMP) $(AZURITE) $(INFRA_STAMP) chromium

# The console's browser tests drive Debian's chromium (Playwright never downloads one);
# installing it needs root (CI runs as root), see the README otherwise.
chromium:
	command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }

# Installs only from the locks, every file checked against its pinned hash.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $(STAMP)

$(INFRA_STAMP): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-infra.txt
	touch $(INFRA_STAMP)

# The locks: each *.in compiled by uv into a *.txt with every package pinned and
# hashed, for the platform Azure runs (Linux x86_64, Python 3.11). `make lock`
# keeps every pin that still satisfies its input; `make lock UPGRADE=name`
# moves one package to its newest allowed version, `UPGRADE=--all` every one.
LOCKS := requirements.txt requirements-dev.txt requirements-infra.txt
LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
UPGRADE ?=
UPGRADE_FLAGS := $(if $(UPGRADE),$(if $(filter --all,$(UPGRADE)),--upgrade,--upgrade-package $(UPGRADE)))

lock: $(STAMP)
	for lock in $(LOCKS); do \
	  $(BIN)/uv pip compile $${lock%.txt}.in $(LOCK_FLAGS) $(UPGRADE_FLAGS) -o $$lock || exit 1; \
	done

# Fails when a lock no longer matches its input (an edited *.in not compiled):
# compiling again from the lock's own pins must give the lock back unchanged.
lock-check: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for lock in $(LOCKS); do \
	  cp $$lock $$tmp/$$lock; \
	  $(BIN)/uv pip compile $${lock%.txt}.in $(LOCK_FLAGS) -o $$tmp/$$lock || exit 1; \
	  sed 1,2d $$lock > $$tmp/want; sed 1,2d $$tmp/$$lock > $$tmp/got; \
	  cmp -s $$tmp/want $$tmp/got || { echo "$$lock is stale: run make lock" >&2; \
	    diff $$tmp/want $$tmp/got | head -20 >&2; exit 1; }; \
	done

$(AZURITE): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

test: setup lock-check lint typecheck
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The local host on the embedded store (./.data): nothing else to install.
run: $(STAMP) local.settings.json
	$(BIN)/python -m tools.devhost --host $(HOST) --port $(PORT)

# Like `func init`: local settings start as the sample; edit the copy, not the sample.
local.settings.json:
	cp local.settings.sample.json local.settings.json

# The local host against Azurite, started here with its data in ./.azurite.
run-azurite: $(STAMP) $(AZURITE) local.settings.json
	$(AZURITE) --silent --location .azurite --skipApiVersionCheck --disableTelemetry & \
	  trap "kill $$!" EXIT INT TERM; \
	  AzureWebJobsStorage=UseDevelopmentStorage=true $(BIN)/python -m tools.devhost --host $(HOST) --port $(PORT)

bench: $(STAMP)
	$(BIN)/python -m tools.bench

# A longer fuzzing run (make test runs a short one); findings land in .fuzz/.
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	$(BIN)/python -m tools.fuzz --seconds $(FUZZ_SECONDS) --out .fuzz

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(INFRA_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .data .azurite
