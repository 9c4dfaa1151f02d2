"""Coordinate reference systems: accepted source CRSs, GCJ-02 conversion, the project's metric CRS.

All metric work in coverplan happens in one projected CRS per project (UTM zone of the region's centroid
unless the project file names one). Source layers must carry a CRS: WGS84 (EPSG:4326), CGCS2000
(EPSG:4490) or any projected CRS in metres. Data digitised from Chinese web maps (AMap/Tencent) is in
GCJ-02, an obfuscated WGS84; a project declares ``coordinates = "gcj02"`` and such layers are converted
to WGS84 on read.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import shapely
from pyproj import CRS, Proj
from pyproj.exceptions import CRSError, ProjError

logger = logging.getLogger(__name__)

Coordinates = Literal["wgs84", "gcj02"]

#: Geographic CRSs accepted as sources: WGS84 and CGCS2000 (they differ by centimetres).
GEOGRAPHIC_OK = {4326: "WGS84", 4490: "CGCS2000"}

# Krasovsky 1940 ellipsoid constants used by the public GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Rough China bounding box within which GCJ-02 differs from WGS84."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 offset in degrees at WGS84 ``lon``/``lat``."""
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02; identity outside China."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84 by fixed-point inversion.

    The forward offset varies slowly (a few hundred metres over the country), so iterating
    ``wgs = gcj - delta(wgs)`` converges to ``tol_deg`` (1e-10 deg is about 0.01 mm) in a few steps.
    Points outside China are returned unchanged.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        dlon, dlat = _gcj_delta(wlon, wlat)
        nlon, nlat = glon - dlon, glat - dlat
        done = np.nanmax(np.abs(np.concatenate([np.ravel(nlon - wlon), np.ravel(nlat - wlat)])), initial=0.0)
        wlon, wlat = nlon, nlat
        if done < tol_deg:
            break
    return wlon, wlat


def gcj02_geometries_to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Convert an array of shapely geometries from GCJ-02 to WGS84 coordinates (vectorised)."""

    def _fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms), _fn)


def parse_crs(value: object, *, what: str) -> CRS:
    """Parse a CRS given as ``EPSG:xxxx``, an integer code, WKT or a pyproj CRS.

    Raises
    ------
    ValueError
        Naming ``what`` (e.g. the project key) when the value is not a CRS.
    """
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError) as exc:
        msg = f"`{what}` = {value!r} is not a coordinate reference system; expected e.g. 'EPSG:32652' ({exc})"
        raise ValueError(msg) from exc


def source_crs_problem(crs: CRS | None) -> str | None:
    """Why ``crs`` is not accepted as a source CRS, or None when it is.

    Accepted: EPSG:4326 (WGS84), EPSG:4490 (CGCS2000) and projected CRSs in metres.
    """
    if crs is None:
        return (
            "has no CRS; expected WGS84 (EPSG:4326), CGCS2000 (EPSG:4490) or a projected CRS in metres "
            "(add a .prj / declare `crs` for the layer in project.toml)"
        )
    if crs.is_geographic:
        code = crs.to_epsg()
        if code not in GEOGRAPHIC_OK:
            return (
                f"is in geographic CRS {crs.name!r} (EPSG:{code}); expected WGS84 (EPSG:4326) or "
                "CGCS2000 (EPSG:4490): reproject it first"
            )
        return None
    if crs.is_projected:
        units = {ax.unit_name for ax in crs.axis_info}
        if not units <= {"metre", "meter"}:
            return f"is projected in units {sorted(units)}; expected metres"
        return None
    return f"CRS {crs.name!r} is neither geographic nor projected"


def utm_crs_for(lon: float, lat: float) -> CRS:
    """WGS84 / UTM CRS of the zone containing ``lon``/``lat`` (degrees)."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        msg = f"`lon`, `lat` = ({lon}, {lat}) is outside the UTM domain (lon -180..180, lat -80..84)"
        raise ValueError(msg)
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def is_metric(crs: CRS | None) -> bool:
    """True for a projected CRS whose axes are in metres."""
    return crs is not None and crs.is_projected and source_crs_problem(crs) is None


#: Largest point scale error a declared metric CRS may have over the region: 1 % (a distance, a radio range, a
#: fibre length off by more than that is a wrong projection, e.g. Web Mercator at 42° N: 35 %).
MAX_SCALE_ERROR = 0.01


def scale_error(crs: CRS, lon: np.ndarray, lat: np.ndarray) -> float:
    """The largest point scale error ``|k - 1|`` of ``crs`` at the points (degrees), ``k`` the largest and the
    smallest scale in any direction (Tissot's semi-axes, pyproj ``Proj.get_factors``); inf where undefined."""
    try:
        with np.errstate(all="ignore"):
            f = Proj(crs).get_factors(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), errcheck=False)
    except (ProjError, CRSError):
        return float("inf")
    k = np.concatenate([np.ravel(f.tissot_semimajor), np.ravel(f.tissot_semiminor)])
    if not len(k) or not np.isfinite(k).all():
        return float("inf")
    return float(np.max(np.abs(k - 1.0)))


def metric_units_problem(crs: CRS) -> str | None:
    """Why ``crs`` cannot be the project's metric CRS (geographic, not projected, axes not in metres), or None."""
    if not crs.is_projected:
        return "is not projected; expected a projected CRS in metres"
    units = sorted({ax.unit_name for ax in crs.axis_info})
    if not set(units) <= {"metre", "meter"}:
        return f"has axes in {units}; expected metres (e.g. a UTM zone such as EPSG:32652)"
    return None
