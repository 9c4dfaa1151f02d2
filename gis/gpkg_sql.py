"""The SQL functions GDAL's GeoPackage triggers call, for a plain :mod:`sqlite3` connection.

A GeoPackage saved or indexed by GDAL (``ogr2ogr``, QGIS "Save As" or "Create spatial index") carries the R-tree
extension (``gpkg_rtree_index``): a virtual table ``rtree_<table>_<column>`` kept current by triggers on the
feature table that call ``ST_IsEmpty``, ``ST_MinX``, ``ST_MaxX``, ``ST_MinY`` and ``ST_MaxY`` (GeoPackage 1.3,
Annex F.3; GDAL writes the same SQL). Only GDAL's SQLite registers them, so any insert or update through Python's
:mod:`sqlite3` fails with ``no such function: ST_IsEmpty``. :func:`register_gpkg_functions` registers them (and
the spec's ``ST_GeometryType``, ``ST_SRID``, ``GPKG_IsAssignable`` of the geometry type and SRS triggers) on a
connection, computed from the GeoPackage geometry blob: the envelope in its header when present, else the WKB.

The blob (GeoPackage 1.3, §2.1.3): ``GP``, a version byte, a flags byte (bit 0: byte order of the header, 1 =
little endian; bits 1-3: envelope contents, 0 none, 1 ``[minx, maxx, miny, maxy]``, 2 and 3 add z or m, 4 adds
both; bit 4: empty geometry; bit 5: extended type), the ``srs_id`` (int32), the envelope (doubles), then
standard WKB. A value that is not such a blob gives NULL, as GDAL's functions do.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Callable

import shapely

#: Doubles in the header's envelope, by the flags' envelope indicator.
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_HEADER_BYTES = 8


def _header(blob: object) -> tuple[bool, int, tuple[float, ...], bool, int] | None:
    """(little endian, srs_id, envelope doubles, empty flag, offset of the WKB), or None when ``blob`` is not a
    GeoPackage geometry blob."""
    if not isinstance(blob, bytes) or len(blob) < _HEADER_BYTES or blob[:2] != b"GP":
        return None
    flags = blob[3]
    little = bool(flags & 1)
    n = _ENVELOPE_DOUBLES.get((flags >> 1) & 0b111)
    if n is None or len(blob) < _HEADER_BYTES + 8 * n:
        return None
    order = "<" if little else ">"
    (srs_id,) = struct.unpack(order + "i", blob[4:8])
    envelope = struct.unpack(f"{order}{n}d", blob[_HEADER_BYTES : _HEADER_BYTES + 8 * n])
    return little, srs_id, envelope, bool(flags & 0b10000), _HEADER_BYTES + 8 * n


def blob_geometry(blob: object) -> shapely.Geometry | None:
    """The geometry of a GeoPackage geometry blob, or None when ``blob`` is not one (or its WKB is unreadable)."""
    head = _header(blob)
    if head is None:
        return None
    try:
        return shapely.from_wkb(bytes(blob[head[4] :]))  # type: ignore[index]
    except (shapely.errors.GEOSException, ValueError, TypeError):
        return None


def blob_is_empty(blob: object) -> int | None:
    """``ST_IsEmpty``: 1 for an empty geometry, 0 for one with coordinates, NULL for a value that is no blob."""
    head = _header(blob)
    if head is None:
        return None
    if head[3]:
        return 1
    geom = blob_geometry(blob)
    return None if geom is None else int(shapely.is_empty(geom))


def blob_bounds(blob: object) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of a blob: from the header's envelope when it has one, else from the WKB; None for
    an empty geometry or a value that is no blob."""
    head = _header(blob)
    if head is None or head[3]:
        return None
    env = head[2]
    if len(env) >= 4 and all(math.isfinite(x) for x in env[:4]):
        return env[0], env[2], env[1], env[3]
    geom = blob_geometry(blob)
    if geom is None or shapely.is_empty(geom):
        return None
    bounds = tuple(float(x) for x in shapely.bounds(geom))
    return bounds if all(math.isfinite(x) for x in bounds) else None  # type: ignore[return-value]


def _bound(i: int) -> Callable[[object], float | None]:
    def fn(blob: object) -> float | None:
        b = blob_bounds(blob)
        return None if b is None else b[i]

    return fn


def _geometry_type(blob: object) -> str | None:
    geom = blob_geometry(blob)
    return None if geom is None else geom.geom_type.upper()


def _srs_id(blob: object) -> int | None:
    head = _header(blob)
    return None if head is None else head[1]


def _is_assignable(expected: object, actual: object) -> int:
    """``GPKG_IsAssignable(expected, actual)``: 1 when a geometry of type ``actual`` may be stored in a column of
    type ``expected`` (GEOMETRY takes any; otherwise the same type)."""
    exp, act = str(expected or "").upper(), str(actual or "").upper()
    if exp in ("GEOMETRY", act):
        return 1
    return int(exp == "GEOMETRYCOLLECTION" and act.startswith("MULTI"))


def register_gpkg_functions(con: sqlite3.Connection) -> sqlite3.Connection:
    """Register on ``con`` the functions GDAL's GeoPackage triggers call (module docstring); returns ``con``."""
    con.create_function("ST_IsEmpty", 1, blob_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        con.create_function(name, 1, _bound(i), deterministic=True)
    con.create_function("ST_GeometryType", 1, _geometry_type, deterministic=True)
    con.create_function("ST_SRID", 1, _srs_id, deterministic=True)
    con.create_function("GPKG_IsAssignable", 2, _is_assignable, deterministic=True)
    return con
