"""Coverage partitioned by county on a dask LocalCluster with two workers equals the single-process run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from gis.inputs import load_inputs
from gis.project import load_project
from gis.synthetic import synthesize, write_region
from planning.distributed import assign_areas, county_partitions, distributed_coverage, reference_ground
from planning.pipeline import coverage_stage


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("two_counties")
    write_region(synthesize(villages=600, seed=3), out, name="two counties")
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
        inside = shapely.contains_xy(admin.geometry[p.area_id], *shapely.get_coordinates(
            np.asarray(p.villages.geometry.values)).T)
        assert inside.all()


def test_dask_coverage_equals_single_process(two_counties):
    project, inputs = two_counties
    single = coverage_stage(project, inputs)
    dask = distributed_coverage(project, inputs, n_workers=2)
    pd.testing.assert_frame_equal(pd.DataFrame(dask.drop(columns="geometry")),
                                  pd.DataFrame(single.drop(columns="geometry")))
    assert dask.geometry.geom_equals_exact(single.geometry, tolerance=0).all()
    assert single["4g_covered"].any()
    assert not single["4g_covered"].all()


def test_run_cli_with_dask_flag_writes_the_same_proposal(two_counties, tmp_path: Path):
    from click.testing import CliRunner

    from planning.cli import cli

    project, _ = two_counties
    a, b = tmp_path / "single", tmp_path / "dask"
    for out, extra in ((a, []), (b, ["--dask"])):
        res = CliRunner().invoke(cli, ["-q", "run", str(project.path), "--out", str(out), *extra],
                                 catch_exceptions=False)
        assert res.exit_code == 0, res.output
    for name in ("proposal.csv", "county_targets.csv", "batches.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name))
