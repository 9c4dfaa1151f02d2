"""Coverage partitioned by county on a dask LocalCluster with two workers equals the single-process run."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gis.admin import REGION, assign_areas, province_of_areas
from gis.inputs import load_inputs
from gis.project import load_project
from gis.synthetic import synthesize, write_region
from planning.cli import cli
from planning.fibre.stage import FIBRE_PROVINCE_BUFFER_M, fibre_partition, fibre_stage
from planning.radio.stage import coverage_stage
from planning.run.distributed import (
    county_partitions,
    dask_client,
    distributed_coverage,
    distributed_status,
    reference_ground,
)
from planning.status.stage import point_status


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("two_counties")
    write_region(synthesize(villages=600, seed=3), out, name="two counties")
    # one county in each of two provinces: the optimiser runs per province and a national summary is made
    admin = gpd.read_file(out / "layers.gpkg", layer="admin")
    admin["province"] = ["吉林省", "辽宁省"]
    admin.to_file(out / "layers.gpkg", layer="admin", driver="GPKG")
    project = load_project(out / "project.toml")
    inputs = load_inputs(project)
    assert len(inputs.layers["admin"]) == 2
    return project, inputs


def test_partitions_cover_every_point_once_and_share_border_sites(two_counties):
    project, inputs = two_counties
    parts = county_partitions(project, inputs, refs=reference_ground(inputs))
    assert len(parts) == 2
    for layer in ("villages", "schools"):
        ids = np.concatenate([getattr(p, layer).index.to_numpy() for p in parts])
        assert sorted(ids) == sorted(inputs.layers[layer].index)
    # a site of one county within reach of the other's points is in both partitions (the buffer)
    sites = inputs.layers["sites"]
    home = assign_areas(sites, inputs.layers["admin"])
    both = set(parts[0].sites.index) & set(parts[1].sites.index)
    assert both
    assert {home[i] for i in both} == {p.area_id for p in parts}  # border sites from both sides
    # and no partition takes every site (the buffer is each site's own range, not the whole region)
    assert all(len(p.sites) < len(sites) for p in parts)
    admin = inputs.layers["admin"].set_index("area_id")
    for p in parts:
        inside = shapely.contains_xy(
            admin.geometry[p.area_id], *shapely.get_coordinates(np.asarray(p.villages.geometry.values)).T
        )
        assert inside.all()


def test_dask_coverage_equals_single_process(two_counties):
    project, inputs = two_counties
    single = coverage_stage(project, inputs)
    dask = distributed_coverage(project, inputs, n_workers=2)
    pd.testing.assert_frame_equal(
        pd.DataFrame(dask.drop(columns="geometry")), pd.DataFrame(single.drop(columns="geometry"))
    )
    assert dask.geometry.geom_equals_exact(single.geometry, tolerance=0).all()
    assert single["4g_covered"].any()
    assert not single["4g_covered"].all()


def test_run_cli_with_dask_flag_writes_the_same_proposal(two_counties, tmp_path: Path):

    project, _ = two_counties
    a, b = tmp_path / "single", tmp_path / "dask"
    for out, extra in ((a, []), (b, ["--dask"])):
        res = CliRunner().invoke(
            cli, ["-q", "run", str(project.path), "--out", str(out), *extra], catch_exceptions=False
        )
        assert res.exit_code == 0, res.output
    for name in (
        "proposal.csv",
        "county_targets.csv",
        "batches.csv",
        "provinces.csv",
        "fibre_components.csv",
        "fibre_repairs.csv",
    ):
        pd.testing.assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name))
    assert (a / "report_provinces.csv").exists()
    # the national summary: one row per province and the nation, which adds them up
    prov = pd.read_csv(a / "provinces.csv")
    assert list(prov["province"]) == ["吉林省", "辽宁省", "全国"]
    parts, nation = prov.iloc[:2], prov.iloc[2]
    for col in ("demands", "demands_served", "interventions", "poor_villages", "schools"):
        assert parts[col].sum() == nation[col]
    assert parts["cost_cny"].sum() == pytest.approx(nation["cost_cny"], abs=2)
    proposal = pd.read_csv(a / "proposal.csv")
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


def test_province_of_areas_codes_column_and_errors() -> None:
    geom = [shapely.box(0, 0, 1, 1)] * 3
    coded = gpd.GeoDataFrame({"area_id": ["220681", "210102", "220102001001"]}, geometry=geom, crs=3857)
    assert list(province_of_areas(coded)) == ["吉林省", "辽宁省", "吉林省"]
    plain = gpd.GeoDataFrame({"area_id": ["A", "B", "C"]}, geometry=geom, crs=3857)
    assert set(province_of_areas(plain)) == {REGION}
    given = coded.assign(province=["P1", "P2", "P1"])
    assert list(province_of_areas(given)) == ["P1", "P2", "P1"]
    with pytest.raises(ValueError, match=r"layer `admin`: column `province` is empty for area_id \['210102'\]"):
        province_of_areas(coded.assign(province=["P1", None, "P1"]))


def test_gap_status_per_county_equals_single_process(two_counties):
    project, inputs = two_counties
    cov = coverage_stage(project, inputs)
    reach = fibre_stage(project, inputs).reach
    layers = inputs.layers
    one = point_status(project, layers["villages"], layers["schools"], coverage=cov, reach=reach, admin=layers["admin"])
    with dask_client(n_workers=2) as client:
        two = distributed_status(project, inputs, coverage=cov, reach=reach, client=client)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    # both counties have villages lacking broadband and villages with it: the comparison is not vacuous
    assert set(one[0]["county"]) == set(layers["admin"]["name"])
    assert (one[0]["lacks"] != "").any()
    assert (one[0]["lacks"] == "").any()


def test_fibre_per_province_equals_one_network_within_the_buffer(two_counties):
    project, inputs = two_counties
    layers = inputs.layers
    points = {k: layers[k] for k in ("villages", "schools", "candidates", "fibre_nodes") if layers.get(k) is not None}
    whole = fibre_partition(project, {"roads": layers.get("roads"), "fibre": layers.get("fibre")}, points).reach
    split = fibre_stage(project, inputs)
    assert split.network is None
    assert sorted(split.networks) == ["吉林省", "辽宁省"]
    # each province's network is smaller than the whole one
    n_whole = len(
        fibre_partition(project, {"roads": layers.get("roads"), "fibre": layers.get("fibre")}, points).network.u
    )
    assert all(len(net.u) < n_whole for net in split.networks.values())
    assert list(split.reach["layer"] + split.reach["point_id"]) == list(whole["layer"] + whole["point_id"])
    # a shortest path of length d stays within d of its point: within the buffer the province networks are exact
    near = (whole["fibre_distance_m"] <= FIBRE_PROVINCE_BUFFER_M).to_numpy()
    assert near.mean() > 0.5
    np.testing.assert_allclose(
        split.reach["fibre_distance_m"].to_numpy()[near], whole["fibre_distance_m"].to_numpy()[near], atol=1.0
    )
    assert (split.reach["reach"].to_numpy()[near] == whole["reach"].to_numpy()[near]).all()
