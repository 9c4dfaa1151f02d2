"""Candidate interventions with costs, and which demands each would serve (the optimiser's sparse matrix).

Demands (one row per village or school the gap analysis found lacking):

* a village lacking broadband (``need = broadband``), weighted by population, x ``poor_village_weight`` when it
  is a registered poor village;
* a school not connected or below the outlet target (``need = outlet``), weighted ``school_weight`` (x
  ``teaching_point_weight`` for teaching points); schools are must-cover in the optimiser.

Candidates:

* ``fibre``: fibre extension to one village or school (cost from the fibre reach model, shared trenches are
  re-priced by :mod:`planning.proposal`); serves that point (broadband; a school at the fibre tier).
* ``new_site``: a 4G macro site at a given candidate point (``candidates`` layer, ``kind = new_site``), at each
  unserved village (``village``) and at the highest DEM point within 3 km of unserved demand (``high_point``),
  with backhaul by fibre (when the extension costs less than a microwave hop), microwave (an existing site within
  40 km) or satellite (terminal + 5 years of fees); serves villages where its RSRP clears the 4G threshold and
  schools where its fixed-wireless throughput reaches the outlet target.
* ``upgrade_5g``: 5G (the project's first NR band) added to an existing 4G site (or a given ``upgrade`` candidate);
  serves the same way with the 5G threshold.

A new site's signal is judged against noise plus the current best server of the same technology at the point
(at the link budget's load), so a candidate fills gaps rather than re-serving covered ground.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from gis.project import CostSettings, OptimiseSettings, RadioSettings
from gis.terrain import Dem, sample_heights
from planning.coverage import (
    LinkBudget,
    _pairs,
    is_tdd,
    max_range_m,
    pair_loss_db,
    pair_rsrp_dbm,
    site_table,
    throughput_mbps,
)

logger = logging.getLogger(__name__)

SATELLITE_YEARS = 5
MICROWAVE_REACH_M = 40_000.0


@dataclass(frozen=True)
class CandidateSet:
    """Demands, candidates and the boolean coverage matrix (demand x candidate) between them."""

    demands: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    coverage: sparse.csr_matrix


def demand_table(villages: pd.DataFrame, schools: pd.DataFrame, geometry_villages: gpd.GeoSeries,
                 geometry_schools: gpd.GeoSeries, population: pd.Series, *, settings: OptimiseSettings
                 ) -> gpd.GeoDataFrame:
    """Demand rows from the gap status of villages and schools (see the module docstring for weights)."""
    v = villages[villages["lacks"].str.contains("broadband")]
    s = schools[schools["lacks"] != ""]
    pop = population.loc[v.index].fillna(0).to_numpy(dtype=float)
    v_weight = (1.0 + pop / 1000.0) * np.where(v["is_poor"], settings.poor_village_weight, 1.0)
    s_weight = settings.school_weight * np.where(s["kind"] == "teaching_point", settings.teaching_point_weight, 1.0)
    frame = pd.DataFrame({
        "demand_id": np.r_["villages:" + v["village_id"], "schools:" + s["school_id"]],
        "layer": ["villages"] * len(v) + ["schools"] * len(s),
        "name": np.r_[v["name"].to_numpy(), s["name"].to_numpy()],
        "county": np.r_[v["county"].to_numpy(), s["county"].to_numpy()],
        "kind": np.r_[np.where(v["is_poor"], "poor_village", "village"), s["kind"].to_numpy()],
        "need": ["broadband"] * len(v) + ["outlet"] * len(s),
        "weight": np.r_[v_weight, s_weight],
        "must": [False] * len(v) + [True] * len(s),
    })
    geom = np.r_[geometry_villages.loc[v.index].to_numpy(), geometry_schools.loc[s.index].to_numpy()]
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=geometry_villages.crs)


def high_points(dem: Dem, xy: np.ndarray, *, radius_m: float = 3000.0, min_separation_m: float = 1000.0
                ) -> np.ndarray:
    """Highest DEM cell within ``radius_m`` of each point, deduplicated to ``min_separation_m`` (x, y)."""
    if dem is None or not len(xy):
        return np.empty((0, 2))
    h = dem.height_m
    t = dem.transform
    res = abs(t.a)
    k = max(1, int(radius_m / res))
    cols = ((xy[:, 0] - t.c) / t.a).astype(int)
    rows = ((xy[:, 1] - t.f) / t.e).astype(int)
    out = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        r0, r1 = max(r - k, 0), min(r + k + 1, h.shape[0])
        c0, c1 = max(c - k, 0), min(c + k + 1, h.shape[1])
        if r0 >= r1 or c0 >= c1:
            continue
        win = h[r0:r1, c0:c1]
        if not np.isfinite(win).any():
            continue
        i = np.nanargmax(win)
        rr, cc = divmod(int(i), win.shape[1])
        out.append((t.c + (c0 + cc + 0.5) * t.a, t.f + (r0 + rr + 0.5) * t.e))
    if not out:
        return np.empty((0, 2))
    pts = np.array(out)
    keep = np.ones(len(pts), dtype=bool)
    tree = cKDTree(pts)
    for i in range(len(pts)):
        if keep[i]:
            near = tree.query_ball_point(pts[i], min_separation_m)
            keep[[j for j in near if j > i]] = False
    return pts[keep]


def candidate_sites(demands: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, given: gpd.GeoDataFrame | None, *,
                    dem: Dem | None, radio: RadioSettings) -> gpd.GeoDataFrame:
    """New-site and 5G-upgrade candidates (before costs): id, kind, source, tech, band_mhz, height_m, point."""
    crs = demands.crs
    rows = []
    if given is not None and len(given):
        for _, g in given.iterrows():
            kind = str(g.get("kind") or "new_site")
            tech = "5g" if kind == "upgrade" else "4g"
            band = radio.nr_bands_mhz[0] if tech == "5g" else radio.lte_band_mhz
            h = float(g["height_m"]) if pd.notna(g.get("height_m")) else radio.tower_height_m
            rows.append({"candidate_id": str(g["candidate_id"]), "kind": "upgrade_5g" if kind == "upgrade" else
                         "new_site", "source": "given", "tech": tech, "band_mhz": band, "height_m": h,
                         "given_cost_cny": float(g["cost_cny"]) if pd.notna(g.get("cost_cny")) else np.nan,
                         "geometry": g.geometry})
    unserved_v = demands[demands["layer"] == "villages"]
    for _, d in unserved_v.iterrows():
        rows.append({"candidate_id": f"NS-{d['demand_id']}", "kind": "new_site", "source": "village", "tech": "4g",
                     "band_mhz": radio.lte_band_mhz, "height_m": radio.tower_height_m, "given_cost_cny": np.nan,
                     "geometry": d.geometry})
    dxy = shapely.get_coordinates(np.asarray(demands.geometry.values))
    for k, (x, y) in enumerate(high_points(dem, dxy)):
        rows.append({"candidate_id": f"HP{k + 1:05d}", "kind": "new_site", "source": "high_point", "tech": "4g",
                     "band_mhz": radio.lte_band_mhz, "height_m": radio.tower_height_m, "given_cost_cny": np.nan,
                     "geometry": shapely.Point(x, y)})
    lte = sites[sites["tech"] == "4g"]
    nr = sites[sites["tech"] == "5g"]
    if len(lte):
        lxy = shapely.get_coordinates(np.asarray(lte.geometry.values))
        has_nr = np.zeros(len(lte), dtype=bool)
        if len(nr):
            d, _ = cKDTree(shapely.get_coordinates(np.asarray(nr.geometry.values))).query(lxy)
            has_nr = d < 50.0
        for (_, srow), hn in zip(lte.iterrows(), has_nr, strict=True):
            if hn:
                continue
            rows.append({"candidate_id": f"UP-{srow['site_id']}", "kind": "upgrade_5g", "source": "existing_4g",
                         "tech": "5g", "band_mhz": radio.nr_bands_mhz[0], "height_m": float(srow["height_m"]),
                         "given_cost_cny": np.nan, "geometry": srow.geometry})
    if not rows:
        return gpd.GeoDataFrame(columns=["candidate_id", "kind", "source", "tech", "band_mhz", "height_m",
                                         "given_cost_cny", "geometry"], geometry="geometry", crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def radio_links(demands: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, existing: pd.DataFrame, *, radio: RadioSettings,
                dem: Dem | None, budget: LinkBudget | None = None, school_outlet_mbps: float = 100.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which demands each site candidate serves: (demand index, candidate index) pairs.

    Villages: RSRP >= the tech's threshold (handheld). Schools: fixed-wireless CPE throughput >= the outlet
    target, with SINR against noise plus the current best server of that tech at the point (``existing``: the
    coverage columns ``{tech}_rsrp_dbm`` per demand, NaN where none) at the link budget's load.
    """
    budget = budget or LinkBudget()
    if not len(cands) or not len(demands):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sites = cands.rename(columns={"candidate_id": "site_id"})
    st = site_table(sites, radio)
    px = shapely.get_x(np.asarray(demands.geometry.values))
    py = shapely.get_y(np.asarray(demands.geometry.values))
    is_school = (demands["layer"] == "schools").to_numpy()
    out_d, out_c = [], []
    for school in (False, True):
        rx_h = budget.cpe_height_m if school else radio.ue_height_m
        gain = budget.cpe_gain_dbi if school else budget.ue_gain_dbi
        body = 0.0 if school else budget.body_loss_db
        sel = np.flatnonzero(is_school == school)
        if not len(sel):
            continue
        ranges = max_range_m(st, radio, model=radio.model, environment=radio.environment, rx_height_m=rx_h,
                             rx_gain_dbi=gain, budget=budget)
        pi, si = _pairs(px[sel], py[sel], st, ranges)
        if not len(pi):
            continue
        loss, _ = pair_loss_db(dem, st.x[si], st.y[si], px[sel][pi], py[sel][pi], st.band_mhz[si], st.height_m[si],
                               np.full(len(pi), rx_h), model=radio.model, environment=radio.environment,
                               step_m=radio.profile_step_m)
        rsrp = pair_rsrp_dbm(st, si, px[sel][pi], py[sel][pi], loss, radio=radio, budget=budget, rx_gain_dbi=gain,
                             body_loss_db=body)
        threshold = np.where(st.tech[si] == "4g", radio.lte_rsrp_threshold_dbm, radio.nr_rsrp_threshold_dbm)
        ok = np.isfinite(rsrp) & (rsrp >= threshold)
        if school:
            cur = np.where(st.tech[si] == "4g", existing["4g_rsrp_dbm"].to_numpy(dtype=float)[sel][pi],
                           existing["5g_rsrp_dbm"].to_numpy(dtype=float)[sel][pi])
            interf = budget.load * np.where(np.isfinite(cur), 10.0 ** (np.nan_to_num(cur, nan=-300.0) / 10.0), 0.0)
            noise = 10.0 ** ((-174.0 + 10.0 * np.log10(st.scs_khz[si] * 1e3) + budget.noise_figure_db) / 10.0)
            sinr = 10.0 * np.log10(10.0 ** (np.nan_to_num(rsrp, nan=-300.0) / 10.0) / (noise + interf))
            layers = np.where(st.tech[si] == "4g", budget.lte_mimo_layers, budget.nr_mimo_layers)
            dl = np.where(is_tdd(st.band_mhz[si]), budget.tdd_dl_fraction, 1.0)
            thr = throughput_mbps(sinr, st.bandwidth_mhz[si], layers=layers, dl_fraction=dl, budget=budget)
            ok &= thr >= school_outlet_mbps
        out_d.append(sel[pi[ok]])
        out_c.append(si[ok])
    if not out_d:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_d), np.concatenate(out_c)


def site_costs(cands: gpd.GeoDataFrame, fibre_cost_cny: np.ndarray, sites: gpd.GeoDataFrame, *,
               costs: CostSettings) -> pd.DataFrame:
    """Capex per site candidate: equipment plus the cheapest backhaul (fibre, microwave hop, or satellite)."""
    n = len(cands)
    equip = np.where(cands["kind"] == "upgrade_5g", costs.upgrade_5g_cny, costs.new_site_cny)
    given = cands["given_cost_cny"].to_numpy(dtype=float)
    equip = np.where(np.isfinite(given), given, equip)
    cxy = shapely.get_coordinates(np.asarray(cands.geometry.values))
    if len(sites):
        d_site, _ = cKDTree(shapely.get_coordinates(np.asarray(sites.geometry.values))).query(cxy)
    else:
        d_site = np.full(n, np.inf)
    sat = costs.satellite_terminal_cny + SATELLITE_YEARS * costs.satellite_fee_cny_per_year
    fib = np.nan_to_num(np.asarray(fibre_cost_cny, dtype=float), nan=np.inf, posinf=np.inf)
    mw = np.where(d_site <= MICROWAVE_REACH_M, costs.microwave_hop_cny, np.inf)
    upgrade = (cands["kind"] == "upgrade_5g").to_numpy()
    options = np.column_stack([fib, mw, np.full(n, sat)])
    pick = np.argmin(options, axis=1)
    back_cost = np.where(upgrade, 0.0, options[np.arange(n), pick])
    back = np.where(upgrade, "existing", np.array(["fibre", "microwave", "satellite"])[pick])
    return pd.DataFrame({"equipment_cny": equip, "backhaul": back, "backhaul_cny": back_cost,
                         "cost_cny": equip + back_cost}, index=cands.index)


def build_candidates(
    demands: gpd.GeoDataFrame,
    *,
    sites: gpd.GeoDataFrame,
    given: gpd.GeoDataFrame | None,
    existing: pd.DataFrame,
    fibre_cost_of: pd.Series | None,
    site_fibre_cost: Callable[[gpd.GeoDataFrame], np.ndarray] | None,
    dem: Dem | None,
    radio: RadioSettings,
    costs: CostSettings,
    school_outlet_mbps: float,
) -> CandidateSet:
    """All candidates and the coverage matrix for ``demands``.

    Parameters
    ----------
    demands : GeoDataFrame
        From :func:`demand_table`.
    sites, given : GeoDataFrame
        Existing sites; the project's ``candidates`` layer (or None).
    existing : DataFrame
        Current coverage of each demand (``4g_rsrp_dbm``, ``5g_rsrp_dbm``), aligned with ``demands``.
    fibre_cost_of : Series, optional
        Fibre extension cost (CNY) by demand id (``layer:id``); inf/NaN: no fibre route.
    site_fibre_cost : callable, optional
        ``f(points GeoDataFrame) -> ndarray`` of fibre extension cost to candidate site points (backhaul).
    """
    crs = demands.crs
    parts, d_idx, c_idx = [], [], []
    n0 = 0
    if fibre_cost_of is not None:
        fc = demands["demand_id"].map(fibre_cost_of).astype(float).to_numpy()
        ok = np.flatnonzero(np.isfinite(fc))
        fib = gpd.GeoDataFrame({
            "candidate_id": "FX-" + demands["demand_id"].iloc[ok].to_numpy(),
            "kind": "fibre", "source": demands["demand_id"].iloc[ok].to_numpy(), "tech": "fibre",
            "band_mhz": np.nan, "height_m": np.nan, "equipment_cny": 0.0, "backhaul": "", "backhaul_cny": 0.0,
            "cost_cny": fc[ok]}, geometry=demands.geometry.iloc[ok].to_numpy(), crs=crs)
        parts.append(fib)
        d_idx.append(ok)
        c_idx.append(np.arange(len(ok)))
        n0 = len(fib)
    cs = candidate_sites(demands, sites, given, dem=dem, radio=radio)
    if len(cs):
        fcost = site_fibre_cost(cs) if site_fibre_cost is not None else np.full(len(cs), np.inf)
        cs = pd.concat([cs.drop(columns=["given_cost_cny"]), site_costs(cs, fcost, sites, costs=costs)], axis=1)
        dd, cc = radio_links(demands, cs, existing, radio=radio, dem=dem, school_outlet_mbps=school_outlet_mbps)
        d_idx.append(dd)
        c_idx.append(cc + n0)
        parts.append(gpd.GeoDataFrame(cs, geometry="geometry", crs=crs))
    cands = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs) if parts else \
        gpd.GeoDataFrame(columns=["candidate_id", "kind", "cost_cny", "geometry"], geometry="geometry", crs=crs)
    d = np.concatenate(d_idx) if d_idx else np.zeros(0, np.int64)
    c = np.concatenate(c_idx) if c_idx else np.zeros(0, np.int64)
    mat = sparse.csr_matrix((np.ones(len(d), dtype=bool), (d, c)), shape=(len(demands), len(cands)))
    served = np.asarray(mat.sum(axis=0)).ravel()
    keep = (served > 0) | (cands["kind"] == "fibre").to_numpy()
    cands = cands[keep].reset_index(drop=True)
    mat = mat[:, np.flatnonzero(keep)].tocsr()
    cands["serves"] = np.asarray(mat.sum(axis=0)).ravel().astype(int)
    logger.info("candidates: %d (%s) for %d demands", len(cands), cands["kind"].value_counts().to_dict(),
                len(demands))
    return CandidateSet(demands=demands, candidates=cands, coverage=mat)


def point_heights(dem: Dem | None, points: gpd.GeoDataFrame) -> np.ndarray:
    """Ground heights (m) of points (NaN off the DEM)."""
    if dem is None:
        return np.full(len(points), np.nan)
    g = np.asarray(points.geometry.values)
    return sample_heights(dem, shapely.get_x(g), shapely.get_y(g))
