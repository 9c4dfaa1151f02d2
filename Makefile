# coverplan: `make run` (demo pipeline into outputs/demo) and `make test` (ruff check, ruff format --check, mypy,
# pytest).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= outputs/demo

.PHONY: run test lint venv clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/coverplan demo --out $(OUT) --overwrite
	@echo "coverplan: demo outputs are in $(OUT)/ (map: $(OUT)/map.html, report: $(OUT)/report.html)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) outputs/demo .pytest_cache .ruff_cache .mypy_cache
