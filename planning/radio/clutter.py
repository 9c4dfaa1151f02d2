"""Optional clutter from a land-cover raster: the Hata environment and an extra loss at each receiver.

A class raster (ESA WorldCover 10 m by default: 10 tree cover, 40 cropland, 50 built-up ...) is read over the
points' extent, nearest-neighbour in the project's metric CRS, and each point's class maps through
``RadioSettings.clutter`` to an environment (``""`` keeps the project's) and an extra loss (dB, e.g. foliage of
a receiver in woodland, ITU-R P.833). Points off the raster or in a class without a row keep the project's
environment and no extra loss. Calibration (:func:`planning.radio.coverage.calibrate`) does not use clutter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, reproject

from gis.errors import LayerError, Problem
from gis.settings import ClutterClass

logger = logging.getLogger(__name__)

__all__ = ["ClutterGrid", "PointClutter", "clutter_heights", "point_clutter", "read_clutter", "sample_classes"]


@dataclass(frozen=True)
class ClutterGrid:
    """Land-cover classes on a north-up grid in a metric CRS (-1: no data)."""

    classes: np.ndarray
    transform: Affine
    crs: CRS


@dataclass(frozen=True)
class PointClutter:
    """Per point: Hata environment (``""``: the project's) and extra loss at the receiver (dB); and, for ITU-R
    P.1812's profiles, the representative clutter height (m, NaN where no class row gives one) on the land-cover
    grid with its transform (x0, y0, res_x, res_y)."""

    environment: np.ndarray
    extra_loss_db: np.ndarray
    height_grid: tuple[np.ndarray, tuple[float, float, float, float]] | None = None

    def take(self, rows: np.ndarray | slice) -> PointClutter:
        """The rows ``rows`` (a block of points or the points of pairs); the height grid is shared."""
        return PointClutter(
            environment=self.environment[rows], extra_loss_db=self.extra_loss_db[rows], height_grid=self.height_grid
        )


def read_clutter(
    path: str | Path, *, crs: object, bounds: tuple[float, float, float, float], resolution_m: float = 30.0
) -> ClutterGrid:
    """Read the class raster at ``path`` over ``bounds`` (in ``crs``, a metric CRS), nearest-neighbour at
    ``resolution_m``.

    Raises
    ------
    LayerError
        The file cannot be read as a raster (file named).
    """
    dst_crs = CRS.from_user_input(crs)
    minx, miny, maxx, maxy = bounds
    cols = max(int(np.ceil((maxx - minx) / resolution_m)), 1)
    rows = max(int(np.ceil((maxy - miny) / resolution_m)), 1)
    transform = Affine(resolution_m, 0.0, minx, 0.0, -resolution_m, maxy)
    out = np.full((rows, cols), -1, dtype=np.int32)
    try:
        with rasterio.open(path) as src:
            nodata = src.nodata if src.nodata is not None else 0
            reproject(
                source=rasterio.band(src, 1),
                destination=out,
                dst_transform=transform,
                dst_crs=dst_crs.to_wkt(),
                dst_nodata=-1,
                src_nodata=nodata,
                resampling=Resampling.nearest,
            )
    except RasterioIOError as exc:
        raise LayerError([Problem("clutter", f"cannot read the land-cover raster: {exc}", file=str(path))]) from exc
    logger.info("clutter: %s, %d x %d cells of %.0f m", path, rows, cols, resolution_m)
    return ClutterGrid(classes=out, transform=transform, crs=dst_crs)


def sample_classes(grid: ClutterGrid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Class of the cell under each point (-1 off the grid or on no data)."""
    t = grid.transform
    col = np.floor((np.asarray(x, dtype=float) - t.c) / t.a).astype(np.int64)
    row = np.floor((np.asarray(y, dtype=float) - t.f) / t.e).astype(np.int64)
    rows, cols = grid.classes.shape
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    out = np.full(len(col), -1, dtype=np.int64)
    out[inside] = grid.classes[row[inside], col[inside]]
    return out


def clutter_heights(grid: ClutterGrid, table: tuple[ClutterClass, ...]) -> np.ndarray:
    """Representative clutter height (m) of every cell of ``grid`` from its class row (NaN: no data or no row)."""
    out = np.full(grid.classes.shape, np.nan, dtype=np.float32)
    for row in table:
        out[grid.classes == row.code] = row.height_m
    return out


def point_clutter(
    classes: np.ndarray, table: tuple[ClutterClass, ...], *, grid: ClutterGrid | None = None
) -> PointClutter:
    """Environment and extra loss of each point from its class (no row: the project's environment, 0 dB), and with
    ``grid`` the clutter heights of its cells (:func:`clutter_heights`)."""
    codes = np.asarray(classes, dtype=np.int64)
    env = np.full(len(codes), "", dtype=object)
    extra = np.zeros(len(codes))
    for row in table:
        hit = codes == row.code
        env[hit] = row.environment
        extra[hit] = row.extra_loss_db
    heights = None
    if grid is not None:
        t = grid.transform
        heights = (clutter_heights(grid, table), (float(t.c), float(t.f), float(t.a), float(t.e)))
    return PointClutter(environment=env, extra_loss_db=extra, height_grid=heights)
