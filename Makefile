# coverplan: `make run` (demo pipeline into outputs/demo) and `make test` (ruff check, ruff format --check, mypy,
# pytest).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= outputs/demo

.PHONY: run test lint venv clean check-venv

# a .venv built with a Python coverplan does not support (or whose Python is gone) is named, with how to rebuild it
check-venv:
	@if [ -e $(VENV) ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	  echo "coverplan: $(VENV) runs $$($(BIN)/python --version 2>/dev/null || echo 'a Python that is no longer installed');" \
	    "coverplan needs Python >= 3.11. Rebuild it: rm -rf $(VENV) && make PYTHON=python3.11 run" >&2; \
	  exit 1; \
	fi

$(STAMP): setup.cfg pyproject.toml | check-venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: check-venv $(STAMP)
	$(BIN)/coverplan demo --out $(OUT) --overwrite
	@echo "coverplan: demo outputs are in $(OUT)/ (map: $(OUT)/map.html, report: $(OUT)/report.html)"

lint: check-venv $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) outputs/demo .pytest_cache .ruff_cache .mypy_cache
