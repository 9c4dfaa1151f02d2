"""Hostile input files: GDAL VRTs disguised as a DEM or a layer, named pipes, odd DEMs and layers (gis.files,
gis.terrain, gis.layers, gis.readers)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from affine import Affine

from gis.errors import LayerError, TerrainError
from gis.files import sniff
from gis.layers import read_layer
from gis.project import LayerSource
from gis.readers import read_csv_text
from gis.terrain import check_dem_file, dem_from_array, open_dem, write_dem
from tests.conftest import CELL_M, CRS_M, X0, Y0, tiny_heights, tiny_layers


@pytest.fixture
def listener():
    """A local TCP port that records every connection made to it (none may be)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    n = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


def _vrt(source: str, *, raw: bool = False) -> str:
    band = (
        f'<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand"><SourceFilename relativeToVRT="0">'
        f"{source}</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>4"
        "</LineOffset></VRTRasterBand>"
        if raw
        else f'<VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename relativeToVRT="0">{source}'
        "</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>"
    )
    return (
        f'<VRTDataset rasterXSize="4" rasterYSize="4"><SRS>{CRS_M}</SRS><GeoTransform>{X0}, 100, 0, {Y0}, 0, -100'
        f"</GeoTransform>{band}</VRTDataset>"
    )


def test_a_vrt_named_dem_tif_that_fetches_a_url_is_refused_before_gdal_opens_it(tmp_path: Path, listener):
    port = listener.getsockname()[1]
    dem = tmp_path / "dem.tif"
    dem.write_text(_vrt(f"/vsicurl/http://127.0.0.1:{port}/x.tif"), encoding="utf-8")
    with pytest.raises(TerrainError, match=r"DEM is not a GeoTIFF: the file is an XML file \(e.g. a GDAL VRT"):
        open_dem(dem)
    assert _connections(listener) == 0


def test_a_vrt_named_dem_tif_that_reads_another_file_is_refused(tmp_path: Path):
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 4)
    dem = tmp_path / "dem.tif"
    dem.write_text(_vrt(str(secret), raw=True), encoding="utf-8")
    assert sniff(dem) == "xml"
    with pytest.raises(TerrainError, match="not a GeoTIFF"):
        check_dem_file(dem)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet", ".fgb"])
def test_an_ogr_vrt_disguised_as_a_layer_is_refused(tmp_path: Path, listener, suffix: str):
    port = listener.getsockname()[1]
    path = tmp_path / f"villages{suffix}"
    path.write_text(
        f'<OGRVRTDataSource><OGRVRTLayer name="villages"><SrcDataSource>/vsicurl/http://127.0.0.1:{port}/v.gpkg'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>",
        encoding="utf-8",
    )
    with pytest.raises(
        LayerError, match=r"is not a GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or XLSX file: .*XML"
    ):
        read_layer(LayerSource(path=path), "villages")
    assert _connections(listener) == 0


def test_a_sqlite_file_that_is_not_a_geopackage_is_refused(tmp_path: Path):
    path = tmp_path / "villages.sqlite"
    pyogrio.write_dataframe(tiny_layers()["villages"], path, driver="SQLite")
    with pytest.raises(LayerError, match=r"was read by GDAL's SQLite driver; expected a GeoPackage \(GPKG\)"):
        read_layer(LayerSource(path=path), "villages")


def test_a_workbook_or_a_table_without_geometry_as_a_layer_is_refused(tmp_path: Path):
    xlsx = tmp_path / "villages.xlsx"
    pd.DataFrame({"village_id": ["V1"]}).to_excel(xlsx, index=False)
    # a workbook is a table with lon/lat columns (no geometry of its own): without them it is refused, named
    with pytest.raises(LayerError, match=r"column `lon`: coordinate column is missing"):
        read_layer(LayerSource(path=xlsx, crs="EPSG:4326"), "villages")
    renamed = tmp_path / "villages.gpkg"
    renamed.write_bytes(xlsx.read_bytes())  # a workbook named .gpkg is not read as one
    with pytest.raises(LayerError, match=r"the file is a zip archive \(an .xlsx workbook"):
        read_layer(LayerSource(path=renamed), "villages")
    table = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"village_id": ["V1"], "name": ["a"]}), table, layer="villages")
    with pytest.raises(LayerError, match=r"layer 'villages' is a table without geometry; expected a spatial layer"):
        read_layer(LayerSource(path=table), "villages")


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _nobody_writes(fifo: Path) -> threading.Timer:
    """Opens the FIFO for writing after 5 s, so that a reader that does block is freed (and the test fails)."""
    timer = threading.Timer(5.0, lambda: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)))
    timer.start()
    return timer


@pytest.mark.parametrize(
    "read",
    [
        open_dem,
        lambda fifo: read_csv_text(fifo, layer="villages"),
        lambda fifo: read_layer(LayerSource(path=fifo), "villages"),
    ],
    ids=["dem", "csv", "layer"],
)
def test_a_named_pipe_as_an_input_is_refused_at_once(tmp_path: Path, read):
    fifo = _fifo(tmp_path / "input")
    timer = _nobody_writes(fifo)
    try:
        with pytest.raises(LayerError, match=r"is a named pipe \(FIFO\); expected a regular file"):
            read(fifo)
    finally:
        timer.cancel()


def test_a_symlink_loop_or_a_folder_as_a_layer_is_refused(tmp_path: Path):
    loop = tmp_path / "loop.gpkg"
    loop.symlink_to(loop)
    with pytest.raises(LayerError, match="is a symbolic link loop"):
        read_layer(LayerSource(path=loop), "villages")
    with pytest.raises(LayerError, match="is a directory; expected a regular file"):
        read_layer(LayerSource(path=tmp_path), "villages")


def _geotiff(path: Path, data: np.ndarray, *, transform: Affine | None = None, crs: str = CRS_M, **kw) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform or Affine(CELL_M, 0, X0, 0, -CELL_M, Y0),
        **kw,
    ) as dst:
        dst.write(data, 1)
    return path


def test_infinite_heights_are_refused_with_their_count_and_place(tmp_path: Path):
    h = tiny_heights()
    h[2, 3] = np.inf
    h[7, 1] = -np.inf
    with pytest.raises(TerrainError, match=r"DEM has 2 non-finite heights, e.g. inf at row 2 col 3; expected metres"):
        open_dem(_geotiff(tmp_path / "inf.tif", h))
    h = tiny_heights()
    h[0, 0] = -np.inf  # the declared nodata: a hole, not an error
    dem = open_dem(_geotiff(tmp_path / "nodata.tif", h, nodata=-np.inf))
    assert np.isnan(dem.height_m[0, 0])
    assert dem.height_m[1, 1] == pytest.approx(111.0)


def test_complex_south_up_and_beijing_1954_dems_are_refused(tmp_path: Path):
    with pytest.raises(TerrainError, match="DEM band 1 holds complex64 values; expected real heights"):
        open_dem(_geotiff(tmp_path / "c.tif", tiny_heights().astype(np.complex64)))
    south_up = Affine(CELL_M, 0, X0, 0, CELL_M, Y0 - 10 * CELL_M)
    with pytest.raises(TerrainError, match=r"DEM grid is south-up .*; expected a north-up GeoTIFF"):
        open_dem(_geotiff(tmp_path / "s.tif", tiny_heights(), transform=south_up))
    bj54 = Affine(0.001, 0, 126.0, 0, -0.001, 42.0)
    with pytest.raises(TerrainError, match=r"DEM is in geographic CRS 'Beijing 1954' \(EPSG:4214\); expected WGS84"):
        open_dem(_geotiff(tmp_path / "bj54.tif", tiny_heights(), transform=bj54, crs="EPSG:4214"))
    feet = tmp_path / "feet.tif"
    write_dem(dem_from_array(tiny_heights(), Affine(300, 0, 1e6, 0, -300, 2e5), "EPSG:2263"), feet)
    with pytest.raises(TerrainError, match=r"DEM is projected in units \['US survey foot'\]; expected metres"):
        open_dem(feet)
