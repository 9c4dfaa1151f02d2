"""README.md and the manual (docs/*.md) hold: every python block runs, the project.toml example validates and documents
every section and setting of `Project`, every TOML example parses, every file or folder of the repository they name
exists, every link and anchor resolves, README links every page, and each manual page opens with who it is for and
its contents."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tomllib
import warnings
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.project import Project, load_project
from planning.cli import cli
from planning.demo import DEMO_DIR
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: Documents kept as they were written (the design brief and a dated review of an earlier commit, whose paths are
#: that commit's): linked from README and their links checked, but not manual pages (no "For:" or contents of ours)
#: and their paths not held to today's tree.
BACKGROUND = ("DESIGN.md", "domain-review-2026-11.md")
#: Every page of the documentation: the README, then docs/*.md.
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MANUAL = [p for p in PAGES[1:] if p.name not in BACKGROUND]
#: Folders the pages name that are outputs, not repository files: written by `make run` (outputs/demo), the
#: browser tests (outputs/screenshots) and the notebook (outputs/pilot_proposal).
GENERATED = ("outputs/demo/", "outputs/screenshots/", "outputs/pilot_proposal/")
#: Fields of `Project` that are tables of their own in project.toml ([layers], [terrain] path, [ledger] path);
#: `path` is where the file itself lies. Every other plain field is a key of [project].
TABLES = ("layers", "terrain", "ledger")
#: Fields of `Project` read from the programme rule packs (docs/programme.md documents [programme] and its keys):
#: not settings sections of the whole example.
RULES = ("programme",)


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@cache
def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def blocks(language: str, page: Path) -> list[str]:
    """The fenced code blocks of ``language`` in ``page``."""
    return re.findall(rf"^```{language}\n(.*?)^```", text(page), flags=re.S | re.M)


def prose(page: Path) -> str:
    """``page`` without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text(page), flags=re.S | re.M)


def sections() -> dict[str, type]:
    """The settings sections of project.toml: the fields of `Project` that hold a settings class."""
    return {
        f.name: f.default_factory
        for f in dataclasses.fields(Project)
        if f.default_factory is not dataclasses.MISSING
        and dataclasses.is_dataclass(f.default_factory)
        and f.name not in RULES
    }


def project_keys() -> list[str]:
    """The keys of [project]: the plain fields of `Project`."""
    return [f.name for f in dataclasses.fields(Project) if f.name not in {"path", *TABLES, *RULES, *sections()}]


PYTHON = [(page, i, b) for page in PAGES for i, b in enumerate(blocks("python", page))]
TOML = [(page, b) for page in PAGES for b in blocks("toml", page)]


def whole_example() -> str:
    (example,) = (b for _, b in TOML if "[project]" in b)
    return example


def test_the_readme_has_a_python_quickstart_and_the_manual_a_whole_project_file():
    assert any("propose(" in b and "budget_cny=" in b and "save_map(" in b for b in blocks("python", README))
    assert len([b for _, b in TOML if "[project]" in b]) == 1


@pytest.mark.parametrize(("page", "index", "block"), PYTHON, ids=[f"{name(p)}:{i + 1}" for p, i, _ in PYTHON])
def test_every_python_block_runs(
    page: Path, index: int, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """Each block alone, in a fresh namespace, in an empty working folder, with no warning."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(block, f"{name(page)} python block {index + 1}", "exec"), namespace)
    assert [str(w.message) for w in caught] == []
    printed = capsys.readouterr().out
    if "propose(" in block:  # the quickstart: a budget plan, its map and report written
        totals = namespace["prop"].totals
        assert totals["mode"] == "budget"
        assert 0 < totals["cost_cny"] <= 3_000_000
        assert f"{totals['cost_cny']:,} CNY" in printed
        assert totals["unconnected_schools_left"] == 0  # the demo's 5 unconnected schools come first
        assert (tmp_path / "quickstart" / "map.html").stat().st_size > 100_000
        assert 'id="interventions"' in (tmp_path / "quickstart" / "report.html").read_text(encoding="utf-8")


def test_the_project_sections_are_found_from_the_project_class():
    """The derivation itself: every settings section, and [project]'s keys, as `Project` has them."""
    assert {"radio", "costs", "economics", "funding", "targets", "fibre", "optimise", "map"} <= set(sections())
    assert {"name", "language", "coordinates", "metric_crs"} <= set(project_keys())
    assert set(TABLES) <= {f.name for f in dataclasses.fields(Project)}


@pytest.mark.parametrize(("page", "block"), TOML, ids=[f"{name(p)}:toml{i + 1}" for i, (p, _) in enumerate(TOML)])
def test_every_toml_example_parses_and_names_only_known_tables(page: Path, block: str):
    tomllib.loads(block)
    known = {"project", *TABLES, *RULES, *sections()}
    headers = re.findall(r"^\[\[?([\w.]+)\]\]?", block, flags=re.M)
    assert [h for h in headers if h.split(".")[0] not in known] == []


def test_the_project_toml_example_validates_with_the_demo_layers(tmp_path: Path):
    """The example, saved as project.toml beside a copy of the demo's files, validates (exit 0); the sections it
    only describes in comments keep their defaults (an array-of-tables header left in would replace them)."""
    folder = tmp_path / "my_county"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", "project.toml"))
    (folder / "project.toml").write_text(whole_example(), encoding="utf-8")
    res = CliRunner().invoke(cli, ["validate", str(folder / "project.toml")])
    assert res.exit_code == 0, res.output
    assert "valid (300 villages, 110 schools, 242 sites" in res.output
    project = load_project(folder / "project.toml")
    assert set(project.layers) == {"admin", "villages", "schools", "sites", "fibre", "fibre_nodes", "roads"}
    assert project.terrain == folder / "dem.tif"
    for section, cls in sections().items():
        assert getattr(project, section) == cls(), section


def _settings(cls: type, where: str) -> list[tuple[str, str]]:
    out = []
    for f in dataclasses.fields(cls):
        nested = f.metadata.get("section") or f.metadata.get("items")
        out += [(where, f.name)] if nested is None else [(where, f.name), *_settings(nested, f"{where}.{f.name}")]
    return out


def test_the_project_toml_example_documents_every_section_and_setting():
    example = whole_example()
    for header in ("[project]", *(f"[{t}]" for t in TABLES), *(f"[{s}]" for s in sections())):
        assert header in example, header
    assert [k for k in project_keys() if not re.search(rf"^{k} = ", example, flags=re.M)] == []
    undocumented = [
        f"[{where}] {setting}"
        for section, cls in sections().items()
        for where, setting in _settings(cls, section)
        if not re.search(rf"\b{setting}\b", example)
    ]
    assert undocumented == []


#: A path of the repository as a page writes it in its text (from the repository root, whatever the page's folder):
#: a top folder of the repository, then the rest.
_PATH = re.compile(
    r"(?<![\w/.-])(\.\./[\w./-]+|(?:\.ci|data|docs|planning|gis|bench|notebooks|outputs|tests)/[\w./*<>-]*)"
)
#: A markdown link's target: relative to the page's own folder, as a browser reads it.
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def named_paths(page: Path) -> set[str]:
    """The repository paths ``page`` names in its text (link targets aside: those are checked as links)."""
    return {m.rstrip(".") for m in _PATH.findall(_LINK.sub("]", text(page)))}


@cache
def repository_files() -> tuple[str, ...] | None:
    """The files git tracks (None outside a git checkout: then the files on disk count)."""
    git = shutil.which("git")
    if git is None:
        return None
    res = subprocess.run([git, "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=False)
    return tuple(res.stdout.splitlines()) if res.returncode == 0 else None


def in_repository(path: str) -> bool:
    """Whether ``path`` (from the repository root; a folder may end in /, * matches within a name) exists."""
    tracked = repository_files()
    if tracked is None:
        return any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()
    pattern = re.compile(re.escape(path).replace(r"\*", "[^/]*") + ("" if path.endswith("/") else "(/|$)"))
    return any(pattern.match(f) for f in tracked)


def test_the_pages_name_the_background_documents_and_the_sample_drive_test():
    paths = set().union(*(named_paths(p) for p in PAGES))
    assert {"docs/DESIGN.md", "docs/domain-review-2026-11.md", "data/drive_test_demo.csv"} <= paths


@pytest.mark.parametrize("page", [README, *MANUAL], ids=name)
def test_every_path_a_page_names_is_in_the_repository(page: Path):
    paths = named_paths(page)
    outside = sorted(p for p in paths if p.startswith("../"))
    assert outside == []  # nothing outside the repository (a clone has no ../shared)
    missing = []
    for p in sorted(paths):
        if p.startswith("outputs/"):
            assert p == "outputs/" or p.startswith(GENERATED), f"{p}: name a generated output folder in GENERATED"
            continue
        if "<" in p:  # a pattern such as report_<table>.csv
            continue
        if not in_repository(p):
            missing.append(p)
    assert missing == []


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text (no code marks, a link as its text) in lower case, punctuation
    dropped, spaces as hyphens."""
    shown = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", shown).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of ``page``'s headings (a repeated one gets -1, -2 ... as on GitHub)."""
    counts: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page), flags=re.M):
        base = slug(heading)
        n = counts.get(base, 0)
        found.add(f"{base}-{n}" if n else base)
        counts[base] = n + 1
    return found


def test_the_slug_is_githubs():
    heading = "Evidence, KPIs and the ledger (台账) (`planning/status/`)"
    assert slug(heading) == "evidence-kpis-and-the-ledger-台账-planningstatus"
    assert slug("Candidates' radio links (`radio_links`)") == "candidates-radio-links-radio_links"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_link_of_a_page_resolves(page: Path):
    """A link goes to a file of the repository, and its #anchor to a heading of that page."""
    broken = []
    for target in _LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        found = dest.is_relative_to(ROOT) and in_repository(dest.relative_to(ROOT).as_posix())
        if not found or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            broken.append(target)
    assert broken == []


def test_the_readme_links_every_page_of_docs():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in _LINK.findall(prose(README))}
    assert [name(p) for p in PAGES[1:] if p.resolve() not in linked] == []


@pytest.mark.parametrize("page", MANUAL, ids=name)
def test_a_manual_page_says_who_it_is_for_and_lists_its_sections(page: Path):
    """A title, then "*For:* ...", then "Contents:" with a link to every ## section of the page."""
    head = prose(page).split("\n## ", 1)[0]
    assert re.match(r"# .+\n\n\*For:\* ", head), head[:200]
    assert "\nContents:\n" in head
    listed = set(re.findall(r"\]\(#([^)]+)\)", head))
    sections_ = [slug(h) for h in re.findall(r"^## (.+)$", prose(page), flags=re.M)]
    assert [s for s in sections_ if s not in listed] == []


def test_the_readme_command_table_is_the_one_of_the_cli_page():
    """README keeps the command table as a summary; docs/cli.md holds the same table, so the two cannot drift."""

    def table(page: Path) -> list[str]:
        return [b for b in blocks("sh", page) if b.startswith("coverplan validate ")]

    assert len(table(README)) == 1
    assert table(README) == table(DOCS / "cli.md")
