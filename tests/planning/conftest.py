"""A region of two counties in two provinces (synthetic, 600 villages), on which the county and province splits of
the stages are compared with the whole-region computation; a dask LocalCluster and a MapJobs that records its
jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pytest

from gis.inputs import load_inputs
from gis.project import load_project
from gis.synthetic import synthesize, write_region
from planning.jobs import Job, in_turn
from planning.run.distributed import dask_client, dask_map


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def dask_jobs():
    """A MapJobs over a LocalCluster of two single-threaded worker processes (closed at the end of the session)."""
    with dask_client(n_workers=2) as client:
        yield dask_map(client)


class RecordedJobs:
    """A MapJobs that runs the jobs in turn and keeps their keys (one list per call)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, jobs: Sequence[Job], *, shared: Mapping[str, Any] | None = None) -> list[Any]:
        self.calls.append([job.key for job in jobs])
        return in_turn(jobs, shared=shared)


@pytest.fixture
def recorded_jobs() -> RecordedJobs:
    return RecordedJobs()
