"""Terrain: reading a DEM GeoTIFF and sampling heights at points and along many profiles at once.

Heights are metres above sea level. Sampling is bilinear between pixel centres (nearest edge value in the
outer half pixel). A point outside the DEM or next to a nodata cell gets NaN, never zero, and the callers
report it. Profiles are returned in a ragged (CSR-like) layout so that thousands of site-to-point paths of
different lengths share two flat arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError, WindowError
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from gis.crs import source_crs_problem
from gis.errors import LayerError, Problem, TerrainError
from gis.files import FORMAT_NAMES, gdal_message, not_a_regular_file, open_geotiff, sniff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dem:
    """A digital elevation model held in memory.

    Attributes
    ----------
    height_m : ndarray of float32, shape (rows, cols)
        Heights above sea level in metres; NaN where the source has nodata. Read-only.
    transform : affine.Affine
        Pixel (col, row) to CRS coordinates of the pixel's upper-left corner.
    crs : pyproj.CRS
        CRS of the grid.
    path : Path or None
        File it was read from.
    """

    height_m: np.ndarray
    transform: Affine
    crs: CRS
    path: Path | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.height_m.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the DEM's CRS."""
        rows, cols = self.shape
        xs, ys = _apply(self.transform, np.array([0.0, cols, 0.0, cols]), np.array([0.0, 0.0, rows, rows]))
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    def footprint(self, crs: CRS | None = None) -> shapely.Geometry:
        """The DEM's area of valid data as a polygon (its extent), in ``crs`` (default: the DEM's)."""
        minx, miny, maxx, maxy = self.bounds
        poly = shapely.box(minx, miny, maxx, maxy)
        if crs is None or CRS.from_user_input(crs).equals(self.crs):
            return poly
        poly = shapely.segmentize(poly, max(maxx - minx, maxy - miny) / 64.0)
        tr = Transformer.from_crs(self.crs, crs, always_xy=True)
        return shapely.transform(poly, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _apply(t: Affine, c: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply an affine transform to coordinate arrays."""
    return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


def dem_from_array(
    height_m: np.ndarray,
    transform: Affine,
    crs: CRS | str | int,
    *,
    nodata: float | None = None,
    path: Path | None = None,
) -> Dem:
    """Build a :class:`Dem` from an array (heights in metres); ``nodata`` cells become NaN."""
    arr = np.array(height_m, dtype=np.float32, copy=True)
    if arr.ndim != 2:
        msg = f"`height_m` has shape {arr.shape}; expected a 2-D grid"
        raise ValueError(msg)
    if nodata is not None and not np.isnan(nodata):
        arr[arr == np.float32(nodata)] = np.nan
    arr.setflags(write=False)
    return Dem(arr, transform, CRS.from_user_input(crs), path)


#: Physical range of terrain heights (m): the Dead Sea shore is at -430 m, Everest at 8,849 m.
HEIGHT_RANGE_M = (-500.0, 9000.0)
#: Coarsest DEM cell coverplan accepts (m): coarser grids (GTOPO30 is ~1 km) smooth away the ridges and valleys
#: that decide rural radio coverage.
MAX_CELL_M = 1000.0
#: Fewest DEM cells along each axis of the area read (a hillshade and a bilinear sample need a neighbourhood).
MIN_CELLS = 3
#: Most cells read into memory (float32: 4 bytes each, 800 MB): a larger DEM is read over the region only, or
#: refused with its size.
MAX_CELLS = 200_000_000
#: Largest raster a GeoTIFF header may declare (width x height x bytes per value of band 1), checked before any cell
#: is read: a national 30 m DEM of China as float32 is ~110 GB; a header declaring more (10^6 x 10^6 cells is 4 TB)
#: is a forged or broken file, and GDAL would size its block tables from it.
MAX_RASTER_BYTES = 256 * 2**30
#: Vertical units a DEM may declare (band 1's unit type, GDAL metadata, or its vertical CRS's axis) -> metres per
#: unit. Heights in feet are converted to metres (logged); any other unit is refused. No unit declared: metres.
METRES_PER_UNIT = {
    "": 1.0,
    "m": 1.0,
    "metre": 1.0,
    "meter": 1.0,
    "metres": 1.0,
    "meters": 1.0,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
    "international foot": 0.3048,
    "us survey foot": 1200.0 / 3937.0,
    "us_survey_foot": 1200.0 / 3937.0,
    "ftus": 1200.0 / 3937.0,
    "foot_us": 1200.0 / 3937.0,
    "us foot": 1200.0 / 3937.0,
}
#: GDAL metadata items (band 1, then the dataset) that may name the vertical unit besides the band's unit type.
_UNIT_TAGS = ("unittype", "units", "unit", "vertical_units", "vertical_unit", "z_units")


def _terrain_error(message: str, file: str) -> TerrainError:
    return TerrainError([Problem("terrain", message, file=file)])


def check_dem_file(path: str | Path) -> None:
    """Check a DEM GeoTIFF's header without reading its cells: a regular file, a GeoTIFF by its signature (opened
    by the GTiff driver only: :mod:`gis.files`), a CRS coverplan accepts, a north-up grid, a band of real numbers.

    Raises
    ------
    TerrainError
        Naming the file and what is wrong.
    """
    path = Path(path)
    file = str(path)
    why = not_a_regular_file(path)
    if why:
        raise _terrain_error(f"DEM file {why}", file)
    kind = sniff(path)
    if kind != "gtiff":
        msg = f"DEM is not a GeoTIFF: the file is {FORMAT_NAMES.get(kind, FORMAT_NAMES[None])}; expected a GeoTIFF"
        raise _terrain_error(msg, file)
    try:
        with open_geotiff(path) as src:
            _check_header(src, file)
    except RasterioIOError as exc:
        raise _terrain_error(f"cannot read DEM: {gdal_message(exc)}", file) from exc


def _check_header(src: rasterio.DatasetReader, file: str) -> None:
    if src.crs is None:
        raise _terrain_error("DEM has no CRS; expected a georeferenced GeoTIFF", file)
    crs = CRS.from_wkt(src.crs.to_wkt())
    why = source_crs_problem(crs.sub_crs_list[0] if crs.is_compound else crs)  # heights: a vertical CRS too
    if why:
        raise _terrain_error(f"DEM {why}", file)
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise _terrain_error("DEM grid is rotated; expected a north-up grid", file)
    if t.e > 0 or t.a < 0:
        msg = (
            f"DEM grid is {'south-up (rows run south to north)' if t.e > 0 else 'mirrored (columns run east to west)'}"
            "; expected a north-up GeoTIFF (e.g. `gdalwarp in.tif out.tif` writes one)"
        )
        raise _terrain_error(msg, file)
    if src.count < 1:
        raise _terrain_error("DEM has no band; expected heights in band 1", file)
    dtype = np.dtype(src.dtypes[0])
    if dtype.kind not in "iuf":
        raise _terrain_error(f"DEM band 1 holds {dtype.name} values; expected real heights in metres", file)
    check_raster_size(src, file=file, layer="terrain")
    vertical_metres_per_unit(src, file=file)


def check_raster_size(
    src: rasterio.DatasetReader, *, file: str, layer: str, limit_bytes: int = MAX_RASTER_BYTES
) -> None:
    """Refuse a raster whose header declares more than ``limit_bytes`` (width x height x bytes per value of band 1),
    before any cell is read (:data:`MAX_RASTER_BYTES`).

    Raises
    ------
    TerrainError
        When ``layer`` is ``terrain``; else LayerError. Both name the file, the declared size and the limit.
    """
    declared = int(src.width) * int(src.height) * np.dtype(src.dtypes[0]).itemsize
    if declared > limit_bytes:
        msg = (
            f"raster header declares {src.height:,} x {src.width:,} cells of {src.dtypes[0]} "
            f"({declared / 2**30:,.1f} GiB); expected at most {limit_bytes / 2**30:,.0f} GiB (a forged or broken "
            "header, or a raster to clip to the region first, e.g. with gdal_translate -projwin)"
        )
        raise (
            TerrainError([Problem(layer, msg, file=file)])
            if layer == "terrain"
            else LayerError([Problem(layer, msg, file=file)])
        )


def _declared_units(src: rasterio.DatasetReader) -> list[tuple[str, str]]:
    """(where, unit) for each vertical unit the raster declares: band 1's unit type, GDAL metadata, vertical CRS."""
    out = []
    units = (src.units or ("",))[0] or ""
    if units.strip():
        out.append(("band 1 unit type", units.strip()))
    for where, tags in (("band 1 metadata", src.tags(1)), ("metadata", src.tags())):
        for key, value in tags.items():
            if key.lower() in _UNIT_TAGS and str(value).strip():
                out.append((f"{where} {key}", str(value).strip()))
    if src.crs is not None:
        crs = CRS.from_wkt(src.crs.to_wkt())
        vertical = [c for c in crs.sub_crs_list if c.is_vertical] if crs.is_compound else []
        for v in vertical:
            out.extend(("vertical CRS axis", a.unit_name) for a in v.axis_info)
    return out


def vertical_metres_per_unit(src: rasterio.DatasetReader, *, file: str) -> float:
    """Metres per unit of the heights in band 1, from the units the raster declares (:data:`METRES_PER_UNIT`):
    1.0 for metres or no unit, 0.3048 for feet (1200/3937 for US survey feet).

    Raises
    ------
    TerrainError
        A unit that is neither metres nor feet, or declarations that disagree (each named).
    """
    declared = _declared_units(src)
    factors = {}
    for where, unit in declared:
        factor = METRES_PER_UNIT.get(unit.lower().replace("-", " ").strip())
        if factor is None:
            msg = (
                f"DEM heights are declared in {unit!r} ({where}); expected metres or feet (converted), e.g. "
                "`gdal_calc.py --calc=A*0.01` for centimetres, then `gdal_edit.py -units m`"
            )
            raise _terrain_error(msg, file)
        factors[where] = factor
    if len({round(f, 9) for f in factors.values()}) > 1:
        shown = ", ".join(f"{w}: {u!r}" for w, u in declared)
        raise _terrain_error(f"DEM declares different vertical units ({shown}); expected one unit", file)
    factor = next(iter(factors.values()), 1.0)
    if factor != 1.0:
        logger.info("%s: heights declared in %s, converted to metres (x %.6f)", file, declared[0][1], factor)
    return factor


def _cell_sides_m(transform: Affine, crs: CRS, lat_deg: float) -> tuple[float, float]:
    """(width, height) of a cell in metres (degrees converted at ``lat_deg`` for a geographic grid)."""
    cx, cy = abs(transform.a), abs(transform.e)
    if crs.is_geographic:
        cx, cy = cx * 111_320.0 * np.cos(np.radians(lat_deg)), cy * 110_574.0
    return float(cx), float(cy)


def _window(
    src: rasterio.DatasetReader, bounds: tuple[float, float, float, float] | None, crs: object, file: str
) -> Window:
    """The window of ``src`` over ``bounds`` (in ``crs``), two cells wider on each side; the whole grid without."""

    full = Window(0, 0, src.width, src.height)
    if bounds is None:
        return full
    b = transform_bounds(CRS.from_user_input(crs).to_wkt(), src.crs, *bounds, densify_pts=21) if crs else bounds
    win = from_bounds(*b, transform=src.transform)
    col0, row0 = int(np.floor(win.col_off)) - 2, int(np.floor(win.row_off)) - 2
    col1 = int(np.ceil(win.col_off + win.width)) + 2
    row1 = int(np.ceil(win.row_off + win.height)) + 2
    win = Window(col0, row0, col1 - col0, row1 - row0)
    try:
        return win.intersection(full)
    except WindowError as exc:
        msg = f"DEM does not overlap the region (DEM bounds {tuple(round(x, 3) for x in src.bounds)})"
        raise _terrain_error(msg, file) from exc


def open_dem(
    path: str | Path,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    crs: object = None,
    max_cells: int = MAX_CELLS,
) -> Dem:
    """Read band 1 of a DEM GeoTIFF into memory, over ``bounds`` only when given.

    Parameters
    ----------
    path : path
    bounds : (minx, miny, maxx, maxy), optional
        The area needed (in ``crs``, default the DEM's CRS); only the cells over it (two more on each side) are
        read, so a national DEM can serve a county.
    crs : CRS, optional
        CRS of ``bounds``.
    max_cells : int
        Refuse to read more cells than this (a MemoryError is never the answer).

    Raises
    ------
    TerrainError
        Missing or unreadable file, no CRS, a rotated grid, no overlap with ``bounds``, more than ``max_cells``
        cells, cells coarser than :data:`MAX_CELL_M`, fewer than :data:`MIN_CELLS` cells a side, or heights
        outside :data:`HEIGHT_RANGE_M` (undeclared nodata, heights in feet or in centimetres).
    """
    path = Path(path)
    file = str(path)
    check_dem_file(path)
    try:
        with open_geotiff(path) as src:
            win = _window(src, bounds, crs, file)
            cells = int(win.width) * int(win.height)
            if cells > max_cells:
                msg = (
                    f"DEM area needed is {int(win.height)} x {int(win.width)} cells ({cells:,}); expected at most "
                    f"{max_cells:,}: resample it to a coarser grid (e.g. 30 or 90 m) or clip it to the region"
                )
                raise _terrain_error(msg, file)
            t = src.transform
            col0, row0 = int(win.col_off), int(win.row_off)
            transform = Affine(t.a, t.b, t.c + t.a * col0 + t.b * row0, t.d, t.e, t.f + t.d * col0 + t.e * row0)
            dem_crs = CRS.from_wkt(src.crs.to_wkt())
            metres_per_unit = vertical_metres_per_unit(src, file=file)
            data = src.read(1, window=win, masked=True)
    except RasterioIOError as exc:
        raise _terrain_error(f"cannot read DEM: {gdal_message(exc)}", file) from exc
    _check_finite(data, (row0, col0), file)
    arr = np.ma.filled(data.astype(np.float32), np.nan)
    if metres_per_unit != 1.0:
        arr *= np.float32(metres_per_unit)  # heights declared in feet: metres from here on
    _check_heights(arr, transform, dem_crs, file)
    dem = dem_from_array(arr, transform, dem_crs, path=path)
    logger.info("DEM %s: %d x %d cells read", path.name, *dem.shape)
    return dem


def _check_finite(data: np.ma.MaskedArray, offset: tuple[int, int], file: str) -> None:
    """Refuse +-infinity among the cells that are not nodata (NaN counts as nodata: GDAL's float nodata)."""
    values = np.ma.getdata(data)
    if values.dtype.kind != "f":
        return
    bad = np.isinf(values) & ~np.ma.getmaskarray(data)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        msg = (
            f"DEM has {int(bad.sum()):,} non-finite heights, e.g. {values[r, c]} at row {int(r) + offset[0]} col "
            f"{int(c) + offset[1]}; expected metres or the declared nodata"
        )
        raise _terrain_error(msg, file)


def _check_heights(arr: np.ndarray, transform: Affine, crs: CRS, file: str) -> None:
    rows, cols = arr.shape
    if rows < MIN_CELLS or cols < MIN_CELLS:
        msg = f"DEM has {rows} x {cols} cells over the region; expected at least {MIN_CELLS} x {MIN_CELLS}"
        raise _terrain_error(msg, file)
    lat = transform.f + transform.e * rows / 2.0
    cell = max(_cell_sides_m(transform, crs, lat))
    if cell > MAX_CELL_M:
        msg = (
            f"DEM cells are {cell:,.0f} m; expected at most {MAX_CELL_M:,.0f} m (a finer DEM, e.g. SRTM or "
            "Copernicus GLO-30/90)"
        )
        raise _terrain_error(msg, file)
    finite = arr[np.isfinite(arr)]
    if not len(finite):
        raise _terrain_error("DEM has no valid height over the region (all nodata)", file)
    lo, hi = float(finite.min()), float(finite.max())
    if lo < HEIGHT_RANGE_M[0] or hi > HEIGHT_RANGE_M[1]:
        msg = (
            f"DEM heights run from {lo:g} to {hi:g} m; expected {HEIGHT_RANGE_M[0]:g} to {HEIGHT_RANGE_M[1]:g} m "
            "above sea level (is nodata undeclared, or are the heights in feet or centimetres?)"
        )
        raise _terrain_error(msg, file)


def write_dem(dem: Dem, path: str | Path, *, dtype: str = "float32", nodata: float = -32768.0) -> None:
    """Write a DEM as a tiled, deflate-compressed GeoTIFF (NaN written as ``nodata``)."""
    arr = np.where(np.isnan(dem.height_m), nodata, dem.height_m)
    if np.dtype(dtype).kind in "iu":
        arr = np.round(arr)
    rows, cols = dem.shape
    profile = {
        "driver": "GTiff",
        "height": rows,
        "width": cols,
        "count": 1,
        "dtype": dtype,
        "crs": dem.crs.to_wkt(),
        "transform": dem.transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "predictor": 2,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr.astype(dtype), 1)


def reproject_dem(dem: Dem, crs: CRS | str | int, *, resolution_m: float | None = None) -> Dem:
    """The DEM resampled (bilinear) onto a north-up grid in ``crs``.

    ``resolution_m`` (metres) defaults to the source cell's shorter side (a 3" SRTM cell at 41.5° N is 69 m wide
    and 92 m tall: 69 m); degrees of a geographic source or target are converted at the DEM's centre latitude.
    Nodata stays NaN.
    """

    dst_crs = CRS.from_user_input(crs)
    rows, cols = dem.shape
    minx, miny, maxx, maxy = dem.bounds
    lat = _centre_latitude(dem)
    if resolution_m is None:
        resolution_m = min(_cell_sides_m(dem.transform, dem.crs, lat))  # keep the finer side's detail
    res = resolution_m / (111_320.0 * np.cos(np.radians(lat))) if dst_crs.is_geographic else resolution_m
    transform, width, height = calculate_default_transform(
        dem.crs.to_wkt(), dst_crs.to_wkt(), cols, rows, minx, miny, maxx, maxy, resolution=res
    )
    out = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        np.asarray(dem.height_m),
        out,
        src_transform=dem.transform,
        src_crs=dem.crs.to_wkt(),
        dst_transform=transform,
        dst_crs=dst_crs.to_wkt(),
        resampling=Resampling.bilinear,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    logger.info("DEM reprojected to %s: %d x %d cells of %.1f m", dst_crs.to_string(), height, width, resolution_m)
    return dem_from_array(out, transform, dst_crs, path=dem.path)


def _centre_latitude(dem: Dem) -> float:
    """Latitude (degrees) of the DEM's centre."""
    minx, miny, maxx, maxy = dem.bounds
    if dem.crs.is_geographic:
        return (miny + maxy) / 2.0
    _, lat = Transformer.from_crs(dem.crs, "EPSG:4326", always_xy=True).transform((minx + maxx) / 2, (miny + maxy) / 2)
    return float(lat)


def _to_dem_crs(dem: Dem, x: np.ndarray, y: np.ndarray, crs: CRS | str | int | None) -> tuple[np.ndarray, np.ndarray]:
    if crs is None or CRS.from_user_input(crs).equals(dem.crs):
        return x, y
    tr = Transformer.from_crs(crs, dem.crs, always_xy=True)
    return tr.transform(x, y)


def sample_heights(dem: Dem, x: np.ndarray, y: np.ndarray, *, crs: CRS | str | int | None = None) -> np.ndarray:
    """Bilinear heights (m) at points; NaN outside the DEM or where a neighbouring cell is nodata.

    Parameters
    ----------
    dem : Dem
    x, y : array_like
        Coordinates (any shape, same shape) in ``crs``.
    crs : CRS, optional
        CRS of ``x``/``y``; default the DEM's.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    shape = x.shape
    xd, yd = _to_dem_crs(dem, x.ravel(), y.ravel(), crs)
    col, row = _apply(~dem.transform, np.asarray(xd), np.asarray(yd))
    rows, cols = dem.shape
    inside = (col >= 0) & (col <= cols) & (row >= 0) & (row <= rows)
    # pixel-centre coordinates, clamped so the outer half pixel takes the edge value
    fc = np.clip(np.where(inside, col, 0.0) - 0.5, 0.0, cols - 1.0)
    fr = np.clip(np.where(inside, row, 0.0) - 0.5, 0.0, rows - 1.0)
    c0 = np.minimum(np.floor(fc).astype(np.int64), max(cols - 2, 0))
    r0 = np.minimum(np.floor(fr).astype(np.int64), max(rows - 2, 0))
    c1 = np.minimum(c0 + 1, cols - 1)
    r1 = np.minimum(r0 + 1, rows - 1)
    tc = fc - c0
    tr_ = fr - r0
    h = dem.height_m
    z = (
        h[r0, c0] * (1 - tc) * (1 - tr_)
        + h[r0, c1] * tc * (1 - tr_)
        + h[r1, c0] * (1 - tc) * tr_
        + h[r1, c1] * tc * tr_
    )
    z = np.where(inside, z, np.nan)
    return z.reshape(shape)


@dataclass(frozen=True)
class Profiles:
    """Many terrain profiles in one ragged layout.

    Profile ``i`` occupies ``distance_m[offsets[i]:offsets[i+1]]`` and ``height_m[...]`` (same slice).
    Samples run from the start point (distance 0) to the end point (distance = path length), inclusive.

    Attributes
    ----------
    offsets : ndarray of int64, shape (n + 1,)
    distance_m : ndarray of float64
        Distance of each sample from the profile's start, metres.
    height_m : ndarray of float64
        Terrain height at each sample, metres; NaN outside the DEM or at nodata.
    length_m : ndarray of float64, shape (n,)
        Straight-line length of each profile, metres.
    """

    offsets: np.ndarray
    distance_m: np.ndarray
    height_m: np.ndarray
    length_m: np.ndarray

    def __len__(self) -> int:
        return len(self.length_m)

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(distance_m, height_m) of profile ``i``."""
        s = slice(self.offsets[i], self.offsets[i + 1])
        return self.distance_m[s], self.height_m[s]

    @property
    def complete(self) -> np.ndarray:
        """Boolean per profile: every sample has a height (fully on the DEM, no nodata)."""
        bad = np.isnan(self.height_m)
        counts = np.add.reduceat(bad.astype(np.int64), self.offsets[:-1]) if len(self) else np.zeros(0, np.int64)
        return counts == 0


def profiles(
    dem: Dem,
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    *,
    step_m: float = 30.0,
    crs: CRS | str | int | None = None,
) -> Profiles:
    """Sample terrain along many straight paths at once (vectorised).

    Parameters
    ----------
    dem : Dem
    x0, y0, x1, y1 : array_like, shape (n,)
        Start and end points in ``crs`` (a metric CRS: the step is in metres).
    step_m : float
        Sample spacing in metres; each profile gets ``ceil(length / step_m) + 1`` evenly spaced samples
        (at least 2), so the end points are always sampled.
    crs : CRS, optional
        CRS of the points; default the DEM's, which must then be metric.
    """
    if not np.isfinite(step_m) or step_m <= 0:
        msg = f"`step_m` = {step_m!r}; expected a positive number of metres"
        raise ValueError(msg)
    pts_crs = CRS.from_user_input(crs) if crs is not None else dem.crs
    if not pts_crs.is_projected:
        msg = f"`crs` = {pts_crs.name!r} is geographic; profiles need points in a metric CRS"
        raise ValueError(msg)
    x0, y0, x1, y1 = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (x0, y0, x1, y1))
    length = np.hypot(x1 - x0, y1 - y0)
    n = np.maximum(np.ceil(length / step_m).astype(np.int64) + 1, 2)
    offsets = np.zeros(len(n) + 1, dtype=np.int64)
    np.cumsum(n, out=offsets[1:])
    total = int(offsets[-1])
    which = np.repeat(np.arange(len(n)), n)
    k = np.arange(total) - offsets[:-1][which]
    frac = k / (n[which] - 1)
    xs = x0[which] + frac * (x1 - x0)[which]
    ys = y0[which] + frac * (y1 - y0)[which]
    heights = sample_heights(dem, xs, ys, crs=pts_crs)
    return Profiles(offsets=offsets, distance_m=frac * length[which], height_m=heights, length_m=length)


def coverage_problems(
    dem: Dem, area: shapely.Geometry, *, crs: CRS, what: str = "the region", min_share: float = 0.999
) -> list[Problem]:
    """Problems when the DEM does not cover ``area`` (in ``crs``) or has nodata inside it.

    A DEM must cover at least ``min_share`` of the area's extent with valid heights.
    """
    file = str(dem.path) if dem.path else None
    foot = dem.footprint(crs)
    area_m2 = shapely.area(area)
    if area_m2 <= 0:
        return []
    covered = shapely.area(shapely.intersection(area, foot)) / area_m2
    problems = []
    if covered < min_share:
        problems.append(
            Problem(
                "terrain",
                f"DEM covers {covered:.1%} of {what}; expected it to cover all of it "
                f"(DEM bounds {tuple(round(b, 3) for b in dem.bounds)} in {dem.crs.to_string()})",
                file=file,
            )
        )
        return problems
    # nodata holes inside the area: sample a grid of points inside it
    minx, miny, maxx, maxy = shapely.bounds(area)
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 80), np.linspace(miny, maxy, 80))
    pts = shapely.points(gx.ravel(), gy.ravel())
    inside = shapely.contains(area, pts)
    z = sample_heights(dem, gx.ravel()[inside], gy.ravel()[inside], crs=crs)
    if inside.any() and np.isnan(z).mean() > 1 - min_share:
        problems.append(
            Problem(
                "terrain",
                f"DEM has nodata over {np.isnan(z).mean():.1%} of {what}; expected valid heights",
                file=file,
            )
        )
    return problems


def point_heights(
    dem: Dem, frame, layer: str, id_column: str, *, crs: CRS, file: str | None = None
) -> tuple[np.ndarray, list[Problem]]:
    """Ground height (m) at each point of a layer, and a problem for each point off the DEM or on nodata."""
    geoms = np.asarray(frame.geometry.values)
    z = sample_heights(dem, shapely.get_x(geoms), shapely.get_y(geoms), crs=crs)
    ids = frame[id_column].tolist() if id_column in frame.columns else [None] * len(frame)
    problems = [
        Problem(
            layer,
            "lies outside the DEM or on nodata; no terrain height",
            file=file,
            row=i + 1,
            row_id=f"{id_column}={ids[i]}",
            column="geometry",
        )
        for i in np.flatnonzero(np.isnan(z)).tolist()
    ]
    return z, problems
