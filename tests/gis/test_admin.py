"""Admin areas: the province of each area, the points of each area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.admin import REGION, points_by_area, province_of_areas


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


def test_points_by_area_puts_every_point_in_one_area_in_the_layers_order() -> None:
    admin = gpd.GeoDataFrame(
        {"area_id": ["B", "A", "C"]},
        geometry=[shapely.box(10, 0, 20, 10), shapely.box(0, 0, 10, 10), shapely.box(50, 50, 60, 60)],
        crs=3857,
    )
    villages = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1, 15, 10, 30], [1, 5, 5, 5]), crs=3857)
    schools = gpd.GeoDataFrame(geometry=gpd.points_from_xy([2], [2]), crs=3857)
    areas = points_by_area({"villages": villages, "schools": schools}, admin)
    assert list(areas) == ["B", "A"]  # the admin layer's order; C holds no point and is left out
    # (10, 5) is on the border of B and A: the first in the layer's order; (30, 5) is outside: the nearest (B)
    np.testing.assert_array_equal(areas["B"]["villages"], [False, True, True, True])
    np.testing.assert_array_equal(areas["A"]["villages"], [True, False, False, False])
    np.testing.assert_array_equal(areas["A"]["schools"], [True])
    np.testing.assert_array_equal(areas["B"]["schools"], [False])
