"""The gaps stage: the status of villages and schools is one job per county, and the merged frames equal one call
over the whole region, in turn or on dask."""

from __future__ import annotations

import pandas as pd

from gis.inputs import load_inputs
from gis.project import load_project
from planning.fibre.stage import fibre_stage
from planning.radio.stage import coverage_stage
from planning.status.stage import gaps_stage, point_status, programme_status
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
