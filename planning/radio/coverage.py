"""Link budget and 4G/5G coverage of points: best server, RSRP, SINR, throughput and a covered flag per tech.

For every point only the sites within a model-dependent maximum range are evaluated (KD-tree pairs,
never the full N x M matrix); each site-point path gets a DEM profile and the terrain-aware loss of
:mod:`planning.radio.propagation`. Per point and technology:

* RSRP (dBm per resource element) = EIRP per sector - 10 log10(subcarriers) + horizontal antenna pattern
  (3GPP TR 38.901 Table 7.3-1: -min(12 (phi/65°)², 30) for 3-sector sites, 0 dB omni) + receive gain -
  body and cable losses - path loss;
* the best server is the site with the highest RSRP; SINR = S / (N + load x sum of co-channel RSRP of
  the other sites in range), noise per RE = -174 dBm/Hz + 10 log10(subcarrier spacing) + noise figure;
* throughput (Mbps) from SINR by the attenuated Shannon bound of 3GPP TR 36.942 Annex A
  (alpha = 0.6, SINR_min = -10 dB, at most 4.4 bit/s/Hz per layer), times the MIMO layers when SINR is
  high enough for full rank, times the bandwidth and the downlink share of a TDD carrier;
* covered = RSRP >= the project's threshold (4G -110 dBm, 5G -105 dBm by default).

Schools can be evaluated as fixed-wireless CPE (outdoor antenna at 6 m, 10 dBi).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from scipy.spatial import cKDTree

from gis.errors import LayerError, Problem
from gis.project import RadioSettings
from gis.terrain import Dem, profiles, reproject_dem, sample_heights
from planning.radio._terrain_kernel import pair_terrain
from planning.radio.propagation import Environment, Model, base_loss_db, terrain_loss_db

logger = logging.getLogger(__name__)

__all__ = [
    "TECHS",
    "Calibration",
    "LinkBudget",
    "Receiver",
    "SiteTable",
    "antenna_gain_db",
    "calibrate",
    "coverage",
    "coverage_raster",
    "is_tdd",
    "max_range_m",
    "pair_loss_db",
    "pair_rsrp_dbm",
    "resource_blocks",
    "site_point_pairs",
    "site_ranges_m",
    "site_table",
    "subcarrier_spacing_khz",
    "throughput_mbps",
    "write_raster",
]

Receiver = Literal["handheld", "cpe"]
TECHS: tuple[str, ...] = ("4g", "5g")

# 3GPP TS 36.101 Table 5.6-1 (LTE) and TS 38.101-1 Table 5.3.2-1 (NR FR1): resource blocks per bandwidth.
_LTE_RB = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
_NR_RB_15K = {5.0: 25, 10.0: 52, 15.0: 79, 20.0: 106, 25.0: 133, 30.0: 160, 40.0: 216, 50.0: 270}
_NR_RB_30K = {
    10.0: 24,
    15.0: 38,
    20.0: 51,
    25.0: 65,
    30.0: 78,
    40.0: 106,
    50.0: 133,
    60.0: 162,
    70.0: 189,
    80.0: 217,
    90.0: 245,
    100.0: 273,
}


@dataclass(frozen=True)
class LinkBudget:
    """Receiver and air-interface parameters of the link budget (dB, dBi, dBm; sources in the module doc)."""

    noise_figure_db: float = 7.0
    ue_gain_dbi: float = 0.0
    body_loss_db: float = 0.0
    cable_loss_db: float = 0.0
    load: float = 0.5
    alpha: float = 0.6
    sinr_min_db: float = -10.0
    se_max_bps_hz: float = 4.4
    lte_mimo_layers: int = 2
    nr_mimo_layers: int = 4
    full_rank_sinr_db: float = 10.0
    tdd_dl_fraction: float = 0.75
    beamwidth_deg: float = 65.0
    max_attenuation_db: float = 30.0
    cpe_height_m: float = 6.0
    cpe_gain_dbi: float = 10.0
    interference_margin_db: float = 10.0
    max_range_m: float = 60_000.0
    max_sites_per_point: int = 16
    screen_sites_per_point: int = 64
    chunk_points: int = 4000
    screen_step_m: float = 150.0


def is_tdd(band_mhz: np.ndarray) -> np.ndarray:
    """True for TDD bands used in China (B38/B39/B40/B41, n41, n78/n77, n79)."""
    b = np.asarray(band_mhz, dtype=float)
    return ((b >= 1880) & (b <= 1920)) | ((b >= 2300) & (b <= 2400)) | ((b >= 2496) & (b <= 2690)) | (b >= 3300)


def subcarrier_spacing_khz(tech: np.ndarray, band_mhz: np.ndarray) -> np.ndarray:
    """15 kHz for LTE and NR FDD, 30 kHz for NR TDD (n41, n78)."""
    return np.where((np.asarray(tech) == "5g") & is_tdd(band_mhz), 30.0, 15.0)


def resource_blocks(tech: np.ndarray, bandwidth_mhz: np.ndarray, scs_khz: np.ndarray) -> np.ndarray:
    """Resource blocks of a carrier (3GPP tables; 95 % occupancy for bandwidths not in them)."""
    out = np.empty(len(bandwidth_mhz), dtype=float)
    for i, (t, bw, scs) in enumerate(zip(tech, bandwidth_mhz, scs_khz, strict=True)):
        table = _LTE_RB if t == "4g" else (_NR_RB_15K if scs == 15.0 else _NR_RB_30K)
        out[i] = table.get(float(bw), np.floor(bw * 1e3 * (0.9 if t == "4g" else 0.95) / (12 * scs)))
    return out


def antenna_gain_db(
    bearing_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    *,
    beamwidth_deg: float = 65.0,
    max_attenuation_db: float = 30.0,
    sectors: int = 3,
) -> np.ndarray:
    """Horizontal gain relative to boresight (TR 38.901 Table 7.3-1) of the best of ``sectors`` sectors.

    ``azimuth_deg`` NaN means an omni antenna (0 dB). Bearings clockwise from north, degrees.
    """
    bearing = np.asarray(bearing_deg, dtype=float)
    az = np.broadcast_to(np.asarray(azimuth_deg, dtype=float), bearing.shape)
    out = np.zeros(bearing.shape)
    sect = ~np.isnan(az)
    if not sect.any():
        return out
    b, a = bearing[sect], az[sect]
    best = np.full(b.shape, -max_attenuation_db)
    for k in range(sectors):
        diff = np.abs((b - (a + 360.0 * k / sectors) + 180.0) % 360.0 - 180.0)
        best = np.maximum(best, -np.minimum(12.0 * (diff / beamwidth_deg) ** 2, max_attenuation_db))
    out[sect] = best
    return out


def throughput_mbps(
    sinr_db: np.ndarray, bandwidth_mhz: np.ndarray, *, layers: np.ndarray, dl_fraction: np.ndarray, budget: LinkBudget
) -> np.ndarray:
    """Downlink throughput from SINR, TR 36.942 Annex A attenuated Shannon bound (Mbps)."""
    sinr = np.asarray(sinr_db, dtype=float)
    se = np.minimum(budget.alpha * np.log2(1.0 + 10.0 ** (sinr / 10.0)), budget.se_max_bps_hz)
    se = np.where(sinr < budget.sinr_min_db, 0.0, se)
    rank = np.where(sinr >= budget.full_rank_sinr_db, layers, 1)
    return bandwidth_mhz * se * rank * dl_fraction


@dataclass(frozen=True)
class SiteTable:
    """Sites as arrays (metric CRS), defaults filled from the project."""

    site_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tech: np.ndarray
    band_mhz: np.ndarray
    height_m: np.ndarray
    eirp_dbm: np.ndarray
    bandwidth_mhz: np.ndarray
    azimuth_deg: np.ndarray
    subcarriers: np.ndarray
    scs_khz: np.ndarray


def site_table(sites: gpd.GeoDataFrame, radio: RadioSettings) -> SiteTable:
    """Arrays of a validated ``sites`` layer; missing EIRP/bandwidth take the project's defaults."""
    n = len(sites)
    tech = sites["tech"].to_numpy(dtype=object)
    band = sites["band_mhz"].to_numpy(dtype=float)

    def col(name: str, default: np.ndarray) -> np.ndarray:
        if name not in sites:
            return default
        v = pd.to_numeric(sites[name], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(v), default, v)

    nr_bw = np.where(band < 1000.0, np.minimum(radio.nr_bandwidth_mhz, 30.0), radio.nr_bandwidth_mhz)
    bw = col("bandwidth_mhz", np.where(tech == "4g", radio.lte_bandwidth_mhz, nr_bw))
    scs = subcarrier_spacing_khz(tech, band)
    geoms = np.asarray(sites.geometry.values)
    return SiteTable(
        site_id=sites["site_id"].to_numpy(dtype=object),
        x=shapely.get_x(geoms),
        y=shapely.get_y(geoms),
        tech=tech,
        band_mhz=band,
        height_m=sites["height_m"].to_numpy(dtype=float),
        eirp_dbm=col("eirp_dbm", np.full(n, radio.eirp_dbm)),
        bandwidth_mhz=bw,
        azimuth_deg=col("azimuth_deg", np.full(n, np.nan)),
        subcarriers=12.0 * resource_blocks(tech, bw, scs),
        scs_khz=scs,
    )


def max_range_m(
    st: SiteTable,
    radio: RadioSettings,
    *,
    model: Model,
    environment: Environment,
    rx_height_m: float,
    rx_gain_dbi: float,
    budget: LinkBudget,
    height_bonus_m: np.ndarray | None = None,
) -> np.ndarray:
    """Distance (m) beyond which a site cannot reach the interference floor even on flat open ground.

    The floor is the coverage threshold minus ``budget.interference_margin_db``. Terrain only adds loss to
    the flat-earth model (Hata's effective height can be raised by ``height_bonus_m``, the site's ground
    above the lower points), so pairs farther than this are skipped.
    """
    dists = np.geomspace(50.0, budget.max_range_m, 400)
    threshold = np.where(st.tech == "4g", radio.lte_rsrp_threshold_dbm, radio.nr_rsrp_threshold_dbm)
    floor = threshold - budget.interference_margin_db
    allow = st.eirp_dbm - 10 * np.log10(st.subcarriers) + rx_gain_dbi - floor
    h = st.height_m + (0.0 if height_bonus_m is None else height_bonus_m)
    if model == "itm":
        model = "free_space"  # ITM never beats free space by much; a safe bound
    out = np.empty(len(st.x))
    keys = np.round(np.column_stack([st.band_mhz, np.clip(h, 1.0, 300.0), allow]), 1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    for k, (band, hb, al) in enumerate(uniq):
        loss = base_loss_db(
            "free_space" if model == "free_space" else model,
            dists,
            np.full(400, band),
            np.full(400, hb),
            np.full(400, rx_height_m),
            los=True,
            environment=environment,
        )
        ok = np.flatnonzero(loss <= al)
        out[inv.ravel() == k] = dists[ok[-1]] if len(ok) else 0.0
    return out


def site_point_pairs(
    px: np.ndarray, py: np.ndarray, st: SiteTable, ranges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, site index) of every pair within the site's range, via KD-trees."""
    if len(px) == 0 or len(st.x) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tp = cKDTree(np.column_stack([px, py]))
    ts = cKDTree(np.column_stack([st.x, st.y]))
    mat = ts.sparse_distance_matrix(tp, float(ranges.max()), output_type="ndarray")
    keep = mat["v"] <= ranges[mat["i"]]
    return mat["j"][keep].astype(np.int64), mat["i"][keep].astype(np.int64)


def pair_rsrp_dbm(
    st: SiteTable,
    si: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    loss_db: np.ndarray,
    *,
    radio: RadioSettings,
    budget: LinkBudget,
    rx_gain_dbi: float,
    body_loss_db: float,
) -> np.ndarray:
    """RSRP (dBm per resource element) of site ``si`` at points ``px``/``py`` given the path loss.

    EIRP per sector - 10 log10(subcarriers) + horizontal pattern + receive gain - body and cable losses -
    path loss - the project's calibration (offset + slope x log10(d_km)).
    """
    dx, dy = px - st.x[si], py - st.y[si]
    d_km = np.maximum(np.hypot(dx, dy), 10.0) / 1000.0
    gain = antenna_gain_db(
        np.degrees(np.arctan2(dx, dy)) % 360.0,
        st.azimuth_deg[si],
        beamwidth_deg=budget.beamwidth_deg,
        max_attenuation_db=budget.max_attenuation_db,
    )
    cal = radio.calibration_offset_db + radio.calibration_slope_db_per_decade * np.log10(d_km)
    return (
        st.eirp_dbm[si]
        - 10.0 * np.log10(st.subcarriers[si])
        + gain
        + rx_gain_dbi
        - body_loss_db
        - budget.cable_loss_db
        - loss_db
        - cal
    )


def _strongest(pi: np.ndarray, rsrp_estimate: np.ndarray, tech: np.ndarray, *, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` pairs with the highest estimated RSRP per point and technology."""
    keep = np.zeros(len(pi), dtype=bool)
    if len(pi) == 0:
        return keep
    group = pi.astype(np.int64) * 2 + (tech == "5g")
    # one float key: group first, then descending RSRP (RSRP is within +-1000 dB, so 4096 per group is room)
    key = group * 4096.0 + np.clip(1000.0 - np.nan_to_num(rsrp_estimate, nan=-2000.0), 0.0, 4095.0)
    order = np.argsort(key, kind="stable")
    g = group[order]
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
    keep[order[rank < k]] = True
    return keep


def pair_loss_db(
    dem: Dem | None,
    sx: np.ndarray,
    sy: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    *,
    model: Model,
    environment: Environment,
    step_m: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Path loss (dB) and completeness (profile fully on the DEM) per site-point pair.

    With a DEM (which must be in the pairs' metric CRS) each pair gets its terrain profile at ``step_m``:
    the compiled kernel of :mod:`planning.radio._terrain_kernel` for the Hata/RMa/UMa/free-space models, and
    itmlogic on :func:`gis.terrain.profiles` for ``itm``. Without one, the flat-earth base model.
    """
    n = len(sx)
    dist = np.hypot(px - sx, py - sy)
    if dem is None or n == 0:
        loss = base_loss_db(
            "free_space" if model == "itm" else model,
            dist,
            freq_mhz,
            tx_height_m,
            rx_height_m,
            los=False,
            environment=environment,
        )
        return loss, np.ones(n, dtype=bool)
    if model == "itm":
        res = terrain_loss_db(
            profiles(dem, sx, sy, px, py, step_m=step_m), freq_mhz, tx_height_m, rx_height_m, model="itm"
        )
        return res.loss_db, res.complete
    t = dem.transform
    diff, los, complete, heff = pair_terrain(
        dem.height_m,
        t.c,
        t.f,
        t.a,
        t.e,
        np.ascontiguousarray(sx, float),
        np.ascontiguousarray(sy, float),
        np.ascontiguousarray(px, float),
        np.ascontiguousarray(py, float),
        np.ascontiguousarray(tx_height_m, float),
        np.ascontiguousarray(rx_height_m, float),
        np.ascontiguousarray(freq_mhz, float),
        float(step_m),
        4.0 / 3.0,
        0.6,
        3,
    )
    hb = np.clip(heff, 10.0, 300.0) if model == "hata" else tx_height_m
    base = base_loss_db(model, dist, freq_mhz, hb, rx_height_m, los=los, environment=environment)
    return np.where(complete, base + diff, np.nan), complete


@dataclass(frozen=True)
class _Ctx:
    """What every block of points shares in one coverage run."""

    st: SiteTable
    ranges: np.ndarray
    dem: Dem | None
    radio: RadioSettings
    budget: LinkBudget
    model: Model
    environment: Environment
    rx_height_m: float
    rx_gain_dbi: float
    body_loss_db: float


@dataclass(frozen=True)
class _Pairs:
    """Site-point pairs of one block: point index, site index, and (for ``extra_*``) the screened RSRP of the
    interferers not modelled finely."""

    pi: np.ndarray
    si: np.ndarray
    extra_p: np.ndarray
    extra_s: np.ndarray
    extra_rsrp: np.ndarray


def _evaluate(
    ctx: _Ctx,
    px: np.ndarray,
    py: np.ndarray,
    pi: np.ndarray,
    si: np.ndarray,
    step_m: float,
    model: Model,
    *,
    terrain: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Path loss and profile completeness of the pairs (:func:`pair_loss_db`)."""
    st = ctx.st
    return pair_loss_db(
        ctx.dem if terrain else None,
        st.x[si],
        st.y[si],
        px[pi],
        py[pi],
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(pi), ctx.rx_height_m),
        model=model,
        environment=ctx.environment,
        step_m=step_m,
    )


def _rsrp_of(ctx: _Ctx, px: np.ndarray, py: np.ndarray, pi: np.ndarray, si: np.ndarray, loss: np.ndarray) -> np.ndarray:
    return pair_rsrp_dbm(
        ctx.st,
        si,
        px[pi],
        py[pi],
        loss,
        radio=ctx.radio,
        budget=ctx.budget,
        rx_gain_dbi=ctx.rx_gain_dbi,
        body_loss_db=ctx.body_loss_db,
    )


def _screen(ctx: _Ctx, px: np.ndarray, py: np.ndarray, pi: np.ndarray, si: np.ndarray) -> _Pairs:
    """The pairs to model finely: with a DEM, the strongest ``screen_sites_per_point`` per point and tech on flat
    earth, screened on a coarse terrain profile, of which the strongest ``max_sites_per_point`` are kept; the
    others keep their screened RSRP as interference."""
    budget = ctx.budget
    none = np.zeros(0, np.int64)
    if not (budget.max_sites_per_point and ctx.dem is not None):
        return _Pairs(pi, si, none, none, np.zeros(0))
    flat, _ = _evaluate(ctx, px, py, pi, si, 0.0, ctx.model, terrain=False)
    keep = _strongest(pi, _rsrp_of(ctx, px, py, pi, si, flat), ctx.st.tech[si], k=budget.screen_sites_per_point)
    pi, si = pi[keep], si[keep]
    coarse_model: Model = "hata" if ctx.model == "itm" else ctx.model
    screen, _ = _evaluate(ctx, px, py, pi, si, budget.screen_step_m, coarse_model)
    est = _rsrp_of(ctx, px, py, pi, si, screen)
    keep = _strongest(pi, est, ctx.st.tech[si], k=budget.max_sites_per_point)
    fin = ~keep & np.isfinite(est)
    return _Pairs(pi[keep], si[keep], pi[fin], si[fin], est[fin])


def _coverage_block(ctx: _Ctx, px: np.ndarray, py: np.ndarray, on_dem: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Coverage of one block of points (see :func:`coverage`); blocks bound the memory of the pair arrays."""
    st = ctx.st
    pi, si = site_point_pairs(px, py, st, ctx.ranges)
    keep = on_dem[pi]
    pi, si = pi[keep], si[keep]
    n_range = len(pi)
    pairs = _screen(ctx, px, py, pi, si)
    pi, si = pairs.pi, pairs.si
    logger.info("coverage: %d points x %d sites: %d pairs in range, %d modelled", len(px), len(st.x), n_range, len(pi))
    loss, complete = _evaluate(ctx, px, py, pi, si, ctx.radio.profile_step_m, ctx.model)
    rsrp = _rsrp_of(ctx, px, py, pi, si, loss)
    out = pd.DataFrame(index=index)
    n_pts = len(px)
    incomplete = np.zeros(n_pts, dtype=bool)
    np.logical_or.at(incomplete, pi, ~complete)
    out["sites_in_range"] = np.bincount(pi, minlength=n_pts)
    out["terrain"] = np.where(~on_dem, "off_dem", np.where(incomplete, "partial", "ok"))
    valid = np.isfinite(rsrp)
    for tech in TECHS:
        sel = valid & (st.tech[si] == tech)
        for col, values in _best_server(ctx, tech, pi[sel], si[sel], rsrp[sel], pairs, n_pts).items():
            out[col] = values
    return out


def _best_server(
    ctx: _Ctx, tech: str, p: np.ndarray, s: np.ndarray, r: np.ndarray, pairs: _Pairs, n_pts: int
) -> dict[str, np.ndarray]:
    """Per point, the ``tech`` columns of its best server: site, RSRP, SINR against noise and the co-channel
    sites (modelled and screened) at the link budget's load, throughput, covered."""
    st, budget = ctx.st, ctx.budget
    best = np.full(n_pts, -np.inf)
    np.maximum.at(best, p, r)
    is_best = r == best[p]
    best_pair = np.full(n_pts, -1, dtype=np.int64)
    idx = np.flatnonzero(is_best)
    best_pair[p[idx[::-1]]] = idx[::-1]  # first best pair per point
    has = best_pair >= 0
    bp = best_pair[has]
    bsite = s[bp]
    # co-channel interference: same band as the serving site, other sites in range
    lin = 10.0 ** (r / 10.0)
    same_band_sum = np.zeros(n_pts)
    serving_band = np.full(n_pts, np.nan)
    serving_band[has] = st.band_mhz[bsite]
    co = st.band_mhz[s] == serving_band[p]
    np.add.at(same_band_sum, p[co], lin[co])
    xco = (st.tech[pairs.extra_s] == tech) & (st.band_mhz[pairs.extra_s] == serving_band[pairs.extra_p])
    np.add.at(same_band_sum, pairs.extra_p[xco], 10.0 ** (pairs.extra_rsrp[xco] / 10.0))
    sig = lin[bp]
    interf = budget.load * np.maximum(same_band_sum[has] - sig, 0.0)
    noise_dbm = -174.0 + 10.0 * np.log10(st.scs_khz[bsite] * 1e3) + budget.noise_figure_db
    sinr = 10.0 * np.log10(sig / (10.0 ** (noise_dbm / 10.0) + interf))
    layers = np.where(tech == "4g", budget.lte_mimo_layers, budget.nr_mimo_layers)
    dl = np.where(is_tdd(st.band_mhz[bsite]), budget.tdd_dl_fraction, 1.0)
    thr = throughput_mbps(sinr, st.bandwidth_mhz[bsite], layers=np.full(len(bp), layers), dl_fraction=dl, budget=budget)
    threshold = ctx.radio.lte_rsrp_threshold_dbm if tech == "4g" else ctx.radio.nr_rsrp_threshold_dbm
    site_col = np.full(n_pts, None, dtype=object)
    site_col[has] = st.site_id[bsite]
    rs = np.full(n_pts, np.nan)
    rs[has] = r[bp]
    si_db = np.full(n_pts, np.nan)
    si_db[has] = sinr
    th = np.zeros(n_pts)
    th[has] = thr
    return {
        f"{tech}_site_id": site_col,
        f"{tech}_rsrp_dbm": np.round(rs, 2),
        f"{tech}_sinr_db": np.round(si_db, 2),
        f"{tech}_throughput_mbps": np.round(np.where(rs >= threshold, th, 0.0), 2),
        f"{tech}_covered": rs >= threshold,
    }


def coverage(
    points: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None = None,
    receiver: Receiver = "handheld",
    budget: LinkBudget = LinkBudget(),
    model: Model | None = None,
    environment: Environment | None = None,
    reference_ground_m: float | None = None,
) -> pd.DataFrame:
    """4G and 5G coverage of every point from its best server.

    Parameters
    ----------
    points, sites : GeoDataFrame
        Validated layers in the same metric CRS.
    radio : RadioSettings
        Thresholds, default EIRP/bandwidth, UE height, model, environment, profile step and calibration.
    dem : Dem, optional
        Terrain; without it the flat-earth model is used (RMa/UMa in their NLOS branch).
    receiver : {"handheld", "cpe"}
        Handheld UE at ``radio.ue_height_m`` with ``budget.ue_gain_dbi``, or a fixed-wireless CPE at
        ``budget.cpe_height_m`` with ``budget.cpe_gain_dbi`` (schools).
    reference_ground_m : float, optional
        Ground height (m) that Hata's effective antenna height is measured from; default the 5th percentile
        of the points' ground. Partitioned runs pass the value of all points so every partition agrees.

    Returns
    -------
    DataFrame
        Index of ``points``; per tech ``{t}_site_id``, ``{t}_rsrp_dbm``, ``{t}_sinr_db``,
        ``{t}_throughput_mbps``, ``{t}_covered``; ``sites_in_range`` and ``terrain`` ("ok", "off_dem": the
        point is outside the DEM and gets no coverage value, "partial": some paths leave the DEM and only
        the others were evaluated).
    """
    ctx, px, py, on_dem = _context(
        points,
        sites,
        radio=radio,
        dem=dem,
        receiver=receiver,
        budget=budget,
        model=model,
        environment=environment,
        reference_ground_m=reference_ground_m,
    )
    step = max(int(budget.chunk_points), 1)
    blocks = [
        _coverage_block(
            ctx, px[lo : lo + step], py[lo : lo + step], on_dem[lo : lo + step], points.index[lo : lo + step]
        )
        for lo in range(0, len(px), step)
    ]
    if not blocks:
        return _coverage_block(ctx, px, py, on_dem, points.index)
    return pd.concat(blocks)


def _context(
    points: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None,
    receiver: Receiver,
    budget: LinkBudget,
    model: Model | None,
    environment: Environment | None,
    reference_ground_m: float | None,
) -> tuple[_Ctx, np.ndarray, np.ndarray, np.ndarray]:
    """The sites, their ranges and the receiver of one coverage call; point coordinates and on-DEM mask."""
    if points.crs is None or not points.crs.is_projected or (len(sites) and not points.crs.equals(sites.crs)):
        msg = f"`points` and `sites` must share one projected CRS; got {points.crs} and {sites.crs}"
        raise ValueError(msg)
    model = model or radio.model  # type: ignore[assignment]
    environment = environment or radio.environment  # type: ignore[assignment]
    if receiver == "cpe":
        rx_h, rx_gain, body = budget.cpe_height_m, budget.cpe_gain_dbi, 0.0
    else:
        rx_h, rx_gain, body = radio.ue_height_m, budget.ue_gain_dbi, budget.body_loss_db
    geoms = np.asarray(points.geometry.values)
    px, py = shapely.get_x(geoms), shapely.get_y(geoms)
    st = site_table(sites, radio)
    if dem is not None and not dem.crs.equals(points.crs):
        dem = reproject_dem(dem, points.crs)
    on_dem = np.ones(len(px), dtype=bool)
    bonus = None
    if dem is not None:
        pz = sample_heights(dem, px, py)
        on_dem = np.isfinite(pz)
        sz = sample_heights(dem, st.x, st.y)
        low = (
            reference_ground_m
            if reference_ground_m is not None
            else (np.nanpercentile(pz, 5) if on_dem.any() else np.nan)
        )
        bonus = np.clip(np.nan_to_num(sz - low, nan=0.0), 0.0, None) if model == "hata" else None
    ranges = max_range_m(
        st,
        radio,
        model=model,
        environment=environment,
        rx_height_m=rx_h,
        rx_gain_dbi=rx_gain,
        budget=budget,
        height_bonus_m=bonus,
    )
    ctx = _Ctx(
        st=st,
        ranges=ranges,
        dem=dem,
        radio=radio,
        budget=budget,
        model=model,
        environment=environment,
        rx_height_m=rx_h,
        rx_gain_dbi=rx_gain,
        body_loss_db=body,
    )
    return ctx, px, py, on_dem


def site_ranges_m(
    points: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None = None,
    receiver: Receiver = "handheld",
    budget: LinkBudget = LinkBudget(),
    reference_ground_m: float | None = None,
) -> np.ndarray:
    """Per site, the distance (m) beyond which :func:`coverage` ignores it for these points (same arguments).

    A partition of the points gets the same coverage as the whole when it is given every site within this
    range of it (and the same ``reference_ground_m``).
    """
    ctx, _, _, _ = _context(
        points,
        sites,
        radio=radio,
        dem=dem,
        receiver=receiver,
        budget=budget,
        model=None,
        environment=None,
        reference_ground_m=reference_ground_m,
    )
    return np.asarray(ctx.ranges, dtype=float)


#: The raster's screening, per cell and technology: the 12 nearest sites ranked on flat earth, the 6 strongest of
#: them on a 150 m terrain profile, the 2 strongest of those on the project's profile step (a map overlay: the
#: analysis of villages and schools is :func:`coverage`).
_RASTER_BUDGET = LinkBudget(max_sites_per_point=2, screen_sites_per_point=12, screen_step_m=150.0)
_RASTER_COARSE_SITES = 6


def coverage_raster(
    sites: gpd.GeoDataFrame,
    area: shapely.Geometry,
    *,
    crs: object,
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
    st = site_table(sites, radio)
    on_dem = np.isfinite(sample_heights(dem, px, py)) if dem is not None else np.ones(n, dtype=bool)
    stages = [(coarse_sites, budget.screen_step_m), (budget.max_sites_per_point, radio.profile_step_m)]
    for b, tech in enumerate(TECHS):
        idx = np.flatnonzero(st.tech == tech)
        if not len(idx):
            continue
        si, pi = _raster_nearest(st, idx, px, py, on_dem, budget=budget)
        rsrp = _raster_rsrp(st, si, pi, px, py, None, radio=radio, budget=budget, step_m=0.0)
        for keep_sites, step_m in stages if dem is not None else []:
            keep = _strongest(pi, rsrp, st.tech[si], k=max(int(keep_sites), 1))
            si, pi = si[keep], pi[keep]
            rsrp = _raster_rsrp(st, si, pi, px, py, dem, radio=radio, budget=budget, step_m=step_m)
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
    dem: Dem | None,
    *,
    radio: RadioSettings,
    budget: LinkBudget,
    step_m: float,
) -> np.ndarray:
    """Handheld RSRP of pairs (site ``si``, point ``pi``): terrain at ``step_m`` with a DEM, else flat earth."""
    x, y = px[pi], py[pi]
    loss, _ = pair_loss_db(
        dem,
        st.x[si],
        st.y[si],
        x,
        y,
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(si), radio.ue_height_m),
        model="hata" if radio.model == "itm" else radio.model,
        environment=radio.environment,
        step_m=step_m,
    )
    return pair_rsrp_dbm(
        st, si, x, y, loss, radio=radio, budget=budget, rx_gain_dbi=budget.ue_gain_dbi, body_loss_db=budget.body_loss_db
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


# ------------------------------------------------------------------------------------------ calibration
@dataclass(frozen=True)
class Calibration:
    """Least-squares correction of a model to drive-test measurements.

    The corrected loss is ``loss + offset_db + slope_db_per_decade * log10(d_km)``, i.e. the predicted RSRP
    falls by that much; ``before_*``/``after_*`` are the mean and standard deviation of measured minus
    predicted RSRP (dB).
    """

    n: int
    offset_db: float
    slope_db_per_decade: float
    before_mean_db: float
    before_std_db: float
    after_mean_db: float
    after_std_db: float


def _measurements(
    measurements: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *, file: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """(RSRP in dBm, site index) of each drive-test measurement; LayerError naming every bad row."""
    problems = []
    for col in ("rsrp_dbm", "site_id"):
        if col not in measurements:
            problems.append(Problem("measurements", "required column is missing", file=file, column=col))
    if problems:
        raise LayerError(problems)
    ids = sites["site_id"].astype(str).to_numpy()
    index = {sid: k for k, sid in enumerate(ids)}
    m_ids = measurements["site_id"].astype(str).to_numpy()
    rsrp = pd.to_numeric(measurements["rsrp_dbm"], errors="coerce").to_numpy(dtype=float)
    for i, (sid, r) in enumerate(zip(m_ids, rsrp, strict=True)):
        if sid not in index:
            problems.append(
                Problem(
                    "measurements", f"site {sid!r} is not in the sites layer", file=file, row=i + 1, column="site_id"
                )
            )
        if not np.isfinite(r) or not -156.0 <= r <= -31.0:  # 3GPP RSRP reporting range (TS 36.133, 38.133)
            problems.append(
                Problem(
                    "measurements",
                    f"{measurements['rsrp_dbm'].iloc[i]!r} is not an RSRP; expected a number between -156 and -31 dBm",
                    file=file,
                    row=i + 1,
                    column="rsrp_dbm",
                )
            )
    if problems:
        raise LayerError(problems)
    if len(rsrp) < 3:
        raise LayerError([Problem("measurements", f"{len(rsrp)} measurements; expected at least 3", file=file)])

    return rsrp, np.array([index[s] for s in m_ids], dtype=np.int64)


def calibrate(
    measurements: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None = None,
    budget: LinkBudget = LinkBudget(),
    model: Model | None = None,
    environment: Environment | None = None,
    file: str | None = None,
) -> Calibration:
    """Fit offset and slope of the propagation model to RSRP measurements (``rsrp_dbm``, ``site_id``).

    Each measurement is predicted from the site it names (not the best server), with the project's model
    and without any earlier calibration.

    Raises
    ------
    LayerError
        A ``site_id`` that is not in the sites layer, or a missing/non-finite ``rsrp_dbm`` (file, row, column).
    """
    rsrp, si = _measurements(measurements, sites, file=file)
    plain = replace(radio, calibration_offset_db=0.0, calibration_slope_db_per_decade=0.0)
    model = model or plain.model  # type: ignore[assignment]
    environment = environment or plain.environment  # type: ignore[assignment]
    st = site_table(sites, plain)
    if dem is not None and not dem.crs.equals(sites.crs):
        dem = reproject_dem(dem, sites.crs)
    geoms = np.asarray(measurements.geometry.values)
    px, py = shapely.get_x(geoms), shapely.get_y(geoms)
    loss, complete = pair_loss_db(
        dem,
        st.x[si],
        st.y[si],
        px,
        py,
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(si), plain.ue_height_m),
        model=model,
        environment=environment,
        step_m=plain.profile_step_m,
    )
    pred = pair_rsrp_dbm(
        st,
        si,
        px,
        py,
        loss,
        radio=plain,
        budget=budget,
        rx_gain_dbi=budget.ue_gain_dbi,
        body_loss_db=budget.body_loss_db,
    )
    ok = np.isfinite(pred) & complete
    if ok.sum() < 3:
        raise LayerError([Problem("measurements", "fewer than 3 measurements lie on the DEM", file=file)])
    resid = rsrp[ok] - pred[ok]  # measured - predicted = -(extra loss)
    logd = np.log10(np.maximum(np.hypot(px - st.x[si], py - st.y[si])[ok], 10.0) / 1000.0)
    a_mat = np.column_stack([np.ones(ok.sum()), logd])
    coef, *_ = np.linalg.lstsq(a_mat, -resid, rcond=None)
    after = resid + a_mat @ coef
    return Calibration(
        n=int(ok.sum()),
        offset_db=float(coef[0]),
        slope_db_per_decade=float(coef[1]),
        before_mean_db=float(resid.mean()),
        before_std_db=float(resid.std(ddof=1)),
        after_mean_db=float(after.mean()),
        after_std_db=float(after.std(ddof=1)),
    )
