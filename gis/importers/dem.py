"""DEM tiles -> one DEM of the region: mosaic, void fill, clip (with a buffer), reprojection to the metric CRS.

Tiles read:

* SRTM ``.hgt`` (NASA SRTMGL1 1 arc-second, 3601 x 3601, or SRTMGL3 3 arc-second, 1201 x 1201): big-endian
  int16 metres, -32768 for voids, named by the south-west corner of the 1-degree cell (``N41E126.hgt``); the
  grid is point-registered (first row at latitude + 1, first column at the longitude), so the pixel of row r,
  column c covers a square of one spacing centred on (lon + c/(n-1), lat + 1 - r/(n-1));
* a ``.zip`` holding one ``.hgt`` (as NASA/USGS distribute them, ``N41E126.SRTMGL1.hgt.zip``);
* GeoTIFF tiles in geographic coordinates (Copernicus GLO-30/GLO-90, ALOS AW3D30, any north-up DEM GeoTIFF),
  their nodata (and NaN) as voids.

Every height read must be in -500..9000 m. Tiles are mosaicked onto the grid of the finest tile (nearest for
tiles of that spacing, bilinear for coarser ones; the first tile given wins where tiles overlap), cut to the
bounding box of the admin areas grown by ``buffer_m``, voids filled by Laplace interpolation from the heights
around them (:func:`fill_voids`: exact on planes, no directional artefacts), then resampled (bilinear) onto a
north-up grid in the project's metric CRS. 1-degree cells the region needs that no tile covers are named by their SRTM
tile name.
"""

from __future__ import annotations

import logging
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, reproject
from scipy import ndimage, sparse
from scipy.sparse.linalg import spsolve

from gis.errors import Problem, TerrainError
from gis.files import gdal_message, not_a_regular_file, open_geotiff, sniff
from gis.importers.common import WGS84, ImportReport, Region, affine_apply
from gis.terrain import MAX_CELL_M, Dem, check_raster_size, dem_from_array, reproject_dem, vertical_metres_per_unit

logger = logging.getLogger(__name__)

HEIGHT_MIN_M = -500.0
HEIGHT_MAX_M = 9000.0
HGT_VOID = -32768
#: Samples per side of an .hgt tile -> arc-seconds between samples.
HGT_SIZES = {3601: 1, 1201: 3}
#: The only byte sizes an .hgt file (or a zip member .hgt) may have: 3601^2 or 1201^2 big-endian int16 samples.
#: Checked with os.stat (or the zip's declared size) before a byte is read: a sparse or zipped 8 GiB ".hgt"
#: is refused at once.
HGT_BYTES = {2 * n * n: n for n in HGT_SIZES}
#: Largest compression ratio (declared size / compressed size) of a zipped .hgt: real SRTM tiles deflate 1.5-4x,
#: and even a tile of one height (all sea) stays under deflate's ~1030x; more means another method's bomb.
MAX_ZIP_RATIO = 1000.0
#: Metres per degree of latitude (WGS84 mean; a degree of longitude is this times cos(latitude)), for spacings.
M_PER_DEG = 111_320.0
#: An output cell finer than the source spacing divided by this is an upsampling worth a note (bilinear
#: interpolation adds no terrain: a 0.2-degree grid at 90 m is the same facets, 218 times over).
UPSAMPLE_NOTE = 2.0
#: Most members a tile zip may list (NASA/USGS zips hold one .hgt, sometimes a readme).
MAX_ZIP_MEMBERS = 100
#: Most cells of a GeoTIFF tile (band 1), checked against its header before reading: 64 M cells is a 2 x 4 degree
#: tile at 1 arc-second (256 MB as float32, read whole); larger files are clipped to the region first.
MAX_TILE_CELLS = 64_000_000
_HGT_NAME = re.compile(r"^([NS])(\d{2})([EW])(\d{3})", re.IGNORECASE)


@dataclass(frozen=True)
class Tile:
    """One DEM tile as read.

    Attributes
    ----------
    height_m : ndarray of float32
        Heights (m); NaN for voids.
    transform : Affine
        Pixel corner to lon/lat (degrees).
    crs : pyproj.CRS
        A geographic CRS.
    file : str
        Where it was read from.
    voids : int
        Void pixels in the tile.
    """

    height_m: np.ndarray
    transform: Affine
    crs: CRS
    file: str
    voids: int = 0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees, pixel edges."""
        rows, cols = self.height_m.shape
        t = self.transform
        return t.c, t.f + t.e * rows, t.c + t.a * cols, t.f


def _fail(file: str, message: str) -> TerrainError:
    return TerrainError([Problem("terrain", message, file=file)])


def srtm_name(lat: int, lon: int) -> str:
    """SRTM name of the 1-degree cell whose south-west corner is (``lat``, ``lon``), e.g. ``N41E126``."""
    return f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}{'E' if lon >= 0 else 'W'}{abs(lon):03d}"


def _check_heights(h: np.ndarray, transform: Affine, *, file: str) -> None:
    """Raise when a non-void height is outside -500..9000 m (names the first pixel and its lon/lat)."""
    bad = np.isfinite(h) & ((h < HEIGHT_MIN_M) | (h > HEIGHT_MAX_M))
    bad |= np.isinf(h)
    if bad.any():
        r, c = (int(v[0]) for v in np.nonzero(bad))
        lon, lat = affine_apply(transform, c + 0.5, r + 0.5)
        msg = (
            f"{int(bad.sum())} height(s) outside {HEIGHT_MIN_M:g}..{HEIGHT_MAX_M:g} m, first {float(h[r, c])!r} "
            f"at row {r}, column {c} (lon {lon:.5f}, lat {lat:.5f}); expected metres above sea level or the "
            "file's nodata value"
        )
        raise _fail(file, msg)


def hgt_tile(data: bytes, name: str, *, file: str) -> Tile:
    """An SRTM tile from the bytes of an ``.hgt`` file named ``name`` (``N41E126.hgt``, case-insensitive).

    Raises
    ------
    TerrainError
        A name that is not an SRTM tile name, or a size that is neither 1201 x 1201 nor 3601 x 3601 samples.
    """
    m = _HGT_NAME.match(Path(name).name)
    if m is None:
        raise _fail(file, f"`{Path(name).name}` is not an SRTM tile name; expected e.g. N41E126.hgt")
    lat = int(m[2]) * (1 if m[1].upper() == "N" else -1)
    lon = int(m[4]) * (1 if m[3].upper() == "E" else -1)
    n = HGT_BYTES.get(len(data))
    if n is None:
        raise _fail(file, _hgt_size_message(len(data)))
    raw = np.frombuffer(data, dtype=">i2").reshape(n, n)
    void = raw == HGT_VOID
    h = raw.astype(np.float32)
    h[void] = np.nan
    step = 1.0 / (n - 1)
    transform = Affine(step, 0.0, lon - step / 2, 0.0, -step, lat + 1 + step / 2)
    _check_heights(h, transform, file=file)
    return Tile(h, transform, WGS84, file, int(void.sum()))


def _hgt_size_message(size: int) -> str:
    return (
        f"{size} bytes; expected an SRTM .hgt of {2 * 3601 * 3601} bytes (1 arc-second) or "
        f"{2 * 1201 * 1201} bytes (3 arc-second) of big-endian int16 (the only sizes read)"
    )


def _zip_member(zf: zipfile.ZipFile, file: str) -> zipfile.ZipInfo:
    """The one .hgt member of a tile zip, its declared size and compression ratio checked before reading."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _fail(file, f"zip lists {len(infos):,} members; expected at most {MAX_ZIP_MEMBERS} (one .hgt)")
    hgts = [i for i in infos if i.filename.lower().endswith(".hgt")]
    if len(hgts) != 1:
        names = [i.filename for i in hgts]
        raise _fail(file, f"holds {len(hgts)} .hgt files ({names[:5]}); expected exactly one")
    info = hgts[0]
    where = f"{file}!{info.filename}"
    if info.file_size not in HGT_BYTES:
        raise _fail(where, f"zip member declares {_hgt_size_message(info.file_size)}; nothing was decompressed")
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > MAX_ZIP_RATIO:
        msg = (
            f"zip member declares {info.file_size:,} bytes compressed into {info.compress_size:,} (ratio "
            f"{ratio:,.0f}); expected at most {MAX_ZIP_RATIO:g} (a zip bomb or a broken zip); nothing was decompressed"
        )
        raise _fail(where, msg)
    return info


def _zip_tile(path: Path) -> Tile:
    file = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            info = _zip_member(zf, file)
            data = zf.read(info)  # zipfile stops at the declared size, checked above
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise _fail(file, f"not a readable zip file ({exc}); expected a zipped SRTM .hgt") from exc
    return hgt_tile(data, info.filename, file=f"{file}!{info.filename}")


def _check_tile_size(src: rasterio.DatasetReader, file: str) -> None:
    """Refuse a GeoTIFF tile whose header declares more than :data:`MAX_TILE_CELLS` cells (before reading)."""
    check_raster_size(src, file=file, layer="terrain")
    cells = int(src.width) * int(src.height)
    if cells > MAX_TILE_CELLS:
        msg = (
            f"tile header declares {src.height:,} x {src.width:,} cells ({cells:,}); expected at most "
            f"{MAX_TILE_CELLS:,} per tile (clip it to the region first, e.g. gdal_translate -projwin); nothing read"
        )
        raise _fail(file, msg)


def _geotiff_tile(path: Path) -> Tile:
    file = str(path)
    if sniff(path) != "gtiff":
        raise _fail(file, "not a GeoTIFF (by its first bytes: a VRT or another format named .tif); expected a GeoTIFF")
    try:
        with open_geotiff(path) as src:
            if src.crs is None or not CRS.from_wkt(src.crs.to_wkt()).is_geographic:
                raise _fail(
                    file,
                    f"tile CRS is {src.crs}; expected geographic lon/lat (EPSG:4326 as SRTM, "
                    "Copernicus DEM and ALOS AW3D30 are)",
                )
            if src.transform.b != 0 or src.transform.d != 0 or src.transform.e >= 0:
                raise _fail(file, "tile grid is rotated or south-up; expected a north-up grid")
            _check_tile_size(src, file)
            metres_per_unit = vertical_metres_per_unit(src, file=file)
            h = np.ma.filled(src.read(1, masked=True).astype(np.float32), np.nan)
            if metres_per_unit != 1.0:
                h *= np.float32(metres_per_unit)  # a tile in feet: metres from here on
            transform, crs = src.transform, CRS.from_wkt(src.crs.to_wkt())
    except RasterioIOError as exc:
        raise _fail(file, f"cannot read as GeoTIFF ({gdal_message(exc)})") from exc
    _check_heights(h, transform, file=file)
    return Tile(h, transform, crs, file, int(np.isnan(h).sum()))


def read_tile(path: str | Path) -> Tile:
    """Read one tile: ``.hgt``, ``.zip`` (one ``.hgt`` inside) or GeoTIFF (``.tif``/``.tiff``).

    Raises
    ------
    TerrainError
        Missing file, unknown format, wrong size, unreadable or corrupt, heights out of -500..9000 m.
    """
    path = Path(path)
    file = str(path)
    why = not_a_regular_file(path)
    if why:
        raise _fail(file, f"tile file {why}")
    suffix = path.suffix.lower()
    if suffix == ".hgt":
        size = path.stat().st_size  # before reading: a sparse 8 GiB file is refused here
        if size not in HGT_BYTES:
            raise _fail(file, _hgt_size_message(size))
        return hgt_tile(path.read_bytes(), path.name, file=file)
    if suffix == ".zip":
        return _zip_tile(path)
    if suffix in (".tif", ".tiff"):
        return _geotiff_tile(path)
    raise _fail(file, f"unknown tile format `{suffix}`; expected .hgt, .hgt.zip (.zip) or GeoTIFF (.tif)")


def needed_cells(area_lonlat: shapely.Geometry) -> list[tuple[int, int]]:
    """(lat, lon) of the south-west corners of the 1-degree cells that ``area_lonlat`` overlaps."""
    w, s, e, n = shapely.bounds(area_lonlat)
    shapely.prepare(area_lonlat)
    cells = []
    for lat in range(math.floor(s), math.ceil(n)):
        for lon in range(math.floor(w), math.ceil(e)):
            box = shapely.box(lon, lat, lon + 1, lat + 1)
            if shapely.area(shapely.intersection(area_lonlat, box)) > 0:
                cells.append((lat, lon))
    return cells


def missing_tiles(tiles: Sequence[Tile], area_lonlat: shapely.Geometry) -> list[str]:
    """SRTM names of the 1-degree cells where part of ``area_lonlat`` lies on no tile."""
    cover = shapely.union_all([shapely.box(*t.bounds) for t in tiles]) if tiles else shapely.Polygon()
    out = []
    for lat, lon in needed_cells(area_lonlat):
        need = shapely.intersection(area_lonlat, shapely.box(lon, lat, lon + 1, lat + 1))
        if shapely.area(shapely.difference(need, cover)) > 1e-9 * max(shapely.area(need), 1e-12):
            out.append(srtm_name(lat, lon))
    return out


def mosaic(tiles: Sequence[Tile], bounds: tuple[float, float, float, float]) -> tuple[np.ndarray, Affine]:
    """The tiles on one lon/lat grid (the finest tile's, aligned to it) covering ``bounds`` (degrees).

    Returns
    -------
    height_m, transform
        float32 heights, NaN where no tile has data (voids included).
    """

    ref = min(tiles, key=lambda t: abs(t.transform.a))
    res = abs(ref.transform.a)
    x0, y0 = ref.transform.c, ref.transform.f
    w, s, e, n = bounds
    c0, c1 = math.floor((w - x0) / res) - 1, math.ceil((e - x0) / res) + 1
    r0, r1 = math.floor((y0 - n) / res) - 1, math.ceil((y0 - s) / res) + 1
    transform = Affine(res, 0.0, x0 + c0 * res, 0.0, -res, y0 - r0 * res)
    out = np.full((r1 - r0, c1 - c0), np.nan, dtype=np.float32)
    box = shapely.box(*bounds)
    for t in tiles:
        if not shapely.intersects(shapely.box(*t.bounds), box):
            continue
        part = np.full(out.shape, np.nan, dtype=np.float32)
        same = math.isclose(abs(t.transform.a), res, rel_tol=1e-9)
        reproject(
            np.asarray(t.height_m),
            part,
            src_transform=t.transform,
            src_crs=t.crs.to_wkt(),
            dst_transform=transform,
            dst_crs=ref.crs.to_wkt(),
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if same else Resampling.bilinear,
        )
        take = np.isnan(out) & ~np.isnan(part)
        out[take] = part[take]
    return out, transform


def fill_voids(
    height_m: np.ndarray, *, max_void_px: int = 250_000, enclosed_only: bool = False
) -> tuple[np.ndarray, int, int]:
    """Voids (NaN) filled by Laplace interpolation from the heights around them.

    Each void pixel takes the mean of its four neighbours, neighbours that are voids too being unknowns of
    the same sparse linear system (Dirichlet condition at the void's edge, Neumann at the grid's edge): the
    smoothest surface meeting the void's edges, exact where the terrain around it is a plane.

    Parameters
    ----------
    height_m : ndarray
        Heights (m) with NaN voids.
    max_void_px : int
        Largest void (4-connected pixels) filled; larger ones, and voids touching no height at all, stay NaN.
    enclosed_only : bool
        Fill only voids enclosed by heights: one reaching the array's edge is where the data ends (outside a
        country's DEM, the sea), not a void, and stays NaN.

    Returns
    -------
    filled, n_filled, n_left
        A new float32 array, the number of pixels filled and the number still NaN.
    """

    h = np.array(height_m, dtype=np.float64, copy=True)
    void = np.isnan(h)
    labels, n = ndimage.label(void)
    if n == 0:
        return h.astype(np.float32), 0, 0
    sizes = np.bincount(labels.ravel())
    touches = np.zeros(n + 1, dtype=bool)
    touches[labels[ndimage.binary_dilation(~void) & void]] = True
    fill = void & (sizes <= max_void_px)[labels] & touches[labels]
    if enclosed_only:
        edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        fill &= ~np.isin(labels, edge[edge > 0])
    k = int(fill.sum())
    if k:
        index = np.full(h.shape, -1, dtype=np.int64)
        index[fill] = np.arange(k)
        diag = np.zeros(k)
        rhs = np.zeros(k)
        rows, cols = [], []
        r, c = np.nonzero(fill)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < h.shape[0]) & (cc >= 0) & (cc < h.shape[1])
            i = index[r[ok], c[ok]]
            diag[i] += 1.0
            nb = index[rr[ok], cc[ok]]
            rows.append(i[nb >= 0])
            cols.append(nb[nb >= 0])
            known = nb < 0
            rhs[i[known]] += h[rr[ok][known], cc[ok][known]]
        a = sparse.csr_matrix(
            (np.full(sum(len(x) for x in rows), -1.0), (np.concatenate(rows), np.concatenate(cols))), shape=(k, k)
        ) + sparse.diags(diag)
        h[fill] = spsolve(a.tocsc(), rhs)
    return h.astype(np.float32), k, int(void.sum()) - k


def _crop(dem: Dem, bounds: tuple[float, float, float, float]) -> Dem:
    """The part of a (north-up) DEM covering ``bounds`` in its CRS, one cell of margin."""
    w, s, e, n = bounds
    cw, rn = affine_apply(~dem.transform, w, n)
    ce, rs = affine_apply(~dem.transform, e, s)
    rows, cols = dem.shape
    c0, r0 = max(math.floor(cw) - 1, 0), max(math.floor(rn) - 1, 0)
    c1, r1 = min(math.ceil(ce) + 1, cols), min(math.ceil(rs) + 1, rows)
    x0, y0 = affine_apply(dem.transform, c0, r0)
    t = dem.transform
    transform = Affine(t.a, t.b, float(x0), t.d, t.e, float(y0))
    return dem_from_array(np.asarray(dem.height_m)[r0:r1, c0:c1], transform, dem.crs, path=dem.path)


def import_dem(
    tiles: Sequence[Tile],
    region: Region,
    *,
    buffer_m: float = 15_000.0,
    resolution_m: float | None = None,
    max_void_px: int = 250_000,
    source: str = "",
    max_cell_m: float = MAX_CELL_M,
    allow_uncovered: bool = False,
) -> tuple[Dem, ImportReport]:
    """One DEM of the region from tiles: mosaic, void fill, clip to the region + ``buffer_m``, metric CRS.

    Parameters
    ----------
    tiles : sequence of Tile
        As :func:`read_tile` returns them (first given wins where they overlap).
    region : Region
        The project's admin areas (metric CRS).
    buffer_m : float
        Metres of terrain kept around the admin areas (it must reach past every site and candidate the
        project will hold: the sites import keeps 10 km by default).
    resolution_m : float, optional
        Cell size (m) of the output; default the finest tile's spacing at the region's latitude.
    max_void_px : int
        Largest void (pixels of the mosaic) filled by interpolation. Only voids enclosed by heights are filled;
        nodata reaching the edge of the tiles' data (a tile cut to a country, the sea) is never made up.
    max_cell_m : float
        Coarsest output cell (m, default :data:`gis.terrain.MAX_CELL_M`, the limit ``validate`` enforces): the
        source spacing and the output's are reported, and an output finer than half the source's is noted as an
        upsampling.
    allow_uncovered : bool
        Leave parts of the admin areas + buffer that no tile covers (or whose tiles hold nodata up to their
        edge) nodata, said in the report, instead of refusing.

    Returns
    -------
    dem, report
        Heights (float32, metres) in the project's metric CRS; what was used, filled and dropped.

    Raises
    ------
    TerrainError
        No tiles; output cells coarser than ``max_cell_m``; or (without ``allow_uncovered``) part of the region +
        buffer on no tile or in nodata reaching the data's edge: its area (km²), its lon/lat box and the SRTM
        cells it lies in are named.
    """
    report = ImportReport(source=source, unit="tiles", read=len(tiles))
    area = region.lonlat(buffer_m)
    if not tiles:
        raise _fail(
            source,
            "no tiles given; expected DEM tiles covering " + ", ".join(srtm_name(*c) for c in needed_cells(area)),
        )
    cover = shapely.union_all([shapely.box(*t.bounds) for t in tiles])
    outside = shapely.difference(area, cover)
    if not shapely.is_empty(outside) and shapely.area(outside) > 1e-9 * shapely.area(area):
        msg = f"the admin areas + {buffer_m:g} m are {_uncovered_text(outside)} on no given tile"
        if not allow_uncovered:
            raise _fail(source, f"{msg}; expected tiles covering it (or --allow-uncovered to leave it nodata)")
        report.notes.append(f"{msg}: left nodata (--allow-uncovered)")
    bounds = shapely.bounds(area)
    used = [t for t in tiles if shapely.intersects(shapely.box(*t.bounds), shapely.box(*bounds))]
    report.drop("tiles: outside the admin areas + buffer", len(tiles) - len(used))
    heights, transform = mosaic(used, tuple(bounds))
    if not np.isfinite(heights).any():
        msg = (
            f"the tiles ({len(used)} over the admin areas + {buffer_m:g} m) hold no valid height there: every cell is "
            "a void or nodata; expected DEM tiles with heights (e.g. SRTM, Copernicus GLO-30)"
        )
        raise _fail(source, msg)
    _no_data_checked(heights, transform, area, buffer_m, allow_uncovered, report, source)
    filled, n_filled, n_left = fill_voids(heights, max_void_px=max_void_px, enclosed_only=True)
    report.fill("height_m", "void pixels interpolated from the heights around them (Laplace)", n_filled)
    if n_left:
        report.notes.append(
            f"{n_left} void pixel(s) in voids over {max_void_px} pixels (or with no height around them) stay nodata"
        )
    source_m = _spacing_m(transform, area)
    out_m = resolution_m if resolution_m is not None else source_m
    if max(out_m, source_m) > max_cell_m:
        msg = (
            f"the tiles' spacing is {source_m:,.0f} m and the output's would be {out_m:,.0f} m; expected at most "
            f'{max_cell_m:,.0f} m (a finer DEM: SRTM 1"/3", Copernicus GLO-30/90)'
        )
        raise _fail(source, msg)
    geo = dem_from_array(filled, transform, used[0].crs)
    dem = reproject_dem(geo, region.crs, resolution_m=resolution_m)
    _spacing_note(report, source_m, abs(dem.transform.a))
    dem = _crop(dem, tuple(shapely.bounds(region.buffered(buffer_m))))
    if not np.isfinite(dem.height_m).any():
        raise _fail(source, "the DEM of the admin areas + buffer has no valid height; expected tiles with heights")
    report.kept["dem cells"] = int(dem.height_m.size)
    res = abs(dem.transform.a)
    report.notes.append(
        f"{dem.shape[0]} x {dem.shape[1]} cells of {res:.1f} m in {region.crs.to_string()}, "
        f"heights {np.nanmin(dem.height_m):.0f}..{np.nanmax(dem.height_m):.0f} m, from "
        f"{len(used)} tile(s) ({sum(t.voids for t in used)} void pixels in them)"
    )
    return dem, report


def _uncovered_text(part: shapely.Geometry) -> str:
    """``1,234 km² (lon a..b, lat c..d, in SRTM cell(s) ...)`` of a lon/lat area."""
    w, so, e, n = shapely.bounds(part)
    lat = (so + n) / 2.0
    km2 = shapely.area(part) * (M_PER_DEG / 1000.0) ** 2 * math.cos(math.radians(lat))
    cells = ", ".join(srtm_name(*c) for c in needed_cells(part))
    return f"{km2:,.1f} km² (lon {w:.3f}..{e:.3f}, lat {so:.3f}..{n:.3f}, in SRTM cell(s) {cells})"


def _no_data_checked(
    heights: np.ndarray,
    transform: Affine,
    area: shapely.Geometry,
    buffer_m: float,
    allow_uncovered: bool,
    report: ImportReport,
    source: str,
) -> None:
    """Nodata of the mosaic that reaches its edge (no tile's data there: outside a country's DEM, the sea)
    is never filled (:func:`fill_voids` with ``enclosed_only``); refused (or, ``allow_uncovered``, reported) where
    it lies in ``area``."""
    nodata = np.isnan(heights)
    labels, n = ndimage.label(nodata)
    if n == 0:
        return
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    open_ = np.isin(labels, edge[edge > 0])
    if not open_.any():
        return
    rows, cols = np.nonzero(open_)
    x, y = affine_apply(transform, cols + 0.5, rows + 0.5)
    inside = shapely.contains_xy(area, x, y)
    if inside.any():
        res = abs(transform.a)
        boxes = shapely.box(x[inside] - res / 2, y[inside] - res / 2, x[inside] + res / 2, y[inside] + res / 2)
        part = shapely.intersection(shapely.coverage_union_all(boxes), area)
        msg = f"the admin areas + {buffer_m:g} m are {_uncovered_text(part)} in nodata reaching the tiles' edge"
        if not allow_uncovered:
            raise _fail(source, f"{msg}; expected tiles with heights there (or --allow-uncovered to leave it nodata)")
        report.notes.append(f"{msg}: left nodata (--allow-uncovered)")
    report.notes.append(f"{int(open_.sum())} nodata pixel(s) reaching the tiles' edge left nodata, not filled")


def _spacing_m(transform: Affine, area: shapely.Geometry) -> float:
    """The mosaic's spacing in metres at the area's middle latitude (the larger of east-west and north-south)."""
    lat = shapely.centroid(area).y
    return max(abs(transform.a) * M_PER_DEG * math.cos(math.radians(lat)), abs(transform.e) * M_PER_DEG)


def _spacing_note(report: ImportReport, source_m: float, out_m: float) -> None:
    note = f"source spacing {source_m:,.1f} m, output cells {out_m:,.1f} m"
    if out_m * UPSAMPLE_NOTE < source_m:
        note += (
            f": upsampled {source_m / out_m:,.0f} times (bilinear); the terrain holds no detail finer than "
            f"{source_m:,.0f} m"
        )
    report.notes.append(note)
