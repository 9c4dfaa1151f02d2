"""A fully served region runs end to end: exit 0, an empty plan that every output shows as such (0 interventions,
0 CNY, the KPIs as they stand); a region where only villages, or only schools, lack something plans for those."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from affine import Affine
from click.testing import CliRunner

from gis.layers import write_layers
from gis.terrain import dem_from_array, write_dem
from planning.cli import cli
from planning.status.ledger import read_ledger
from tests.conftest import CELL_M, CRS_M, PROJECT_TOML, X0, Y0, tiny_heights, tiny_layers


def served_project(folder: Path, *, villages_served: bool, schools_served: bool) -> Path:
    """The tests' tiny project with every village (fibre, 4G, 5G reported) and/or every school (fibre at 1000
    Mbps) served; otherwise the two poor villages report no access, or the teaching point no link (as given)."""
    folder.mkdir()
    layers = tiny_layers()
    v, s = layers["villages"], layers["schools"]
    if villages_served:
        v["fibre_connected"], v["covered_4g"], v["covered_5g"] = True, True, True
    else:
        v["access"] = ["fibre", "none", "fibre", "fibre", "none"]
    if schools_served:
        s["access"], s["bandwidth_mbps"] = "fibre", 1000.0
    write_layers(layers, folder / "layers.gpkg")
    write_dem(dem_from_array(tiny_heights(), Affine(CELL_M, 0, X0, 0, -CELL_M, Y0), CRS_M), folder / "dem.tif")
    (folder / "project.toml").write_text(PROJECT_TOML, encoding="utf-8")
    return folder / "project.toml"


def run(project: Path, out: Path) -> dict:
    res = CliRunner().invoke(cli, ["-q", "run", str(project), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("served")
    out = tmp / "out"
    return run(served_project(tmp / "p", villages_served=True, schools_served=True), out), out


def test_fully_served_region_says_nothing_to_plan(served) -> None:
    summary, _ = served
    p = summary["proposal"]
    assert p["nothing_to_plan"] is True
    assert p["cost_cny"] == 0
    assert p["interventions"] == {}
    assert p["demands"] == 0
    assert p["batches"] == 0
    assert p["kpis_short"] == 0
    for kpi in ("poor_broadband", "poor_4g", "school_connected", "school_outlet"):
        assert p[f"{kpi}_before"] == p[f"{kpi}_after"] == 1.0  # the KPIs as they stand
    assert summary["gaps"]["ledger_rows"] == 0


def test_every_output_of_an_empty_plan_is_whole_and_empty(served) -> None:
    _, out = served
    assert len(pd.read_csv(out / "proposal.csv")) == 0
    for layer in ("interventions", "demands"):
        assert len(pyogrio.read_dataframe(out / "proposal.gpkg", layer=layer)) == 0
    assert len(read_ledger(out / "ledger.gpkg")) == 0
    batches = pd.read_csv(out / "batches.csv")
    assert list(batches["batch"]) == [0]
    assert batches["cost_cny"].sum() == 0


def test_report_and_workbook_say_nothing_to_plan(served) -> None:
    _, out = served
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="nothing-to-plan"' in page
    assert "Nothing to plan" in page
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Nothing to plan"
    first = [c.value for c in next(wb.worksheets[0].iter_rows(min_row=2, max_row=2))]
    assert first[0].startswith("Nothing to plan")
    assert "(0 interventions, 0 CNY)" in first[0]
    assert "| proposal.nothing_to_plan | True |" in (out / "summary.md").read_text(encoding="utf-8")
    assert (out / "map.html").stat().st_size > 0


@pytest.mark.parametrize(("villages_served", "layer"), [(False, "villages"), (True, "schools")])
def test_only_one_layer_lacking_plans_for_it(tmp_path: Path, villages_served: bool, layer: str) -> None:
    project = served_project(tmp_path / "p", villages_served=villages_served, schools_served=not villages_served)
    summary = run(project, tmp_path / "out")
    p = summary["proposal"]
    assert p["nothing_to_plan"] is False
    assert p["cost_cny"] > 0
    assert sum(p["interventions"].values()) >= 1
    assert p["kpis_short"] == 0
    demands = pyogrio.read_dataframe(tmp_path / "out" / "proposal.gpkg", layer="demands")
    assert set(demands["layer"]) == {layer}
    assert not (tmp_path / "out" / "report_nothing_to_plan.csv").exists()
    assert 'id="nothing-to-plan"' not in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
