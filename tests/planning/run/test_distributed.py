"""``coverplan run --dask``: every stage's jobs on a dask LocalCluster give the outputs of the in-process run, row
for row; the scheduler address is checked before anything runs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from gis.admin import assign_areas
from planning.cli import cli
from planning.run.distributed import SchedulerError, dask_client

#: Columns that hold the moment a file was written, not a result.
WALL_CLOCK = ("recorded_at",)


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    """Every CSV file and every GeoPackage layer of a run's outputs (geometry as WKB)."""
    tables = {p.name: pd.read_csv(p) for p in sorted(out.glob("*.csv"))}
    for path in sorted(out.glob("*.gpkg")):
        for layer, _ in pyogrio.list_layers(path):
            frame = gpd.read_file(path, layer=layer)
            table = pd.DataFrame(frame.drop(columns=["geometry", *WALL_CLOCK], errors="ignore"))
            if "geometry" in frame:
                table["wkb"] = frame.geometry.to_wkb()
            tables[f"{path.name}:{layer}"] = table
    return tables


def test_run_cli_with_dask_flag_writes_the_same_outputs(two_counties, tmp_path: Path):
    project, _ = two_counties
    a, b = tmp_path / "single", tmp_path / "dask"
    for out, extra in ((a, []), (b, ["--dask"])):
        res = CliRunner().invoke(
            cli, ["-q", "run", str(project.path), "--out", str(out), *extra], catch_exceptions=False
        )
        assert res.exit_code == 0, res.output
    one, two = _tables(a), _tables(b)
    assert sorted(one) == sorted(two)
    assert {"coverage.gpkg:coverage", "gaps.gpkg:villages", "proposal.csv", "provinces.csv"} <= set(one)
    for name, frame in one.items():
        pd.testing.assert_frame_equal(frame, two[name], check_exact=True, obj=name)
    assert (a / "report_provinces.csv").exists()
    # the national summary: one row per province and the nation, which adds them up
    prov = one["provinces.csv"]
    assert list(prov["province"]) == ["吉林省", "辽宁省", "全国"]
    parts, nation = prov.iloc[:2], prov.iloc[2]
    for col in ("demands", "demands_served", "interventions", "poor_villages", "schools"):
        assert parts[col].sum() == nation[col]
    assert parts["cost_cny"].sum() == pytest.approx(nation["cost_cny"], abs=2)
    proposal = one["proposal.csv"]
    assert proposal["cost_cny"].sum() == pytest.approx(nation["cost_cny"], abs=2)
    # a province's interventions serve only its own villages and schools
    county_prov = {"villages": {}, "schools": {}}
    gaps = {layer: gpd.read_file(a / "gaps.gpkg", layer=layer) for layer in ("villages", "schools")}
    admin = gpd.read_file(project.layers["admin"].path, layer="admin").to_crs(gaps["villages"].crs)
    for layer, frame in gaps.items():
        id_col = "village_id" if layer == "villages" else "school_id"
        area = assign_areas(frame, admin)
        by_area = dict(zip(admin["area_id"].astype(str), admin["province"], strict=True))
        county_prov[layer] = dict(zip(frame[id_col].astype(str), area.map(by_area), strict=True))
    for row in proposal.itertuples():
        for did in str(row.serves).split(";"):
            layer, pid = did.split(":", 1)
            assert county_prov[layer][pid] == row.province


@pytest.mark.parametrize("address", ["localhost:8786", "tcp://host", "tcp://a b:1", "http://host:8786"])
def test_a_malformed_scheduler_address_is_refused_before_connecting(address: str):
    refused = r"is not a scheduler address; expected e\.g\. tcp://host:8786"
    with pytest.raises(SchedulerError, match=refused), dask_client(address):
        pass
