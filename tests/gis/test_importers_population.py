"""Population import: a raster summed over the villages' Voronoi cells in the admin areas, by hand; bad rasters."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from gis.errors import LayerError
from gis.importers.common import Region
from gis.importers.population import population_per_village, read_population
from tests.import_inputs import CRS_M, EAST, NORTH, SOUTH, WEST, population_values, write_population

X0, Y0 = 300_000.0, 4_600_000.0  # upper-left corner of the metric test raster (UTM 52N)


@pytest.fixture
def metric_region() -> Region:
    """Admin area over columns 1..4 of a 4 x 6 raster of 100 m pixels (columns 0 and 5 lie outside)."""
    return Region(area=shapely.box(X0 + 100, Y0 - 400, X0 + 500, Y0), crs=CRS.from_user_input(CRS_M))


def _villages(xy: list[tuple[float, float]], crs=CRS_M, **extra) -> gpd.GeoDataFrame:
    n = len(xy)
    data = {
        "village_id": [f"V{i + 1}" for i in range(n)],
        "name": [f"村{i + 1}" for i in range(n)],
        "population": [5] * n,
        **extra,
    }
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in xy], crs=crs)


def test_voronoi_sums_by_hand(tmp_path: Path, metric_region: Region):
    r, c = np.mgrid[0:4, 0:6]
    v = (10.0 * r + c).astype(np.float32)
    v[0, 2] = -99999.0  # nodata inside the area, in village A's cell
    path = write_population(tmp_path, v, transform=Affine(100, 0, X0, 0, -100, Y0), crs=CRS_M)
    people, t, crs = read_population(path, metric_region)
    # A at column 1.5, B at column 4.5 (pixel units): columns 1-2 are nearer A, 3-4 nearer B; 0 and 5 are outside
    villages = _villages([(X0 + 150, Y0 - 200), (X0 + 450, Y0 - 200)])
    out, report = population_per_village(villages, people, t, crs, metric_region)
    # A: sum over rows 0..3 of (10 r + 1) + (10 r + 2), less the nodata pixel (0, 2) = 2 x 60 + 4 x 3 - 2 = 130
    # B: sum over rows 0..3 of (10 r + 3) + (10 r + 4) = 2 x 60 + 4 x 7 = 148
    assert out["population"].tolist() == [130, 148]
    assert out["population_source"].tolist() == ["raster_voronoi", "raster_voronoi"]
    assert report.read == 16  # pixel centres inside the area, nodata included
    assert any("1 nodata pixel(s) inside" in n for n in report.notes)
    assert out.crs == villages.crs
    assert out["village_id"].tolist() == ["V1", "V2"]


def test_fractional_people_are_rounded(tmp_path: Path, metric_region: Region):
    v = np.full((4, 6), 0.3, dtype=np.float32)
    path = write_population(tmp_path, v, transform=Affine(100, 0, X0, 0, -100, Y0), crs=CRS_M)
    out, _ = population_per_village(
        _villages([(X0 + 150, Y0 - 200), (X0 + 450, Y0 - 200)]), *read_population(path, metric_region), metric_region
    )
    assert out["population"].tolist() == [2, 2]  # 8 pixels x 0.3 = 2.4 each


def test_geographic_raster_and_only_missing(tmp_path: Path):
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    box = shapely.segmentize(shapely.box(WEST, SOUTH, EAST, NORTH), 0.01)
    region = Region(
        area=shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))),
        crs=CRS.from_user_input(CRS_M),
    )
    path = write_population(tmp_path)
    people, t, crs = read_population(path, region)
    assert people.shape == (8, 8)
    # one village: every pixel centre inside the 0.06-degree box (rows and columns 1..6) is its own
    one = _villages([(127.0, 41.5)], crs="EPSG:4326")
    out, _ = population_per_village(one, people, t, crs, region)
    v = population_values()[1:7, 1:7]
    assert out["population"].tolist() == [int(v[v >= 0].sum())]
    two = _villages([(127.0, 41.5), (127.01, 41.51)], crs="EPSG:4326", population_source=["osm_tag", "none"])
    out, report = population_per_village(two, people, t, crs, region, only_missing=True)
    assert out["population"].iloc[0] == 5
    assert out["population_source"].tolist() == ["osm_tag", "raster_voronoi"]
    assert out["population"].iloc[1] > 0
    assert "1 village(s) keep their figure (population_source not 'none')" in report.notes


@pytest.mark.parametrize(
    ("value", "match"),
    [(-3.0, "first -3.0 at window row"), (np.inf, "first inf"), (2e6, "first 2000000.0")],
)
def test_bad_values_are_refused(tmp_path: Path, metric_region: Region, value: float, match: str):
    v = np.ones((4, 6), dtype=np.float32)
    v[2, 3] = value
    path = write_population(tmp_path, v, transform=Affine(100, 0, X0, 0, -100, Y0), crs=CRS_M)
    with pytest.raises(LayerError, match=match):
        read_population(path, metric_region)


def test_raster_that_misses_the_area_or_is_not_a_raster(tmp_path: Path, metric_region: Region):
    small = write_population(
        tmp_path, np.ones((2, 2), np.float32), transform=Affine(100, 0, X0, 0, -100, Y0), crs=CRS_M
    )
    with pytest.raises(LayerError, match=r"raster covers 12\.5% of the admin areas"):
        read_population(small, metric_region)
    text = tmp_path / "ppp.tif"
    text.write_text("not a raster", encoding="utf-8")
    with pytest.raises(LayerError, match="not a GeoTIFF"):
        read_population(text, metric_region)
    text.write_bytes(b"MM\x00*" + b"\x00" * 16)
    with pytest.raises(LayerError, match="cannot read as a raster"):
        read_population(text, metric_region)
    with pytest.raises(LayerError, match="does not exist"):
        read_population(tmp_path / "none.tif", metric_region)
