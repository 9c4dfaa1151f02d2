"""The gaps stage: the status of villages and schools is one job per county, and the merged frames equal one call
over the whole region, in turn or on dask."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.inputs import Inputs, load_inputs
from gis.layers import Layers
from gis.project import load_project
from gis.settings import build_programme
from planning.fibre.stage import fibre_stage
from planning.radio.stage import coverage_stage
from planning.status.stage import gaps_stage, point_status, programme_status, rule_point_4g
from tests.conftest import DEMO


def _upstream(project, inputs):
    cov = coverage_stage(project, inputs)
    return cov, fibre_stage(project, inputs)


def test_status_is_one_job_per_county_and_equals_the_whole_region(two_counties, recorded_jobs):
    project, inputs = two_counties
    cov, fib = _upstream(project, inputs)
    layers = inputs.layers
    whole = point_status(
        project, layers["villages"], layers["schools"], coverage=cov, reach=fib.reach, admin=layers["admin"]
    )
    gaps = gaps_stage(project, inputs, coverage=cov, fibre=fib, map_jobs=recorded_jobs)
    areas = list(layers["admin"]["area_id"].astype(str))
    assert recorded_jobs.calls == [[f"status-{a}" for a in areas]]
    # the programme's definitions (4G rule, categories) are applied once to the merged status
    for got, want in ((gaps.villages, programme_status(project, inputs, whole[0])), (gaps.schools, whole[1])):
        pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want), check_exact=True)
    # both counties have villages lacking broadband and villages with it: the comparison is not vacuous
    assert set(whole[0]["county"]) == set(layers["admin"]["name"])
    assert (whole[0]["lacks"] != "").any()
    assert (whole[0]["lacks"] == "").any()
    # the KPIs per county come from the merged status: every county and the region
    assert len(gaps.targets) == len(areas) + 1


def test_one_county_is_one_status_job(recorded_jobs):
    project = load_project(DEMO / "project.toml")
    inputs = load_inputs(project)
    cov, fib = _upstream(project, inputs)
    gaps_stage(project, inputs, coverage=cov, fibre=fib, map_jobs=recorded_jobs)
    assert recorded_jobs.calls == [["status-220681"]]


def test_dask_gaps_equal_in_turn(two_counties, dask_jobs):
    project, inputs = two_counties
    cov, fib = _upstream(project, inputs)
    one = gaps_stage(project, inputs, coverage=cov, fibre=fib)
    two = gaps_stage(project, inputs, coverage=cov, fibre=fib, map_jobs=dask_jobs)
    for a, b in ((one.villages, two.villages), (one.schools, two.schools), (one.targets, two.targets)):
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    pd.testing.assert_frame_equal(pd.DataFrame(one.ledger), pd.DataFrame(two.ledger), check_exact=True)


def test_settlements_are_assessed_at_their_own_points_by_the_radio_model():
    """The 2018 rule's signal clause on the demo: V000063 has 4G signal at its point and no 4G site within 5 km
    (7.8 km); a settlement of 25 households 2 km west of it (no signal by the model) makes it lack 4G, one 2 km
    north (signal) does not. A settlement at a village's own point gets that village's coverage."""
    project = load_project(DEMO / "project.toml")
    project = dataclasses.replace(project, programme=build_programme(["usf-2018-pilot"]))
    inputs = load_inputs(project)
    cov = coverage_stage(project, inputs)
    layers = inputs.layers
    v = layers["villages"]
    i = int(np.flatnonzero(v["village_id"] == "V000063")[0])
    x, y = v.geometry.x.iloc[i], v.geometry.y.iloc[i]

    def with_settlements(points, ids, households):
        frame = gpd.GeoDataFrame(
            {"settlement_id": [f"S{k}" for k in range(len(ids))], "village_id": ids, "households": households},
            geometry=shapely.points(points),
            crs=v.crs,
        )
        frames = {**layers.frames, "settlements": frame}
        return Inputs(layers=Layers(crs=layers.crs, frames=frames, sources=layers.sources), dem=inputs.dem)

    status, _ = point_status(project, v, layers["schools"], coverage=cov, reach=None, admin=layers["admin"])
    plain = programme_status(project, inputs, status)
    assert bool(plain["has_4g"].iloc[i])
    assert plain["site_4g_m"].iloc[i] > 5_000
    west = programme_status(project, with_settlements([(x - 2_000, y)], ["V000063"], [25]), status)
    assert not west["has_4g"].iloc[i]
    assert west["has_4g_by"].iloc[i] == ""
    assert "4g" in west["lacks"].iloc[i].split(";")
    assert west["signal_missing"].iloc[i] == "S0"
    assert (west["settlements_20hh"].iloc[i], west["settlements_20hh_4g"].iloc[i]) == (1, 0)
    north = programme_status(project, with_settlements([(x, y + 2_000)], ["V000063"], [25]), status)
    assert north["has_4g"].iloc[i]
    assert north["has_4g_by"].iloc[i] == "signal"
    small = programme_status(project, with_settlements([(x - 2_000, y)], ["V000063"], [19]), status)
    assert small["has_4g"].iloc[i]  # 19 households: not a settlement the rule counts
    # every other village is as before (no settlement of theirs is given)
    others = np.arange(len(v)) != i
    assert (west["has_4g"].to_numpy()[others] == plain["has_4g"].to_numpy()[others]).all()
    # at the villages' own points the settlements get the coverage stage's 4G
    pts = gpd.GeoDataFrame({"village_id": v["village_id"].to_numpy()[:30]}, geometry=v.geometry.values[:30], crs=v.crs)
    got = rule_point_4g(project, inputs, pts)
    want = cov.loc[cov["layer"] == "villages", "4g_covered"].to_numpy(dtype=bool)[:30]
    assert (got == want).all()
