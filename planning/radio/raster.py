"""Coverage raster: best-server RSRP of a handheld on a grid (a map layer), and its GeoTIFF.

The analysis of villages and schools is per point (:func:`planning.radio.coverage.coverage`); the raster screens
each cell cheaply for its best server only (:func:`raster_best_rsrp`) and is written as a float32 GeoTIFF with
NaN as nodata (:func:`write_raster`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from scipy.spatial import cKDTree

from gis.settings import RadioSettings
from gis.terrain import Dem, reproject_dem, sample_heights
from planning.radio.coverage import (
    TECHS,
    SiteTable,
    pair_loss_db,
    pair_rsrp_dbm,
    receiver_of,
    site_table,
    strongest_pairs,
)
from planning.radio.linkbudget import LinkBudget
from planning.radio.pathloss import P1812Params

logger = logging.getLogger(__name__)

__all__ = ["coverage_raster", "raster_best_rsrp", "write_raster"]

#: The raster's screening, per cell and technology: the 12 nearest sites ranked on flat earth, the 6 strongest of
#: them on a 150 m terrain profile, the 2 strongest of those on the project's profile step (a map overlay: the
#: analysis of villages and schools is :func:`coverage`).
_RASTER_BUDGET = LinkBudget(max_sites_per_point=2, screen_sites_per_point=12, screen_step_m=150.0)
_RASTER_COARSE_SITES = 6


def coverage_raster(
    sites: gpd.GeoDataFrame,
    area: shapely.Geometry,
    *,
    crs: CRS | str | int,
    radio: RadioSettings,
    dem: Dem | None = None,
    resolution_m: float | None = None,
    max_cells: int = 30_000,
    budget: LinkBudget = _RASTER_BUDGET,
) -> tuple[np.ndarray, Affine]:
    """Best-server RSRP (dBm) of a handheld on a grid over ``area`` (metric CRS ``crs``).

    The cell size is ``resolution_m`` (default the project's ``raster_resolution_m``), coarsened where the
    area would need more than ``max_cells`` cells (a map layer, not an analysis: the analysis is per point).
    Only the best server matters here, so each cell is screened cheaply (:func:`raster_best_rsrp`).

    Returns an array of shape (2, rows, cols): band 0 is 4G, band 1 is 5G; NaN outside the area, off the
    DEM or where no site reaches the interference floor (threshold - ``budget.interference_margin_db``); and
    the grid's affine transform.
    """
    res = float(resolution_m or radio.raster_resolution_m)
    if not np.isfinite(res) or res <= 0:
        msg = f"`resolution_m` = {resolution_m!r}; expected a positive number of metres"
        raise ValueError(msg)
    minx, miny, maxx, maxy = shapely.bounds(area)
    coarse = float(np.ceil(np.sqrt((maxx - minx) * (maxy - miny) / max(max_cells, 1))))
    if coarse > res:
        logger.info("coverage raster: %.0f m cells instead of %.0f m (at most %d cells)", coarse, res, max_cells)
        res = coarse
    cols = max(int(np.ceil((maxx - minx) / res)), 1)
    rows = max(int(np.ceil((maxy - miny) / res)), 1)
    transform = Affine(res, 0.0, minx, 0.0, -res, maxy)
    cx = minx + (np.arange(cols) + 0.5) * res
    cy = maxy - (np.arange(rows) + 0.5) * res
    gx, gy = np.meshgrid(cx, cy)
    inside = shapely.contains_xy(area, gx, gy)
    if dem is not None and not dem.crs.equals(crs):
        dem = reproject_dem(dem, crs)
    best = raster_best_rsrp(gx[inside], gy[inside], sites, radio=radio, dem=dem, budget=budget)
    out = np.full((len(TECHS), rows, cols), np.nan, dtype=np.float32)
    for b in range(len(TECHS)):
        out[b][inside] = best[b]
    return out, transform


def raster_best_rsrp(
    px: np.ndarray,
    py: np.ndarray,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None = None,
    budget: LinkBudget = _RASTER_BUDGET,
    coarse_sites: int = _RASTER_COARSE_SITES,
) -> np.ndarray:
    """Best-server RSRP (dBm) of a handheld at points ``px``/``py`` (the sites' metric CRS), screened for a map.

    Per technology and point: the ``budget.screen_sites_per_point`` nearest sites within ``budget.max_range_m``
    ranked by flat-earth RSRP; the ``coarse_sites`` strongest of them on a terrain profile at
    ``budget.screen_step_m``; the ``budget.max_sites_per_point`` strongest of those on the project's
    ``profile_step_m`` (:func:`pair_loss_db`; ``itm`` is screened with Hata). The best is kept where it reaches
    the interference floor (the threshold - ``budget.interference_margin_db``).

    Returns an array (2, points): 4G and 5G; NaN off the DEM or below the floor.
    """
    n = len(px)
    out = np.full((len(TECHS), n), np.nan)
    if n == 0 or len(sites) == 0:
        return out
    st = site_table(sites, radio, dem=dem)
    pz = sample_heights(dem, px, py) if dem is not None else np.zeros(n)
    on_dem = np.isfinite(pz)
    rx_z = np.nan_to_num(pz, nan=0.0) + radio.ue_height_m  # as coverage(): the vertical pattern sees the ground
    stages = [(coarse_sites, budget.screen_step_m), (budget.max_sites_per_point, radio.profile_step_m)]
    for b, tech in enumerate(TECHS):
        idx = np.flatnonzero(st.tech == tech)
        if not len(idx):
            continue
        si, pi = _raster_nearest(st, idx, px, py, on_dem, budget=budget)
        rsrp = _raster_rsrp(st, si, pi, px, py, rx_z, None, radio=radio, budget=budget, step_m=0.0)
        for keep_sites, step_m in stages if dem is not None else []:
            keep = strongest_pairs(pi, rsrp, st.tech[si], k=max(int(keep_sites), 1))
            si, pi = si[keep], pi[keep]
            rsrp = _raster_rsrp(st, si, pi, px, py, rx_z, dem, radio=radio, budget=budget, step_m=step_m)
        best = np.full(n, -np.inf)
        np.maximum.at(best, pi, np.nan_to_num(rsrp, nan=-np.inf))
        threshold = radio.lte_rsrp_threshold_dbm if tech == "4g" else radio.nr_rsrp_threshold_dbm
        out[b] = np.where(best >= threshold - budget.interference_margin_db, best, np.nan)
    return out


def _raster_nearest(
    st: SiteTable, idx: np.ndarray, px: np.ndarray, py: np.ndarray, on_dem: np.ndarray, *, budget: LinkBudget
) -> tuple[np.ndarray, np.ndarray]:
    """(site, point) pairs of each point on the DEM and its ``screen_sites_per_point`` nearest sites of ``idx``
    within ``max_range_m``."""
    k = min(budget.screen_sites_per_point, len(idx))
    dist, nn = cKDTree(np.column_stack([st.x[idx], st.y[idx]])).query(
        np.column_stack([px, py]), k=k, distance_upper_bound=budget.max_range_m
    )
    dist, nn = dist.reshape(len(px), k), nn.reshape(len(px), k)
    rows, cols = np.nonzero(np.isfinite(dist) & on_dem[:, None])
    return idx[nn[rows, cols]], rows


def _raster_rsrp(
    st: SiteTable,
    si: np.ndarray,
    pi: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    rx_z: np.ndarray,
    dem: Dem | None,
    *,
    radio: RadioSettings,
    budget: LinkBudget,
    step_m: float,
) -> np.ndarray:
    """Handheld RSRP of pairs (site ``si``, point ``pi``; ``rx_z`` the points' antenna height above sea level, m):
    terrain at ``step_m`` with a DEM, else flat earth; the receiver's figures as :func:`coverage` takes them."""
    rx = receiver_of("handheld", radio, budget)
    x, y = px[pi], py[pi]
    loss, _ = pair_loss_db(
        dem,
        st.x[si],
        st.y[si],
        x,
        y,
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(si), rx.height_m),
        model="hata" if radio.model == "itm" else radio.model,
        environment=radio.environment,
        step_m=step_m,
        p1812=P1812Params.of(radio),
    )
    return pair_rsrp_dbm(
        st,
        si,
        x,
        y,
        loss,
        radio=radio,
        budget=budget,
        rx_gain_dbi=rx.gain_dbi,
        body_loss_db=rx.body_loss_db,
        rx_z_m=rx_z[pi],
    )


def write_raster(
    path: str | Path,
    bands: np.ndarray,
    transform: Affine,
    crs: object,
    *,
    descriptions: tuple[str, ...] = ("4g_rsrp_dbm", "5g_rsrp_dbm"),
) -> None:
    """Write a float32 multi-band GeoTIFF with NaN as nodata."""
    count, rows, cols = bands.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=count,
        dtype="float32",
        crs=getattr(crs, "to_wkt", lambda: crs)(),
        transform=transform,
        nodata=np.nan,
        compress="deflate",
    ) as dst:
        dst.write(bands.astype(np.float32))
        for i, d in enumerate(descriptions[:count], start=1):
            dst.set_band_description(i, d)
