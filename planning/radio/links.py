"""Candidate radio links: which demands (villages, schools) a candidate site would serve, by the coverage criteria.

A link closes where the candidate's downlink RSRP and the uplink meet their thresholds at the cell-edge location
probability and its SINR (against noise plus the current best server of that technology at the point, at the link
budget's load) meets the technology's threshold: the criteria of :func:`planning.radio.coverage.coverage`, applied
to the pairs of candidate sites and demand points. Villages are judged as handhelds; schools as fixed-wireless CPE
whose busy-hour rate, after the village traffic in the same sector (:mod:`planning.radio.capacity`), reaches the
school's demand. The candidates themselves, their costs and the demands are :mod:`planning.plan.candidates`.
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

__all__ = ["CandidateLinks", "candidate_links", "least_loss_db", "radio_links", "served_pairs"]


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


def _pair_loss(
    st: SiteTable,
    si: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    rx: ReceiverSpec,
    radio: RadioSettings,
    dem: Dem | None,
    step_m: float,
) -> np.ndarray:
    """Path loss (dB) of candidate sites ``si`` to receivers ``x``/``y`` on the terrain profile at ``step_m``, with
    building entry for an indoor CPE."""
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
    return loss + o2i_loss_db(st.band_mhz[si]) if rx.indoor else loss


def _rsrp(
    st: SiteTable,
    si: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    loss_db: np.ndarray,
    ground_m: np.ndarray,
    *,
    rx: ReceiverSpec,
    radio: RadioSettings,
    budget: LinkBudget,
) -> np.ndarray:
    """RSRP (dBm) of candidate sites ``si`` at receivers ``x``/``y`` (ground ``ground_m`` a.m.s.l.) over the path
    loss ``loss_db``: the antenna pattern towards the receiver's antenna height above sea level."""
    return pair_rsrp_dbm(
        st,
        si,
        x,
        y,
        loss_db,
        radio=radio,
        budget=budget,
        rx_gain_dbi=rx.gain_dbi,
        body_loss_db=rx.body_loss_db,
        rx_z_m=ground_m + rx.height_m,
    )


#: Least basic transmission loss P.1812 gives a path of d km at f MHz (dB): its free-space term (eq. 8, 69:
#: ``Lb >= Lb0p = Lbfs`` at p = 50 %), 92.4 + 20 log10(f GHz) + 20 log10(d km), less 0.01 dB for rounding; free
#: space (32.44 + ...) and free space plus diffraction never lose less.
_LEAST_LOSS_CONST_DB = 32.4 - 0.01
#: Models whose every path loses at least :data:`_LEAST_LOSS_CONST_DB` + 20 log10(f MHz d km).
_BOUNDED: frozenset[str] = frozenset({"p1812", "free_space"})


def least_loss_db(dist_m: np.ndarray, freq_mhz: np.ndarray) -> np.ndarray:
    """A lower bound (dB) of the basic transmission loss of P.1812 and free space over ``dist_m`` (at least 1 m:
    a mast at the point itself is free space over at least 1 m of height) at ``freq_mhz``."""
    d_km = np.maximum(np.asarray(dist_m, dtype=float), 1.0) / 1000.0
    return _LEAST_LOSS_CONST_DB + 20.0 * np.log10(np.asarray(freq_mhz, dtype=float)) + 20.0 * np.log10(d_km)


def _closes(
    st: SiteTable,
    si: np.ndarray,
    rsrp: np.ndarray,
    cur: np.ndarray,
    *,
    rx: ReceiverSpec,
    radio: RadioSettings,
    budget: LinkBudget,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(closes, SINR dB, uplink rate Mbps) of pairs with downlink RSRP ``rsrp`` against the current best server's
    RSRP ``cur`` (NaN: none). Every test is non-decreasing in ``rsrp``, so a pair that fails at an upper bound of its
    RSRP fails at its RSRP."""
    interf = budget.load * np.where(np.isfinite(cur), 10.0 ** (np.nan_to_num(cur, nan=-300.0) / 10.0), 0.0)
    noise = 10.0 ** (noise_dbm(st.scs_khz[si], budget.noise_figure_db) / 10.0)
    sinr = 10.0 * np.log10(10.0 ** (np.nan_to_num(rsrp, nan=-300.0) / 10.0) / (noise + interf))
    sinr = capped_sinr_db(sinr, radio.sinr_cap_db)
    dl_m, ul_m, ul_rate = link_margins_db(st, si, rsrp, radio=radio, budget=budget, power_dbm=rx.ul_power_dbm)
    sinr_thr = np.where(st.tech[si] == "4g", radio.lte_sinr_threshold_db, radio.nr_sinr_threshold_db)
    margin = shadow_margin_db(radio.shadow_sigma_db, radio.edge_probability)
    ok = np.isfinite(rsrp) & (np.minimum(dl_m, ul_m) >= margin) & (sinr >= sinr_thr)
    return ok, sinr, ul_rate


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
    screen: bool,
) -> _Links:
    """The coverage criteria of :func:`planning.radio.coverage.coverage` for candidate sites at demands ``rows``:
    downlink and uplink margins at the cell-edge location probability and SINR against noise plus the current
    best server of that tech (``existing``) at the link budget's load.

    With ``screen`` (P.1812 and free space) a pair whose RSRP at the least loss its distance allows
    (:func:`least_loss_db`) already fails is dropped before its terrain profile: it could not close."""
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
    cur_all = (
        np.column_stack([existing[f"{t}_rsrp_dbm"].to_numpy(dtype=float)[rows] for t in ("4g", "5g")])
        if len(rows)
        else np.zeros((0, 2))
    )
    ground = np.nan_to_num(sample_heights(dem, px, py), nan=0.0) if dem is not None else np.zeros(len(px))
    if screen and radio.model in _BOUNDED and len(pi):
        dist = np.hypot(px[pi] - st.x[si], py[pi] - st.y[si])
        best = _rsrp(
            st, si, px[pi], py[pi], least_loss_db(dist, st.band_mhz[si]), ground[pi], rx=rx, radio=radio, budget=budget
        )
        can, _, _ = _closes(st, si, best, _current(cur_all, st, pi, si), rx=rx, radio=radio, budget=budget)
        logger.debug("candidate links: %d of %d pairs may close (least-loss screen)", int(can.sum()), len(pi))
        pi, si = pi[can], si[can]
    if not len(pi):
        empty = np.zeros(0, np.int64)
        return _Links(empty, empty, np.zeros(0, bool), np.zeros(0), empty, np.zeros(0))
    x, y = px[pi], py[pi]
    loss = _pair_loss(st, si, x, y, rx=rx, radio=radio, dem=dem, step_m=radio.profile_step_m)
    rsrp = _rsrp(st, si, x, y, loss, ground[pi], rx=rx, radio=radio, budget=budget)
    ok, sinr, ul_rate = _closes(st, si, rsrp, _current(cur_all, st, pi, si), rx=rx, radio=radio, budget=budget)
    peak = np.where(ok, peak_mbps(st, si, sinr, budget=budget), 0.0)
    return _Links(rows[pi], si, ok, peak, sector_of(st, si, x, y), np.where(ok, ul_rate, 0.0))


def _current(cur_all: np.ndarray, st: SiteTable, pi: np.ndarray, si: np.ndarray) -> np.ndarray:
    """The current best server's RSRP (dBm, NaN: none) of each pair's point in the candidate's technology."""
    return np.where(st.tech[si] == "4g", cur_all[pi, 0], cur_all[pi, 1])


@dataclass(frozen=True)
class CandidateLinks:
    """The candidate-demand links of one set of site candidates (:func:`candidate_links`): their site table and the
    village (handheld) and school (CPE) pairs that close by the coverage criteria, before the busy-hour rates."""

    st: SiteTable
    villages: _Links
    schools: _Links


def candidate_links(
    demands: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None,
    budget: LinkBudget | None = None,
    screen: bool = True,
) -> CandidateLinks | None:
    """The terrain part of :func:`radio_links`, computed once for several school rate targets
    (:func:`served_pairs`); None without candidates or demands.

    ``screen`` (default): under P.1812 or free space, pairs that cannot close even at the least loss their
    distance allows (:func:`least_loss_db`, a proven bound) get no terrain profile; the result is the same.
    """
    budget = budget or LinkBudget()
    if not len(cands) or not len(demands):
        return None
    st = site_table(cands.rename(columns={"candidate_id": "site_id"}), radio, dem=dem)
    is_school = (demands["layer"] == "schools").to_numpy()
    school_rx: Receiver = "indoor_cpe" if radio.school_cpe == "indoor" else "cpe"
    kinds: tuple[tuple[np.ndarray, Receiver], ...] = ((~is_school, "handheld"), (is_school, school_rx))
    v, s = (
        _candidate_links(
            st,
            np.flatnonzero(sel),
            demands,
            existing,
            receiver=kind,
            radio=radio,
            dem=dem,
            budget=budget,
            screen=screen,
        )
        for sel, kind in kinds
    )
    return CandidateLinks(st, v, s)


def served_pairs(
    links: CandidateLinks | None,
    existing: pd.DataFrame,
    *,
    radio: RadioSettings,
    school_outlet_mbps: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(demand index, candidate index) pairs of :func:`radio_links` from its links (:func:`candidate_links`) and
    the busy-hour demands ``existing["demand_mbps"]`` / ``["ul_demand_mbps"]`` (one row per demand)."""
    if links is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    st, v, s = links.st, links.villages, links.schools
    n = len(existing)
    demand = existing["demand_mbps"].to_numpy(dtype=float) if "demand_mbps" in existing else np.zeros(n)
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
        else np.zeros(n)
    )
    ul_ok = sustained_rate_mbps(s.ul_mbps, 0.0, users) >= ul_need[s.d]
    s_ok = s.ok & (sustained_rate_mbps(s.peak_mbps, own, users) >= need) & ul_ok
    return np.concatenate([v.d[v.ok], s.d[s_ok]]), np.concatenate([v.c[v.ok], s.c[s_ok]])


def radio_links(
    demands: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None,
    budget: LinkBudget | None = None,
    school_outlet_mbps: float = 100.0,
    screen: bool = True,
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
    villages load nothing. ``screen``: see :func:`candidate_links` (the pairs are the same either way).
    """
    links = candidate_links(demands, cands, existing, radio=radio, dem=dem, budget=budget, screen=screen)
    return served_pairs(links, existing, radio=radio, school_outlet_mbps=school_outlet_mbps)


def _cell_keys(c: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """One key per candidate sector (``candidate * 4 + sector``)."""
    return np.asarray(c, dtype=np.int64) * 4 + np.asarray(sector, dtype=np.int64)
