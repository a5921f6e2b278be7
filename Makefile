# Sluice: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sluice-installed
PYTEST_ARGS ?=
# 1 = the benchmarks' full sizes; a fraction (0.05) shrinks them for a quick check of the harness
BENCH_SCALE ?= 1

.DEFAULT_GOAL := help
.PHONY: help deps venv tools up down status demo test drills bench bench-scale lint format constraints clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## Install the Debian packages the stack runs on (only what is missing)
	@scripts/install-system-deps

venv: $(STAMP) ## Create .venv with the pinned requirements and Sluice itself

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@PYTHON=$(PYTHON) scripts/install-venv $(VENV)
	@touch $@

tools: venv ## Install the offline checkers of the deployment files (cached outside the checkout)
	@PYTHON=$(PYTHON) SLUICE_PYTHON=$(BIN)/python scripts/install-tools

up: deps venv ## Start the platform (the data stack, today) and wait until healthy
	@$(BIN)/sluice up

down: ## Stop the platform
	@if [ -x $(BIN)/sluice ]; then $(BIN)/sluice down; else echo "nothing to stop (no $(VENV))"; fi

status: venv ## Show what runs and whether it answers
	@$(BIN)/sluice status

demo: deps venv ## Install what is missing, start everything (with monitoring), crawl the demo sites, show the data
	@$(BIN)/sluice up --with-monitoring
	@scripts/demo

test: deps venv tools ## Install what is missing, start the stack, run lint and the whole suite
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check --quiet .
	@$(BIN)/sluice stack up
	@$(BIN)/python -m tests.support.streams $(PYTEST_ARGS)

drills: deps venv ## Crash every component at full size (100,000 messages); writes drills-report.md/.json
	@$(BIN)/sluice stack up
	@$(BIN)/pytest tests/drills -m drill --drill-size 100000 $(PYTEST_ARGS)

bench: deps venv ## Start the stack, run every benchmark beside its raw baseline; writes bench/RESULTS.md
	@$(BIN)/sluice stack up
	@$(BIN)/sluice migrate
	@$(BIN)/python -m bench --scale $(BENCH_SCALE)

bench-scale: deps venv ## API keyset pages over 10M products and 100M price rows (BENCH_SCALE shrinks them)
	@$(BIN)/sluice stack up
	@$(BIN)/sluice migrate
	@$(BIN)/python -m bench.scale_model --scale $(BENCH_SCALE)

lint: venv ## ruff
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: venv ## Apply ruff's fixes and formatting
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

constraints: ## Re-resolve requirements.txt and rewrite constraints.txt
	@rm -rf .venv-constraints && $(PYTHON) -m venv .venv-constraints
	@.venv-constraints/bin/pip install --quiet -r requirements.txt
	@{ echo "# Every transitive pin of requirements.txt, as resolved together (regenerate: make constraints)."; \
	   .venv-constraints/bin/pip freeze; } > constraints.txt
	@rm -rf .venv-constraints

clean: down ## Stop everything and remove .venv and .stack (all local data)
	@if [ -x $(BIN)/sluice ]; then $(BIN)/sluice stack reset --yes; fi
	@rm -rf $(VENV)
