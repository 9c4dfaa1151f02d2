"""Hostile inputs to the readers: sizes a file declares are checked before memory is committed, DEM units and
emptiness, workbook XML, SQL views, OpenCelliD numbers and encodings, OSM names with line breaks.

Every bomb is built small on disk (tests/gis/bombs.py): sparse files, zips with forged or deflated-zero members,
GeoTIFF headers declaring 10^6 x 10^6 cells.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner
from pyproj import CRS, Transformer

from gis.errors import LayerError, TerrainError
from gis.importers.common import Region
from gis.importers.dem import import_dem, read_tile
from gis.importers.opencellid import read_opencellid
from gis.importers.osm import osm_layers, read_osm
from gis.importers.population import read_population
from gis.layers import load_layer
from gis.project import LayerSource
from gis.readers import read_xlsx_text
from gis.terrain import check_dem_file, open_dem
from planning.cli import cli
from tests.gis.bombs import LAUGHS, forged_geotiff, sparse_file, xlsx_parts, zip_declaring, zip_of_zeros
from tests.import_inputs import (
    CELLS,
    CELLS_HEADER,
    CRS_M,
    EAST,
    NORTH,
    OSM_XML,
    SOUTH,
    WEST,
    write_admin,
    write_tiles,
)

SRTM3 = 2 * 1201 * 1201
SRTM1 = 2 * 3601 * 3601


@pytest.fixture
def region() -> Region:
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    box = shapely.segmentize(shapely.box(WEST, SOUTH, EAST, NORTH), 0.01)
    area = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return Region(area=area, crs=CRS.from_user_input(CRS_M))


# --- DEM tiles: sizes declared by .hgt files and zips ------------------------------------------------------------


def _hgt_zip_forged(p: Path) -> Path:
    return zip_declaring(p / "N41E126.zip", "N41E126.hgt", b"\0" * 1000, 2**32 - 16)


def _hgt_zip_zeros(p: Path) -> Path:
    return zip_of_zeros(p / "N41E126.zip", "N41E126.hgt", 64)


def _hgt_zip_ratio(p: Path) -> Path:
    return zip_declaring(p / "N41E126.zip", "N41E126.hgt", b"\0" * 1000, SRTM3)


def _hgt_zip_two(p: Path) -> Path:
    return zip_declaring(p / "N41E126.zip", "N41E126.hgt", b"\0", 1, others={"N41E127.hgt": b"\0"})


def _hgt_zip_none(p: Path) -> Path:
    return zip_declaring(p / "N41E126.zip", "readme.txt", b"hello", 5)


def _hgt_zip_many(p: Path) -> Path:
    return zip_declaring(p / "N41E126.zip", "N41E126.hgt", b"\0", 1, others={f"f{i}.txt": b"" for i in range(120)})


def _hgt_zip_truncated(p: Path) -> Path:
    path = p / "N41E126.zip"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    return path


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda p: sparse_file(p / "N41E126.hgt", 8 * 2**30), "8589934592 bytes; expected an SRTM .hgt"),
        (lambda p: sparse_file(p / "N41E126.hgt", SRTM1 + 2), f"{SRTM1 + 2} bytes; expected an SRTM .hgt"),
        (lambda p: sparse_file(p / "N41E126.hgt", 0), "0 bytes; expected an SRTM .hgt"),
        (_hgt_zip_forged, r"N41E126.zip!N41E126.hgt \[terrain\]: zip member declares 4294967280 bytes"),
        (_hgt_zip_zeros, r"declares 67108864 bytes; expected an SRTM .hgt.*nothing was decompressed"),
        (_hgt_zip_ratio, r"compressed into \d+ \(ratio [\d,]+\); expected at most 1000"),
        (_hgt_zip_two, r"holds 2 .hgt files"),
        (_hgt_zip_none, r"holds 0 .hgt files"),
        (_hgt_zip_many, r"zip lists 121 members; expected at most 100"),
        (_hgt_zip_truncated, r"not a readable zip file"),
        (lambda p: forged_geotiff(p / "t.tif", 10**6, 10**6), r"declares 1,000,000 x 1,000,000 cells.*256 GiB"),
        (lambda p: forged_geotiff(p / "t.tif", 9000, 9000), r"declares 9,000 x 9,000 cells.*64,000,000 per tile"),
    ],
    ids=[
        "sparse-8GiB-hgt",
        "hgt-2-bytes-over",
        "empty-hgt",
        "zip-forged-4GiB",
        "zip-64MiB-zeros",
        "zip-ratio",
        "zip-two-hgt",
        "zip-no-hgt",
        "zip-many-members",
        "zip-truncated",
        "tif-10^6-square",
        "tif-81M-cells",
    ],
)
def test_dem_tile_declaring_too_much_is_refused_unread(tmp_path: Path, build, match: str):
    path = build(tmp_path)
    with pytest.raises(TerrainError, match=match) as err:
        read_tile(path)
    assert str(path) in str(err.value)


def _tile_tif(path: Path, heights: np.ndarray, *, units: str | None = None, tags: dict | None = None, crs="EPSG:4326"):
    rows, cols = heights.shape
    t = Affine(1 / 1200, 0, 126.9, 0, -1 / 1200, 41.6)
    profile = {"driver": "GTiff", "width": cols, "height": rows, "count": 1, "dtype": "float32", "crs": crs}
    with rasterio.open(path, "w", transform=t, nodata=-9999.0, **profile) as dst:
        dst.write(heights.astype(np.float32), 1)
        if units is not None:
            dst.units = (units,)
        if tags:
            dst.update_tags(1, **tags)
    return path


@pytest.mark.parametrize(
    ("units", "factor"), [("ft", 0.3048), ("foot", 0.3048), ("US survey foot", 1200 / 3937), ("metre", 1.0), ("", 1.0)]
)
def test_dem_tile_in_feet_is_converted_to_metres(tmp_path: Path, units: str, factor: float):
    h = np.full((8, 8), 1000.0)
    tile = read_tile(_tile_tif(tmp_path / "t.tif", h, units=units))
    assert np.nanmax(tile.height_m) == pytest.approx(1000.0 * factor, rel=1e-6)


@pytest.mark.parametrize(
    ("units", "tags", "match"),
    [
        ("cm", None, r"declared in 'cm' \(band 1 unit type\); expected metres or feet"),
        ("furlong", None, r"declared in 'furlong'"),
        ("m", {"UNITS": "ft"}, r"different vertical units"),
    ],
)
def test_dem_in_another_unit_is_refused(tmp_path: Path, units: str, tags: dict | None, match: str):
    path = _tile_tif(tmp_path / "d.tif", np.full((8, 8), 100.0), units=units, tags=tags)
    with pytest.raises(TerrainError, match=match) as err:
        read_tile(path)
    assert str(path) in str(err.value)
    with pytest.raises(TerrainError, match=match):
        check_dem_file(path)


def test_open_dem_converts_feet_and_refuses_a_dem_with_no_valid_cell(tmp_path: Path):
    feet = open_dem(_tile_tif(tmp_path / "ft.tif", np.full((8, 8), 3280.84), units="ft"))
    assert np.nanmax(feet.height_m) == pytest.approx(1000.0, abs=0.01)
    empty = _tile_tif(tmp_path / "empty.tif", np.full((8, 8), -9999.0))
    with pytest.raises(TerrainError, match=r"empty.tif \[terrain\]: DEM has no valid height"):
        open_dem(empty)


def test_a_dem_with_a_vertical_crs_in_feet_is_converted(tmp_path: Path):
    path = _tile_tif(tmp_path / "v.tif", np.full((8, 8), 1000.0), crs="EPSG:4326+8228")  # NAVD88 height (ft)
    assert np.nanmax(open_dem(path).height_m) == pytest.approx(304.8, rel=1e-6)


@pytest.mark.parametrize("kind", ["hgt", "tif"])
def test_dem_import_from_tiles_with_no_valid_cell_is_refused(tmp_path: Path, region: Region, kind: str):
    if kind == "hgt":
        path = tmp_path / "N41E126.hgt"
        path.write_bytes(np.full((1201, 1201), -32768, dtype=">i2").tobytes())
        tiles = [read_tile(path), read_tile(_write(tmp_path / "N41E127.hgt", np.full((1201, 1201), -32768)))]
    else:
        t = Affine(1 / 1200, 0, 126.0, 0, -1 / 1200, 42.0)
        path = tmp_path / "void.tif"
        prof = {"driver": "GTiff", "width": 2400, "height": 1200, "count": 1, "dtype": "float32", "crs": "EPSG:4326"}
        with rasterio.open(path, "w", transform=t, nodata=-9999.0, **prof) as dst:
            dst.write(np.full((1, 1200, 2400), -9999.0, dtype=np.float32))
        tiles = [read_tile(path)]
    with pytest.raises(TerrainError, match=r"hold no valid height there: every cell is a void or nodata"):
        import_dem(tiles, region, buffer_m=1000.0, source="tiles")


def _write(path: Path, values: np.ndarray) -> Path:
    path.write_bytes(values.astype(">i2").tobytes())
    return path


# --- population rasters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "transform", "match"),
    [
        (10**6, 10**6, Affine(1e-4, 0, 126.5, 0, -1e-4, 42.0), r"declares 1,000,000 x 1,000,000 cells.*256 GiB"),
        (20_000, 20_000, Affine(5e-6, 0, 126.95, 0, -5e-6, 41.55), r"window over the admin areas is [\d,]+ x"),
    ],
    ids=["header-10^6-square", "window-over-50M"],
)
def test_population_raster_declaring_too_much_is_refused_unread(
    tmp_path: Path, region: Region, width, height, transform, match
):
    path = forged_geotiff(tmp_path / "pop.tif", width, height, transform=transform)
    with pytest.raises(LayerError, match=match) as err:
        read_population(path, region)
    assert f"{path} [population]" in str(err.value)


# --- workbooks ----------------------------------------------------------------------------------------------------

_SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    b'2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>village_id</t></is></c></row>'
)


@pytest.mark.parametrize(
    ("parts", "declared", "match"),
    [
        ({"xl/sharedStrings.xml": b"<sst/>"}, {"xl/sharedStrings.xml": 2**32 - 16}, r"declare [\d,]+ bytes .*"),
        ({"xl/sharedStrings.xml": b" " * 40 * 2**20}, None, r"`xl/sharedStrings.xml` declares .*\(ratio"),
        ({"xl/sharedStrings.xml": LAUGHS}, None, r"`xl/sharedStrings.xml` declares a DTD"),
        ({"xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "/etc/passwd"><x/>'}, None, "DTD"),
        ({"xl/worksheets/sheet1.xml": LAUGHS.decode().encode("utf-16")}, None, "declares a DTD"),
        ({"xl/worksheets/sheet1.xml": _SHEET_OPEN + b"<row r="}, None, r"cannot read the workbook: ParseError"),
        ({"xl/workbook.xml": b"<workbook><sheets>"}, None, r"cannot read the workbook"),
        ({"xl/worksheets/sheet1.xml": b"\xff\xfe\x00garbage"}, None, r"cannot read the workbook"),
        ({f"xl/media/{i}.png": b"" for i in range(10_001)}, None, r"lists 10,006 parts; expected at most 10,000"),
    ],
    ids=[
        "shared-strings-4GiB",
        "ratio-bomb",
        "billion-laughs",
        "external-dtd",
        "utf16-dtd",
        "truncated-sheet-xml",
        "broken-workbook-xml",
        "binary-sheet",
        "too-many-parts",
    ],
)
def test_hostile_workbook_is_refused_naming_the_file(tmp_path: Path, parts: dict, declared: dict | None, match):
    path = xlsx_parts(tmp_path / "v.xlsx", parts, declared=declared)
    with pytest.raises(LayerError, match=match) as err:
        read_xlsx_text(path, layer="villages")
    assert f"{path} [villages]" in str(err.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
            r"Excel 97-2003 workbook \(.xls\).*save it as Excel Workbook",
        ),
        (b"", r"cannot read the workbook"),
        (b"village_id,lon,lat\nv1,127,41.5\n", r"cannot read the workbook"),
    ],
    ids=["xls-renamed", "empty", "csv-renamed"],
)
def test_a_file_named_xlsx_that_is_not_a_workbook_gets_advice(tmp_path: Path, content: bytes, match: str):
    path = tmp_path / "v.xlsx"
    path.write_bytes(content)
    with pytest.raises(LayerError, match=match) as err:
        load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages")
    assert f"{path} [villages]" in str(err.value)


def test_a_clean_minimal_workbook_still_reads(tmp_path: Path):
    frame = read_xlsx_text(xlsx_parts(tmp_path / "v.xlsx", {}), layer="villages")
    assert frame.to_dict("list") == {"village_id": ["v1"]}


# --- GeoPackage views ---------------------------------------------------------------------------------------------


def _gpkg_with_view(path: Path, view: str) -> Path:
    g = gpd.GeoDataFrame(
        {"village_id": ["a"], "name": ["A"], "population": [10]}, geometry=[shapely.Point(127, 41.5)], crs=4326
    )
    g.to_file(path, layer="base", driver="GPKG")
    con = sqlite3.connect(path)
    con.execute(
        f"CREATE VIEW {view} AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS fid, "
        "'v' || n AS village_id, 'x' AS name, 1 AS population, (SELECT geom FROM base) AS geom FROM r"
    )
    con.execute(
        f"INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('{view}', 'features', "
        f"'{view}', 4326)"
    )
    con.execute(f"INSERT INTO gpkg_geometry_columns VALUES ('{view}', 'geom', 'POINT', 4326, 0, 0)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize(("view", "layer"), [("villages", None), ("endless", "endless"), ("Villages2", "villages2")])
def test_an_endless_sql_view_as_a_layer_is_refused_not_read(tmp_path: Path, view: str, layer: str | None):
    path = _gpkg_with_view(tmp_path / "v.gpkg", view)
    with pytest.raises(LayerError, match=r"is an SQL view, not a table; expected a table") as err:
        load_layer(LayerSource(path=path, layer=layer), "villages")
    assert f"{path} [villages]" in str(err.value)
    frame, _ = load_layer(LayerSource(path=path, layer="base"), "villages")  # the table beside it reads
    assert frame["village_id"].tolist() == ["a"]


# --- OpenCelliD ---------------------------------------------------------------------------------------------------

_ROW = "LTE,460,0,4101,25600001,0,126.990,41.500,1200,12,1,1500000000,1600000000,0,38400"
_FIELDS = CELLS_HEADER.split(",")


def _row_with(column: str, value: str) -> str:
    cells = _ROW.split(",")
    cells[_FIELDS.index(column)] = value
    return ",".join(cells)


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("cell", "1e400", "is not a finite number"),
        ("cell", "1e300", "is out of range"),
        ("cell", "25600001.5", "is out of range"),
        ("cell", "-1", "is out of range"),
        ("net", "1e400", "is not a finite number"),
        ("samples", "1e19", "is out of range"),
        ("area", "nan", "is not a finite number"),
        ("updated", "inf", "is not a finite number"),
        ("lon", "-1e400", "is not a finite number"),
        ("earfcn", "3.5", "is out of range"),
    ],
)
def test_huge_or_non_integer_numbers_name_row_and_column(tmp_path: Path, column: str, value: str, why: str):
    path = tmp_path / "cells.csv"
    path.write_text(f"{CELLS_HEADER}\n{_ROW}\n{_row_with(column, value)}\n", encoding="utf-8")
    with pytest.raises(LayerError) as err:
        read_opencellid(path)
    text = str(err.value)
    assert f"{path} [opencellid] row 2" in text
    assert f"column `{column}`: {value!r} {why}; expected" in text


@pytest.mark.parametrize(
    ("encoding", "prefix", "sep"),
    [
        ("utf-16", "", "\t"),
        ("utf-16", "", ","),
        ("utf-16-be", "\ufeff", "\t"),
        ("utf-8", "sep=,\n", ","),
        ("utf-8", "sep=;\n", ";"),
        ("utf-8-sig", "sep=,\n", ","),
        ("utf-16", "sep=,\n", ","),
    ],
)
def test_excel_encodings_and_sep_line_are_read(tmp_path: Path, encoding: str, prefix: str, sep: str):
    lines = [CELLS_HEADER, *CELLS]
    text = prefix + "\n".join(line.replace(",", sep) for line in lines) + "\n"
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode(encoding))
    cells, report = read_opencellid(path)
    assert report.read == len(CELLS)
    assert sorted(cells["cell"].astype(int)) == sorted(
        [25600001, 25600002, 25600003, 12800256, 20480001, 1234, 1235, 25700001]
    )


def test_an_undecodable_opencellid_file_is_named(tmp_path: Path):
    path = tmp_path / "cells.csv"
    path.write_bytes((CELLS_HEADER + "\n" + _ROW.replace("LTE", "LTE\xe9")).encode("latin-1") + b"\n")
    with pytest.raises(LayerError, match=r"cannot read the text .*save the file as CSV UTF-8") as err:
        read_opencellid(path)
    assert str(path) in str(err.value)


# --- OSM names with a line break ----------------------------------------------------------------------------------


def test_an_osm_name_with_a_line_break_can_be_skipped(tmp_path: Path, region: Region):
    path = tmp_path / "x.osm"
    path.write_text(OSM_XML.replace('v="西沟村"', 'v="西沟&#10;村"'), encoding="utf-8")
    ext = read_osm(path)
    with pytest.raises(LayerError, match=r"pass --skip-bad-rows to leave such objects out") as err:
        osm_layers(ext, region)
    assert "[villages] row" in str(err.value)
    layers, report = osm_layers(ext, region, skip_bad_rows=True)
    assert "西沟村" not in set(layers["villages"]["name"])
    assert set(layers["villages"]["name"]) == {"东岭村", "南岔"}
    assert sum(n for why, n in report.dropped.items() if "--skip-bad-rows" in why) == 1


# --- the command line: exit 2, the file named ---------------------------------------------------------------------


@pytest.mark.parametrize("bomb", ["sparse", "zip", "tif", "void"])
def test_import_dem_refuses_bombs_with_exit_2(tmp_path: Path, bomb: str):
    project = write_admin(tmp_path)
    if bomb == "sparse":
        tiles = [sparse_file(tmp_path / "N41E126.hgt", 8 * 2**30)]
    elif bomb == "zip":
        tiles = [zip_declaring(tmp_path / "N41E126.zip", "N41E126.hgt", b"\0", 2**32 - 16)]
    elif bomb == "tif":
        tiles = [forged_geotiff(tmp_path / "t.tif", 10**6, 10**6)]
    else:
        tiles = [_write(tmp_path / "N41E126.hgt", np.full((1201, 1201), -32768))]
        tiles.append(_write(tmp_path / "N41E127.hgt", np.full((1201, 1201), -32768)))
    args = ["import", "dem", *map(str, tiles), "--project", str(project), "--out", str(tmp_path / "dem.tif")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert str(tiles[0]) in result.output
    assert not (tmp_path / "dem.tif").exists()


def test_import_dem_of_feet_tiles_writes_metres(tmp_path: Path):
    project = write_admin(tmp_path)
    metres = write_tiles(tmp_path)
    feet = []
    for p in metres:
        h = np.frombuffer(p.read_bytes(), dtype=">i2").reshape(1201, 1201).astype(np.float32)
        lat, lon = int(p.name[1:3]), int(p.name[4:7])
        t = Affine(1 / 1200, 0, lon - 1 / 2400, 0, -1 / 1200, lat + 1 + 1 / 2400)
        prof = {"driver": "GTiff", "width": 1201, "height": 1201, "count": 1, "dtype": "float32", "crs": "EPSG:4326"}
        q = tmp_path / p.name.replace(".hgt", "_ft.tif")
        with rasterio.open(q, "w", transform=t, nodata=-32768.0, **prof) as dst:
            dst.write(np.where(h == -32768, -32768, h / 0.3048).astype(np.float32), 1)
            dst.units = ("ft",)
        feet.append(q)
    runner = CliRunner()
    for name, tiles in (("m.tif", metres), ("ft.tif", feet)):
        args = ["import", "dem", *map(str, tiles), "--project", str(project), "--out", str(tmp_path / name)]
        assert runner.invoke(cli, args).exit_code == 0
    a, b = open_dem(tmp_path / "m.tif").height_m, open_dem(tmp_path / "ft.tif").height_m
    assert np.nanmax(np.abs(a - b)) < 0.01
