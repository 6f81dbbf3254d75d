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

.PHONY: setup chromium test lint typecheck run run-azurite bench fuzz format clean

setup: $(STAMP) $(AZURITE) $(INFRA_STAMP) chromium

# The console's browser tests drive Debian's chromium (Playwright never downloads one);
# installing it needs root (CI runs as root), see the README otherwise.
chromium:
	command -v chromium >/dev/null || apt-get install -y chromium

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(INFRA_STAMP): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet -r requirements-infra.txt
	touch $(INFRA_STAMP)

$(AZURITE): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

test: setup lint typecheck
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
