# callbridge — every target bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install test lint format demo bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install callbridge with its development tools

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint ## Lint, then run the whole test suite
	$(BIN)/pytest -q

demo: $(STAMP) ## Run the quickstart end to end on a fresh local cloud
	$(BIN)/callbridge demo

bench: $(STAMP) ## Measure the local cloud; writes JSON reports to bench/results/
	$(BIN)/python -m bench

screenshots: $(STAMP) ## Retake the docs' screenshots of both web pages (browser tests)
	CALLBRIDGE_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/ui

clean: ## Remove the virtual environment and local state
	rm -rf $(VENV) .callbridge bench/results
