"""Rasters on the map: a hillshade of the DEM and the 4G/5G best-server RSRP, warped to Web Mercator and coloured.

Both are warped with rasterio (:func:`to_web_mercator`) before they are laid on the map, so they line up with the
vectors at every zoom; each becomes an RGBA array and its WGS84 bounds for a Leaflet image overlay
(:func:`hillshade_rgba`, :func:`rsrp_rgba`, RSRP classes from :data:`planning.present.labels.RSRP_CLASSES`).
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from affine import Affine
from pyproj import CRS
from rasterio.warp import Resampling, reproject, transform_bounds

from planning.present.labels import RSRP_CLASSES

__all__ = ["Raster", "hillshade", "hillshade_rgba", "png_data_url", "rsrp_rgba", "to_web_mercator"]


@dataclass(frozen=True)
class Raster:
    """A raster on the map: bands (rows, cols) or (bands, rows, cols), its affine transform and metric CRS."""

    data: np.ndarray
    transform: Affine
    crs: Any


# ---------------------------------------------------------------- rasters


def hillshade(
    height_m: np.ndarray, *, cell_x_m: float, cell_y_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Lambertian hillshade of a DEM, in [0, 1] (NaN where the height is NaN).

    Parameters
    ----------
    height_m : ndarray (rows, cols)
        Heights in metres; row 0 is the north edge.
    cell_x_m, cell_y_m : float
        Cell width and height in metres (positive).
    azimuth_deg, altitude_deg : float
        Sun direction, clockwise from north, and elevation above the horizon, in degrees.

    Returns
    -------
    ndarray of float
        ``sin(alt) cos(slope) + cos(alt) sin(slope) cos(az - aspect)`` clipped at 0: a flat cell is
        ``sin(alt)``, a slope facing the sun at ``90 - alt`` degrees is 1.
    """
    if cell_x_m <= 0 or cell_y_m <= 0:
        msg = f"`cell_x_m`, `cell_y_m` = {cell_x_m!r}, {cell_y_m!r}; expected positive cell sizes in metres"
        raise ValueError(msg)
    z = np.asarray(height_m, dtype=float)
    dz_row, dz_col = np.gradient(z, cell_y_m, cell_x_m)
    dzdx, dzdy = dz_col, -dz_row  # east and north slopes (rows grow southwards)
    alt, az = np.radians(altitude_deg), np.radians(azimuth_deg)
    # the formula above without its angles: with the gradient g = |(dzdx, dzdy)|, cos(slope) = 1 / sqrt(1 + g^2),
    # sin(slope) = g / sqrt(1 + g^2) and, the surface facing -(dzdx, dzdy) / g, g cos(az - aspect) =
    # -(dzdx sin(az) + dzdy cos(az)); the same values, ten times faster on a large DEM (no trigonometry per cell)
    shade = (np.sin(alt) - np.cos(alt) * (dzdx * np.sin(az) + dzdy * np.cos(az))) / np.sqrt(1.0 + dzdx**2 + dzdy**2)
    return np.clip(shade, 0.0, 1.0)


def to_web_mercator(
    raster: Raster, *, max_px: int = 1600, resampling: Literal["bilinear", "nearest"] = "bilinear"
) -> tuple[np.ndarray, list[list[float]]]:
    """Warp a raster to EPSG:3857 (at most ``max_px`` pixels a side) for a Leaflet image overlay.

    Returns the warped array (bands, rows, cols), NaN outside the source, and its bounds as
    ``[[south, west], [north, east]]`` in degrees.
    """
    data = np.asarray(raster.data, dtype=np.float32)
    if data.ndim == 2:
        data = data[None]
    bands, rows, cols = data.shape
    src_crs = CRS.from_user_input(raster.crs)
    left, top = raster.transform.c, raster.transform.f
    right = raster.transform.c + raster.transform.a * cols + raster.transform.b * rows
    bottom = raster.transform.f + raster.transform.d * cols + raster.transform.e * rows
    west, south, east, north = transform_bounds(
        src_crs, "EPSG:3857", min(left, right), min(bottom, top), max(left, right), max(bottom, top), densify_pts=21
    )
    res = max((east - west) / cols, (north - south) / rows, max(east - west, north - south) / max_px)
    w, h = max(int(np.ceil((east - west) / res)), 1), max(int(np.ceil((north - south) / res)), 1)
    dst_transform = Affine(res, 0.0, west, 0.0, -res, north)
    out = np.full((bands, h, w), np.nan, dtype=np.float32)
    for b in range(bands):
        reproject(
            data[b],
            out[b],
            src_transform=raster.transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling[resampling],
        )
    x1, y1 = west + w * res, north - h * res
    lon, lat = _mercator_to_lonlat(np.array([west, x1]), np.array([y1, north]))
    return out, [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _mercator_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    return np.degrees(x / r), np.degrees(2 * np.arctan(np.exp(y / r)) - np.pi / 2)


def hillshade_rgba(dem: Raster, *, max_px: int = 1600) -> tuple[np.ndarray, list[list[float]]]:
    """Grey RGBA hillshade of a DEM in Web Mercator (transparent outside the DEM) and its bounds."""
    crs = CRS.from_user_input(dem.crs)
    cx, cy = abs(dem.transform.a), abs(dem.transform.e)
    if crs.is_geographic:  # degrees: metres at the grid's mid latitude
        rows = dem.data.shape[-2]
        lat = np.radians(dem.transform.f + dem.transform.e * rows / 2)
        cx, cy = cx * 111_320.0 * np.cos(lat), cy * 110_574.0
    shade = hillshade(np.asarray(dem.data, dtype=float), cell_x_m=cx, cell_y_m=cy)
    warped, bounds = to_web_mercator(Raster(shade.astype(np.float32), dem.transform, dem.crs), max_px=max_px)
    s = warped[0]
    ok = np.isfinite(s)
    grey = np.where(ok, 60 + 195 * np.nan_to_num(s), 0).astype(np.uint8)
    rgba = np.dstack([grey, grey, grey, np.where(ok, 255, 0).astype(np.uint8)])
    return rgba, bounds


def png_data_url(rgba: np.ndarray, *, level: int = 6) -> str:
    """An RGBA image (rows, cols, 4; uint8; row 0 at the top) as a ``data:image/png;base64`` URL.

    The same PNG as branca's ``write_png`` (8-bit RGBA, no filter), deflated at zlib ``level`` instead of its 9:
    the 10,000-village bench's hillshade (1,600 x 1,596) takes 0.35 s instead of 2.0 s, 4 % larger
    (bench/RESULTS.md).
    """
    img = np.asarray(rgba)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 4:
        msg = f"`rgba` is {img.dtype} of shape {img.shape}; expected uint8 of shape (rows, cols, 4)"
        raise ValueError(msg)
    img = np.ascontiguousarray(img)
    height, width = img.shape[:2]
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), img.reshape(height, width * 4)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + tag + data + struct.pack("!I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack("!2I5B", width, height, 8, 6, 0, 0, 0)),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), level)),
            chunk(b"IEND", b""),
        ]
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def rsrp_rgba(band: Raster, *, threshold_dbm: float, max_px: int = 1600) -> tuple[np.ndarray, list[list[float]]]:
    """RGBA classes of a best-server RSRP band (dBm) in Web Mercator: >= -90, >= -100, >= threshold; clear below."""
    warped, bounds = to_web_mercator(band, max_px=max_px, resampling="nearest")
    r = warped[0]
    rgba = np.zeros((*r.shape, 4), dtype=np.uint8)
    filled = np.zeros(r.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for lower, colour in RSRP_CLASSES:
            cut = threshold_dbm if lower is None else max(lower, threshold_dbm)
            sel = ~filled & (r >= cut)
            rgba[sel] = colour
            filled |= sel
    return rgba, bounds
