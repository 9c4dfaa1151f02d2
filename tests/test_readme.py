"""README.md holds: every python block runs, its project.toml example validates and documents every setting, and
every file or folder of the repository it names exists."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.project import load_project
from gis.settings import CostSettings, FibreSettings, MapSettings, OptimiseSettings, RadioSettings, TargetSettings
from planning.cli import cli
from planning.demo import DEMO_DIR
from tests.conftest import ROOT

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
#: Settings classes of each project.toml section.
SECTIONS = {
    "radio": RadioSettings,
    "costs": CostSettings,
    "fibre": FibreSettings,
    "optimise": OptimiseSettings,
    "targets": TargetSettings,
    "map": MapSettings,
}
#: Folders the README names that are outputs, not repository files: written by `make run` (outputs/demo), the
#: browser tests (outputs/screenshots) and the notebook (outputs/pilot_proposal).
GENERATED = ("outputs/demo/", "outputs/screenshots/", "outputs/pilot_proposal/")


def blocks(language: str) -> list[str]:
    """The fenced code blocks of ``language`` in README.md."""
    return re.findall(rf"^```{language}\n(.*?)^```", TEXT, flags=re.S | re.M)


PYTHON = blocks("python")


def test_the_readme_has_a_python_quickstart_and_a_whole_project_file():
    assert len(PYTHON) >= 1
    assert any("propose(" in b and "budget_cny=" in b and "save_map(" in b for b in PYTHON)
    assert len([b for b in blocks("toml") if "[project]" in b]) == 1


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_every_python_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Each block alone, in a fresh namespace, in an empty working folder, with no warning."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(PYTHON[index], f"README.md python block {index + 1}", "exec"), namespace)
    assert [str(w.message) for w in caught] == []
    printed = capsys.readouterr().out
    if "propose(" in PYTHON[index]:  # the quickstart: a budget plan, its map and report written
        totals = namespace["prop"].totals
        assert totals["mode"] == "budget"
        assert 0 < totals["cost_cny"] <= 3_000_000
        assert f"{totals['cost_cny']:,} CNY" in printed
        assert totals["unconnected_schools_left"] == 0  # the demo's 5 unconnected schools come first
        assert (tmp_path / "quickstart" / "map.html").stat().st_size > 100_000
        assert 'id="interventions"' in (tmp_path / "quickstart" / "report.html").read_text(encoding="utf-8")


def test_the_project_toml_example_validates_with_the_demo_layers(tmp_path: Path):
    """The example, saved as project.toml beside a copy of the demo's files, validates (exit 0); the sections it
    only describes in comments keep their defaults (an array-of-tables header left in would replace them)."""
    (example,) = (b for b in blocks("toml") if "[project]" in b)
    folder = tmp_path / "my_county"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", "project.toml"))
    (folder / "project.toml").write_text(example, encoding="utf-8")
    res = CliRunner().invoke(cli, ["validate", str(folder / "project.toml")])
    assert res.exit_code == 0, res.output
    assert "valid (300 villages, 110 schools, 242 sites" in res.output
    project = load_project(folder / "project.toml")
    assert set(project.layers) == {"admin", "villages", "schools", "sites", "fibre", "fibre_nodes", "roads"}
    assert project.terrain == folder / "dem.tif"
    for name, cls in SECTIONS.items():
        assert getattr(project, name) == cls(), name


def _settings(cls: type, where: str) -> list[tuple[str, str]]:
    out = []
    for f in dataclasses.fields(cls):
        nested = f.metadata.get("section") or f.metadata.get("items")
        out += [(where, f.name)] if nested is None else [(where, f.name), *_settings(nested, f"{where}.{f.name}")]
    return out


def test_the_project_toml_example_documents_every_section_and_setting():
    (example,) = (b for b in blocks("toml") if "[project]" in b)
    for header in ("[project]", "[layers]", "[terrain]", "[ledger]", *(f"[{s}]" for s in SECTIONS)):
        assert header in example, header
    undocumented = [
        f"[{where}] {name}"
        for section, cls in SECTIONS.items()
        for where, name in _settings(cls, section)
        if not re.search(rf"\b{name}\b", example)
    ]
    assert undocumented == []


#: A path of the repository as the README writes it: a top folder of the repository, then the rest.
_PATH = re.compile(
    r"(?<![\w/.-])(\.\./[\w./-]+|(?:\.ci|data|docs|planning|gis|bench|notebooks|outputs|tests)/[\w./*<>-]*)"
)


def named_paths() -> set[str]:
    return {m.rstrip(".") for m in _PATH.findall(TEXT)}


def repository_files() -> list[str] | None:
    """The files git tracks (None outside a git checkout: then the files on disk count)."""
    git = shutil.which("git")
    if git is None:
        return None
    res = subprocess.run([git, "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=False)
    return res.stdout.splitlines() if res.returncode == 0 else None


def test_every_path_the_readme_names_is_in_the_repository():
    paths = named_paths()
    assert {"docs/DESIGN.md", "docs/domain-review-2026-11.md", "data/drive_test_demo.csv"} <= paths
    outside = sorted(p for p in paths if p.startswith("../"))
    assert outside == []  # nothing outside the repository (a clone has no ../shared)
    tracked = repository_files()
    missing = []
    for p in sorted(paths):
        if p.startswith("outputs/"):
            assert p == "outputs/" or p.startswith(GENERATED), f"{p}: name a generated output folder in GENERATED"
            continue
        if "<" in p:  # a pattern such as report_<table>.csv
            continue
        if tracked is None:
            found = any(ROOT.glob(p)) if "*" in p else (ROOT / p).exists()
        else:
            pattern = re.compile(re.escape(p).replace(r"\*", "[^/]*") + ("" if p.endswith("/") else "(/|$)"))
            found = any(pattern.match(f) for f in tracked)
        if not found:
            missing.append(p)
    assert missing == []
