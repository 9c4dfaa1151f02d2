"""A population raster (WorldPop-style: people per pixel) summed per village.

Rule (README "Bringing real data"): each pixel whose centre lies inside the admin areas goes whole to the
nearest village (in the metric CRS), i.e. the raster is summed over the villages' Voronoi cells clipped to the
admin areas; pixels whose centre lies outside the admin areas are not counted. The sum is rounded to whole
people and written as ``population`` with ``population_source = "raster_voronoi"``.

WorldPop's "ppp" rasters (people per pixel, EPSG:4326, 3 arc-seconds, nodata -99999) are the intended input;
any raster of people per pixel in any CRS works. Every value read must be finite and in 0..1,000,000 people
(nodata and NaN are empty pixels).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError
from rasterio.windows import Window
from scipy.spatial import cKDTree

from gis.errors import LayerError, Problem
from gis.files import gdal_message, not_a_regular_file, open_geotiff, sniff
from gis.importers.common import ImportReport, Region, affine_apply, to_crs_geometry
from gis.terrain import check_raster_size
from gis.validation import validate_frame

logger = logging.getLogger(__name__)

MAX_PEOPLE_PER_PIXEL = 1_000_000.0
#: Most pixels of the window over the admin areas read into memory (float64 after reading: 8 bytes each, 400 MB,
#: checked before the read): WorldPop's 3" grid over a 300 km x 300 km prefecture is ~10 M pixels; more means a
#: region too large for one raster read, or a forged header.
MAX_WINDOW_PIXELS = 50_000_000
SOURCE = "raster_voronoi"


def _fail(file: str, message: str) -> LayerError:
    return LayerError([Problem("population", message, file=file)])


def read_population(path: str | Path, region: Region) -> tuple[np.ndarray, Affine, CRS]:
    """The window of a population raster covering the region's admin areas.

    Returns
    -------
    people, transform, crs
        People per pixel (float64, NaN for nodata), the window's transform and the raster's CRS.

    Raises
    ------
    LayerError
        Missing or unreadable file, no CRS, a rotated grid, a raster covering less than 99.9 % of the admin
        areas, or a value that is not finite or outside 0..1,000,000 people (names the pixel and its place).
    """
    path = Path(path)
    file = str(path)
    why = not_a_regular_file(path)
    if why:
        raise _fail(file, f"file {why}")
    if sniff(path) != "gtiff":
        raise _fail(file, "not a GeoTIFF (by its first bytes: a VRT or another format); expected a GeoTIFF of people")
    try:
        with open_geotiff(path) as src:
            if src.crs is None:
                raise _fail(file, "raster has no CRS; expected a georeferenced GeoTIFF (WorldPop: EPSG:4326)")
            t = src.transform
            if t.b != 0 or t.d != 0 or t.e >= 0:
                raise _fail(file, "raster grid is rotated or south-up; expected a north-up grid")
            crs = CRS.from_wkt(src.crs.to_wkt())
            area = to_crs_geometry(region.area, region.crs, crs, step_m=500.0)
            check_raster_size(src, file=file, layer="population")
            _check_covers(area, shapely.box(*src.bounds), file=file)
            window = _window(area, t, src.height, src.width)
            _check_window(window, file=file)
            data = src.read(1, window=window, masked=True)
            wt = src.window_transform(window)
    except RasterioIOError as exc:
        msg = f"cannot read as a raster ({gdal_message(exc)}); expected a GeoTIFF of people per pixel"
        raise _fail(file, msg) from exc
    people = np.ma.filled(data.astype(np.float64), np.nan)
    _check_people(np.ma.getdata(data).astype(np.float64), np.ma.getmaskarray(data), wt, file=file)
    return people, wt, crs


def _check_window(window: Window, *, file: str) -> None:
    """Refuse a window over the admin areas of more than :data:`MAX_WINDOW_PIXELS` pixels, before reading it."""
    pixels = int(window.width) * int(window.height)
    if pixels > MAX_WINDOW_PIXELS:
        msg = (
            f"the window over the admin areas is {int(window.height):,} x {int(window.width):,} pixels ({pixels:,}); "
            f"expected at most {MAX_WINDOW_PIXELS:,} (resample the raster to coarser pixels, or import per county); "
            "nothing read"
        )
        raise _fail(file, msg)


def _check_covers(area: shapely.Geometry, footprint: shapely.Geometry, *, file: str) -> None:
    share = shapely.area(shapely.intersection(area, footprint)) / max(shapely.area(area), 1e-300)
    if share < 0.999:
        msg = (
            f"raster covers {share:.1%} of the admin areas (raster bounds {shapely.bounds(footprint).round(4)}); "
            "expected it to cover all of them"
        )
        raise _fail(file, msg)


def _window(area: shapely.Geometry, t: Affine, height: int, width: int) -> Window:
    w, s, e, n = shapely.bounds(area)
    xa, ya = affine_apply(~t, w, n)
    xb, yb = affine_apply(~t, e, s)
    c0, r0 = max(math.floor(min(xa, xb)) - 1, 0), max(math.floor(min(ya, yb)) - 1, 0)
    c1, r1 = min(math.ceil(max(xa, xb)) + 1, width), min(math.ceil(max(ya, yb)) + 1, height)
    return Window(c0, r0, c1 - c0, r1 - r0)


def _check_people(values: np.ndarray, mask: np.ndarray, transform: Affine, *, file: str) -> None:
    """Raise when an unmasked value is infinite or outside 0..1,000,000 (NaN counts as nodata)."""
    v = np.where(mask, 0.0, values)
    bad = np.isinf(v) | (np.isfinite(v) & ((v < 0) | (v > MAX_PEOPLE_PER_PIXEL)))
    if bad.any():
        r, c = (int(a[0]) for a in np.nonzero(bad))
        x, y = affine_apply(transform, c + 0.5, r + 0.5)
        msg = (
            f"{int(bad.sum())} pixel value(s) not people per pixel, first {float(v[r, c])!r} at window row {r}, "
            f"column {c} (x {x:.5f}, y {y:.5f}); expected a finite number 0..{MAX_PEOPLE_PER_PIXEL:,.0f} or the "
            "raster's nodata"
        )
        raise _fail(file, msg)


def population_per_village(
    villages: gpd.GeoDataFrame,
    people: np.ndarray,
    transform: Affine,
    crs: CRS,
    region: Region,
    *,
    only_missing: bool = False,
    source: str = "",
    block_rows: int = 512,
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """A copy of ``villages`` with ``population`` summed from a raster over each village's Voronoi cell.

    Parameters
    ----------
    villages : GeoDataFrame
        A valid villages layer (any CRS).
    people : ndarray
        People per pixel (NaN for nodata), as :func:`read_population` returns.
    transform, crs
        The raster window's transform and CRS.
    region : Region
        The admin areas (metric CRS) that clip the Voronoi cells.
    only_missing : bool
        Replace only villages whose ``population_source`` is ``"none"`` (an OSM draft's placeholders); the
        others keep their figure and source.
    source : str
        The raster's file (named in the report).

    Returns
    -------
    villages, report
        Same rows and order; ``population`` (whole people) and ``population_source`` set.
    """
    report = ImportReport(source=source, unit="pixels")
    if not len(villages):
        raise _fail(source, "the villages layer is empty; expected villages to sum the raster over")
    metric = villages.to_crs(region.crs)
    xy = shapely.get_coordinates(np.asarray(metric.geometry.values))
    tree = cKDTree(xy)
    sums = np.zeros(len(villages))
    to_metric = Transformer.from_crs(crs, region.crs, always_xy=True)
    shapely.prepare(region.area)
    rows, cols = people.shape
    counted = nodata = 0
    for r0 in range(0, rows, block_rows):
        block = people[r0 : r0 + block_rows]
        rr, cc = np.mgrid[r0 : r0 + len(block), 0:cols]
        px, py = affine_apply(transform, cc.ravel() + 0.5, rr.ravel() + 0.5)
        mx, my = to_metric.transform(np.asarray(px), np.asarray(py))
        inside = shapely.contains_xy(region.area, mx, my)
        vals = block.ravel()
        nodata += int((inside & np.isnan(vals)).sum())
        use = inside & np.isfinite(vals)
        counted += int(use.sum())
        _, nearest = tree.query(np.column_stack([mx[use], my[use]]))
        sums += np.bincount(nearest, weights=vals[use], minlength=len(villages))
    report.read = counted + nodata
    return _with_population(villages, sums, report, only_missing=only_missing, nodata=nodata, source=source)


def _with_population(
    villages: gpd.GeoDataFrame, sums: np.ndarray, report: ImportReport, *, only_missing: bool, nodata: int, source: str
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    out = villages.copy()
    prior = (
        out["population_source"].astype(object)
        if "population_source" in out
        else np.full(len(out), "layer", dtype=object)
    )
    replace = np.asarray(prior == "none") if only_missing else np.ones(len(out), dtype=bool)
    new = np.round(sums).astype(np.int64)
    old = out["population"].to_numpy()
    out["population"] = np.where(replace, new, old).astype(np.int64)
    out["population_source"] = np.where(replace, SOURCE, np.asarray(prior, dtype=object)).astype(object)
    report.kept["villages"] = len(out)
    report.fill(
        "population",
        f"sum of the raster over the village's Voronoi cell in the admin areas ({SOURCE})",
        int(replace.sum()),
    )
    if (~replace).any():
        report.notes.append(f"{int((~replace).sum())} village(s) keep their figure (population_source not 'none')")
    report.notes.append(
        f"raster people inside the admin areas: {sums.sum():,.1f} (villages' sum of rounded figures "
        f"{int(new.sum()):,}); {nodata} nodata pixel(s) inside counted as empty"
    )
    zero = int((replace & (new == 0)).sum())
    if zero:
        report.notes.append(f"{zero} village(s) get 0 people: their Voronoi cell holds no populated pixel centre")
    clean, problems = validate_frame(out, "villages", file=source)
    if any(p.severity == "error" for p in problems):
        raise LayerError(problems)
    return clean, report
