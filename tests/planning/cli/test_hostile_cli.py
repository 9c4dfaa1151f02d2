"""The command line under hostile and careless use: the one error door (any coverplan error, also a new one, is
exit 2 with its line), no output written onto an input (a file the command read, or a folder holding one), numbers
that are not finite or out of range refused naming the option, an ``--out`` that could not be put in place refused
before the run, SIGTERM like Ctrl-C (exit 143, nothing left), a closed output pipe quiet (exit 141).

Every case hashes the inputs before and after: a refusal changes nothing."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.errors import CoverplanError, LayerError, Problem
from gis.outdir import write_marker
from planning.cli import cli
from planning.cli.common import CommandError, fail
from tests.conftest import DEMO, ROOT

DRIVE = ROOT / "data" / "drive_test_demo.csv"


def invoke(*args: object):
    """The CLI as a planner runs it: an exception that leaves it is exit 1 (a bug), never expected here."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (links followed), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A writable copy of the demo with the sample drive test beside it; returns the folder."""
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copy(DRIVE, dst / "drive.csv")
    (dst / "sub").mkdir()
    (dst / "link.csv").symlink_to(dst / "schools.csv")
    return dst


# --- 5a: never write onto an input --------------------------------------------------------------------------

ONTO_INPUT = {
    "calibrate --excluded the project's schools layer": (
        ["calibrate", "{d}/project.toml", "{d}/drive.csv", "--excluded", "{d}/schools.csv", "--overwrite"],
        ["--excluded", "schools.csv", "is also an input"],
    ),
    "calibrate --excluded the measurements": (
        ["calibrate", "{d}/project.toml", "{d}/drive.csv", "--excluded", "{d}/drive.csv", "--overwrite"],
        ["--excluded", "drive.csv", "is also an input"],
    ),
    "calibrate --excluded a symbolic link to a layer": (
        ["calibrate", "{d}/project.toml", "{d}/drive.csv", "--excluded", "{d}/link.csv", "--overwrite"],
        ["--excluded", "link.csv", "is also an input", "schools.csv"],
    ),
    "calibrate --excluded a layer through ..": (
        ["calibrate", "{d}/project.toml", "{d}/drive.csv", "--excluded", "{d}/sub/../schools.csv", "--overwrite"],
        ["--excluded", "schools.csv", "is also an input"],
    ),
    "import opencellid --out the file of other layers": (
        [
            "import",
            "opencellid",
            "{d}/drive.csv",
            "--project",
            "{d}/project.toml",
            "--out",
            "{d}/layers.gpkg",
            "--overwrite",
        ],
        ["--out", "layers.gpkg", "is also an input"],
    ),
    "import osm --out the file of other layers": (
        ["import", "osm", "{d}/drive.csv", "--project", "{d}/project.toml", "--out", "{d}/layers.gpkg", "--overwrite"],
        ["--out", "layers.gpkg", "is also an input"],
    ),
    "import dem --out its own tile": (
        ["import", "dem", "{d}/dem.tif", "--project", "{d}/project.toml", "--out", "{d}/dem.tif", "--overwrite"],
        ["--out", "dem.tif", "is also an input"],
    ),
    "import population --out its --villages file": (
        [
            "import",
            "population",
            "{d}/dem.tif",
            "--project",
            "{d}/project.toml",
            "--villages",
            "{d}/v.gpkg",
            "--out",
            "{d}/v.gpkg",
            "--overwrite",
        ],
        ["--out", "v.gpkg", "is also an input"],
    ),
    "run --out the project folder": (
        ["run", "{d}/project.toml", "--out", "{d}", "--overwrite"],
        ["--out", "contains", "project.toml", "must not replace", "expected a folder of its own"],
    ),
    "run --out a folder holding the project": (
        ["run", "{d}/project.toml", "--out", "{d}/..", "--overwrite"],
        ["--out", "contains", "must not replace"],
    ),
    "optimise --out the project folder by a relative path": (
        ["optimise", "{d}/project.toml", "--targets", "--out", "{d}/sub/..", "--overwrite"],
        ["--out", "must not replace"],
    ),
    "run --out a symbolic link to the project folder": (
        ["run", "{d}/project.toml", "--out", "{d}/../demo-link", "--overwrite"],
        ["--out", "demo-link", "symbolic link"],
    ),
    "synth --out the folder of its boundary": (
        ["synth", "--villages", "20", "--boundary", "{d}/linjiang_boundary.geojson", "--out", "{d}", "--overwrite"],
        ["--out", "linjiang_boundary.geojson", "must not replace"],
    ),
    "ledger update with the ledger as its reports": (
        ["ledger", "update", "{d}/layers.gpkg", "{d}/layers.gpkg"],
        ["LEDGER_FILE", "layers.gpkg", "is also an input"],
    ),
}


@pytest.mark.parametrize("case", sorted(ONTO_INPUT))
def test_no_command_writes_onto_an_input(demo_dir: Path, case: str):
    args, expected = ONTO_INPUT[case]
    shutil.copy(demo_dir / "layers.gpkg", demo_dir / "v.gpkg")
    (demo_dir.parent / "demo-link").symlink_to(demo_dir, target_is_directory=True)
    before = hashes(demo_dir)
    res = invoke(*(a.format(d=demo_dir) for a in args))
    assert res.exit_code == 2, res.output
    for text in expected:
        assert text in res.output, (text, res.output)
    assert hashes(demo_dir) == before
    assert sorted(p.name for p in demo_dir.parent.iterdir()) == ["demo", "demo-link"]


# --- 5c: numbers that are not finite, absurd or negative ----------------------------------------------------

BAD_NUMBERS = [
    (["calibrate", "{p}", "{d}/drive.csv", "--min-spread", "nan"], "--min-spread", "not a finite number"),
    (["calibrate", "{p}", "{d}/drive.csv", "--min-spread", "inf"], "--min-spread", "not a finite number"),
    (["calibrate", "{p}", "{d}/drive.csv", "--min-spread", "1e400"], "--min-spread", "not a finite number"),
    (["calibrate", "{p}", "{d}/drive.csv", "--min-spread", "-1"], "--min-spread", "0<=x<=10"),
    (["calibrate", "{p}", "{d}/drive.csv", "--min-rows", "-3"], "--min-rows", "x>=3"),
    (["optimise", "{p}", "--out", "{d}/../o", "--budget-cny", "inf"], "--budget-cny", "expected a finite amount"),
    (["optimise", "{p}", "--out", "{d}/../o", "--budget-cny", "1e400"], "--budget-cny", "expected a finite amount"),
    (["optimise", "{p}", "--out", "{d}/../o", "--budget-cny", "nan"], "--budget-cny", "expected a finite amount"),
    (["optimise", "{p}", "--out", "{d}/../o", "--budget-cny", "0"], "--budget-cny", "> 0"),
    (["optimise", "{p}", "--out", "{d}/../o", "--budget-cny", "-5"], "--budget-cny", "> 0"),
    (["synth", "--villages", "1000000000000", "--out", "{d}/../s"], "--villages", "10<=x<=1000000"),
    (["synth", "--villages", "-5", "--out", "{d}/../s"], "--villages", "10<=x<=1000000"),
    (["synth", "--villages", "20", "--seed", "-1", "--out", "{d}/../s"], "--seed", "x>=0"),
    (
        ["import", "opencellid", "{d}/drive.csv", "--project", "{p}", "--out", "{d}/../c.gpkg", "--buffer-m", "nan"],
        "--buffer-m",
        "not a finite number",
    ),
    (
        ["import", "opencellid", "{d}/drive.csv", "--project", "{p}", "--out", "{d}/../c.gpkg", "--buffer-m", "1e9"],
        "--buffer-m",
        "0<=x<=500000",
    ),
    (
        ["import", "opencellid", "{d}/drive.csv", "--project", "{p}", "--out", "{d}/../c.gpkg", "--height-m", "nan"],
        "--height-m",
        "not a finite number",
    ),
    (
        ["import", "dem", "{d}/dem.tif", "--project", "{p}", "--out", "{d}/../t.tif", "--resolution-m", "inf"],
        "--resolution-m",
        "not a finite number",
    ),
    (
        ["import", "dem", "{d}/dem.tif", "--project", "{p}", "--out", "{d}/../t.tif", "--max-void-px", "-1"],
        "--max-void-px",
        "x>=1",
    ),
    (
        ["import", "osm", "{d}/drive.csv", "--project", "{p}", "--out", "{d}/../o.gpkg", "--demand-buffer-m", "-1"],
        "--demand-buffer-m",
        "0<=x<=500000",
    ),
]


@pytest.mark.parametrize(("args", "option", "expected"), BAD_NUMBERS, ids=lambda v: v if isinstance(v, str) else None)
def test_numbers_that_are_not_finite_or_out_of_range_exit_2_naming_the_option(
    demo_dir: Path, args: list[str], option: str, expected: str
):
    before = hashes(demo_dir)
    res = invoke(*(a.format(d=demo_dir, p=demo_dir / "project.toml") for a in args))
    assert res.exit_code == 2, res.output
    assert f"Invalid value for '{option}'" in res.output
    assert expected in " ".join(res.output.split())
    assert hashes(demo_dir) == before
    assert sorted(p.name for p in demo_dir.parent.iterdir()) == ["demo"]


# --- 5c: an --out that could not be put in place is refused before the run ----------------------------------


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any stage that starts fails the test (exit 1): a refusal must come before the work."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run started")

    monkeypatch.setattr("planning.run.runner.load_inputs", started)
    monkeypatch.setattr(importlib.import_module("planning.cli.calibrate"), "load_inputs", started)


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``folder`` reads as not writable (the tests may run as root, for whom permissions do not hold)."""
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if os.path.realpath(str(path)) == str(folder.resolve()) and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize(
    "case",
    [
        "out is a file",
        "out under a file",
        "out read-only",
        "out's subfolder read-only",
        "parent read-only",
        "excluded folder missing",
        "excluded folder read-only",
        "import folder read-only",
    ],
)
def test_an_out_that_cannot_be_replaced_is_refused_before_the_run(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
):
    out = tmp_path / "out"
    (out / "maps").mkdir(parents=True)
    (out / "maps" / "old.html").write_text("x", encoding="utf-8")
    (out / "old.csv").write_text("x", encoding="utf-8")
    write_marker(out)  # coverplan's own earlier output: --overwrite may replace it
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    project = demo_dir / "project.toml"
    run_args = ["run", project, "--out", out, "--overwrite"]
    args, expected = {
        "out is a file": (
            ["run", project, "--out", tmp_path / "file.txt", "--overwrite"],
            "is a file; expected a folder",
        ),
        "out under a file": (["run", project, "--out", tmp_path / "file.txt" / "o"], "is a file, not a folder"),
        "out read-only": (run_args, f"`{out}` is not writable"),
        "out's subfolder read-only": (run_args, f"`{out / 'maps'}` is not writable"),
        "parent read-only": (["run", project, "--out", tmp_path / "new"], f"`{tmp_path}` is not writable"),
        "excluded folder missing": (
            ["calibrate", project, demo_dir / "drive.csv", "--excluded", tmp_path / "no" / "x.csv"],
            "does not exist",
        ),
        "excluded folder read-only": (
            ["calibrate", project, demo_dir / "drive.csv", "--excluded", out / "x.csv"],
            "is not writable",
        ),
        "import folder read-only": (
            ["import", "dem", demo_dir / "dem.tif", "--project", project, "--out", out / "t.tif"],
            "is not writable",
        ),
    }[case]
    if "read-only" in case:
        _read_only(
            monkeypatch, {"out's subfolder read-only": out / "maps", "parent read-only": tmp_path}.get(case, out)
        )
    _no_work(monkeypatch)
    before, outputs = hashes(demo_dir), hashes(tmp_path)
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert expected in res.output
    assert hashes(demo_dir) == before
    assert hashes(tmp_path) == outputs


# --- the error door ----------------------------------------------------------------------------------------


class FreshError(CoverplanError):
    """An error type no command knows."""


class FreshLayerError(LayerError):
    """A layer error type no command knows."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            FreshError("fresh.csv: something new is wrong; expected something else"),
            ["coverplan: fresh.csv: something new is wrong; expected something else"],
        ),
        (
            FreshLayerError([Problem("villages", "bad", file="v.csv", row=3, row_id="V3", column="population")]),
            ["ERROR v.csv [villages] row 3 (V3) column `population`: bad", "project.toml: 1 error(s); nothing written"],
        ),
        (FreshLayerError("dem.tif: a plain message"), ["coverplan: ", "project.toml: dem.tif: a plain message"]),
    ],
    ids=["coverplan-error", "layer-error-with-problems", "layer-error-with-a-message"],
)
def test_a_new_error_type_gets_exit_2_with_no_command_touched(
    tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, expected: list[str]
):
    def raises(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(importlib.import_module("planning.cli.run"), "run_pipeline", raises)
    before = hashes(tiny_project.parent)
    res = invoke("run", tiny_project, "--out", tmp_path / "o")
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    for text in expected:
        assert text in res.output
    assert hashes(tiny_project.parent) == before


def test_other_exceptions_stay_bugs_exit_1(tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def raises(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(importlib.import_module("planning.cli.run"), "run_pipeline", raises)
    res = invoke("run", tiny_project, "--out", tmp_path / "o")
    assert res.exit_code == 1
    assert isinstance(res.exception, ZeroDivisionError)


def test_fail_raises_for_the_door_instead_of_exiting():
    with pytest.raises(CommandError, match=r"^no good; expected better$"):
        fail("no good; expected better")


def test_optimise_needs_exactly_one_goal(tiny_project: Path, tmp_path: Path):
    for extra in ([], ["--targets", "--budget-cny", "5"]):
        res = invoke("optimise", tiny_project, "--out", tmp_path / "o", *extra)
        assert res.exit_code == 2, res.output
        assert "coverplan: give exactly one of --budget-cny and --targets" in res.output
    assert not (tmp_path / "o").exists()


def test_version_is_the_package_version():
    res = invoke("--version")
    assert res.exit_code == 0
    assert res.output == f"coverplan {importlib.metadata.version('coverplan')}\n"


# --- SIGTERM and a closed pipe (real processes) -------------------------------------------------------------

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# the child starts with Ctrl-C's default action, as a terminal starts a command: a test run started as a background
# job (`make test &`) passes SIGINT on ignored, Python then raises no KeyboardInterrupt, and the run slept on and
# failed with exit 1 (the SIGINT flake of 2026-12-06, reproduced that way)
SLOW_RUN = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import planning.run.runner as runner
def slow(*args, **kwargs):
    print("READY", file=sys.stderr, flush=True)
    time.sleep(120)
runner.load_inputs = slow
from planning.cli import main
sys.argv = ["coverplan", "-q", "run", sys.argv[1], "--out", sys.argv[2]]
main()
"""


# the same run, but a clean-up fails while the interrupt is handled (a library's close failing half-way): the
# error it raises is still the interrupt (without that: a traceback and exit 1)
FAILING_CLEANUP_RUN = SLOW_RUN.replace(
    """def slow(*args, **kwargs):
    print("READY", file=sys.stderr, flush=True)
    time.sleep(120)""",
    """def slow(*args, **kwargs):
    try:
        print("READY", file=sys.stderr, flush=True)
        time.sleep(120)
    except KeyboardInterrupt:
        raise OSError("a clean-up failed while the interrupt was handled")""",
)


@pytest.mark.parametrize("script", [SLOW_RUN, FAILING_CLEANUP_RUN], ids=["run", "failing-clean-up"])
@pytest.mark.parametrize(
    ("sig", "code", "line"), [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_mid_run_exits_with_one_line_and_leaves_nothing(
    tiny_project: Path, tmp_path: Path, sig, code, line, script
):
    assert "raise OSError" in FAILING_CLEANUP_RUN
    out = tmp_path / "out"
    before = hashes(tiny_project.parent)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tiny_project), str(out)],
        env=ENV,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    assert proc.stderr.readline().strip() == "READY"  # inside the run: its temporary folder exists
    assert list(tmp_path.glob(".out.partial-*"))
    proc.send_signal(sig)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == code
    if script is SLOW_RUN:
        assert rest.strip() == f"coverplan: {line}; nothing written"
    else:  # the failure is named, and "nothing written" is not promised
        assert rest.strip() == (
            f"coverplan: {line}; a clean-up failed while stopping (OSError: a clean-up failed while the interrupt "
            "was handled)"
        )
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temporary folder, no lock
    assert hashes(tiny_project.parent) == before


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["validate", "{p}"], ["ledger", "--help"]])
def test_a_closed_output_pipe_exits_quietly(tiny_project: Path, args: list[str]):
    proc = subprocess.Popen(
        [sys.executable, "-c", "from planning.cli import main; main()", *(a.format(p=tiny_project) for a in args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything was written (`| head -0`)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err
    assert "Broken pipe" not in err


def test_ledger_show_into_head_exits_quietly(tiny_project: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert invoke("-q", "run", tiny_project, "--out", out).exit_code == 0
    ledger = out / "ledger.gpkg"
    before = hashes(out)
    res = subprocess.run(
        f"'{sys.executable}' -c 'from planning.cli import main; main()' ledger show '{ledger}' | head -1",
        shell=True,
        check=False,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.stdout.startswith("ledger.gpkg: ")
    assert "Traceback" not in res.stderr
    assert hashes(out) == before
