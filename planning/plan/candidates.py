"""Candidate interventions with costs, and which demands each would serve (the optimiser's sparse matrix).

Demands: one row per village or school and per need it has (:func:`demand_table`), from the status frames of
:mod:`planning.status.evidence`:

* a school not connected: ``connection`` (and ``outlet``); a connected school below the outlet target: ``outlet``;
* a village lacking broadband: ``broadband``; a registered poor village without 4G: ``4g`` ("4G first", a demand
  of its own: fibre to the village does not give it); a village without 5G when ``[targets] village_5g_share`` is
  set: ``5g``.

Each row carries a ``weight`` (a village: 1 + population/1000, x ``poor_village_weight`` when registered poor, x
its ``priority`` column when given; a school: ``school_weight``, x ``teaching_point_weight`` for teaching points)
and a ``priority_class`` for budget mode: 1 unconnected schools, 2 registered poor villages, 3 the rest.

Candidates:

* ``fibre``: fibre extension to one village or school (cost from the fibre reach model, shared trenches are
  re-priced by :mod:`planning.plan.proposal`); serves that point (broadband; a school at the fibre tier).
* ``new_site``: a 4G macro site (on the planner's first LTE band, ``RadioSettings.operators``) at a given candidate
  point (``candidates`` layer, ``kind = new_site``), at each unserved village (``village``) and at the highest DEM
  point within 3 km of unserved demand (``high_point``), with the cheapest backhaul of fibre, microwave (a clear path
  on the DEM to a hub with fibre, directly or through one relay: :mod:`planning.radio.backhaul`) and satellite
  (the terminal; its fee is opex; ``satellite_backhaul_mbps``); serves villages where the link meets the coverage
  criteria (downlink and uplink at the edge location probability, SINR) and schools where its fixed-wireless
  **busy-hour** rate reaches the school's demand.
* ``upgrade_5g``: 5G added to an existing 4G site (or a given ``upgrade`` candidate), one candidate per NR band the
  operator rules allow and the tower lacks (China Mobile n28/n41, China Telecom and China Unicom n78/NR 2.1 GHz);
  serves the same way with the 5G thresholds. With ``[optimise] operator`` set, only the planner's and its RAN
  partners' 4G sites.
* ``share`` / ``share_5g``: with ``[optimise] operator`` set, the planner's 4G (its first LTE band) or 5G (first NR
  band) equipment on a tower outside its RAN group (one per tower location, at the tower's height, none where the
  planner already has a site within 50 m); cost ``share_site_cny`` plus backhaul: nothing more where the tower has
  fibre, otherwise the cheapest of fibre, microwave and satellite as for a new site.
* ``satellite``: a direct satellite connection of a school without one (capex: the terminal; the school plan's
  yearly fee is opex); serves its connection, and its outlet only where ``[targets] satellite_outlet`` allows and
  ``[optimise] satellite_school_mbps`` reaches the target.
* ``line_upgrade``: a faster tier on a school's existing fibre line (``[costs] fibre_line_upgrade_cny``); serves the
  outlet of a school that reports fibre below the target.

Which need a candidate serves: fibre a village's broadband, a school's connection and outlet (the fibre tier); a
4G site a village's broadband (when ``[targets] broadband`` counts 4G) and 4G, a 5G one broadband and 5G; a site
a school's connection when its busy-hour CPE rate reaches 4 Mbps and its outlet when the rate reaches the target
and ``[targets] fwa_outlet`` lets fixed wireless count for that school.

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

from gis.errors import LayerError
from gis.settings import CostSettings, EconomicsSettings, OptimiseSettings, RadioSettings, TargetSettings
from gis.terrain import Dem
from planning.plan.economics import backhaul_lifecycle, intervention_costs
from planning.radio import (
    Endpoints,
    Terrain,
    backhaul_hubs,
    candidate_links,
    canopy_grid,
    operator_rule,
    plan_backhaul,
    plan_backhaul_empty,
    relay_points,
    same_ran,
    served_pairs,
)

logger = logging.getLogger(__name__)

#: Sites closer than this are one tower.
SAME_TOWER_M = 50.0
SITE_COLUMNS = [
    "candidate_id",
    "kind",
    "source",
    "tech",
    "band_mhz",
    "height_m",
    "given_cost_cny",
    "host_backhaul",
    "operator",
    "geometry",
]


@dataclass(frozen=True)
class CandidateSet:
    """Demands, candidates and the boolean coverage matrix (demand x candidate) between them."""

    demands: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    coverage: sparse.csr_matrix


#: The needs a demand row may have, and the budget-mode priority class of each (see the module docstring).
NEEDS = ("connection", "outlet", "broadband", "4g", "5g")
#: Budget mode's classes, served in this order: unconnected schools, registered poor villages, the rest.
PRIORITY_CLASSES = ("unconnected_schools", "poor_villages", "rest")
#: Lowest busy-hour CPE rate (Mbps) at which a cell connects a school (below it no class can run).
MIN_CONNECTION_MBPS = 4.0


def demand_table(
    villages: pd.DataFrame,
    schools: pd.DataFrame,
    geometry_villages: gpd.GeoSeries,
    geometry_schools: gpd.GeoSeries,
    population: pd.Series,
    *,
    settings: OptimiseSettings,
    priority: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Demand rows from the status of villages and schools (see the module docstring).

    Returns
    -------
    GeoDataFrame
        ``demand_id`` (``layer:id/need``), ``unit`` (``layer:id``), ``layer``, ``name``, ``county``, ``kind``
        (poor_village, village, primary, secondary, teaching_point), ``is_poor``, ``need``, ``weight``,
        ``priority_class`` (1-3), ``access`` (a school's reported access), at the village's or school's point.
    """
    pop = population.reindex(villages.index).fillna(0).to_numpy(dtype=float)
    prio = priority.reindex(villages.index).fillna(1.0).to_numpy(dtype=float) if priority is not None else 1.0
    v_weight = (1.0 + pop / 1000.0) * np.where(villages["is_poor"], settings.poor_village_weight, 1.0) * prio
    s_weight = settings.school_weight * np.where(
        schools["kind"] == "teaching_point", settings.teaching_point_weight, 1.0
    )
    rows = []
    for need in ("broadband", "4g", "5g"):
        lack = villages["lacks"].str.split(";").map(lambda x, n=need: n in x).to_numpy(dtype=bool)
        rows.append(_need_rows(villages[lack], "villages", "village_id", need, v_weight[lack], geometry_villages))
    s_lacks = schools["lacks"].str.split(";")
    for need, lacking in (("connection", "connection"), ("outlet", "outlet_target")):
        lack = s_lacks.map(lambda x, n=lacking: n in x).to_numpy(dtype=bool)
        rows.append(_need_rows(schools[lack], "schools", "school_id", need, s_weight[lack], geometry_schools))
    frame = pd.concat(rows, ignore_index=True)
    frame["priority_class"] = np.select(
        [frame["need"] == "connection", frame["is_poor"] & frame["need"].isin(["broadband", "4g"])], [1, 2], 3
    )
    order = (
        frame["layer"].map({"villages": 0, "schools": 1}).to_numpy() * 10
        + frame["need"].map({n: k for k, n in enumerate(NEEDS)}).to_numpy()
    )
    frame = frame.iloc[np.lexsort((order, frame["unit"].to_numpy()))].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=geometry_villages.crs)


def _need_rows(
    frame: pd.DataFrame, layer: str, id_col: str, need: str, weight: np.ndarray, geometry: gpd.GeoSeries
) -> pd.DataFrame:
    unit = (layer + ":" + frame[id_col].astype(str)).to_numpy()
    is_village = layer == "villages"
    poor = frame["is_poor"].to_numpy(dtype=bool) if is_village else np.zeros(len(frame), dtype=bool)
    return pd.DataFrame(
        {
            "demand_id": unit + "/" + need,
            "unit": unit,
            "layer": layer,
            "name": frame["name"].to_numpy(),
            "county": frame["county"].to_numpy(),
            "kind": np.where(poor, "poor_village", "village") if is_village else frame["kind"].to_numpy(),
            "is_poor": poor,
            "need": need,
            "weight": weight,
            "access": "" if is_village else frame["reported_access"].fillna("").to_numpy(),
            "geometry": geometry.loc[frame.index].to_numpy(),
        }
    )


def unit_table(demands: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per village or school of the demands (``demand_id`` = its ``layer:id``), in first-seen order: what
    site candidates are placed around and judged at."""
    first = ~demands["unit"].duplicated()
    units = demands.loc[first, ["unit", "layer", "name", "county", "kind", "access", "geometry"]]
    units = units.rename(columns={"unit": "demand_id"}).reset_index(drop=True)
    return gpd.GeoDataFrame(units, geometry="geometry", crs=demands.crs)


def high_points(
    dem: Dem | None, xy: np.ndarray, *, radius_m: float = 3000.0, min_separation_m: float = 1000.0
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
        rr, cc = divmod(int(np.nanargmax(win)), win.shape[1])
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


def candidate_sites(
    demands: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    given: gpd.GeoDataFrame | None,
    *,
    dem: Dem | None,
    radio: RadioSettings,
    operator: str = "",
    hosts: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """New-site, 5G-upgrade and tower-sharing candidates (before costs), on the bands the operator rules allow.

    Columns: candidate_id, kind, source, tech, band_mhz, height_m, given_cost_cny, host_backhaul (the shared or
    upgraded tower's ``backhaul``, else empty), operator (the planner; for an upgrade without a planner, the
    site's), point. ``operator``: the planner (see the module docstring); empty means every existing site is the
    planner's. ``hosts``: per site, whether it may host an upgrade or a share (default all; a province's own sites
    when the nation is solved per province).

    Bands (``RadioSettings.operators``, :func:`planning.radio.operators.operator_rule`): new sites and 4G shares on
    the planner's first LTE band; a 4G site of the planner's RAN group gets one upgrade per NR band of its rule that
    its tower does not carry yet (``UP-<site>`` for the first band, ``UP-<site>-<band>`` for the others); 5G shares
    on the planner's first NR band. So China Telecom and China Unicom are never offered n28 700 MHz.

    Raises
    ------
    LayerError
        ``operator`` is given but the sites layer has no ``operator`` column.
    """
    crs = demands.crs
    rule = operator_rule(radio, operator)
    rows: list[dict] = []

    def add(cid: str, kind: str, source: str, band: float, height_m: float, geom: shapely.Point, **extra) -> None:
        row: dict[str, object] = {
            "candidate_id": cid,
            "kind": kind,
            "source": source,
            "tech": "5g" if "5g" in kind else "4g",
        }
        row.update(band_mhz=band, height_m=height_m, given_cost_cny=np.nan, host_backhaul="", operator=operator)
        row.update(geometry=geom, **extra)
        rows.append(row)

    lte_band, nr_band = rule.lte_bands_mhz[0], rule.nr_bands_mhz[0]
    if given is not None and len(given):
        for _, g in given.iterrows():
            upgrade = str(g.get("kind") or "new_site") == "upgrade"
            add(
                str(g["candidate_id"]),
                "upgrade_5g" if upgrade else "new_site",
                "given",
                nr_band if upgrade else lte_band,
                float(g["height_m"]) if pd.notna(g.get("height_m")) else radio.tower_height_m,
                g.geometry,
                given_cost_cny=float(g["cost_cny"]) if pd.notna(g.get("cost_cny")) else np.nan,
            )
    for _, d in demands[demands["layer"] == "villages"].iterrows():
        add(f"NS-{d['demand_id']}", "new_site", "village", lte_band, radio.tower_height_m, d.geometry)
    dxy = shapely.get_coordinates(np.asarray(demands.geometry.values))
    for k, (x, y) in enumerate(high_points(dem, dxy)):
        add(f"HP{k + 1:05d}", "new_site", "high_point", lte_band, radio.tower_height_m, shapely.Point(x, y))
    own = _own_sites(sites, operator, radio)
    host = np.ones(len(sites), dtype=bool) if hosts is None else np.asarray(hosts, dtype=bool)
    for up in _upgrades(sites, own & host, operator=operator, radio=radio):
        add(**up)
    for tower in _shareable_towers(sites, own, host).itertuples():
        for tech, band in (("4g", lte_band), ("5g", nr_band)):
            kind = "share" if tech == "4g" else "share_5g"
            cid = f"SH{'5' if tech == '5g' else '4'}-{tower.site_id}"
            add(cid, kind, f"tower of {tower.operator}", band, float(tower.height_m), tower.geometry)
            rows[-1]["host_backhaul"] = tower.backhaul
    return gpd.GeoDataFrame(rows, columns=SITE_COLUMNS, geometry="geometry", crs=crs)


def _upgrades(sites: gpd.GeoDataFrame, may: np.ndarray, *, operator: str, radio: RadioSettings) -> list[dict]:
    """One 5G upgrade per NR band allowed to each 4G site in ``may`` that its tower lacks (arguments of ``add``)."""
    lte = sites[may & (sites["tech"] == "4g").to_numpy()]
    if not len(lte):
        return []
    nr = sites[(sites["tech"] == "5g").to_numpy()]
    lxy = shapely.get_coordinates(np.asarray(lte.geometry.values))
    present: list[set[float]] = [set() for _ in range(len(lte))]
    if len(nr):
        nxy = shapely.get_coordinates(np.asarray(nr.geometry.values))
        nband = nr["band_mhz"].to_numpy(dtype=float)
        for i, near in enumerate(cKDTree(nxy).query_ball_point(lxy, SAME_TOWER_M)):
            present[i] = {float(nband[j]) for j in near}
    has_backhaul = "backhaul" in lte
    out = []
    for i, srow in enumerate(lte.itertuples()):
        site_op = getattr(srow, "operator", None) if "operator" in lte else None
        rule = operator_rule(radio, operator or site_op)
        bands = [b for b in rule.nr_bands_mhz if b not in present[i]]
        for k, band in enumerate(bands):
            cid = f"UP-{srow.site_id}" if k == 0 else f"UP-{srow.site_id}-{band:g}"
            backhaul = srow.backhaul if has_backhaul and isinstance(srow.backhaul, str) else ""
            up = {"cid": cid, "kind": "upgrade_5g", "source": "existing_4g", "band": band}
            up.update(height_m=float(srow.height_m), geom=srow.geometry, host_backhaul=backhaul)
            if not operator and isinstance(site_op, str):
                up["operator"] = site_op
            out.append(up)
    return out


def _own_sites(sites: gpd.GeoDataFrame, operator: str, radio: RadioSettings) -> np.ndarray:
    """Per site: the planner's own or a RAN-sharing partner's (all of them when ``operator`` is empty)."""
    if not operator:
        return np.ones(len(sites), dtype=bool)
    if "operator" not in sites:
        msg = (
            f"layer `sites`: `[optimise] operator` = {operator!r} is set but the layer has no `operator` column; "
            "expected the operator of each site to tell own sites from towers to share"
        )
        raise LayerError(msg)
    own = same_ran(radio, sites["operator"].astype(object).to_numpy(), operator)
    if len(sites) and not own.any():
        logger.warning(
            "no site of operator %r in the sites layer (operators: %s): every tower is offered for sharing",
            operator,
            sorted(sites["operator"].dropna().astype(str).unique())[:10],
        )
    return own


def _shareable_towers(sites: gpd.GeoDataFrame, own: np.ndarray, host: np.ndarray) -> pd.DataFrame:
    """Other operators' towers: one row per location (tallest site there), none near one of the planner's sites,
    only where the tallest site may host (``host``).

    Columns site_id, operator, height_m, backhaul (empty where unknown), geometry.
    """
    other = sites[~own]
    host_other = host[~own]
    if own.all() or not len(other):
        return pd.DataFrame(columns=["site_id", "operator", "height_m", "backhaul", "geometry"])
    oxy = shapely.get_coordinates(np.asarray(other.geometry.values))
    keep = np.ones(len(other), dtype=bool)
    if own.any():
        d, _ = cKDTree(shapely.get_coordinates(np.asarray(sites.geometry.values)[own])).query(oxy)
        keep = d >= SAME_TOWER_M
    height = other["height_m"].to_numpy(dtype=float)
    backhaul = (
        other["backhaul"].astype(object).where(other["backhaul"].notna(), "").to_numpy()
        if "backhaul" in other
        else np.full(len(other), "", dtype=object)
    )
    tree = cKDTree(oxy)
    taken = np.zeros(len(other), dtype=bool)
    out = []
    for i in np.argsort(-height, kind="stable"):  # tallest first: it stands for the tower
        if taken[i]:
            continue
        same = tree.query_ball_point(oxy[i], SAME_TOWER_M)
        taken[same] = True
        if keep[same].all() and host_other[i]:
            fib = (backhaul[same] == "fibre").any()
            out.append(
                {
                    "site_id": str(other["site_id"].iloc[i]),
                    "operator": str(other["operator"].iloc[i]),
                    "height_m": height[i],
                    "backhaul": "fibre" if fib else str(backhaul[i]),
                    "geometry": other.geometry.iloc[i],
                }
            )
    return pd.DataFrame(out, columns=["site_id", "operator", "height_m", "backhaul", "geometry"])


def site_costs(
    cands: gpd.GeoDataFrame,
    fibre_cost_cny: np.ndarray,
    sites: gpd.GeoDataFrame,
    *,
    costs: CostSettings,
    radio: RadioSettings | None = None,
    dem: Dem | None = None,
    operator: str = "",
    fibre_nodes: gpd.GeoDataFrame | None = None,
    econ: EconomicsSettings | None = None,
) -> pd.DataFrame:
    """Capex per site candidate: equipment (a new site with its power line, ``grid_connection_cny``) plus the
    backhaul: the terrestrial link (fibre or microwave) that is cheapest over its life
    (:func:`planning.plan.economics.backhaul_lifecycle`, ``econ``: default settings), satellite only where there
    is none.

    A 5G upgrade keeps its site's backhaul; equipment on a shared tower with fibre uses that fibre. Microwave is a
    path on the DEM that clears ITU-R P.530's rule over terrain and clutter and carries the site (``needed_4g_mbps``
    or ``needed_5g_mbps``) at the availability target (:func:`planning.radio.backhaul.plan_backhaul`): one hop to
    a hub with fibre (:func:`planning.radio.backhaul.backhaul_hubs`: the planner's RAN group's fibre sites by
    default, and ``fibre_nodes``), or two through a relay on an existing tower (+ ``relay_lease_cny``) or a new
    mast on a high point (+ the mast of ``relay_masts`` that clears); each hop at its cheapest radio, dish and
    modulation. Satellite: the terminal (its yearly fee is opex), ``satellite_backhaul_mbps``.

    Returns
    -------
    DataFrame
        ``equipment_cny``, ``backhaul`` (``existing``, ``fibre``, ``microwave``, ``satellite``), ``backhaul_cny``,
        ``cost_cny``; for microwave the :data:`MICROWAVE_COLUMNS` as ``backhaul_<name>`` (hub, relay with its
        WGS84 position, mast height and price, hops, longest hop and its band, least clearance at the median k in
        F1 radii, least availability, largest dish, readable path, every hop as JSON); ``backhaul_mbps``
        (capacity; empty for fibre).
    """
    radio = radio or RadioSettings()
    bh = radio.backhaul
    n = len(cands)
    kind = cands["kind"].to_numpy()
    shared = np.isin(kind, ["share", "share_5g"])
    new_site = costs.new_site_cny + costs.grid_connection_cny
    equip = np.select([kind == "upgrade_5g", shared], [costs.upgrade_5g_cny, costs.share_site_cny], new_site)
    given = cands["given_cost_cny"].to_numpy(dtype=float)
    equip = np.where(np.isfinite(given), given, equip)
    host = cands["host_backhaul"].fillna("").to_numpy() if "host_backhaul" in cands else np.full(n, "")
    existing = (kind == "upgrade_5g") | (shared & (host == "fibre"))
    mw = _microwave(
        cands, ~existing, sites, radio=radio, costs=costs, dem=dem, operator=operator, fibre_nodes=fibre_nodes
    )
    fib = np.nan_to_num(np.asarray(fibre_cost_cny, dtype=float), nan=np.inf, posinf=np.inf)
    mw_cny = mw["cost_cny"].to_numpy(dtype=float)
    mw_civil = np.nan_to_num(mw["relay_cny"].to_numpy(dtype=float))
    capex = np.column_stack([fib, mw_cny, np.full(n, costs.satellite_terminal_cny)])
    pv = backhaul_lifecycle(
        fib,
        mw_cny,
        mw["hops"].to_numpy(dtype=float),
        costs=costs,
        econ=econ or EconomicsSettings(),
        microwave_civil_cny=mw_civil,
    )
    # the cheapest terrestrial link over its life (fibre, or a microwave path: a hop's radios and fee count);
    # satellite (a few Mbps) only where neither exists, as operators plan a site's backhaul
    terrestrial = np.isfinite(pv[:, :2]).any(axis=1)
    pv[terrestrial, 2] = np.inf
    pick = np.argmin(pv, axis=1)
    back_cost = np.where(existing, 0.0, capex[np.arange(n), pick])
    back = np.where(existing, "existing", np.array(["fibre", "microwave", "satellite"])[pick])
    is_mw = back == "microwave"
    host_mbps = np.select(
        [host == "microwave", host == "satellite"], [bh.microwave_mbps, bh.satellite_backhaul_mbps], np.nan
    )
    mbps = np.select(
        [back == "existing", is_mw, back == "satellite"],
        [host_mbps, mw["capacity_mbps"].to_numpy(dtype=float), bh.satellite_backhaul_mbps],
        np.nan,
    )
    out = pd.DataFrame(
        {"equipment_cny": equip, "backhaul": back, "backhaul_cny": back_cost, "cost_cny": equip + back_cost},
        index=cands.index,
    )
    for col in MICROWAVE_COLUMNS:
        values = mw[col].to_numpy()
        blank = "" if values.dtype == object else (0 if col == "hops" else np.nan)
        out[f"backhaul_{col}"] = np.where(is_mw, values, blank)
    out["backhaul_mbps"] = mbps
    return out


#: Columns of :func:`planning.radio.backhaul.plan_backhaul` a site candidate carries (as ``backhaul_<name>``).
MICROWAVE_COLUMNS = (
    "hub",
    "relay",
    "relay_lon",
    "relay_lat",
    "relay_height_m",
    "relay_cny",
    "hops",
    "length_m",
    "band_ghz",
    "clearance_f1",
    "availability_pct",
    "dish_m",
    "path",
    "hops_json",
)


def _microwave(
    cands: gpd.GeoDataFrame,
    need: np.ndarray,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    costs: CostSettings,
    dem: Dem | None,
    operator: str,
    fibre_nodes: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """:func:`planning.radio.backhaul.plan_backhaul` for the candidates in ``need`` (rows aligned with ``cands``;
    the others get no path), each to carry ``needed_4g_mbps`` or ``needed_5g_mbps`` by its ``tech``; the relay's
    position in WGS84 (``relay_lon``, ``relay_lat``)."""
    idx = np.flatnonzero(need)
    out = plan_backhaul_empty(len(cands))
    out["relay_lon"] = np.nan
    out["relay_lat"] = np.nan
    if not len(idx):
        return out
    bh = radio.backhaul
    cxy = shapely.get_coordinates(np.asarray(cands.geometry.values))[idx]
    raw = cands["height_m"] if "height_m" in cands else pd.Series(np.nan, index=cands.index)
    height = pd.to_numeric(raw, errors="coerce").fillna(radio.tower_height_m).to_numpy(dtype=float)[idx]
    ends = Endpoints(
        cands["candidate_id"].astype(str).to_numpy(dtype=object)[idx], cxy[:, 0], cxy[:, 1], height, np.zeros(len(idx))
    )
    tech = cands["tech"].astype(str).to_numpy()[idx] if "tech" in cands else np.full(len(idx), "4g")
    needed = np.where(tech == "5g", bh.needed_5g_mbps, bh.needed_4g_mbps)
    hubs = backhaul_hubs(sites, operator=operator, radio=radio, fibre_nodes=fibre_nodes)
    reach = max((b.max_hop_m for b in bh.microwave), default=0.0)
    allxy = np.vstack([cxy, np.column_stack([hubs.x, hubs.y])])
    lo, hi = allxy.min(axis=0) - reach, allxy.max(axis=0) + reach
    relays = relay_points(sites, dem, bounds=(lo[0], lo[1], hi[0], hi[1]), radio=radio, costs=costs)
    terrain = Terrain(dem, canopy_grid(dem, radio), crs=cands.crs)
    plan = plan_backhaul(ends, hubs, relays, terrain, settings=bh, needed_mbps=needed)
    lon, lat = terrain.lonlat(plan["relay_x"].to_numpy(dtype=float), plan["relay_y"].to_numpy(dtype=float))
    plan["relay_lon"] = np.where(plan["relay"] != "", lon, np.nan)
    plan["relay_lat"] = np.where(plan["relay"] != "", lat, np.nan)
    plan.index = idx
    out.loc[idx] = plan[out.columns]
    return out


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
    targets: TargetSettings,
    operator: str = "",
    satellite_school_mbps: float = 0.0,
    hosts: np.ndarray | None = None,
    econ: EconomicsSettings | None = None,
) -> CandidateSet:
    """All candidates and the coverage matrix (demand row x candidate) for ``demands``.

    Parameters
    ----------
    demands : GeoDataFrame
        From :func:`demand_table`.
    sites, given : GeoDataFrame
        Existing sites; the project's ``candidates`` layer (or None).
    existing : DataFrame
        Current coverage (``4g_rsrp_dbm``, ``5g_rsrp_dbm``) and busy-hour ``demand_mbps`` of each village and
        school of the demands, aligned with :func:`unit_table` (see :func:`planning.radio.links.radio_links`).
    fibre_cost_of : Series, optional
        Fibre extension cost (CNY) by ``layer:id``; inf/NaN: no fibre route.
    site_fibre_cost : callable, optional
        ``f(points GeoDataFrame) -> ndarray`` of fibre extension cost to candidate site points (backhaul).
    targets : TargetSettings
        The outlet target and the policies on what counts towards it (fixed wireless, satellite), and what counts
        as broadband.
    operator : str
        The planner's operator: other operators' towers are offered for sharing (empty: none).
    satellite_school_mbps : float
        Downlink of a school satellite terminal (Mbps).
    hosts : ndarray of bool, optional
        Per site: may host an upgrade or a share (default all).
    econ : EconomicsSettings, optional
        Horizon, discount rate and renewal of the lifecycle cost (default settings): the candidates get
        ``civil_cny``, ``renewed_cny``, ``opex_cny_per_year``, ``lc_alpha``, ``lc_beta``
        (:func:`planning.plan.economics.intervention_costs`), and a site's backhaul is the cheapest over its life.
    """
    econ = econ or EconomicsSettings()
    units = unit_table(demands)
    unit_pos = pd.Series(np.arange(len(units)), index=units["demand_id"].to_numpy())
    row_unit = unit_pos.reindex(demands["unit"].to_numpy()).to_numpy()
    parts = [
        *_one_point_parts(
            demands, units, fibre_cost_of, costs=costs, targets=targets, satellite_school_mbps=satellite_school_mbps
        )
    ]
    cs = candidate_sites(units, sites, given, dem=dem, radio=radio, operator=operator, hosts=hosts)
    if len(cs):
        fcost = site_fibre_cost(cs) if site_fibre_cost is not None else np.full(len(cs), np.inf)
        priced = site_costs(cs, fcost, sites, costs=costs, radio=radio, dem=dem, operator=operator, econ=econ)
        cs = gpd.GeoDataFrame(
            pd.concat([cs.drop(columns=["given_cost_cny", "host_backhaul"]), priced], axis=1),
            geometry="geometry",
            crs=demands.crs,
        )
        pairs = _radio_pairs(units, cs, existing, radio=radio, dem=dem, targets=targets)
        parts.append((cs, pairs))
    cset = _candidate_set(demands, row_unit, parts)
    money = intervention_costs(cset.candidates, costs=costs, econ=econ, school_outlet_mbps=targets.school_outlet_mbps)
    cands = pd.concat([cset.candidates.drop(columns=money.columns, errors="ignore"), money], axis=1)
    return CandidateSet(
        demands=cset.demands,
        candidates=gpd.GeoDataFrame(cands, geometry="geometry", crs=demands.crs),
        coverage=cset.coverage,
    )


def _one_point_parts(
    demands: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    fibre_cost_of: pd.Series | None,
    *,
    costs: CostSettings,
    targets: TargetSettings,
    satellite_school_mbps: float,
) -> list[tuple[gpd.GeoDataFrame, pd.DataFrame]]:
    """Fibre extensions, line upgrades and school satellite links: one village or school each, with the needs
    each serves (``pairs``: ``unit`` position, ``cand`` position, ``need``)."""
    parts = []
    school = (units["layer"] == "schools").to_numpy()
    on_fibre = school & (units["access"] == "fibre").to_numpy()
    needs_of = demands.groupby("unit")["need"].agg(set).reindex(units["demand_id"]).to_numpy()
    if fibre_cost_of is not None:
        fc = units["demand_id"].map(fibre_cost_of).astype(float).to_numpy()
        ok = np.flatnonzero(np.isfinite(fc) & ~on_fibre)
        serves = np.array([("connection", "outlet") if school[u] else ("broadband",) for u in ok], dtype=object)
        parts.append(
            (
                _one_point_candidates(units, ok, "FX-", "fibre", equipment_cny=0.0, cost_cny=fc[ok]),
                _pairs_of(ok, serves, needs_of),
            )
        )
    # dtype bool: with no demand at all (a fully served region) the lists are empty, not float arrays
    up = np.flatnonzero(on_fibre & np.array(["outlet" in n for n in needs_of], dtype=bool))
    if len(up) and targets.fibre_tier_mbps >= targets.school_outlet_mbps:
        parts.append(
            (
                _one_point_candidates(
                    units,
                    up,
                    "LU-",
                    "line_upgrade",
                    equipment_cny=0.0,
                    cost_cny=np.full(len(up), costs.fibre_line_upgrade_cny),
                ),
                _pairs_of(up, np.array([("outlet",)] * len(up), dtype=object), needs_of),
            )
        )
    sch = np.flatnonzero(school & np.array(["connection" in n for n in needs_of], dtype=bool))
    if len(sch):
        fee = costs.satellite_terminal_cny  # the capex: the school plan's yearly fee is opex
        at_target = targets.satellite_outlet and satellite_school_mbps >= targets.school_outlet_mbps
        serves = np.array([("connection", "outlet") if at_target else ("connection",)] * len(sch), dtype=object)
        parts.append(
            (
                _one_point_candidates(
                    units,
                    sch,
                    "SAT-",
                    "satellite",
                    equipment_cny=costs.satellite_terminal_cny,
                    cost_cny=np.full(len(sch), fee),
                ),
                _pairs_of(sch, serves, needs_of),
            )
        )
    return parts


def _pairs_of(unit_idx: np.ndarray, serves: np.ndarray, needs_of: np.ndarray) -> pd.DataFrame:
    """(unit, cand, need) of one-point candidates: candidate k stands at unit ``unit_idx[k]``."""
    rows = [
        (u, k, n)
        for k, (u, ss) in enumerate(zip(unit_idx.tolist(), serves, strict=True))
        for n in ss
        if n in needs_of[u]
    ]
    return pd.DataFrame(rows, columns=["unit", "cand", "need"])


def _radio_pairs(
    units: gpd.GeoDataFrame,
    cs: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None,
    targets: TargetSettings,
) -> pd.DataFrame:
    """(unit, cand, need) of site candidates: a village's broadband (4G/5G when broadband counts them), 4G or 5G
    where the candidate covers it; a school's connection where its busy-hour CPE rate reaches MIN_CONNECTION_MBPS,
    its outlet where the rate reaches the target (and the school's demand, ``existing["demand_mbps"]``) and fixed
    wireless counts for that school."""
    tech = cs["tech"].to_numpy()
    is_school = (units["layer"] == "schools").to_numpy()
    # a connection needs MIN_CONNECTION_MBPS at the busy hour, not the school's whole demand (the outlet's test)
    connect = existing.copy()
    if "demand_mbps" in connect:
        connect["demand_mbps"] = np.where(is_school, 0.0, connect["demand_mbps"].to_numpy(dtype=float))
    # the terrain profiles once: both school rate targets read the same links
    links = candidate_links(units, cs, existing, radio=radio, dem=dem)
    d, c = served_pairs(links, connect, radio=radio, school_outlet_mbps=MIN_CONNECTION_MBPS)
    rows = []
    for u, k in zip(d.tolist(), c.tolist(), strict=True):
        if is_school[u]:
            rows.append((u, k, "connection"))
        else:
            if targets.broadband == "fibre_or_4g":
                rows.append((u, k, "broadband"))
            rows.append((u, k, "4g" if tech[k] == "4g" else "5g"))
    fwa = {
        "all": is_school,
        "none": np.zeros(len(units), bool),
        "teaching_points": is_school & (units["kind"] == "teaching_point").to_numpy(),
    }[targets.fwa_outlet]
    if fwa.any():
        d, c = served_pairs(links, existing, radio=radio, school_outlet_mbps=targets.school_outlet_mbps)
        rows += [(u, k, "outlet") for u, k in zip(d.tolist(), c.tolist(), strict=True) if is_school[u] and fwa[u]]
    return pd.DataFrame(rows, columns=["unit", "cand", "need"])


def _one_point_candidates(
    units: gpd.GeoDataFrame, rows: np.ndarray, prefix: str, kind: str, *, equipment_cny: float, cost_cny: np.ndarray
) -> gpd.GeoDataFrame:
    """Candidates that serve one village or school each, at its location."""
    ids = units["demand_id"].iloc[rows].to_numpy()
    return gpd.GeoDataFrame(
        {
            "candidate_id": prefix + ids,
            "kind": kind,
            "source": ids,
            "tech": kind,
            "band_mhz": np.nan,
            "height_m": np.nan,
            "equipment_cny": equipment_cny,
            "backhaul": "",
            "backhaul_cny": 0.0,
            "cost_cny": cost_cny,
        },
        geometry=units.geometry.iloc[rows].to_numpy(),
        crs=units.crs,
    )


def _candidate_set(
    demands: gpd.GeoDataFrame, row_unit: np.ndarray, parts: list[tuple[gpd.GeoDataFrame, pd.DataFrame]]
) -> CandidateSet:
    """The candidates of all parts and their coverage matrix over the demand rows (a pair (unit, cand, need) covers
    the unit's row of that need); site candidates that serve no demand are dropped."""
    crs = demands.crs
    row_of = {(u, n): i for i, (u, n) in enumerate(zip(row_unit.tolist(), demands["need"], strict=True))}
    d_idx, c_idx, n0 = [], [], 0
    for frame, pairs in parts:
        hits = [(row_of.get((u, n)), k + n0) for u, k, n in pairs.itertuples(index=False)]
        hits = [(r, k) for r, k in hits if r is not None]
        d_idx += [r for r, _ in hits]
        c_idx += [k for _, k in hits]
        n0 += len(frame)
    cands = (
        gpd.GeoDataFrame(pd.concat([f for f, _ in parts], ignore_index=True), geometry="geometry", crs=crs)
        if parts
        else gpd.GeoDataFrame(columns=["candidate_id", "kind", "cost_cny", "geometry"], geometry="geometry", crs=crs)
    )
    mat = sparse.csr_matrix(
        (np.ones(len(d_idx), dtype=bool), (np.asarray(d_idx, dtype=np.int64), np.asarray(c_idx, dtype=np.int64))),
        shape=(len(demands), len(cands)),
    )
    served = np.asarray(mat.sum(axis=0)).ravel()
    keep = served > 0
    cands = cands[keep].reset_index(drop=True)
    mat = mat[:, np.flatnonzero(keep)].tocsr()
    cands["serves"] = np.asarray(mat.sum(axis=0)).ravel().astype(int)
    logger.info("candidates: %d (%s) for %d demands", len(cands), cands["kind"].value_counts().to_dict(), len(demands))
    return CandidateSet(demands=demands, candidates=cands, coverage=mat)
