"""What a planner sees while a run works and after: a line per stage and per 25 % of long stages when piped,
a progress bar per stage on a terminal, no dask chatter without -v, each table printed once, a skipped stage's
warning in summary.json."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from gis.layers import write_layers
from planning.cli import cli
from planning.cli.common import Steps
from planning.progress import PROGRESS, log_progress, numba_cache_cold, progress_of
from planning.radio.stage import terrain_kernels_cold
from tests.conftest import tiny_layers

LINE = re.compile(r"^coverplan \[\s*\d+\.\d s\] (.+)$")


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_a_piped_run_prints_a_line_per_stage_and_per_quarter_of_long_stages(tiny_project: Path, tmp_path: Path):
    res = invoke("run", tiny_project, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    lines = [m.group(1) for m in map(LINE.match, res.stderr.splitlines()) if m]
    stages = [s for s in lines if ": " not in s or s.startswith(("inputs: ", "coverage (first run: "))]
    assert stages[:2] == ["inputs", "inputs: villages"]
    for stage in ("write layers", "coverage raster", "fibre", "gaps", "optimise", "ledger", "report", "map"):
        assert stage in stages, lines
    assert next(s for s in stages if s.startswith("coverage")) in (
        "coverage",
        "coverage (first run: numba compiles the terrain kernels)",
    )
    assert "coverage villages: 5/5 (100%)" in lines
    assert "coverage schools: 3/3 (100%)" in lines
    assert "optimiser rounds: 1/4 (25%)" in lines  # the tiny plan repeats after one round
    assert lines.index("coverage villages: 5/5 (100%)") < lines.index("coverage raster")
    assert "INFO" not in res.stderr


def test_quiet_prints_no_progress(tiny_project: Path, tmp_path: Path):
    res = invoke("-q", "run", tiny_project, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert not [line for line in res.stderr.splitlines() if LINE.match(line)]


def test_steps_on_a_terminal_show_a_bar_per_stage_with_its_items():
    with Steps(enabled=True, live=True) as steps:
        steps("inputs")
        steps("inputs: villages")  # a part of the stage: the same row
        steps("coverage")
        log_progress(logging.getLogger("planning.radio.stage"), "coverage villages", 4000, 10000)
        tasks = steps.display.tasks
        assert [t.description for t in tasks] == ["inputs", "coverage villages"]
        assert (tasks[1].completed, tasks[1].total, tasks[1].fields["count"]) == (4000, 10000, "4,000/10,000")
        assert tasks[0].finished
        steps("map")
    assert [t.finished for t in steps.display.tasks] == [True, True, True]
    assert steps.handler not in logging.getLogger().handlers  # the records are no longer caught


def test_progress_records_carry_their_numbers(caplog):
    with caplog.at_level(logging.INFO, logger="planning"):
        log_progress(logging.getLogger("planning.x"), "cost curve budgets", 3, 8)
    (record,) = caplog.records
    assert record.getMessage() == "cost curve budgets: 3/8"
    assert getattr(record, PROGRESS) == ("cost curve budgets", 3, 8)
    assert progress_of(record) == ("cost curve budgets", 3, 8)
    assert progress_of(logging.makeLogRecord({"msg": "x"})) is None


def test_a_cold_numba_cache_is_told(tmp_path: Path):
    index = tmp_path / "kernel.nbi"
    kernel = SimpleNamespace(_cache=SimpleNamespace(_cache_file=SimpleNamespace(_index_path=str(index))))
    assert numba_cache_cold(kernel) is True
    index.write_bytes(b"")
    assert numba_cache_cold(kernel) is False
    assert numba_cache_cold(object()) is None
    assert terrain_kernels_cold() in (True, False)  # numba's cache layout is still the one read here


def test_a_skipped_stage_warning_is_in_the_summary(tmp_path: Path, tiny_dem_path: Path):
    layers = {k: v for k, v in tiny_layers().items() if k not in ("roads", "fibre")}
    write_layers(layers, tmp_path / "layers.gpkg")
    toml = '[project]\nname = "tiny"\n\n[layers]\n' + "".join(f'{k} = "layers.gpkg"\n' for k in layers)
    (tmp_path / "project.toml").write_text(toml + '\n[terrain]\npath = "dem.tif"\n', encoding="utf-8")
    res = invoke("run", tmp_path / "project.toml", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["fibre"] == {"skipped": "no roads or fibre layer"}
    assert "no roads or fibre layer: fibre stage skipped" in summary["warnings_list"]
    assert summary["warnings"] == len(summary["warnings_list"])


@pytest.mark.slow
def test_dask_prints_no_info_lines_without_v(tiny_project: Path, tmp_path: Path):
    res = invoke("run", tiny_project, "--out", tmp_path / "out", "--dask")
    assert res.exit_code == 0, res.output
    assert "Scheduler at" not in res.stderr
    assert "INFO" not in res.stderr
    assert "coverplan [" in res.stderr  # the progress lines are there
    assert "dask: starting a local cluster" in res.stderr


def test_ledger_show_prints_each_count_once(demo_run, tmp_path: Path):
    result, out = demo_run
    n = len(result.gaps.ledger)
    ledger = tmp_path / "ledger.gpkg"
    shutil.copyfile(out / "ledger.gpkg", ledger)
    res = invoke("ledger", "show", ledger)
    assert res.exit_code == 0, res.output
    planned = len(result.proposal.ledger_plan)
    expected = [f"ledger.gpkg: {n} rows", f"临江市: planned {planned}, unconnected {n - planned}"]
    assert res.output.splitlines() == expected  # piped: lines only


def test_validation_problems_are_printed_once_when_piped(tiny_project: Path):
    layers = tiny_layers()
    layers["villages"].loc[1, "population"] = -5
    write_layers(layers, tiny_project.parent / "layers.gpkg")
    res = invoke("validate", tiny_project)
    assert res.exit_code == 2
    assert res.output.count("-5 is negative") == 1  # the value, not a pytest-5x tmp path
    assert next(line for line in res.output.splitlines() if line.startswith("ERROR ")).count("population") == 1
