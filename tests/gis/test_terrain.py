from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer

from gis.errors import TerrainError
from gis.inputs import load_inputs
from gis.project import load_project
from gis.terrain import coverage_problems, dem_from_array, open_dem, profiles, reproject_dem, sample_heights, write_dem
from tests.conftest import CELL_M, CRS_M, X0, Y0, tiny_heights


def plane(x, y):
    """Height of the tiny DEM's plane at metric x, y (pixel centres at X0 + 50 + 100 c, Y0 - 50 - 100 r)."""
    col = (x - X0) / CELL_M - 0.5
    row = (Y0 - y) / CELL_M - 0.5
    return 100.0 + 10.0 * col + 1.0 * row


def test_open_dem_reads_heights_and_grid(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    assert dem.shape == (10, 10)
    assert dem.crs.to_epsg() == 32652
    assert dem.bounds == (X0, Y0 - 1000.0, X0 + 1000.0, Y0)
    np.testing.assert_array_equal(dem.height_m, tiny_heights())


def test_bilinear_sampling_is_exact_on_a_plane(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    x = X0 + np.array([50.0, 50.0, 125.0, 333.0, 949.0])
    y = Y0 - np.array([50.0, 150.0, 275.0, 612.0, 949.0])
    z = sample_heights(dem, x, y)
    np.testing.assert_allclose(z, plane(x, y), atol=1e-4)
    assert z[0] == pytest.approx(100.0)  # centre of cell (0, 0)
    assert z[1] == pytest.approx(101.0)  # centre of cell (1, 0)


def test_outer_half_pixel_takes_edge_value_and_outside_is_nan(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    z = sample_heights(dem, np.array([X0 + 10.0, X0 - 1.0, X0 + 500.0]), np.array([Y0 - 10.0, Y0 - 500.0, Y0 + 5]))
    assert z[0] == pytest.approx(100.0)
    assert np.isnan(z[1])
    assert np.isnan(z[2])


def test_nodata_gives_nan_not_zero(tmp_path: Path):
    h = tiny_heights()
    h[4, 4] = -9999.0
    dem = dem_from_array(h, Affine(CELL_M, 0, X0, 0, -CELL_M, Y0), CRS_M, nodata=-9999.0)
    write_dem(dem, tmp_path / "d.tif")
    dem2 = open_dem(tmp_path / "d.tif")
    assert np.isnan(dem2.height_m[4, 4])
    z = sample_heights(dem2, np.array([X0 + 450.0, X0 + 420.0, X0 + 150.0]), np.array([Y0 - 450.0] * 3))
    assert np.isnan(z[0])
    assert np.isnan(z[1])
    assert z[2] == pytest.approx(plane(X0 + 150.0, Y0 - 450.0))


def test_sampling_from_another_crs(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    x, y = X0 + 420.0, Y0 - 380.0
    lon, lat = Transformer.from_crs(CRS_M, 4326, always_xy=True).transform(x, y)
    z = sample_heights(dem, np.array([lon]), np.array([lat]), crs=4326)
    assert z[0] == pytest.approx(plane(x, y), abs=1e-3)


def test_profiles_ragged_layout(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    x0 = np.array([X0 + 50.0, X0 + 100.0])
    y0 = np.array([Y0 - 50.0, Y0 - 900.0])
    x1 = np.array([X0 + 950.0, X0 + 100.0])
    y1 = np.array([Y0 - 50.0, Y0 - 860.0])
    pr = profiles(dem, x0, y0, x1, y1, step_m=30.0)
    assert len(pr) == 2
    np.testing.assert_allclose(pr.length_m, [900.0, 40.0])
    assert list(np.diff(pr.offsets)) == [31, 3]  # ceil(900/30)+1, ceil(40/30)+1
    d, h = pr.get(0)
    assert d[0] == 0.0
    assert d[-1] == pytest.approx(900.0)
    np.testing.assert_allclose(h, 100.0 + 10.0 * d / 100.0, atol=1e-4)  # along row 0 the plane rises 10 m/cell
    assert pr.complete.tolist() == [True, True]


def test_profile_leaving_the_dem_is_incomplete(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    pr = profiles(dem, [X0 + 500.0], [Y0 - 500.0], [X0 + 1500.0], [Y0 - 500.0], step_m=30.0)
    assert pr.complete.tolist() == [False]
    _, h = pr.get(0)
    assert np.isnan(h[-1])
    assert np.isfinite(h[0])


def test_profiles_reject_bad_step(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    with pytest.raises(ValueError, match="`step_m`"):
        profiles(dem, [X0], [Y0], [X0 + 1], [Y0], step_m=0.0)


def test_coverage_problems(tiny_dem_path: Path):
    dem = open_dem(tiny_dem_path)
    inside = shapely.box(X0 + 100, Y0 - 900, X0 + 900, Y0 - 100)
    assert coverage_problems(dem, inside, crs=dem.crs) == []
    beyond = shapely.box(X0 + 500, Y0 - 900, X0 + 1500, Y0 - 100)
    (p,) = coverage_problems(dem, beyond, crs=dem.crs, what="the region")
    assert "DEM covers 50.0% of the region" in p.message


def test_unreadable_and_crs_less_dem(tmp_path: Path):
    bad = tmp_path / "x.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(TerrainError, match="DEM is not a GeoTIFF: the file is a file of an unknown format"):
        open_dem(bad)
    whole = _dem_file(tmp_path, tiny_heights() + 100.0, name="whole.tif").read_bytes()
    bad.write_bytes(whole[: len(whole) // 2])  # cut short: GDAL's own reason follows rasterio's "Read failed"
    with pytest.raises(TerrainError, match=r"cannot read DEM: .*band 1: IReadBlock failed.*TIFF") as err:
        open_dem(bad)
    assert "See previous exception" not in str(err.value)

    with rasterio.open(
        tmp_path / "nocrs.tif",
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="float32",
        transform=Affine(1, 0, 0, 0, -1, 2),
    ) as dst:
        dst.write(np.zeros((1, 2, 2), dtype="float32"))
    with pytest.raises(TerrainError, match="DEM has no CRS"):
        open_dem(tmp_path / "nocrs.tif")


def _dem_file(
    tmp_path: Path,
    heights: np.ndarray,
    *,
    cell: float = CELL_M,
    crs: str = CRS_M,
    x0: float = X0,
    y0: float = Y0,
    name: str = "d.tif",
) -> Path:
    path = tmp_path / name
    write_dem(dem_from_array(heights, Affine(cell, 0, x0, 0, -cell, y0), crs), path)
    return path


@pytest.mark.parametrize(
    ("heights", "cell", "match"),
    [
        (np.full((5, 5), 12_000.0), CELL_M, r"DEM heights run from 12000 to 12000 m; expected -500 to 9000 m"),
        (np.full((5, 5), -9999.0), CELL_M, r"from -9999 to -9999 m; expected -500 to 9000 m .*nodata undeclared"),
        (np.full((1, 1), 100.0), CELL_M, r"DEM has 1 x 1 cells over the region; expected at least 3 x 3"),
        (np.full((5, 5), 100.0), 5000.0, r"DEM cells are 5,000 m; expected at most 1,000 m"),
    ],
)
def test_absurd_dems_are_refused(tmp_path: Path, heights: np.ndarray, cell: float, match: str):
    with pytest.raises(TerrainError, match=match):
        open_dem(_dem_file(tmp_path, heights.astype(np.float32), cell=cell))


def test_a_large_dem_is_read_over_the_region_only_or_refused_with_its_size(tmp_path: Path):
    big = _dem_file(tmp_path, np.add.outer(np.arange(400.0), np.arange(300.0)).astype(np.float32), cell=10.0)
    # a 200 m x 100 m area in the middle: 20 x 10 cells, plus 2 on each side
    dem = open_dem(big, bounds=(X0 + 1000, Y0 - 1200, X0 + 1100, Y0 - 1000), crs=CRS_M)
    assert dem.shape == (24, 14)
    assert dem.transform.c == X0 + 1000 - 20
    assert dem.transform.f == Y0 - 1000 + 20
    # the values are the file's at the same place: h = row + col
    assert sample_heights(dem, X0 + 1005.0, Y0 - 1005.0) == pytest.approx(100.0 + 100.0, abs=1e-3)
    with pytest.raises(
        TerrainError,
        match=r"DEM area needed is 400 x 300 cells \(120,000\); expected at most "
        r"10,000: resample",
    ):
        open_dem(big, max_cells=10_000)
    with pytest.raises(TerrainError, match="DEM does not overlap the region"):
        open_dem(big, bounds=(X0 + 90_000, Y0 - 1000, X0 + 91_000, Y0), crs=CRS_M)


def test_a_geographic_dem_is_reprojected_to_the_metric_crs_on_load(tmp_path: Path, tiny_project: Path):

    rows, cols = np.mgrid[0:30, 0:30]  # the tiny plane, extended 1 km around the tiny region
    plane = (100.0 + 10.0 * (cols - 10) + 1.0 * (rows - 10)).astype(np.float32)
    metric = dem_from_array(plane, Affine(CELL_M, 0, X0 - 1000, 0, -CELL_M, Y0 + 1000), CRS_M)
    ll = reproject_dem(metric, "EPSG:4326", resolution_m=None)
    assert ll.crs.is_geographic
    write_dem(ll, tmp_path / "dem.tif")
    inputs = load_inputs(load_project(tiny_project))
    assert inputs.dem.crs.equals(inputs.layers.crs)  # every stage measures the terrain in metres
    assert 90.0 < abs(inputs.dem.transform.a) < 110.0  # the finer side of the 100 m cells put in degrees
    v = inputs.layers["villages"]
    direct = sample_heights(metric, v.geometry.x.to_numpy(), v.geometry.y.to_numpy())
    assert np.allclose(v["ground_m"].to_numpy(), direct, atol=3.0)  # the plane, through two resamplings
