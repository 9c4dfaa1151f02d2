"""Input files as coverplan accepts them: regular files of the formats the README lists, checked before any
reader (GDAL above all) sees them.

GDAL opens whatever it recognises: a VRT (an XML file) named ``dem.tif`` or ``villages.gpkg`` can read any local
file as a raster (``/etc/passwd``) or make HTTP requests (``/vsicurl/``); a named pipe (FIFO) or a device makes a
reader wait forever. So every layer and DEM path is checked here first:

* :func:`not_a_regular_file`: the path (its symbolic links followed) must be a regular file;
* :func:`sniff`: the format is told from the first bytes (the file's signature), never from its name: a GeoTIFF
  (``II*\\0``/``MM\\0*``, BigTIFF ``II+\\0``/``MM\\0+``), a GeoPackage (SQLite's header), a Shapefile (file code
  9994), GeoParquet (``PAR1``), GeoJSON (``{`` after white space);
* :func:`open_geotiff`: a DEM is opened by the GTiff driver only (``rasterio.open(..., driver="GTiff")``: GDAL is
  given that single allowed driver), with no sibling files read (``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR``: no
  ``.ovr``, ``.msk`` or ``.aux.xml`` beside it is opened, and those could be VRTs) and no network file system
  (``CPL_VSIL_CURL_ALLOWED_EXTENSIONS`` allows no name). A GeoTIFF cannot reference another file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import rasterio

#: GDAL settings every raster read runs under (see the module docstring).
SAFE_GDAL = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".coverplan-reads-no-network-file",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
}

_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SQLITE = b"SQLite format 3\x00"
_SHAPEFILE = b"\x00\x00\x27\x0a"  # file code 9994, big-endian (ESRI Shapefile Technical Description, 1998)
_PARQUET = b"PAR1"
_ZIP = b"PK\x03\x04"

#: What :func:`sniff` calls each format, for messages.
FORMAT_NAMES = {
    "gtiff": "a GeoTIFF",
    "gpkg": "a GeoPackage",
    "shapefile": "a Shapefile (.shp)",
    "parquet": "a (Geo)Parquet file",
    "geojson": "a GeoJSON file",
    "zip": "a zip archive (an .xlsx workbook or a zipped file)",
    "xml": "an XML file (e.g. a GDAL VRT, which may read other files or URLs)",
    None: "a file of an unknown format",
}


def not_a_regular_file(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a file (missing, a directory, a FIFO, a device, a socket, a link loop,
    not permitted), or None for a regular file. Symbolic links are followed."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist" if not os.path.islink(path) else "is a symbolic link to nothing (it does not exist)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop; expected a file"
        if exc.errno == errno.ENAMETOOLONG:
            return "has a name too long for the file system"
        if exc.errno == errno.ENOTDIR:
            return "does not exist (a part of the path is a file, not a folder)"
        return f"cannot be read ({exc.strerror or exc})"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    return f"is {kind}; expected a regular file"


def sniff(path: str | Path) -> str | None:
    """The format of a regular file from its first bytes: ``gtiff``, ``gpkg`` (any SQLite database),
    ``shapefile``, ``parquet``, ``geojson``, ``zip``, ``xml``, or None."""
    with open(path, "rb") as f:
        head = f.read(4096)
    signatures = [*((t, "gtiff") for t in _TIFF), (_SQLITE, "gpkg"), (_SHAPEFILE, "shapefile")]
    signatures += [(_PARQUET, "parquet"), (_ZIP, "zip")]
    kind = next((name for sig, name in signatures if head.startswith(sig)), None)
    if kind is None:
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        kind = "geojson" if text.startswith(b"{") else "xml" if text.startswith(b"<") else None
    return kind


def gdal_message(exc: BaseException) -> str:
    """The text of a rasterio error with GDAL's own messages (rasterio keeps them in the chained CPLE errors:
    "Read failed. See previous exception for details." alone says nothing)."""
    texts = []
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        texts.append(str(cause.args[2]) if len(cause.args) == 3 else str(cause))
        cause = cause.__cause__ or cause.__context__
    useful = [t for t in texts if t and "See previous exception" not in t] or texts
    out: list[str] = []
    for t in useful:
        if not any(t in o for o in out):
            out.append(t)
    return "; ".join(out)


@contextlib.contextmanager
def open_geotiff(path: str | Path) -> Iterator[rasterio.io.DatasetReader]:
    """A GeoTIFF opened by GDAL's GTiff driver alone, under :data:`SAFE_GDAL` (see the module docstring).

    The caller checks :func:`not_a_regular_file` and :func:`sniff` first (to name the problem); a file GDAL's
    GTiff driver does not recognise raises ``rasterio.errors.RasterioIOError``.
    """
    with rasterio.Env(**SAFE_GDAL), rasterio.open(path, driver="GTiff") as src:
        yield src
