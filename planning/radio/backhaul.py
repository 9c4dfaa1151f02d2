"""Microwave backhaul on the DEM: line of sight with Fresnel clearance, hop length per band, hubs with fibre and
relays on high points or existing towers.

A hop between two antennas is **clear** when, along the DEM profile with the earth bulge of an effective radius
``k x 6371 km`` (ITU-R P.530-18 §2.2.2.1: k = 4/3 for the median refractivity gradient), every terrain point stays at
least ``clearance_f1`` (60 %) of the first Fresnel zone radius ``sqrt(lambda d1 d2 / d)`` below the line between
the antennas (:func:`hop_clearance_f1`, the numba kernel :func:`planning.radio._terrain_kernel.hop_clearance`,
which walks the profile with the coverage kernel's ``_profile`` and ``_main_edge``). The clearance is computed once
at 1 GHz and scaled to each band (the Fresnel radius goes as ``1/sqrt(f)``).

A hop takes the highest band whose planned hop length reaches and whose clearance holds (:func:`hop_band`):
higher bands have smaller dishes and more capacity, lower bands reach farther (rain fading, ITU-R P.530).

Far ends (:func:`backhaul_hubs`): sites with fibre backhaul of the planner's RAN group (``hubs = "own_fibre"``) or
of anyone (``"any_fibre"``), and fibre nodes. Relays (:func:`relay_points`): existing towers (every tower is taken
as a China Tower site the planner may lease on, ``relays_on_towers``) and the highest DEM cell of every
``relay_spacing_m`` square (a new mast). :func:`plan_backhaul` gives each candidate its cheapest clear path: one
hop to a hub, or two through one relay. To bound the work on a province, a candidate tries its 16 nearest hubs, and
the 32 highest of its 256 nearest relays; a relay it sees tries its 16 nearest hubs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from gis.settings import BackhaulSettings, CostSettings, RadioSettings
from gis.terrain import Dem, sample_heights
from planning.radio._terrain_kernel import hop_clearance
from planning.radio.clutter import read_clutter, sample_classes
from planning.radio.microwave import HopRadio, choose_radio, clear_by_rule, k_low
from planning.radio.operators import same_ran

logger = logging.getLogger(__name__)

__all__ = [
    "REF_FREQ_MHZ",
    "Endpoints",
    "Terrain",
    "backhaul_hubs",
    "canopy_grid",
    "choose_radio_empty",
    "hop_clearance_f1",
    "plan_backhaul",
    "plan_backhaul_empty",
    "relay_points",
]

#: Frequency at which the clearance is computed before scaling to each band.
REF_FREQ_MHZ = 1000.0
_C_M_S = 299_792_458.0
_R_EARTH_M = 6_371_000.0
#: Points closer than this are one tower (no hop between them).
SAME_TOWER_M = 50.0


@dataclass(frozen=True)
class Endpoints:
    """Ends of hops: id, position (metric CRS), antenna height above ground (m), cost of using one (CNY) and
    whether it is a new mast (its height then chosen from ``relay_masts``; default none)."""

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    height_m: np.ndarray
    cost_cny: np.ndarray
    new_mast: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if len(self.new_mast) != len(self.ids):
            object.__setattr__(self, "new_mast", np.zeros(len(self.ids), dtype=bool))

    def __len__(self) -> int:
        return len(self.ids)


def hop_clearance_f1(
    dem: Dem | None,
    ax: np.ndarray,
    ay: np.ndarray,
    ha: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    hb: np.ndarray,
    *,
    k_factor: float,
    step_m: float,
    freq_mhz: float = REF_FREQ_MHZ,
) -> np.ndarray:
    """Least clearance of each hop a-b in first-Fresnel-zone radii at ``freq_mhz`` (>= 0.6: clear by the usual
    rule; < 0: the terrain cuts the line of sight; NaN where the profile leaves the DEM).

    Without a DEM the ground is a smooth sphere at 0 m (earth bulge only). Antenna heights above ground.
    """
    ax, ay, bx, by = (np.ascontiguousarray(a, dtype=float) for a in (ax, ay, bx, by))
    ha = np.ascontiguousarray(np.broadcast_to(np.asarray(ha, dtype=float), ax.shape))
    hb = np.ascontiguousarray(np.broadcast_to(np.asarray(hb, dtype=float), ax.shape))
    if not len(ax):
        return np.zeros(0)
    if dem is not None:
        t = dem.transform
        out, _ = hop_clearance(dem.height_m, t.c, t.f, t.a, t.e, ax, ay, bx, by, ha, hb, step_m, k_factor, freq_mhz)
        return out
    d = np.hypot(bx - ax, by - ay)[:, None]
    frac = np.linspace(0.0, 1.0, 65)[None, 1:-1]
    d1, d2 = d * frac, d * (1.0 - frac)
    bulge = d1 * d2 / (2.0 * k_factor * _R_EARTH_M)
    line = ha[:, None] + (hb - ha)[:, None] * frac
    r1 = np.sqrt(_C_M_S / (freq_mhz * 1e6) * d1 * d2 / np.maximum(d, 1e-9))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(r1 > 0, (line - bulge) / r1, np.inf)
    return ratio.min(axis=1)


def backhaul_hubs(
    sites: gpd.GeoDataFrame,
    *,
    operator: str,
    radio: RadioSettings,
    fibre_nodes: gpd.GeoDataFrame | None = None,
) -> Endpoints:
    """Far ends with fibre: sites whose ``backhaul`` is ``fibre`` (of the planner's RAN group with ``hubs =
    "own_fibre"``, of anyone with ``"any_fibre"``; all sites count as the planner's when ``operator`` is empty),
    one per tower (the tallest), and fibre nodes (``node:<node_id>``, a mast of ``tower_height_m``)."""
    ids, xy, h = [], [], []
    if len(sites) and "backhaul" in sites:
        fib = (sites["backhaul"].astype(object) == "fibre").to_numpy(copy=True)
        if radio.backhaul.hubs == "own_fibre" and operator:
            ops = sites["operator"].astype(object).to_numpy() if "operator" in sites else np.full(len(sites), None)
            fib &= same_ran(radio, ops, operator)
        hub = sites[fib]
        keep = _one_per_tower(shapely.get_coordinates(np.asarray(hub.geometry.values)), hub["height_m"].to_numpy(float))
        hub = hub.iloc[keep]
        ids += hub["site_id"].astype(str).tolist()
        xy.append(shapely.get_coordinates(np.asarray(hub.geometry.values)))
        h.append(hub["height_m"].to_numpy(dtype=float))
    if fibre_nodes is not None and len(fibre_nodes):
        ids += ("node:" + fibre_nodes["node_id"].astype(str)).tolist()
        xy.append(shapely.get_coordinates(np.asarray(fibre_nodes.geometry.values)))
        h.append(np.full(len(fibre_nodes), radio.tower_height_m))
    return _endpoints(ids, xy, h, np.zeros(len(ids)))


def relay_points(
    sites: gpd.GeoDataFrame,
    dem: Dem | None,
    *,
    bounds: tuple[float, float, float, float],
    radio: RadioSettings,
    costs: CostSettings,
) -> Endpoints:
    """Relay candidates inside ``bounds``: existing towers (``T:<site_id>``, at the tallest site's height, leased at
    ``relay_lease_cny``) when ``relays_on_towers``, and the highest DEM cell of every ``relay_spacing_m`` square
    of a grid aligned on the CRS origin (a new mast whose height is chosen from ``relay_masts``; id
    ``R<x>_<y>``: the cell centre's projected coordinates in whole metres, so that neither the id nor the square
    depends on the DEM window)."""
    bh = radio.backhaul
    ids: list[str] = []
    xy: list[np.ndarray] = []
    h: list[np.ndarray] = []
    cost: list[np.ndarray] = []
    mast: list[np.ndarray] = []
    minx, miny, maxx, maxy = bounds
    if bh.relays_on_towers and len(sites):
        sxy = shapely.get_coordinates(np.asarray(sites.geometry.values))
        inside = (sxy[:, 0] >= minx) & (sxy[:, 0] <= maxx) & (sxy[:, 1] >= miny) & (sxy[:, 1] <= maxy)
        keep = np.flatnonzero(inside)[_one_per_tower(sxy[inside], sites["height_m"].to_numpy(float)[inside])]
        ids += ("T:" + sites["site_id"].astype(str).iloc[keep]).tolist()
        xy.append(sxy[keep])
        h.append(sites["height_m"].to_numpy(dtype=float)[keep])
        cost.append(np.full(len(keep), costs.relay_lease_cny))
        mast.append(np.zeros(len(keep), dtype=bool))
    if dem is not None:
        hp_xy = _block_maxima(dem, bounds, bh.relay_spacing_m)
        ids += [f"R{round(x):d}_{round(y):d}" for x, y in hp_xy]
        xy.append(hp_xy)
        h.append(np.full(len(hp_xy), np.nan))
        cost.append(np.zeros(len(hp_xy)))
        mast.append(np.ones(len(hp_xy), dtype=bool))
    ends = _endpoints(ids, xy, h, np.concatenate(cost) if cost else np.zeros(0))
    return replace(ends, new_mast=np.concatenate(mast) if mast else np.zeros(0, dtype=bool))


def _endpoints(ids: list[str], xy: list[np.ndarray], h: list[np.ndarray], cost: np.ndarray) -> Endpoints:
    pts = np.vstack(xy) if xy else np.zeros((0, 2))
    return Endpoints(
        ids=np.asarray(ids, dtype=object),
        x=pts[:, 0],
        y=pts[:, 1],
        height_m=np.concatenate(h) if h else np.zeros(0),
        cost_cny=np.asarray(cost, dtype=float),
    )


def _one_per_tower(xy: np.ndarray, height_m: np.ndarray) -> np.ndarray:
    """Indices of one point per tower (within :data:`SAME_TOWER_M`), the tallest, in input order."""
    if not len(xy):
        return np.zeros(0, dtype=np.int64)
    tree = cKDTree(xy)
    taken = np.zeros(len(xy), dtype=bool)
    keep = []
    for i in np.argsort(-height_m, kind="stable"):
        if not taken[i]:
            taken[tree.query_ball_point(xy[i], SAME_TOWER_M)] = True
            keep.append(i)
    return np.sort(np.asarray(keep, dtype=np.int64))


def _block_maxima(dem: Dem, bounds: tuple[float, float, float, float], spacing_m: float) -> np.ndarray:
    """The highest DEM cell (its centre) of every ``spacing_m`` square, squares aligned on the CRS origin, among
    the cells whose centre lies inside ``bounds``; ties to the west-most, then the south-most; (n, 2) x, y (m)
    ordered by square (west to east, then south to north within a column of squares).

    A square's cells are a block of whole rows and columns of the grid, so the maxima are two ``reduceat``
    passes and only the cells at their square's maximum are sorted (the 10,000-village bench's 3,581 x 3,581
    DEM: 0.1 s, where sorting every cell took 3.6 s; bench/RESULTS.md)."""
    t = dem.transform
    rows, cols = dem.shape
    minx, miny, maxx, maxy = bounds
    c0, c1 = max(int((minx - t.c) / t.a), 0), min(int(np.ceil((maxx - t.c) / t.a)), cols)
    r0, r1 = max(int((maxy - t.f) / t.e), 0), min(int(np.ceil((miny - t.f) / t.e)), rows)
    cx = t.c + (np.arange(c0, c1) + 0.5) * t.a  # empty where the bounds miss the grid
    cy = t.f + (np.arange(r0, r1) + 0.5) * t.e
    cin = np.flatnonzero((cx >= minx) & (cx <= maxx))  # centres run one way: a contiguous range
    rin = np.flatnonzero((cy >= miny) & (cy <= maxy))
    if not len(cin) or not len(rin):
        return np.zeros((0, 2))
    cx, cy = cx[cin[0] : cin[-1] + 1], cy[rin[0] : rin[-1] + 1]
    z = dem.height_m[r0 + rin[0] : r0 + rin[-1] + 1, c0 + cin[0] : c0 + cin[-1] + 1].astype(float)
    z[~np.isfinite(z)] = -np.inf
    kx, ky = np.floor(cx / spacing_m), np.floor(cy / spacing_m)
    col_start = np.flatnonzero(np.r_[True, np.diff(kx) != 0])
    row_start = np.flatnonzero(np.r_[True, np.diff(ky) != 0])
    top = np.maximum.reduceat(np.maximum.reduceat(z, col_start, axis=1), row_start, axis=0)
    col_block = np.repeat(np.arange(len(col_start)), np.diff(np.r_[col_start, len(cx)]))
    row_block = np.repeat(np.arange(len(row_start)), np.diff(np.r_[row_start, len(cy)]))
    r, c = np.nonzero((z == top[row_block][:, col_block]) & np.isfinite(z))
    gx, gy = cx[c], cy[r]
    key = kx[c] * 1e7 + ky[r]
    order = np.lexsort((gy, gx, key))  # per square (all at its maximum): west-most, then south-most
    first = order[np.r_[True, np.diff(key[order]) != 0]] if len(order) else order
    return np.column_stack([gx[first], gy[first]])


@dataclass(frozen=True)
class _Hops:
    """Hops between two sets of ends that some band may take: indices, length (m), antenna heights above ground
    at the a and b ends (m; a new mast at the lowest height that clears), least clearance at 1 GHz at the median
    k and at k_e 99.9 % (F1 radii, clutter included) and the radio chosen (:class:`HopRadio`)."""

    a: np.ndarray
    b: np.ndarray
    length_m: np.ndarray
    height_a_m: np.ndarray
    height_b_m: np.ndarray
    median_ref: np.ndarray
    low_ref: np.ndarray
    radio: pd.DataFrame

    def take(self, rows: np.ndarray) -> _Hops:
        return _Hops(
            self.a[rows],
            self.b[rows],
            self.length_m[rows],
            self.height_a_m[rows],
            self.height_b_m[rows],
            self.median_ref[rows],
            self.low_ref[rows],
            self.radio.iloc[rows].reset_index(drop=True),
        )

    def clearance_f1(self, rows: np.ndarray) -> np.ndarray:
        """Least clearance at the median k in F1 radii at each hop's band."""
        return self.median_ref[rows] * np.sqrt(self.radio["band_ghz"].to_numpy(dtype=float)[rows])


#: Hops tried per candidate (and per relay towards the hubs): the nearest hubs; relays: the highest of the nearest.
HUBS_PER_END = 16
RELAYS_NEAREST = 256
RELAYS_PER_CANDIDATE = 32


@dataclass(frozen=True)
class Terrain:
    """What a hop's profile crosses: the DEM (None: a smooth earth) and the clutter height on its grid (None:
    none), and the metric CRS of the ends (for the midpoints' latitude and longitude; None: the DEM's)."""

    dem: Dem | None
    canopy: Dem | None = None
    crs: object = None

    def surface(self) -> Dem | None:
        """The DEM with the clutter on top."""
        if self.dem is None or self.canopy is None:
            return self.dem
        return replace(self.dem, height_m=self.dem.height_m + self.canopy.height_m)

    def canopy_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Clutter height under points (bilinear, as the profile kernel samples it; 0 off the grid)."""
        if self.canopy is None:
            return np.zeros(len(x))
        return np.nan_to_num(sample_heights(self.canopy, x, y), nan=0.0)

    def ground_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.dem is None:
            return np.zeros(len(x))
        return np.nan_to_num(sample_heights(self.dem, x, y), nan=0.0)

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crs = self.crs if self.crs is not None else (self.dem.crs if self.dem is not None else None)
        if crs is None or not len(x):
            return np.full(len(x), 41.8), np.full(len(x), 127.2)
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def canopy_grid(dem: Dem | None, radio: RadioSettings) -> Dem | None:
    """Clutter height (m) on the DEM's grid for hop clearance: each cell's class in ``[radio] clutter_path``
    through ``[radio.backhaul] canopy`` (no raster, no class or no row: ``canopy_default_m``); None without a DEM
    or when every height is 0."""
    bh = radio.backhaul
    if dem is None:
        return None
    heights = np.full(dem.shape, bh.canopy_default_m, dtype=np.float32)
    if radio.clutter_path:
        rows, cols = dem.shape
        t = dem.transform
        cx = t.c + (np.arange(cols) + 0.5) * t.a
        cy = t.f + (np.arange(rows) + 0.5) * t.e
        gx, gy = np.meshgrid(cx, cy)
        grid = read_clutter(radio.clutter_path, crs=dem.crs, bounds=dem.bounds, resolution_m=abs(t.a))
        classes = sample_classes(grid, gx.ravel(), gy.ravel())
        table = {c.code: c.height_m for c in bh.canopy}
        mapped = pd.Series(classes).map(table).to_numpy(dtype=float)
        heights = np.where(np.isnan(mapped), bh.canopy_default_m, mapped).reshape(dem.shape).astype(np.float32)
    if not np.any(heights > 0):
        return None
    return replace(dem, height_m=heights)


def _ref_clearances(
    terrain: Terrain,
    surface: Dem | None,
    a: tuple[np.ndarray, np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray, np.ndarray],
    length_m: np.ndarray,
    settings: BackhaulSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Least clearance at 1 GHz (F1 radii) over terrain and clutter at the median k and at k_e 99.9 % (grouped by
    k_e to 0.01), antenna heights above ground (the kernel stands them on the clutter: it is taken off)."""
    (ax, ay, ha), (bx, by, hb) = a, b
    ha = ha - terrain.canopy_at(ax, ay)
    hb = hb - terrain.canopy_at(bx, by)
    kw = {"step_m": settings.hop_step_m}
    med = hop_clearance_f1(surface, ax, ay, ha, bx, by, hb, k_factor=settings.k_factor, **kw)
    low = np.full(len(ax), np.nan)
    ke = np.round(k_low(length_m, settings), 2)
    for k in np.unique(ke):
        r = np.flatnonzero(ke == k)
        low[r] = hop_clearance_f1(surface, ax[r], ay[r], ha[r], bx[r], by[r], hb[r], k_factor=float(k), **kw)
    return med, low


def _band_ok(length_m: np.ndarray, med: np.ndarray, low: np.ndarray, settings: BackhaulSettings) -> np.ndarray:
    """(hops, bands): within the band's reach and clear by P.530's rule at its frequency."""
    cols = [
        (length_m <= band.max_hop_m) & clear_by_rule(med, low, band.freq_ghz, settings) for band in settings.microwave
    ]
    return np.column_stack(cols) if cols else np.zeros((len(length_m), 0), dtype=bool)


def _near_pairs(
    ends_a: Endpoints, ends_b: Endpoints, reach: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, distance) of the ``k`` nearest ``ends_b`` within ``reach`` of each of ``ends_a`` (not on one tower)."""
    k = min(k, len(ends_b))
    dist, idx = cKDTree(np.column_stack([ends_b.x, ends_b.y])).query(
        np.column_stack([ends_a.x, ends_a.y]), k=k, distance_upper_bound=reach
    )
    dist, idx = dist.reshape(len(ends_a), k), idx.reshape(len(ends_a), k)
    ok = (idx < len(ends_b)) & (dist >= SAME_TOWER_M)
    a = np.broadcast_to(np.arange(len(ends_a))[:, None], idx.shape)[ok]
    return a.astype(np.int64), idx[ok].astype(np.int64), dist[ok]


def _pairs(
    terrain: Terrain, ends_a: Endpoints, ends_b: Endpoints, reach: float, nearest: int, keep_highest: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs to try: each of ``ends_a`` with its ``nearest`` ``ends_b`` within ``reach`` (of which only the
    ``keep_highest`` highest above sea level, when given)."""
    a, b, length = _near_pairs(ends_a, ends_b, reach, nearest)
    if keep_highest is not None and len(a):
        top = -(terrain.ground_at(ends_b.x, ends_b.y) + np.nan_to_num(ends_b.height_m, nan=0.0))[b]
        order = np.lexsort((top, a))
        rank = np.arange(len(order)) - np.searchsorted(a[order], a[order])
        sel = np.sort(order[rank < keep_highest])
        a, b, length = a[sel], b[sel], length[sel]
    return a, b, length


def _clear_hops(
    terrain: Terrain,
    ends_a: Endpoints,
    ends_b: Endpoints,
    settings: BackhaulSettings,
    *,
    needed_mbps: np.ndarray,
    nearest: int,
    keep_highest: int | None = None,
) -> _Hops:
    """Hops from each of ``ends_a`` to its ``nearest`` ``ends_b`` within the longest band's reach that clear P.530's
    rule (a new mast at the lowest of ``relay_masts`` that clears) and carry ``needed_mbps`` (per end of a) at the
    availability target, with the cheapest radio of each."""
    empty = np.zeros(0, dtype=np.int64)
    reach = max((b.max_hop_m for b in settings.microwave), default=0.0)
    if not len(ends_a) or not len(ends_b) or reach <= 0:
        return _Hops(empty, empty, *(np.zeros(0),) * 5, choose_radio_empty())
    a, b, length = _pairs(terrain, ends_a, ends_b, reach, nearest, keep_highest)
    surface = terrain.surface()
    mast = ends_a.new_mast[a] | ends_b.new_mast[b]
    heights = sorted(m.height_m for m in settings.relay_masts) or [np.nan]
    ha, hb = ends_a.height_m[a].copy(), ends_b.height_m[b].copy()
    med, low = np.full(len(a), np.nan), np.full(len(a), np.nan)
    todo = np.arange(len(a))
    for k, h in enumerate(heights):
        ha[todo] = np.where(ends_a.new_mast[a[todo]], h, ha[todo])
        hb[todo] = np.where(ends_b.new_mast[b[todo]], h, hb[todo])
        pa = (ends_a.x[a[todo]], ends_a.y[a[todo]], ha[todo])
        pb = (ends_b.x[b[todo]], ends_b.y[b[todo]], hb[todo])
        med[todo], low[todo] = _ref_clearances(terrain, surface, pa, pb, length[todo], settings)
        ok = _band_ok(length[todo], med[todo], low[todo], settings).any(axis=1)
        todo = todo[~ok & mast[todo]] if k + 1 < len(heights) else todo[:0]
        if not len(todo):
            break
    band_ok = _band_ok(length, med, low, settings)
    keep = np.flatnonzero(band_ok.any(axis=1))
    a, b, length, ha, hb, med, low = (v[keep] for v in (a, b, length, ha, hb, med, low))
    mx, my = (ends_a.x[a] + ends_b.x[b]) / 2.0, (ends_a.y[a] + ends_b.y[b]) / 2.0
    lon, lat = terrain.lonlat(mx, my)
    za = terrain.ground_at(ends_a.x[a], ends_a.y[a]) + ha
    zb = terrain.ground_at(ends_b.x[b], ends_b.y[b]) + hb
    radio = choose_radio(
        length,
        band_ok[keep],
        np.asarray(needed_mbps, dtype=float)[a],
        lat_deg=lat,
        lon_deg=lon,
        h_a_asl_m=za,
        h_b_asl_m=zb,
        settings=settings,
    ).frame()
    hops = _Hops(a, b, length, ha, hb, med, low, radio)
    return hops.take(np.flatnonzero(np.isfinite(radio["cost_cny"].to_numpy())))


def choose_radio_empty() -> pd.DataFrame:
    """The radio table of no hop."""
    return HopRadio(*(np.zeros(0),) * 3, np.zeros(0, dtype=object), *(np.zeros(0),) * 5).frame()


def plan_backhaul(
    cands: Endpoints,
    hubs: Endpoints,
    relays: Endpoints,
    terrain: Terrain,
    *,
    settings: BackhaulSettings,
    needed_mbps: np.ndarray,
    mast_cny: dict[float, float] | None = None,
) -> pd.DataFrame:
    """The cheapest microwave path of each candidate that clears P.530's rule (terrain and clutter) and carries
    ``needed_mbps`` at the availability target: one hop to a hub, else two through one relay.

    Returns
    -------
    DataFrame
        One row per candidate (:func:`plan_backhaul_empty`): ``cost_cny`` (inf: no path; radios, dishes,
        installation and the relay), ``hub``, ``relay`` ("" when direct) with ``relay_x``/``relay_y`` (metric CRS),
        ``relay_height_m`` and ``relay_cny`` (its mast or lease), ``hops``, ``length_m`` (longest hop),
        ``band_ghz`` (its band), ``clearance_f1`` (least over the hops at the median k, F1 radii at each hop's
        band), ``availability_pct`` (least), ``capacity_mbps`` (least), ``dish_m`` (largest), ``path`` (readable
        hops) and ``hops_json`` (every hop: ends, positions, heights, band, dish, channel, modulation, length,
        clearances, fade margin, availability, capacity, price).
    """
    masts = mast_cny if mast_cny is not None else {m.height_m: m.cost_cny for m in settings.relay_masts}
    need = np.broadcast_to(np.asarray(needed_mbps, dtype=float), (len(cands),))
    direct = _clear_hops(terrain, cands, hubs, settings, needed_mbps=need, nearest=HUBS_PER_END)
    out = plan_backhaul_empty(len(cands))
    _take_direct(out, direct, cands, hubs)
    todo = np.flatnonzero(~np.isfinite(out["cost_cny"].to_numpy()))
    if len(todo) and len(relays):
        sub = _subset(cands, todo)
        first = _clear_hops(
            terrain,
            sub,
            relays,
            settings,
            needed_mbps=need[todo],
            nearest=RELAYS_NEAREST,
            keep_highest=RELAYS_PER_CANDIDATE,
        )
        for level in np.unique(need[todo][first.a]) if len(first.a) else []:
            mine = np.flatnonzero(need[todo][first.a] == level)
            useful = np.unique(first.b[mine])  # relays some candidate sees: only these look for a hub
            onward = _clear_hops(
                terrain, _subset(relays, useful), hubs, settings, needed_mbps=np.full(len(useful), level), nearest=16
            )
            onward = replace(onward, a=useful[onward.a])
            _take_relayed(out, todo, first.take(mine), onward, cands, hubs, relays, masts)
    logger.info(
        "microwave backhaul: %d candidates, %d direct, %d through a relay, %d with no path (%d hubs, %d relays)",
        len(cands),
        int((out["hops"] == 1).sum()),
        int((out["hops"] == 2).sum()),
        int((out["hops"] == 0).sum()),
        len(hubs),
        len(relays),
    )
    return out


def _subset(ends: Endpoints, rows: np.ndarray) -> Endpoints:
    return Endpoints(
        ends.ids[rows], ends.x[rows], ends.y[rows], ends.height_m[rows], ends.cost_cny[rows], ends.new_mast[rows]
    )


_NUM_COLS = (
    "relay_x",
    "relay_y",
    "relay_height_m",
    "relay_cny",
    "length_m",
    "band_ghz",
    "clearance_f1",
    "availability_pct",
    "capacity_mbps",
    "dish_m",
)


def plan_backhaul_empty(n: int) -> pd.DataFrame:
    """The frame of :func:`plan_backhaul` for ``n`` candidates none of which has a path."""
    out = pd.DataFrame(
        {
            "cost_cny": np.full(n, np.inf),
            "hub": np.full(n, "", dtype=object),
            "relay": np.full(n, "", dtype=object),
            "hops": np.zeros(n, dtype=np.int64),
        }
    )
    for col in _NUM_COLS:
        out[col] = np.full(n, np.nan)
    out["path"] = np.full(n, "", dtype=object)
    out["hops_json"] = np.full(n, "", dtype=object)
    return out


def _hop_record(hops: _Hops, k: int, ends_a: Endpoints, ends_b: Endpoints, i: int, j: int) -> dict[str, object]:
    """One hop as plain values (for ``hops_json`` and the map)."""
    r = hops.radio.iloc[k]
    f = float(r["band_ghz"])
    return {
        "from": str(ends_a.ids[i]),
        "to": str(ends_b.ids[j]),
        "x0": round(float(ends_a.x[i]), 1),
        "y0": round(float(ends_a.y[i]), 1),
        "x1": round(float(ends_b.x[j]), 1),
        "y1": round(float(ends_b.y[j]), 1),
        "height_from_m": float(hops.height_a_m[k]),
        "height_to_m": float(hops.height_b_m[k]),
        "band_ghz": f,
        "length_m": round(float(hops.length_m[k]), 1),
        "clearance_f1": round(float(hops.median_ref[k] * np.sqrt(f)), 3),
        "clearance_low_f1": round(float(hops.low_ref[k] * np.sqrt(f)), 3),
        "dish_m": float(r["dish_m"]),
        "channel_mhz": float(r["channel_mhz"]),
        "modulation": str(r["modulation"]),
        "capacity_mbps": round(float(r["capacity_mbps"]), 1),
        "margin_db": round(float(r["margin_db"]), 2),
        "rain001_db": round(float(r["rain001_db"]), 2),
        "availability_pct": round(float(r["availability_pct"]), 5),
        "cost_cny": float(r["cost_cny"]),
    }


def _hop_text(rec: dict[str, object]) -> str:
    return (
        f"{rec['from']} -[{rec['band_ghz']:g} GHz {float(rec['length_m']) / 1000.0:.1f} km "  # type: ignore[arg-type]
        f"{rec['clearance_f1']:.2f} F1 {rec['dish_m']:g} m {rec['availability_pct']:.3f} %]-> {rec['to']}"
    )


def _assign(out: pd.DataFrame, rows: list[int], values: dict[str, list]) -> None:
    """Set ``values`` (column -> one value per row) at ``rows`` of ``out``, one column at a time."""
    if rows:
        for col, vals in values.items():
            out.loc[rows, col] = vals


def _summary(recs: list[dict[str, object]]) -> dict[str, object]:
    """Per-path columns from its hops' records."""
    longest = max(recs, key=lambda r: float(r["length_m"]))  # type: ignore[arg-type]
    return {
        "hops": len(recs),
        "length_m": float(longest["length_m"]),  # type: ignore[arg-type]
        "band_ghz": float(longest["band_ghz"]),  # type: ignore[arg-type]
        "clearance_f1": min(float(r["clearance_f1"]) for r in recs),  # type: ignore[arg-type]
        "availability_pct": min(float(r["availability_pct"]) for r in recs),  # type: ignore[arg-type]
        "capacity_mbps": min(float(r["capacity_mbps"]) for r in recs),  # type: ignore[arg-type]
        "dish_m": max(float(r["dish_m"]) for r in recs),  # type: ignore[arg-type]
        "path": "; ".join(_hop_text(r) for r in recs),
        "hops_json": json.dumps(recs, ensure_ascii=False),
    }


def _take_direct(out: pd.DataFrame, hops: _Hops, cands: Endpoints, hubs: Endpoints) -> None:
    """Fill ``out`` with each candidate's cheapest hop to a hub (then the shortest)."""
    if not len(hops.a):
        return
    cost = hops.radio["cost_cny"].to_numpy(dtype=float)
    order = np.lexsort((hops.length_m, cost, hops.a))
    first = order[np.r_[True, np.diff(hops.a[order]) != 0]]
    rows = hops.a[first].astype(int).tolist()
    summ = [_summary([_hop_record(hops, k, cands, hubs, int(hops.a[k]), int(hops.b[k]))]) for k in first]
    values: dict[str, list] = {key: [s[key] for s in summ] for key in summ[0]}
    values |= {"cost_cny": cost[first].tolist(), "hub": [str(h) for h in hubs.ids[hops.b[first]]]}
    _assign(out, rows, values)


def _take_relayed(
    out: pd.DataFrame,
    todo: np.ndarray,
    first: _Hops,
    onward: _Hops,
    cands: Endpoints,
    hubs: Endpoints,
    relays: Endpoints,
    mast_cny: dict[float, float],
) -> None:
    """Fill ``out`` for candidates ``todo`` with the cheapest candidate-relay-hub path (then the shortest longest
    hop): both hops' radios and the relay (a new mast at the taller of the two hops' heights, or the lease)."""
    if not len(first.a) or not len(onward.a):
        return
    on_cost = onward.radio["cost_cny"].to_numpy(dtype=float)
    best_on = pd.DataFrame({"r": onward.a, "k": np.arange(len(onward.a)), "c": on_cost, "len": onward.length_m})
    best_on = best_on.sort_values(["r", "c", "len"]).drop_duplicates("r").set_index("r")["k"]
    f = np.flatnonzero(np.isin(first.b, best_on.index.to_numpy()))
    if not len(f):
        return
    on = best_on.reindex(first.b[f]).to_numpy(dtype=np.int64)
    rel = first.b[f]
    mast_h = np.maximum(first.height_b_m[f], onward.height_a_m[on])
    relay_cny = np.where(relays.new_mast[rel], [mast_cny.get(float(h), np.inf) for h in mast_h], relays.cost_cny[rel])
    cost = first.radio["cost_cny"].to_numpy(dtype=float)[f] + on_cost[on] + relay_cny
    longest = np.maximum(first.length_m[f], onward.length_m[on])
    order = np.lexsort((longest, cost, first.a[f]))
    pick = order[np.r_[True, np.diff(first.a[f][order]) != 0]]
    rows = todo[first.a[f[pick]]].astype(int).tolist()
    summ = []
    for p in pick:
        h1, h2, r = f[p], on[p], int(rel[p])
        rec1 = _hop_record(first, h1, cands, relays, int(todo[first.a[h1]]), r)
        rec2 = _hop_record(onward, h2, relays, hubs, r, int(onward.b[h2]))
        rec1["height_to_m"] = rec2["height_from_m"] = float(mast_h[p])
        summ.append(_summary([rec1, rec2]))
    values: dict[str, list] = {key: [s[key] for s in summ] for key in summ[0]}
    values |= {
        "cost_cny": cost[pick].tolist(),
        "hub": [str(hubs.ids[onward.b[on[p]]]) for p in pick],
        "relay": [str(relays.ids[rel[p]]) for p in pick],
        "relay_x": relays.x[rel[pick]].tolist(),
        "relay_y": relays.y[rel[pick]].tolist(),
        "relay_height_m": mast_h[pick].tolist(),
        "relay_cny": relay_cny[pick].tolist(),
    }
    _assign(out, rows, values)
