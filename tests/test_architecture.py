"""The house rules of the code, checked on the source itself (README, "Architecture"):

* no import loop between coverplan's modules, function-level imports counted;
* ``gis`` (the base) never imports ``planning``; a stage never imports the runner or the CLI; the runner never
  imports the CLI;
* no function is longer than 100 lines;
* tests use public names only (no ``from x import _private``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("gis", "planning")
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path, module: str) -> set[str]:
    """coverplan modules imported anywhere in ``path`` (top level or inside functions), resolved to modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")
                base = ".".join([*pkg[: len(pkg) - node.level + (1 if path.name == "__init__.py" else 0)], base])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        for imported in names:
            name = imported
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH = {m: _imports(p, m) for m, p in MODULES.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_import_graph_has_no_loop():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_graph_is_real():
    # the check is not vacuous: the runner imports the stages, the CLI the runner, function-level imports count
    assert "planning.run.runner" in GRAPH["planning.cli.run"]
    assert {"planning.radio.stage", "planning.fibre.stage", "planning.status.stage"} <= GRAPH["planning.run.runner"]
    assert "gis.schema" in GRAPH["gis.validation"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_flow_is_one_way(module: str):
    imported = GRAPH[module]
    if module.startswith("gis"):
        assert not [m for m in imported if m.startswith("planning")], f"{module} (base) imports planning"
    if not module.startswith(("planning.run", "planning.cli")):
        assert not [m for m in imported if m.startswith(("planning.run", "planning.cli"))], (
            f"{module} (a stage) imports the runner or the CLI"
        )
    if module.startswith("planning.run"):
        assert not [m for m in imported if m.startswith("planning.cli")], f"{module} imports the CLI"


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_is_longer_than_100_lines(module: str):
    long = [
        (f.name, f.end_lineno - f.lineno + 1)
        for f in _functions(MODULES[module])
        if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{module}: {long}"


def test_tests_use_public_names_only():
    private = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGES):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not private
