"""Small self-made source files for the importer tests: OpenCelliD CSV, SRTM tiles, an OSM extract, a raster.

The region is a 0.06 x 0.06 degree box around (127.00 E, 41.50 N) near Linjiang (Jilin), astride the
meridian where SRTM tiles N41E126 and N41E127 meet; the project's metric CRS is UTM 52N.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine

WEST, SOUTH, EAST, NORTH = 126.97, 41.47, 127.03, 41.53
CRS_M = "EPSG:32652"
HGT_N = 1201  # 3 arc-second tiles
#: Void pixel of N41E126.hgt (row, column): lon 126 + 1180/1200, lat 42 - 600/1200 = (126.98333, 41.5).
VOID = (600, 1180)

PROJECT = """[project]
name = "imported"
language = "en"
metric_crs = "EPSG:32652"

[layers]
admin = "admin.gpkg"
"""


def hgt_height(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The known surface of the test tiles (m): 200 + 1200 (lon - 126) + 2400 (42 - lat), linear in lon/lat."""
    return 200.0 + 1200.0 * (np.asarray(lon) - 126.0) + 2400.0 * (42.0 - np.asarray(lat))


def hgt_bytes(lat: int, lon: int, *, void: tuple[int, int] | None = None, n: int = HGT_N) -> bytes:
    """An SRTM tile of the known surface: big-endian int16, point-registered, -32768 at ``void``."""
    r, c = np.mgrid[0:n, 0:n]
    step = 1.0 / (n - 1)
    h = np.round(hgt_height(lon + c * step, lat + 1 - r * step)).astype(">i2")
    if void is not None:
        h[void] = -32768
    return h.tobytes()


def write_admin(folder: Path) -> Path:
    """admin.gpkg (one county, WGS84) and project.toml naming only it; returns the project file."""
    admin = gpd.GeoDataFrame(
        {"area_id": ["220681"], "name": ["Linjiang"], "level": ["county"]},
        geometry=[shapely.box(WEST, SOUTH, EAST, NORTH)],
        crs="EPSG:4326",
    )
    admin.to_file(folder / "admin.gpkg", layer="admin", driver="GPKG")
    path = folder / "project.toml"
    path.write_text(PROJECT, encoding="utf-8")
    return path


def write_tiles(folder: Path) -> list[Path]:
    """N41E126.hgt (with one void pixel) and N41E127.hgt, 3 arc-second."""
    a = folder / "N41E126.hgt"
    a.write_bytes(hgt_bytes(41, 126, void=VOID))
    b = folder / "N41E127.hgt"
    b.write_bytes(hgt_bytes(41, 127))
    return [a, b]


CELLS_HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal,earfcn"
CELLS = [
    # CMCC eNodeB 100000 (cells 25600001..3): B39 EARFCN 38400 (1895 MHz) and B3 1650 (1850 MHz) -> 1850 MHz
    "LTE,460,0,4101,25600001,0,126.990,41.500,1200,12,1,1500000000,1600000000,0,38400",
    "LTE,460,0,4101,25600002,0,126.992,41.502,1500,8,1,1500000000,1610000000,0,1650",
    "LTE,460,0,4101,25600003,0,126.994,41.498,900,5,1,1500000000,1605000000,0,",
    # CUCC eNodeB 50001, no EARFCN -> China Unicom's usual 1855 MHz
    "LTE,460,1,4102,12800256,0,127.010,41.510,2000,30,1,1500000000,1600000000,0,",
    # CTCC gNodeB: NCI = gNB 5000 << 12 | cell 1 (24-bit gNB id), NR-ARFCN in column earfcn is ignored for NR
    "NR,460,11,4103,20480001,0,127.020,41.490,800,4,1,1500000000,1600000000,0,",
    "GSM,460,0,4101,1234,0,126.99,41.50,500,3,1,1500000000,1600000000,0,",
    "UMTS,460,1,4101,1235,0,126.99,41.50,500,3,1,1500000000,1600000000,0,",
    "LTE,262,1,4101,25600001,0,126.99,41.50,500,3,1,1500000000,1600000000,0,",
    # CMCC far away (Beijing): outside the region
    "LTE,460,0,4101,25700001,0,116.40,39.90,500,3,1,1500000000,1600000000,0,",
]


def write_cells(folder: Path, rows: list[str] | None = None, *, name: str = "cells.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([CELLS_HEADER, *(CELLS if rows is None else rows)]) + "\n", encoding="utf-8")
    return path


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="coverplan tests">
 <node id="1" version="1" lat="41.500" lon="126.985"><tag k="place" v="village"/><tag k="name" v="东岭村"/>
  <tag k="population" v="1,200"/></node>
 <node id="2" version="1" lat="41.515" lon="127.015"><tag k="place" v="village"/><tag k="name" v="西沟村"/></node>
 <node id="3" version="1" lat="41.485" lon="127.015"><tag k="place" v="hamlet"/><tag k="name" v="南岔"/></node>
 <node id="4" version="1" lat="41.520" lon="126.980"><tag k="place" v="village"/></node>
 <node id="5" version="1" lat="41.60" lon="127.00"><tag k="place" v="village"/><tag k="name" v="界外村"/></node>
 <node id="6" version="1" lat="41.501" lon="126.986"><tag k="amenity" v="school"/><tag k="name" v="东岭小学"/>
  <tag k="capacity" v="240"/></node>
 <node id="7" version="1" lat="41.484" lon="127.016"><tag k="amenity" v="school"/><tag k="name" v="南岔教学点"/></node>
 <node id="8" version="1" lat="41.505" lon="127.000"><tag k="amenity" v="school"/><tag k="name" v="某培训学校"/></node>
 <node id="9" version="1" lat="41.495" lon="127.005"><tag k="man_made" v="mast"/><tag k="height" v="45 m"/>
  <tag k="tower:type" v="communication"/></node>
 <node id="20" version="1" lat="41.5155" lon="127.0145"/>
 <node id="21" version="1" lat="41.5155" lon="127.0165"/>
 <node id="22" version="1" lat="41.5170" lon="127.0165"/>
 <node id="30" version="1" lat="41.500" lon="126.985"/>
 <node id="31" version="1" lat="41.515" lon="127.015"/>
 <node id="32" version="1" lat="41.485" lon="127.015"/>
 <node id="33" version="1" lat="41.500" lon="126.900"/>
 <way id="100" version="1"><nd ref="30"/><nd ref="31"/><tag k="highway" v="tertiary"/><tag k="name" v="岭沟路"/></way>
 <way id="101" version="1"><nd ref="31"/><nd ref="32"/><tag k="highway" v="track"/><tag k="surface" v="gravel"/></way>
 <way id="102" version="1"><nd ref="33"/><nd ref="30"/><tag k="highway" v="secondary"/></way>
 <way id="103" version="1"><nd ref="30"/><nd ref="32"/><tag k="highway" v="footway"/></way>
 <way id="104" version="1"><nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="20"/><tag k="amenity" v="school"/>
  <tag k="name" v="西沟中学"/><tag k="isced:level" v="2"/></way>
</osm>
"""


def write_osm(folder: Path, *, name: str = "extract.osm") -> Path:
    path = folder / name
    path.write_text(OSM_XML, encoding="utf-8")
    return path


#: Population raster: 0.01-degree pixels over 126.96..127.04 E, 41.46..41.54 N (8 x 8), people per pixel.
POP_TRANSFORM = Affine(0.01, 0.0, 126.96, 0.0, -0.01, 41.54)


def population_values() -> np.ndarray:
    """8 x 8 people per pixel: 10 * (row + 1) + col, one nodata pixel (row 4, col 4: -99999)."""
    r, c = np.mgrid[0:8, 0:8]
    v = (10.0 * (r + 1) + c).astype(np.float32)
    v[4, 4] = -99999.0
    return v


def write_population(
    folder: Path,
    values: np.ndarray | None = None,
    *,
    name: str = "ppp.tif",
    transform: Affine = POP_TRANSFORM,
    crs: str = "EPSG:4326",
) -> Path:
    v = population_values() if values is None else values
    path = folder / name
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=v.shape[1],
        height=v.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=-99999.0,
    ) as dst:
        dst.write(v.astype(np.float32), 1)
    return path
