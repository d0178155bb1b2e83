# Salescope developer entry points. From a fresh clone, `make demo` and `make test` set
# everything up themselves (uv in .tools/, the locked dependencies in .venv/).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
HOST ?= 127.0.0.1
UV_VERSION := 0.13.9

# Python 3.11: python3.11 if present, else python3 when it is 3.11.
ifeq ($(origin PYTHON),undefined)
# (sys.executable resolves version-manager shims to the real interpreter.)
PYTHON := $(shell for py in python3.11 python3; do \
	"$$py" -c 'import sys; assert sys.version_info[:2] == (3, 11); print(sys.executable)' \
	2>/dev/null && break; done)
endif

export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1
ifneq ($(wildcard /etc/ssl/certs/ca-certificates.crt),)
export SSL_CERT_FILE := /etc/ssl/certs/ca-certificates.crt
endif

UV := .tools/bin/uv
UV_STAMP := .tools/.uv-$(UV_VERSION)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.salescope-installed

.PHONY: help install demo serve test lint fmt bench bench-imports bench-kpis migrations-check clean

help:
	@echo "make install           set up .tools/ (uv) and .venv/ (locked dependencies)"
	@echo "make demo [PORT=8000]  migrate, seed demo data and serve on http://$(HOST):$(PORT)/"
	@echo "make test [ARGS=...]   full test suite on SQLite, then on a throwaway PostgreSQL"
	@echo "make lint              ruff check, ruff format --check, mypy"
	@echo "make fmt               ruff format + ruff check --fix"
	@echo "make bench             run the benchmarks (bench/run.py)"
	@echo "make bench-imports     import 100,000 deals + 400,000 history rows (SQLite, PostgreSQL)"
	@echo "make bench-kpis [ARGS=...]  KPI speed on a seeded company vs DuckDB (bench/README.md)"
	@echo "make migrations-check  fail if a model change has no migration"

install: $(STAMP)

$(UV_STAMP):
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Python 3.11 is required (python3.11, or python3 being 3.11)." >&2; exit 1; fi
	@if ! "$(PYTHON)" -c 'import ensurepip' 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo ">>> $(PYTHON) cannot create virtual environments; installing python3.11-venv"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >/dev/null || { \
				apt-get update -qq && \
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >/dev/null; }; \
		else \
			echo "error: $(PYTHON) has no venv support; install it: sudo apt-get install python3.11-venv" >&2; \
			exit 1; \
		fi; \
	fi
	@if [ -x $(UV) ] && [ "$$($(UV) --version 2>/dev/null | cut -d' ' -f2)" = "$(UV_VERSION)" ]; then \
		touch $@; exit 0; fi; \
	echo ">>> bootstrapping uv $(UV_VERSION) into .tools/ (with $(PYTHON))"; \
	rm -rf .tools && \
	"$(PYTHON)" -m venv .tools && \
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) && \
	touch $@

$(STAMP): uv.lock pyproject.toml $(UV_STAMP)
	@echo ">>> installing the locked dependencies into $(VENV)/"
	$(UV) sync --frozen --python "$(PYTHON)"
	@touch $@

demo: install
	$(BIN)/salescope demo --port $(PORT)

serve: install
	$(BIN)/salescope serve --host $(HOST) --port $(PORT)

test: install
	scripts/test.sh $(ARGS)

lint: install
	@status=0; \
	echo ">>> ruff check"; $(BIN)/ruff check . || status=1; \
	echo ">>> ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo ">>> mypy salescope"; $(BIN)/mypy salescope || status=1; \
	exit $$status

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run.py

bench-imports: install
	scripts/pg_throwaway.sh $(BIN)/python bench/imports.py

bench-kpis: install
	$(BIN)/python bench/kpis.py $(ARGS)

migrations-check: install
	$(BIN)/salescope makemigrations --check --dry-run

clean:
	rm -rf .tools $(VENV) .mypy_cache .ruff_cache .pytest_cache
