"""Candidate radio links: which demands (villages, schools) a candidate site would serve, by the coverage criteria.

A link closes where the candidate's downlink RSRP and the uplink meet their thresholds at the cell-edge location
probability and its SINR (against noise plus the current best server of that technology at the point, at the link
budget's load) meets the technology's threshold: the criteria of :func:`planning.radio.coverage.coverage`, applied
to the pairs of candidate sites and demand points. Villages are judged as handhelds; schools as fixed-wireless CPE
whose busy-hour rate, after the village traffic in the same sector (:mod:`planning.radio.capacity`), reaches the
school's demand. The candidates themselves, their costs and the demands are :mod:`planning.plan.candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.settings import RadioSettings
from gis.terrain import Dem, sample_heights
from planning.radio.capacity import cell_load, sustained_rate_mbps
from planning.radio.coverage import (
    Receiver,
    ReceiverSpec,
    SiteTable,
    link_margins_db,
    max_range_m,
    pair_loss_db,
    pair_rsrp_dbm,
    peak_mbps,
    receiver_of,
    sector_of,
    site_point_pairs,
    site_table,
)
from planning.radio.linkbudget import LinkBudget, capped_sinr_db, noise_dbm, o2i_loss_db, shadow_margin_db
from planning.radio.pathloss import P1812Params

__all__ = ["radio_links"]


@dataclass(frozen=True)
class _Links:
    """Candidate-demand pairs of one receiver kind: demand row (into ``demands``), candidate, whether the link
    closes (coverage criteria), single-user peak rate (Mbps), the candidate's sector serving it and the uplink rate
    of one user (Mbps)."""

    d: np.ndarray
    c: np.ndarray
    ok: np.ndarray
    peak_mbps: np.ndarray
    sector: np.ndarray
    ul_mbps: np.ndarray


def _pair_rsrp(
    st: SiteTable,
    si: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    rx: ReceiverSpec,
    radio: RadioSettings,
    dem: Dem | None,
    budget: LinkBudget,
    step_m: float,
) -> np.ndarray:
    """RSRP (dBm) of candidate sites ``si`` at receivers ``x``/``y``: terrain loss at ``step_m``, building entry for
    an indoor CPE, antenna pattern towards the receiver's antenna height above sea level."""
    loss, _ = pair_loss_db(
        dem,
        st.x[si],
        st.y[si],
        x,
        y,
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(si), rx.height_m),
        model=radio.model,
        environment=radio.environment,
        step_m=step_m,
        p1812=P1812Params.of(radio),
    )
    if rx.indoor:
        loss = loss + o2i_loss_db(st.band_mhz[si])
    ground = np.nan_to_num(sample_heights(dem, x, y), nan=0.0) if dem is not None else 0.0
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
        rx_z_m=ground + rx.height_m,
    )


def _candidate_links(
    st: SiteTable,
    rows: np.ndarray,
    demands: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    *,
    receiver: Receiver,
    radio: RadioSettings,
    dem: Dem | None,
    budget: LinkBudget,
) -> _Links:
    """The coverage criteria of :func:`planning.radio.coverage.coverage` for candidate sites at demands ``rows``:
    downlink and uplink margins at the cell-edge location probability and SINR against noise plus the current
    best server of that tech (``existing``) at the link budget's load."""
    rx = receiver_of(receiver, radio, budget)
    g = np.asarray(demands.geometry.values)[rows]
    px, py = shapely.get_x(g), shapely.get_y(g)
    ranges = max_range_m(
        st,
        radio,
        model=radio.model,
        environment=radio.environment,
        rx_height_m=rx.height_m,
        rx_gain_dbi=rx.gain_dbi,
        budget=budget,
    )
    pi, si = site_point_pairs(px, py, st, ranges)
    margin = shadow_margin_db(radio.shadow_sigma_db, radio.edge_probability)
    if not len(pi):
        empty = np.zeros(0, np.int64)
        return _Links(empty, empty, np.zeros(0, bool), np.zeros(0), empty, np.zeros(0))
    x, y = px[pi], py[pi]
    rsrp = _pair_rsrp(st, si, x, y, step_m=radio.profile_step_m, rx=rx, radio=radio, dem=dem, budget=budget)
    cur = np.where(
        st.tech[si] == "4g",
        existing["4g_rsrp_dbm"].to_numpy(dtype=float)[rows][pi],
        existing["5g_rsrp_dbm"].to_numpy(dtype=float)[rows][pi],
    )
    interf = budget.load * np.where(np.isfinite(cur), 10.0 ** (np.nan_to_num(cur, nan=-300.0) / 10.0), 0.0)
    noise = 10.0 ** (noise_dbm(st.scs_khz[si], budget.noise_figure_db) / 10.0)
    sinr = 10.0 * np.log10(10.0 ** (np.nan_to_num(rsrp, nan=-300.0) / 10.0) / (noise + interf))
    sinr = capped_sinr_db(sinr, radio.sinr_cap_db)
    dl_m, ul_m, ul_rate = link_margins_db(st, si, rsrp, radio=radio, budget=budget, power_dbm=rx.ul_power_dbm)
    sinr_thr = np.where(st.tech[si] == "4g", radio.lte_sinr_threshold_db, radio.nr_sinr_threshold_db)
    ok = np.isfinite(rsrp) & (np.minimum(dl_m, ul_m) >= margin) & (sinr >= sinr_thr)
    peak = np.where(ok, peak_mbps(st, si, sinr, budget=budget), 0.0)
    return _Links(rows[pi], si, ok, peak, sector_of(st, si, x, y), np.where(ok, ul_rate, 0.0))


def radio_links(
    demands: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None,
    budget: LinkBudget | None = None,
    school_outlet_mbps: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Which demands each site candidate serves: (demand index, candidate index) pairs.

    A link must meet the coverage criteria of :func:`planning.radio.coverage.coverage` (downlink RSRP and uplink
    at the cell-edge location probability, SINR against noise plus the current best server of that tech at the
    point at the link budget's load; ``existing``: the coverage columns ``{tech}_rsrp_dbm`` per demand, NaN where
    none). Villages: handheld. Schools: fixed-wireless CPE (``[radio] school_cpe``) whose **busy-hour** rate
    reaches the school's demand: the peak rate (at most the candidate's ``backhaul_mbps``) times what the
    candidate's sector has left after the village demands it serves
    (:func:`planning.radio.capacity.sustained_rate_mbps`), shared by the schools it serves in that sector, at least
    ``max(school_outlet_mbps, existing["demand_mbps"])``, and whose uplink rate, shared the same way, carries
    ``existing["ul_demand_mbps"]`` (its classrooms' video; none without that column). A village's load is
    ``existing["demand_mbps"]`` (its busy-hour traffic, all operators) x the candidate operator's subscriber share
    (x ``nr_traffic_share`` on 5G) / its peak rate / the candidate's carriers per sector; without that column
    villages load nothing.
    """
    budget = budget or LinkBudget()
    if not len(cands) or not len(demands):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    st = site_table(cands.rename(columns={"candidate_id": "site_id"}), radio, dem=dem)
    is_school = (demands["layer"] == "schools").to_numpy()
    school_rx: Receiver = "indoor_cpe" if radio.school_cpe == "indoor" else "cpe"
    v = _candidate_links(
        st, np.flatnonzero(~is_school), demands, existing, receiver="handheld", radio=radio, dem=dem, budget=budget
    )
    s = _candidate_links(
        st, np.flatnonzero(is_school), demands, existing, receiver=school_rx, radio=radio, dem=dem, budget=budget
    )
    demand = existing["demand_mbps"].to_numpy(dtype=float) if "demand_mbps" in existing else np.zeros(len(demands))
    demand = np.nan_to_num(demand, nan=0.0)
    nr = np.where(st.tech == "5g", radio.capacity.nr_traffic_share, 1.0)
    offered = demand[v.d] * st.market_share[v.c] * nr[v.c]
    load = cell_load(_cell_keys(v.c, v.sector)[v.ok], offered[v.ok], v.peak_mbps[v.ok], st.carriers[v.c][v.ok])
    keys = _cell_keys(s.c, s.sector)
    own = pd.Series(keys).map(load).fillna(0.0).to_numpy(dtype=float)
    on = pd.Series(np.where(s.ok, keys, np.array(None, dtype=object)), dtype=object)
    users = on.map(on.value_counts()).fillna(1.0).to_numpy(dtype=float)
    need = np.maximum(school_outlet_mbps, demand[s.d])
    ul_need = (
        np.nan_to_num(existing["ul_demand_mbps"].to_numpy(dtype=float), nan=0.0)
        if "ul_demand_mbps" in existing
        else np.zeros(len(demands))
    )
    ul_ok = sustained_rate_mbps(s.ul_mbps, 0.0, users) >= ul_need[s.d]
    s_ok = s.ok & (sustained_rate_mbps(s.peak_mbps, own, users) >= need) & ul_ok
    return np.concatenate([v.d[v.ok], s.d[s_ok]]), np.concatenate([v.c[v.ok], s.c[s_ok]])


def _cell_keys(c: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """One key per candidate sector (``candidate * 4 + sector``)."""
    return np.asarray(c, dtype=np.int64) * 4 + np.asarray(sector, dtype=np.int64)
