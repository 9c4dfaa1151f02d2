"""The house rules of the code, checked on the source itself (README, "Architecture"):

* no import loop between coverplan's modules, function-level imports counted;
* ``gis`` (the base) never imports ``planning``; a stage never imports the runner or the CLI; the runner never
  imports the CLI;
* no function is longer than 100 lines;
* tests use public names only (no ``from x import _private``);
* every sub-package declares its public face (``__all__`` in its ``__init__``), and a module of another package
  imports it only through that face (``from planning.radio import coverage_stage``), never a private name;
* the package order gis < (planning.jobs, planning.progress, planning.demo) < radio, fibre < status < plan < present
  < run < cli: a module imports only packages before its own (radio and fibre never each other);
* the geometry-free cores (the optimiser, the Steiner and Dijkstra kernels, the terrain kernel) import no geometry
  library, not even through the coverplan modules they import.
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
            # `from pkg import module` imports the module (and the package, whose __init__ runs first; a module of
            # the package itself does not count that as an arrow back); `from pkg import name` the package
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
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
    assert "planning.run" in GRAPH["planning.cli.run"]
    assert {"planning.radio", "planning.fibre", "planning.status"} <= GRAPH["planning.run.runner"]
    assert "planning.radio.stage" in GRAPH["planning.radio"]  # a face imports its modules
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


#: Sub-packages with a declared public face.
FACED = (
    "gis.settings",
    "gis.importers",
    "planning.radio",
    "planning.fibre",
    "planning.status",
    "planning.plan",
    "planning.present",
    "planning.run",
    "planning.cli",
    "planning.demo",
)

#: The package order: a module imports only packages of a lower rank than its own (or its own package).
RANK = {
    "gis": 0,
    "planning.jobs": 1,
    "planning.progress": 1,
    "planning.demo": 1,
    "planning.radio": 2,
    "planning.fibre": 2,
    "planning.status": 3,
    "planning.plan": 4,
    "planning.present": 5,
    "planning.run": 6,
    "planning.cli": 7,
    # the removed import paths: each only raises an ImportError naming the new places
    "planning.coverage": 8,
    "planning.optimise": 8,
    "planning.propagation": 8,
}

#: Modules that know no geometry: arrays, sparse matrices and graphs in, arrays out.
GEOMETRY_FREE = (
    "planning.plan.cover",
    "planning.plan.heuristics",
    "planning.plan.highs",
    "planning.plan.needs",
    "planning.plan.phasing",
    "planning.fibre.steiner",
    "planning.fibre.dijkstra",
    "planning.radio._terrain_kernel",
)
GEOMETRY_LIBRARIES = ("geopandas", "shapely", "pyproj", "rasterio", "pyogrio", "fiona", "folium", "osmium")


def _package(module: str, packages) -> str | None:
    """The longest of ``packages`` that ``module`` is, or is inside."""
    found = [p for p in packages if module == p or module.startswith(p + ".")]
    return max(found, key=len) if found else None


def _face(package: str) -> set[str]:
    """The names listed in ``package``'s ``__all__`` (read from its ``__init__`` without importing it)."""
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def _import_nodes(module: str):
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno


@pytest.mark.parametrize("package", FACED)
def test_every_sub_package_declares_its_face(package: str):
    face = _face(package)
    assert face, f"{package}/__init__.py has no __all__"
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    bound = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            bound |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound |= {t.id for t in targets if isinstance(t, ast.Name)}
    assert face <= bound, f"{package}: __all__ lists names it does not bind: {sorted(face - bound)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_other_packages_are_imported_through_their_face(module: str):
    mine = _package(module, FACED)
    wrong = []
    for target, names, line in _import_nodes(module):
        theirs = _package(target, FACED)
        if not target.startswith(PACKAGES) or theirs is None or theirs == mine:
            continue
        if target != theirs:
            wrong.append(f"line {line}: {target} (import from the package {theirs})")
        else:
            wrong += [f"line {line}: {theirs}.{n} is not in its __all__" for n in names if n not in _face(theirs)]
    assert not wrong, f"{module}: {wrong}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_a_module(module: str):
    private = [
        f"line {line}: {target}.{n}"
        for target, names, line in _import_nodes(module)
        if target.startswith(PACKAGES) and _package(target, RANK) != _package(module, RANK)
        for n in names
        if n.startswith("_") and n != "__version__"
    ]
    assert not private, f"{module} imports private names of another package: {private}"


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"planning"}))  # "planning": the namespace's docstring
def test_the_package_order_holds(module: str):
    mine = _package(module, RANK)
    assert mine is not None, f"{module} belongs to no package of the order: add it to RANK"
    above = sorted(
        m
        for m in GRAPH[module]
        if (theirs := _package(m, RANK)) != mine and RANK[theirs] >= RANK[mine]  # type: ignore[index]
    )
    assert not above, f"{module} ({mine}, rank {RANK[mine]}) imports packages not below it: {above}"


def _reach(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(GRAPH[m])
    return seen


@pytest.mark.parametrize("module", GEOMETRY_FREE)
def test_the_geometry_free_cores_import_no_geometry(module: str):
    libraries = {
        f"{m}: {target}"
        for m in _reach(module)
        for target, _, _ in _import_nodes(m)
        if target.split(".")[0] in GEOMETRY_LIBRARIES
    }
    assert not libraries, f"{module} reaches geometry libraries: {sorted(libraries)}"


def test_the_order_and_face_rules_bite():
    # the rules are not vacuous: the faces are read, cross-package imports exist, the cores reach modules
    assert {"coverage_stage", "radio_links"} <= _face("planning.radio")
    assert "planning.radio" in GRAPH["planning.plan.candidates"]
    assert RANK[_package("planning.plan.candidates", RANK)] > RANK[_package("planning.radio.links", RANK)]
    assert len(_reach("planning.plan.cover")) > 1
    assert _package("planning.present.maps", RANK) == "planning.present"
