"""The coverage raster (a map overlay): its cheap screening agrees with the per-point model on hilly terrain."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from gis.settings import RadioSettings
from gis.terrain import dem_from_array
from planning.radio.coverage import coverage
from planning.radio.linkbudget import LinkBudget
from planning.radio.raster import coverage_raster, raster_best_rsrp
from tests.planning.radio.test_coverage import flat_dem, points_frame, sites_frame

CRS = "EPSG:32652"
X0, Y0 = 300_000.0, 4_650_000.0


def _hills() -> tuple:
    """A 24 km square of seeded hills (30 m cells, 200-700 m) and 14 sites of both technologies on it."""
    rng = np.random.default_rng(7)
    n = 800
    rows, cols = np.mgrid[0:n, 0:n]
    z = np.full((n, n), 200.0)
    for _ in range(25):
        r, c = rng.uniform(0, n, 2)
        z += rng.uniform(80, 350) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * rng.uniform(20, 70) ** 2))
    dem = dem_from_array(z.astype(np.float32), Affine(30.0, 0, X0, 0, -30.0, Y0), CRS)
    xy = rng.uniform(2000, 22000, (14, 2)) * [1, -1] + [X0, Y0]
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"T{i}" for i in range(14)],
            "tech": ["4g", "5g"] * 7,
            "band_mhz": [1800.0, 2600.0, 900.0, 3500.0] * 3 + [1800.0, 700.0],
            "height_m": rng.uniform(25, 45, 14),
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )
    return dem, sites


def test_raster_screening_agrees_with_the_point_model_on_hills():
    dem, sites = _hills()
    radio = RadioSettings()
    rng = np.random.default_rng(3)
    xy = rng.uniform(1000, 23000, (600, 2)) * [1, -1] + [X0, Y0]
    fast = raster_best_rsrp(xy[:, 0], xy[:, 1], sites, radio=radio, dem=dem)
    # every site within 60 km modelled on the full profile: the exact best server
    pts = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=CRS)
    every = LinkBudget(max_sites_per_point=0, interference_margin_db=80.0)
    exact = coverage(pts, sites, radio=radio, dem=dem, budget=every)
    for b, tech in enumerate(("4g", "5g")):
        ref = exact[f"{tech}_rsrp_dbm"].to_numpy(dtype=float)
        both = np.isfinite(fast[b]) & np.isfinite(ref)
        assert both.mean() > 0.5
        # the screen models a subset of sites with the same model: never stronger than the exact best
        assert np.all(fast[b][both] <= ref[both] + 0.005)  # coverage() rounds to 0.01 dB
        same = np.isclose(fast[b][both], ref[both], atol=0.01)
        assert same.mean() >= 0.9, (tech, same.mean())
        threshold = radio.lte_rsrp_threshold_dbm if tech == "4g" else radio.nr_rsrp_threshold_dbm
        covered_fast = np.nan_to_num(fast[b], nan=-999) >= threshold
        covered_exact = np.nan_to_num(ref, nan=-999) >= threshold
        assert (covered_fast == covered_exact).mean() >= 0.95
        # below the interference floor the raster is empty (the map shows nothing there)
        assert np.all(np.isnan(fast[b][np.nan_to_num(ref, nan=-999) < threshold - 10.0 - 1e-6]))


def test_raster_grid_is_capped_and_empty_off_the_dem():
    dem, sites = _hills()
    area = shapely.box(X0 - 6000, Y0 - 24000, X0 + 24000, Y0)  # the west 6 km lie off the DEM
    radio = RadioSettings(missing_azimuth="omni")  # omni cells cover most of the grid
    bands, transform = coverage_raster(sites, area, crs=CRS, radio=radio, dem=dem, max_cells=2_000)
    assert bands.shape[1] * bands.shape[2] <= 2_000 * 1.1
    assert transform.a > 500.0  # coarsened from the project's 500 m to stay within the cap
    west = int(6000 // transform.a)
    assert np.isnan(bands[:, :, : west - 1]).all()
    assert np.isfinite(bands[0]).mean() > 0.5


def test_raster_best_rsrp_of_no_points_or_no_sites():
    dem, sites = _hills()
    assert raster_best_rsrp(np.zeros(0), np.zeros(0), sites, radio=RadioSettings(), dem=dem).shape == (2, 0)
    none = raster_best_rsrp(np.array([X0 + 1e4]), np.array([Y0 - 1e4]), sites.iloc[:0], radio=RadioSettings())
    assert np.isnan(none).all()
    only_4g = raster_best_rsrp(
        np.array([X0 + 1e4]), np.array([Y0 - 1e4]), sites[sites["tech"] == "4g"], radio=RadioSettings(), dem=dem
    )
    assert np.isfinite(only_4g[0, 0])
    assert np.isnan(only_4g[1, 0])
    assert only_4g[0, 0] == pytest.approx(
        coverage(
            gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 1e4, Y0 - 1e4)], crs=CRS),
            sites[sites["tech"] == "4g"],
            radio=RadioSettings(),
            dem=dem,
            budget=LinkBudget(max_sites_per_point=0, interference_margin_db=80.0),
        ).loc[0, "4g_rsrp_dbm"],
        abs=0.01,
    )


HATA = RadioSettings(model="hata")  # its short range leaves cells of a flat 20 km square below the floor


def test_raster_matches_point_coverage():
    dem = flat_dem(size_km=20.0)
    sites = sites_frame([(X0 + 10000.0, Y0 - 10000.0)])
    area = shapely.box(X0 + 2000.0, Y0 - 18000.0, X0 + 18000.0, Y0 - 2000.0)
    bands, transform = coverage_raster(sites, area, crs=CRS, radio=HATA, dem=dem, resolution_m=1000.0)
    assert bands.shape == (2, 16, 16)
    assert np.isnan(bands[1]).all()  # no 5G site
    # along row 7: the cell values equal the point model at the cells' centres, empty below the interference floor
    cols = np.arange(16)
    cx, cy = transform.c + (cols + 0.5) * transform.a, transform.f + 7.5 * transform.e
    pt = coverage(points_frame([(x, cy) for x in cx]), sites, radio=HATA, dem=dem)["4g_rsrp_dbm"]
    floor = RadioSettings().lte_rsrp_threshold_dbm - LinkBudget().interference_margin_db
    above = pt.to_numpy() >= floor
    assert 2 <= above.sum() < 16  # some cells above the floor, some below
    np.testing.assert_allclose(bands[0, 7, above], pt.to_numpy()[above], atol=0.01)
    assert np.isnan(bands[0, 7, ~above]).all()
    # the brightest cells surround the site
    r, c = np.unravel_index(np.nanargmax(bands[0]), bands[0].shape)
    assert abs(r - 7.5) <= 1
    assert abs(c - 7.5) <= 1
