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

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.settings import BackhaulSettings, CostSettings, RadioSettings
from gis.terrain import Dem, sample_heights
from planning.radio._terrain_kernel import hop_clearance
from planning.radio.operators import same_ran

logger = logging.getLogger(__name__)

__all__ = [
    "REF_FREQ_MHZ",
    "Endpoints",
    "backhaul_hubs",
    "hop_band",
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
    """Ends of hops: id, position (metric CRS), antenna height above ground (m) and cost of using one (CNY)."""

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    height_m: np.ndarray
    cost_cny: np.ndarray

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


def hop_band(length_m: np.ndarray, clearance_ref: np.ndarray, settings: BackhaulSettings) -> np.ndarray:
    """Index into ``settings.microwave`` of the band each hop takes (-1: none reaches with clearance).

    Highest frequency first: a band qualifies when its ``max_hop_m`` reaches ``length_m`` and the clearance
    scaled from :data:`REF_FREQ_MHZ` (``clearance_ref x sqrt(f / f_ref)``) is at least ``clearance_f1``.
    """
    length = np.asarray(length_m, dtype=float)
    ref = np.asarray(clearance_ref, dtype=float)
    out = np.full(len(length), -1, dtype=np.int64)
    order = sorted(range(len(settings.microwave)), key=lambda k: -settings.microwave[k].freq_ghz)
    for k in order:
        band = settings.microwave[k]
        with np.errstate(invalid="ignore"):
            clear = ref * np.sqrt(band.freq_ghz * 1000.0 / REF_FREQ_MHZ) >= settings.clearance_f1  # NaN: not clear
        out[(out < 0) & (length <= band.max_hop_m) & clear] = k
    return out


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
    (``R<row>_<col>``, a new ``tower_height_m`` mast at ``relay_tower_cny``)."""
    bh = radio.backhaul
    ids: list[str] = []
    xy: list[np.ndarray] = []
    h: list[np.ndarray] = []
    cost: list[np.ndarray] = []
    minx, miny, maxx, maxy = bounds
    if bh.relays_on_towers and len(sites):
        sxy = shapely.get_coordinates(np.asarray(sites.geometry.values))
        inside = (sxy[:, 0] >= minx) & (sxy[:, 0] <= maxx) & (sxy[:, 1] >= miny) & (sxy[:, 1] <= maxy)
        keep = np.flatnonzero(inside)[_one_per_tower(sxy[inside], sites["height_m"].to_numpy(float)[inside])]
        ids += ("T:" + sites["site_id"].astype(str).iloc[keep]).tolist()
        xy.append(sxy[keep])
        h.append(sites["height_m"].to_numpy(dtype=float)[keep])
        cost.append(np.full(len(keep), costs.relay_lease_cny))
    if dem is not None:
        hp_ids, hp_xy = _block_maxima(dem, bounds, bh.relay_spacing_m)
        ids += hp_ids
        xy.append(hp_xy)
        h.append(np.full(len(hp_ids), radio.tower_height_m))
        cost.append(np.full(len(hp_ids), costs.relay_tower_cny))
    return _endpoints(ids, xy, h, np.concatenate(cost) if cost else np.zeros(0))


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


def _block_maxima(
    dem: Dem, bounds: tuple[float, float, float, float], spacing_m: float
) -> tuple[list[str], np.ndarray]:
    """The highest DEM cell (its centre) of every ``spacing_m`` square of the grid inside ``bounds``."""
    t = dem.transform
    rows, cols = dem.shape
    minx, miny, maxx, maxy = bounds
    c0, c1 = max(int((minx - t.c) / t.a), 0), min(int(np.ceil((maxx - t.c) / t.a)), cols)
    r0, r1 = max(int((maxy - t.f) / t.e), 0), min(int(np.ceil((miny - t.f) / t.e)), rows)
    step = max(round(spacing_m / abs(t.a)), 1)
    ids, out = [], []
    for r in range(r0, r1, step):
        for c in range(c0, c1, step):
            win = dem.height_m[r : min(r + step, r1), c : min(c + step, c1)]
            if not win.size or not np.isfinite(win).any():
                continue
            k = int(np.nanargmax(win))
            rr, cc = divmod(k, win.shape[1])
            ids.append(f"R{r + rr}_{c + cc}")
            out.append((t.c + (c + cc + 0.5) * t.a, t.f + (r + rr + 0.5) * t.e))
    return ids, np.asarray(out, dtype=float).reshape(-1, 2)


@dataclass(frozen=True)
class _Hops:
    """Clear hops between two sets of ends: indices, length (m), band index, clearance at the band (F1 radii)."""

    a: np.ndarray
    b: np.ndarray
    length_m: np.ndarray
    band: np.ndarray
    clearance_f1: np.ndarray


#: Hops tried per candidate (and per relay towards the hubs): the nearest hubs; relays: the highest of the nearest.
HUBS_PER_END = 16
RELAYS_NEAREST = 256
RELAYS_PER_CANDIDATE = 32


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


def _clear_hops(
    dem: Dem | None,
    ends_a: Endpoints,
    ends_b: Endpoints,
    settings: BackhaulSettings,
    *,
    nearest: int,
    keep_highest: int | None = None,
) -> _Hops:
    """Clear hops from each of ``ends_a`` to its ``nearest`` ``ends_b`` within the longest band's reach (of which only
    the ``keep_highest`` highest antennas above sea level, when given), one kernel call for all."""
    empty = np.zeros(0, dtype=np.int64)
    reach = max((b.max_hop_m for b in settings.microwave), default=0.0)
    if not len(ends_a) or not len(ends_b) or reach <= 0:
        return _Hops(empty, empty, np.zeros(0), empty, np.zeros(0))
    a, b, length = _near_pairs(ends_a, ends_b, reach, nearest)
    if keep_highest is not None and len(a):
        ground = np.nan_to_num(sample_heights(dem, ends_b.x, ends_b.y), nan=0.0) if dem is not None else 0.0
        top = -(ground + ends_b.height_m)[b]
        order = np.lexsort((top, a))
        rank = np.arange(len(order)) - np.searchsorted(a[order], a[order])
        sel = np.sort(order[rank < keep_highest])
        a, b, length = a[sel], b[sel], length[sel]
    ref = hop_clearance_f1(
        dem,
        ends_a.x[a],
        ends_a.y[a],
        ends_a.height_m[a],
        ends_b.x[b],
        ends_b.y[b],
        ends_b.height_m[b],
        k_factor=settings.k_factor,
        step_m=settings.hop_step_m,
    )
    band = hop_band(length, ref, settings)
    keep = band >= 0
    freq = np.array([m.freq_ghz for m in settings.microwave])[band[keep]]
    clearance = ref[keep] * np.sqrt(freq * 1000.0 / REF_FREQ_MHZ)
    return _Hops(a[keep], b[keep], length[keep], band[keep], clearance)


def plan_backhaul(
    cands: Endpoints,
    hubs: Endpoints,
    relays: Endpoints,
    dem: Dem | None,
    *,
    settings: BackhaulSettings,
    hop_cny: float,
) -> pd.DataFrame:
    """The cheapest clear microwave path of each candidate: one hop to a hub, else two through one relay.

    Returns
    -------
    DataFrame
        One row per candidate: ``cost_cny`` (inf: no clear path), ``hub``, ``relay`` ("" when direct), ``hops``,
        ``length_m`` (longest hop), ``band_ghz`` (its band), ``clearance_f1`` (least over the hops, F1 radii at
        each hop's band), ``capacity_mbps`` (least over the hops), ``path`` (readable hops).
    """
    direct = _clear_hops(dem, cands, hubs, settings, nearest=HUBS_PER_END)
    out = plan_backhaul_empty(len(cands))
    _take_direct(out, direct, cands, hubs, settings, hop_cny)
    todo = np.flatnonzero(~np.isfinite(out["cost_cny"].to_numpy()))
    if len(todo) and len(relays):
        sub = _subset(cands, todo)
        first = _clear_hops(dem, sub, relays, settings, nearest=RELAYS_NEAREST, keep_highest=RELAYS_PER_CANDIDATE)
        useful = np.unique(first.b)  # relays some candidate sees: only these look for a hub
        onward = _clear_hops(dem, _subset(relays, useful), hubs, settings, nearest=HUBS_PER_END)
        onward = _Hops(useful[onward.a], onward.b, onward.length_m, onward.band, onward.clearance_f1)
        _take_relayed(out, todo, first, onward, cands, hubs, relays, settings, hop_cny)
    logger.info(
        "microwave backhaul: %d candidates, %d direct, %d through a relay, %d with no clear path (%d hubs, %d relays)",
        len(cands),
        int((out["hops"] == 1).sum()),
        int((out["hops"] == 2).sum()),
        int((out["hops"] == 0).sum()),
        len(hubs),
        len(relays),
    )
    return out


def _subset(ends: Endpoints, rows: np.ndarray) -> Endpoints:
    return Endpoints(ends.ids[rows], ends.x[rows], ends.y[rows], ends.height_m[rows], ends.cost_cny[rows])


def plan_backhaul_empty(n: int) -> pd.DataFrame:
    """The frame of :func:`plan_backhaul` for ``n`` candidates none of which has a path."""
    return pd.DataFrame(
        {
            "cost_cny": np.full(n, np.inf),
            "hub": np.full(n, "", dtype=object),
            "relay": np.full(n, "", dtype=object),
            "hops": np.zeros(n, dtype=np.int64),
            "length_m": np.full(n, np.nan),
            "band_ghz": np.full(n, np.nan),
            "clearance_f1": np.full(n, np.nan),
            "capacity_mbps": np.full(n, np.nan),
            "path": np.full(n, "", dtype=object),
        }
    )


def _hop_text(a: str, b: str, length_m: float, band_ghz: float, clearance: float) -> str:
    return f"{a} -[{band_ghz:g} GHz {length_m / 1000.0:.1f} km {clearance:.2f} F1]-> {b}"


def _assign(out: pd.DataFrame, rows: list[int], values: dict[str, list]) -> None:
    """Set ``values`` (column -> one value per row) at ``rows`` of ``out``, one column at a time."""
    if rows:
        for col, vals in values.items():
            out.loc[rows, col] = vals


def _take_direct(
    out: pd.DataFrame, hops: _Hops, cands: Endpoints, hubs: Endpoints, settings: BackhaulSettings, hop_cny: float
) -> None:
    """Fill ``out`` with each candidate's shortest clear hop to a hub."""
    if not len(hops.a):
        return
    order = np.lexsort((hops.length_m, hops.a))
    first = order[np.r_[True, np.diff(hops.a[order]) != 0]]
    bands = [settings.microwave[int(b)] for b in hops.band[first]]
    rows = hops.a[first].astype(int).tolist()
    hub = [str(h) for h in hubs.ids[hops.b[first]]]
    length, clear = hops.length_m[first], hops.clearance_f1[first]
    _assign(
        out,
        rows,
        {
            "cost_cny": [hop_cny] * len(rows),
            "hub": hub,
            "hops": [1] * len(rows),
            "length_m": length.tolist(),
            "band_ghz": [b.freq_ghz for b in bands],
            "clearance_f1": clear.tolist(),
            "capacity_mbps": [b.capacity_mbps for b in bands],
            "path": [
                _hop_text(str(cands.ids[i]), h, n, b.freq_ghz, c)
                for i, h, n, b, c in zip(rows, hub, length, bands, clear, strict=True)
            ],
        },
    )


def _take_relayed(
    out: pd.DataFrame,
    todo: np.ndarray,
    first: _Hops,
    onward: _Hops,
    cands: Endpoints,
    hubs: Endpoints,
    relays: Endpoints,
    settings: BackhaulSettings,
    hop_cny: float,
) -> None:
    """Fill ``out`` for candidates ``todo`` with the cheapest candidate-relay-hub path (then the shortest longest
    hop)."""
    if not len(first.a) or not len(onward.a):
        return
    best_on = pd.DataFrame({"r": onward.a, "k": np.arange(len(onward.a)), "len": onward.length_m})
    best_on = best_on.sort_values(["r", "len"]).drop_duplicates("r").set_index("r")["k"]
    f = np.flatnonzero(np.isin(first.b, best_on.index.to_numpy()))
    if not len(f):
        return
    on = best_on.reindex(first.b[f]).to_numpy(dtype=np.int64)
    cost = 2.0 * hop_cny + relays.cost_cny[first.b[f]]
    longest = np.maximum(first.length_m[f], onward.length_m[on])
    order = np.lexsort((longest, cost, first.a[f]))
    pick = order[np.r_[True, np.diff(first.a[f][order]) != 0]]
    h1, h2 = f[pick], on[pick]
    b1 = [settings.microwave[int(b)] for b in first.band[h1]]
    b2 = [settings.microwave[int(b)] for b in onward.band[h2]]
    rows = todo[first.a[h1]].astype(int).tolist()
    relay = [str(r) for r in relays.ids[first.b[h1]]]
    hub = [str(h) for h in hubs.ids[onward.b[h2]]]
    l1, l2 = first.length_m[h1], onward.length_m[h2]
    c1, c2 = first.clearance_f1[h1], onward.clearance_f1[h2]
    path = [
        _hop_text(str(cands.ids[i]), r, l1[k], b1[k].freq_ghz, c1[k])
        + "; "
        + _hop_text(r, h, l2[k], b2[k].freq_ghz, c2[k])
        for k, (i, r, h) in enumerate(zip(rows, relay, hub, strict=True))
    ]
    _assign(
        out,
        rows,
        {
            "cost_cny": cost[pick].tolist(),
            "hub": hub,
            "relay": relay,
            "hops": [2] * len(rows),
            "length_m": np.maximum(l1, l2).tolist(),
            "band_ghz": [x.freq_ghz if a >= b else y.freq_ghz for x, y, a, b in zip(b1, b2, l1, l2, strict=True)],
            "clearance_f1": np.minimum(c1, c2).tolist(),
            "capacity_mbps": [min(x.capacity_mbps, y.capacity_mbps) for x, y in zip(b1, b2, strict=True)],
            "path": path,
        },
    )
