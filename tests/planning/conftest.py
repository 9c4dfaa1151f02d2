"""A region of two counties in two provinces (synthetic, 600 villages): the county and province splits of the
stages are compared on it with the whole-region computation."""

from __future__ import annotations

import geopandas as gpd
import pytest

from gis.inputs import load_inputs
from gis.project import load_project
from gis.synthetic import synthesize, write_region


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
