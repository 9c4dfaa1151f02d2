import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import CRS

from gis.crs import gcj02_to_wgs84, source_crs_problem, utm_crs_for, wgs84_to_gcj02


def test_gcj02_to_wgs84_matches_published_reference():
    # gcoord (hujiulong/gcoord) test/unit/crs/GCJ02.spec.js: GCJ02 -> WGS84 of (123, 45)
    lon, lat = gcj02_to_wgs84(np.array([123.0]), np.array([45.0]))
    assert lon[0] == pytest.approx(122.99395597, abs=1e-6)
    assert lat[0] == pytest.approx(44.99804071, abs=1e-6)


def test_gcj02_is_identity_outside_china():
    lon, lat = gcj02_to_wgs84(np.array([183.0, 2.35]), np.array([45.0, 48.85]))
    np.testing.assert_array_equal(lon, [183.0, 2.35])
    np.testing.assert_array_equal(lat, [45.0, 48.85])


@given(st.floats(73.0, 135.0), st.floats(18.0, 53.0))
def test_gcj02_round_trip(lon, lat):
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(wlon[0] - lon) < 1e-8
    assert abs(wlat[0] - lat) < 1e-8


def test_gcj02_offset_is_hundreds_of_metres_in_jilin():
    glon, glat = wgs84_to_gcj02(np.array([127.18]), np.array([41.81]))
    dx = (glon[0] - 127.18) * 111_320 * np.cos(np.radians(41.81))
    dy = (glat[0] - 41.81) * 110_574
    assert 100.0 < np.hypot(dx, dy) < 1000.0


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(127.18, 41.81, 32652), (126.5, 43.5, 32652), (117.0, 39.0, 32650), (-70.0, -33.0, 32719)],
)
def test_utm_zone_of_centroid(lon, lat, epsg):
    assert utm_crs_for(lon, lat).to_epsg() == epsg


def test_utm_refuses_polar_latitudes():
    with pytest.raises(ValueError, match="UTM domain"):
        utm_crs_for(10.0, 88.0)


def test_source_crs_acceptance():
    assert source_crs_problem(CRS.from_epsg(4326)) is None
    assert source_crs_problem(CRS.from_epsg(4490)) is None
    assert source_crs_problem(CRS.from_epsg(32652)) is None
    assert "no CRS" in source_crs_problem(None)
    assert "EPSG:4214" in source_crs_problem(CRS.from_epsg(4214))  # Beijing 1954: reproject first
    assert "metres" in source_crs_problem(CRS.from_epsg(2227))  # US survey feet
