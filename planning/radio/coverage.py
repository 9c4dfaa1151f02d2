"""Link budget and 4G/5G coverage of points: best server, RSRP, SINR, uplink, location probability, peak rate and a
covered flag per tech.

For every point only the sites within a model-dependent maximum range are evaluated (KD-tree pairs,
never the full N x M matrix); each site-point path gets a DEM profile and the terrain-aware loss of
:mod:`planning.radio.propagation`. Per point and technology:

* RSRP (SS-RSRP for NR; dBm per resource element) = EIRP of the reference-signal port or beam (per-band
  equipment, ``RadioSettings.equipment``, unless the sites layer gives ``eirp_dbm``) - 10 log10(subcarriers) +
  antenna pattern (horizontal TR 38.901 Table 7.3-1 for 3-sector sites, 0 dB omni; vertical with tilt, TR 36.814
  Table A.2.1.1-2) + receive gain - body, cable, building-entry (indoor CPE) and clutter losses - path loss;
* the best server is the site with the highest RSRP; SINR = S / (N + load x sum of co-channel RSRP of the other
  sites in range), noise per RE = -174 dBm/Hz + 10 log10(subcarrier spacing) + noise figure, limited by EVM
  (``sinr_cap_db``, :func:`planning.radio.linkbudget.capped_sinr_db`);
* uplink: the UE (23 dBm handheld, 26 dBm CPE) over the same path to the base station's receive gain, noise
  figure and noise rise; the edge rate's sensitivity (:func:`planning.radio.linkbudget.ul_required_dbm`) gives the
  uplink margin, :func:`planning.radio.linkbudget.ul_rate_mbps` the rate;
* location probability = Phi(min(downlink RSRP margin, uplink margin) / sigma) (one shadowing on both links);
  covered = both margins >= sigma x Q^-1(1 - p_edge) and SINR >= the tech's SINR threshold (4G RSRP >= -110 dBm,
  SINR >= -3 dB; 5G SS-RSRP >= -105 dBm, SS-SINR >= -3 dB by default);
* peak rate (Mbps, one user alone in the cell) from SINR by the attenuated Shannon bound of TR 36.942 Annex A
  (alpha = 0.6, SINR_min = -10 dB, at most 4.4 bit/s/Hz per layer), times the equipment's MIMO layers when SINR
  is high enough for full rank, times the bandwidth and the downlink share of a TDD carrier, at most the site's
  backhaul capacity; 0 where not covered.

``{t}_throughput_mbps`` is the busy-hour rate: :func:`coverage` alone knows no load and gives the peak there;
the coverage stage (:mod:`planning.radio.stage`) applies each cell's busy-hour load
(:mod:`planning.radio.capacity`). Schools are evaluated as fixed-wireless CPE (outdoor at 6 m, 10 dBi; or indoor).

The link budget's parameters are :class:`planning.radio.linkbudget.LinkBudget`; the coverage raster (a map layer)
is :mod:`planning.radio.raster`, the drive-test calibration :mod:`planning.radio.calibration`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.settings import RadioSettings
from gis.terrain import Dem, reproject_dem, sample_heights
from planning.radio.clutter import PointClutter
from planning.radio.linkbudget import (
    LinkBudget,
    antenna_pattern_db,
    capped_sinr_db,
    elevation_deg,
    equipment_index,
    location_probability,
    noise_dbm,
    o2i_loss_db,
    shadow_margin_db,
    ul_rate_mbps,
    ul_required_dbm,
    vertical_gain_db,
)
from planning.radio.p1812 import pair_loss_db as p1812_pair_loss_db
from planning.radio.pathloss import P1812Params, PairLoss, pair_loss
from planning.radio.propagation import Environment, Model, base_loss_db

logger = logging.getLogger(__name__)

__all__ = [
    "TECHS",
    "Receiver",
    "ReceiverSpec",
    "SiteTable",
    "antenna_gain_db",
    "coverage",
    "is_tdd",
    "link_margins_db",
    "market_shares",
    "max_range_m",
    "pair_loss_db",
    "pair_rsrp_dbm",
    "pattern_gain_db",
    "peak_mbps",
    "receiver_of",
    "resource_blocks",
    "sector_of",
    "sectorised",
    "site_point_pairs",
    "site_ranges_m",
    "site_table",
    "strongest_pairs",
    "subcarrier_spacing_khz",
    "throughput_mbps",
    "uplink_dbm",
]

#: Receivers: a handheld UE, an outdoor fixed-wireless CPE, an indoor CPE (building entry loss).
Receiver = Literal["handheld", "cpe", "indoor_cpe"]
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
class ReceiverSpec:
    """What a receiver kind means in the link budget: antenna height (m) and gain (dBi), body loss on both links
    and building entry (indoor), transmit power on the uplink (dBm) and the losses only the uplink has (the hand
    and head of a handheld's user, dB)."""

    height_m: float
    gain_dbi: float
    body_loss_db: float
    indoor: bool
    power_dbm: float
    ul_loss_db: float = 0.0

    @property
    def ul_power_dbm(self) -> float:
        """Transmit power net of the uplink-only losses (dBm)."""
        return self.power_dbm - self.ul_loss_db


def receiver_of(receiver: Receiver, radio: RadioSettings, budget: LinkBudget) -> ReceiverSpec:
    """The link-budget figures of ``receiver``: handheld (UE height, ``ue_antenna_gain_dbi`` (+ the budget's
    ``ue_gain_dbi``), ``ue_power_dbm`` and ``ue_body_loss_db`` on the uplink), outdoor CPE
    (``budget.cpe_height_m``/``cpe_gain_dbi``, ``cpe_power_dbm``) or indoor CPE (the UE height, the CPE's gain and
    power, TR 38.901 building entry loss)."""
    if receiver == "cpe":
        return ReceiverSpec(budget.cpe_height_m, budget.cpe_gain_dbi, 0.0, False, radio.cpe_power_dbm)
    if receiver == "indoor_cpe":
        return ReceiverSpec(radio.ue_height_m, budget.cpe_gain_dbi, 0.0, True, radio.cpe_power_dbm)
    if receiver == "handheld":
        return ReceiverSpec(
            radio.ue_height_m,
            budget.ue_gain_dbi + radio.ue_antenna_gain_dbi,
            budget.body_loss_db,
            False,
            radio.ue_power_dbm,
            ul_loss_db=radio.ue_body_loss_db,
        )
    msg = f"`receiver` = {receiver!r}; expected one of ['handheld', 'cpe', 'indoor_cpe']"
    raise ValueError(msg)


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
    """Sites as arrays (metric CRS), defaults filled from the project and the per-band equipment.

    ``eirp_dbm`` is the reference-signal port's (or SSB beam's) EIRP over the carrier, ``ul_gain_db`` the uplink
    receive gain net of feeder loss, ``ground_m`` the terrain under the site (0 without a DEM), ``backhaul_mbps``
    what the site's backhaul carries (inf for fibre or unknown), ``market_share`` the share of subscribers its
    operator's RAN group carries, ``carriers`` the carriers each of its sectors radiates on its band (the
    capacity of a cell is per sector-carrier). ``azimuth_deg`` is NaN only for an omni site (a row without
    azimuth is three sectors at 0/120/240 deg unless ``[radio] missing_azimuth = "omni"``).
    """

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
    ul_gain_db: np.ndarray
    dl_layers: np.ndarray
    vertical_beamwidth_deg: np.ndarray
    tilt_deg: np.ndarray
    ground_m: np.ndarray
    backhaul_mbps: np.ndarray
    market_share: np.ndarray
    carriers: np.ndarray


def _numeric(sites: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    """Column ``name`` of ``sites`` as floats, ``default`` where missing or empty."""
    if name not in sites:
        return default
    v = pd.to_numeric(sites[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(v), default, v)


def _backhaul_mbps(sites: pd.DataFrame, radio: RadioSettings) -> np.ndarray:
    """Capacity of each site's backhaul: a ``backhaul_mbps`` column, else by ``backhaul`` kind (fibre or unknown:
    unlimited; microwave and satellite: ``[radio.backhaul]``)."""
    n = len(sites)
    kind = sites["backhaul"].astype(object).to_numpy() if "backhaul" in sites else np.full(n, None, dtype=object)
    bh = radio.backhaul
    cap = np.select([kind == "microwave", kind == "satellite"], [bh.microwave_mbps, bh.satellite_backhaul_mbps], np.inf)
    return _numeric(sites, "backhaul_mbps", cap)


def site_table(sites: gpd.GeoDataFrame, radio: RadioSettings, *, dem: Dem | None = None) -> SiteTable:
    """Arrays of a validated ``sites`` layer.

    EIRP: the layer's ``eirp_dbm``, else the matching equipment row's, else ``radio.eirp_dbm``; bandwidth: the
    layer's, else the equipment's, else the project's (NR below 1 GHz at most 30 MHz); carriers per sector: the
    layer's ``carriers``, else the equipment's (1 without a row). Azimuth: the layer's; a row without one is three
    sectors at 0/120/240 deg (:func:`sectorised`), or omni with ``[radio] missing_azimuth = "omni"``. Ground
    heights from ``dem`` (in the sites' CRS) when given. Operator (for the subscriber share) from an ``operator``
    column.
    """
    n = len(sites)
    tech = sites["tech"].to_numpy(dtype=object)
    band = sites["band_mhz"].to_numpy(dtype=float)
    eq = equipment_index(tech, band, radio.equipment)  # -1 (no row) picks the fallback appended last

    def per(attr: str, fallback: float) -> np.ndarray:
        return np.array([getattr(r, attr) for r in radio.equipment] + [fallback], dtype=float)[eq]

    nr_bw = np.where(band < 1000.0, np.minimum(radio.nr_bandwidth_mhz, 30.0), radio.nr_bandwidth_mhz)
    eq_bw = per("bandwidth_mhz", 0.0)
    bw = _numeric(
        sites, "bandwidth_mhz", np.where(eq_bw > 0, eq_bw, np.where(tech == "4g", radio.lte_bandwidth_mhz, nr_bw))
    )
    scs = subcarrier_spacing_khz(tech, band)
    geoms = np.asarray(sites.geometry.values)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    ground = np.zeros(n) if dem is None or not n else np.nan_to_num(sample_heights(dem, x, y), nan=0.0)
    ops = sites["operator"].astype(object).to_numpy() if "operator" in sites else np.full(n, None, dtype=object)
    return SiteTable(
        site_id=sites["site_id"].to_numpy(dtype=object),
        x=x,
        y=y,
        tech=tech,
        band_mhz=band,
        height_m=sites["height_m"].to_numpy(dtype=float),
        eirp_dbm=_numeric(sites, "eirp_dbm", per("eirp_dbm", radio.eirp_dbm)),
        bandwidth_mhz=bw,
        azimuth_deg=_numeric(sites, "azimuth_deg", np.full(n, _missing_azimuth_deg(radio))),
        subcarriers=12.0 * resource_blocks(tech, bw, scs),
        scs_khz=scs,
        ul_gain_db=per("ul_gain_dbi", 18.0) - per("feeder_loss_db", 0.0),
        dl_layers=per("dl_layers", 2.0).astype(np.int64),
        vertical_beamwidth_deg=per("vertical_beamwidth_deg", 10.0),
        tilt_deg=per("tilt_deg", 3.0),
        ground_m=ground,
        backhaul_mbps=_backhaul_mbps(sites, radio),
        market_share=market_shares(ops, radio),
        carriers=_numeric(sites, "carriers", per("carriers", 1.0)),
    )


def _missing_azimuth_deg(radio: RadioSettings) -> float:
    """Azimuth (deg) of a site row without one: 0 (three sectors at 0/120/240) or NaN (omni)."""
    return 0.0 if radio.missing_azimuth == "three_sectors" else np.nan


def sectorised(sites: pd.DataFrame, radio: RadioSettings) -> int:
    """How many rows of ``sites`` have no ``azimuth_deg`` and are taken as three sectors at 0/120/240 deg (0 with
    ``[radio] missing_azimuth = "omni"``): the stated assumption the run counts in its warnings and summary."""
    if radio.missing_azimuth != "three_sectors":
        return 0
    if "azimuth_deg" not in sites:
        return len(sites)
    return int(pd.to_numeric(sites["azimuth_deg"], errors="coerce").isna().sum())


def market_shares(operators: np.ndarray, radio: RadioSettings) -> np.ndarray:
    """Share of subscribers a cell of each operator carries: the sum over its RAN group (``RadioSettings.operators``;
    an operator without a row takes the ``*`` row, else 1)."""
    group: dict[str, float] = {}
    for r in radio.operators:
        if r.ran_group:
            group[r.ran_group] = group.get(r.ran_group, 0.0) + r.market_share
    share = {r.operator: min(group[r.ran_group] if r.ran_group else r.market_share, 1.0) for r in radio.operators}
    default = share.get("*", 1.0)
    return pd.Series(operators, dtype=object).map(share).fillna(default).to_numpy(dtype=float)


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
    p1812: P1812Params | None = None,
) -> np.ndarray:
    """Distance (m) beyond which a site cannot reach the interference floor even on flat open ground.

    The floor is the coverage threshold minus ``budget.interference_margin_db``. The bound is the model's
    flat-earth loss and P.1812 on a smooth Earth (:func:`_flat_bound_db`) with the site raised by
    ``height_bonus_m`` (its ground above the lower points); pairs farther than this are skipped.
    """
    dists = np.geomspace(50.0, budget.max_range_m, 400)
    threshold = np.where(st.tech == "4g", radio.lte_rsrp_threshold_dbm, radio.nr_rsrp_threshold_dbm)
    floor = threshold - budget.interference_margin_db
    allow = st.eirp_dbm - 10 * np.log10(st.subcarriers) + rx_gain_dbi - floor
    h = st.height_m + (0.0 if height_bonus_m is None else height_bonus_m)
    keys = np.round(np.column_stack([st.band_mhz, np.clip(h, 1.0, 300.0), allow]), 1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    prm = p1812 or P1812Params()
    setting = (model, environment, float(rx_height_m), prm.p_pct, prm.dn, prm.n0, prm.clutter_height_m)
    memo = _RANGE_MEMO.setdefault((*setting, float(budget.max_range_m)), {})
    rows = [tuple(u) for u in uniq.tolist()]
    todo = [k for k, row in enumerate(rows) if row not in memo]
    if todo:
        reach = _last_within(
            dists,
            uniq[todo],
            lambda d, b, hb: _flat_bound_db(model, d, b, hb, rx_height_m, environment=environment, p1812=prm),
        )
        if len(memo) > 200_000:
            memo.clear()
        found = np.where(reach >= 0, dists[np.maximum(reach, 0)], 0.0).tolist()
        memo.update(zip([rows[k] for k in todo], found, strict=True))
    per_key = np.array([memo[row] for row in rows], dtype=float)
    return per_key[inv.ravel()] if len(st.x) else np.empty(0)


#: Ranges already found in this process (:func:`max_range_m`), by the setting (model, environment, receive height,
#: P.1812's p, dN, N0, clutter height, longest range) and then by (band, site height, allowed loss): each county's
#: call sees the sites near it again. Exact: the range depends on nothing else.
_RANGE_MEMO: dict[tuple[object, ...], dict[tuple[float, ...], float]] = {}


def _last_within(
    dists: np.ndarray,
    keys: np.ndarray,
    loss_of: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Per key (band MHz, site height m, allowed loss dB), the last index ``i`` of ``dists`` whose loss
    ``loss_of(dists, band, height)`` is at most the allowed loss (-1: none): the distances are scanned from the far
    end in growing chunks, all keys at once, and a key stops at its first chunk with such a distance (the same index
    as a scan of all distances; the loss need not grow with distance)."""
    n = len(keys)
    found = np.full(n, -1, dtype=np.int64)
    active = np.arange(n)
    hi, chunk = len(dists), 8
    while len(active) and hi > 0:
        lo = max(hi - chunk, 0)
        m = hi - lo
        kk = np.repeat(active, m)
        ii = np.tile(np.arange(lo, hi), len(active))
        loss = loss_of(dists[ii], keys[kk, 0], keys[kk, 1]).reshape(len(active), m)
        ok = loss <= keys[active, 2][:, None]
        has = ok.any(axis=1)
        found[active[has]] = hi - 1 - np.argmax(ok[has, ::-1], axis=1)
        active = active[~has]
        hi, chunk = lo, chunk * 2
    return found


def _flat_bound_db(
    model: Model,
    dists: np.ndarray,
    band_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: float,
    *,
    environment: Environment,
    p1812: P1812Params | None,
) -> np.ndarray:
    """Least loss (dB) pairs at ``dists`` (each with its band and site height) can have on open ground: the model's
    flat-earth loss (free space for ITM, which never beats it by much), and for every model but free space the
    lesser of that and P.1812 on a smooth Earth (any model may hand a pair outside its range to P.1812)."""
    n = len(dists)
    f, ht, hr = np.asarray(band_mhz, dtype=float), np.asarray(tx_height_m, dtype=float), np.full(n, rx_height_m)
    fs = base_loss_db("free_space", dists, f, ht, hr)
    if model == "free_space" or not n:
        return fs
    base = fs if model in ("itm", "p1812") else base_loss_db(model, dists, f, ht, hr, los=True, environment=environment)
    ends = np.column_stack([np.zeros(n), np.zeros(n), dists, np.zeros(n)])
    prm = p1812 or P1812Params()
    # a smooth Earth sampled every 250 m (at least 5 points), 45 deg latitude (only b0 depends on it)
    sphere, _ = p1812_pair_loss_db(
        np.zeros((1, 1), np.float32), (-1.0, 1.0, 2.0 + dists.max(), -2.0), ends, np.column_stack([ht, hr]),
        f / 1000.0, np.full(n, 45.0), step_m=250.0, p_pct=prm.p_pct, dn=prm.dn, n0=prm.n0,
        clutter_height_m=prm.clutter_height_m,
    )  # fmt: skip
    return np.minimum(base, sphere) if model != "p1812" else sphere


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


def pattern_gain_db(
    st: SiteTable, si: np.ndarray, px: np.ndarray, py: np.ndarray, rx_z_m: np.ndarray | float, *, budget: LinkBudget
) -> np.ndarray:
    """Antenna pattern (dB, <= 0) of site ``si`` towards receivers at ``px``/``py`` whose antennas stand at
    ``rx_z_m`` metres above sea level: horizontal (3 sectors from ``azimuth_deg``, omni when empty) and vertical
    (the equipment's tilt and beamwidth) combined, at most ``budget.max_attenuation_db``."""
    dx, dy = px - st.x[si], py - st.y[si]
    horizontal = antenna_gain_db(
        np.degrees(np.arctan2(dx, dy)) % 360.0,
        st.azimuth_deg[si],
        beamwidth_deg=budget.beamwidth_deg,
        max_attenuation_db=budget.max_attenuation_db,
    )
    theta = elevation_deg(st.ground_m[si] + st.height_m[si], rx_z_m, np.hypot(dx, dy))
    vertical = vertical_gain_db(theta, st.tilt_deg[si], st.vertical_beamwidth_deg[si])
    return antenna_pattern_db(horizontal, vertical, max_attenuation_db=budget.max_attenuation_db)


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
    rx_z_m: np.ndarray | float | None = None,
) -> np.ndarray:
    """RSRP (dBm per resource element) of site ``si`` at points ``px``/``py`` given the path loss.

    EIRP - 10 log10(subcarriers) + antenna pattern (:func:`pattern_gain_db`) + receive gain - body and cable
    losses - path loss - the project's calibration (offset + slope x log10(d_km)). ``rx_z_m``: receive antennas'
    height above sea level (default: the UE height over ground at 0 m, as the sites without a DEM).
    """
    rx_z = radio.ue_height_m if rx_z_m is None else rx_z_m
    d_km = np.maximum(np.hypot(px - st.x[si], py - st.y[si]), 10.0) / 1000.0
    gain = pattern_gain_db(st, si, px, py, rx_z, budget=budget)
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


def strongest_pairs(pi: np.ndarray, rsrp_estimate: np.ndarray, tech: np.ndarray, *, k: int) -> np.ndarray:
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
    environment: Environment | np.ndarray,
    step_m: float = 30.0,
    p1812: P1812Params | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Path loss (dB) and completeness (profile fully on the DEM) per site-point pair
    (:func:`planning.radio.pathloss.pair_loss`: ``model`` inside its range, ITU-R P.1812 elsewhere).

    With a DEM (which must be in the pairs' metric CRS) each pair gets its terrain profile at ``step_m``; without
    one, flat ground. ``environment``: one Hata environment, or one per pair (clutter); ``p1812``: P.1812's
    refractivity and clutter (default :class:`planning.radio.pathloss.P1812Params`).
    """
    res = _pair_loss(dem, sx, sy, px, py, freq_mhz, tx_height_m, rx_height_m, model, environment, step_m, p1812)
    return res.loss_db, res.complete


def _pair_loss(
    dem: Dem | None,
    sx: np.ndarray,
    sy: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    model: Model,
    environment: Environment | np.ndarray,
    step_m: float,
    p1812: P1812Params | None,
) -> PairLoss:
    n = len(sx)
    ends = np.column_stack([np.broadcast_to(np.asarray(a, float), (n,)) for a in (sx, sy, px, py)])
    heights = np.column_stack([np.broadcast_to(np.asarray(a, float), (n,)) for a in (tx_height_m, rx_height_m)])
    return pair_loss(
        dem,
        ends,
        np.broadcast_to(np.asarray(freq_mhz, float), (n,)),
        heights,
        model=model,
        environment=environment,
        step_m=step_m,
        params=p1812 or P1812Params(),
    )


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
    rx: ReceiverSpec


@dataclass(frozen=True)
class _Points:
    """A block of points: coordinates, on-DEM mask, receive antennas' height above sea level (m), clutter, index."""

    px: np.ndarray
    py: np.ndarray
    on_dem: np.ndarray
    rx_z_m: np.ndarray
    clutter: PointClutter | None
    index: pd.Index

    def block(self, lo: int, hi: int) -> _Points:
        """Points ``lo:hi``."""
        return _Points(
            self.px[lo:hi],
            self.py[lo:hi],
            self.on_dem[lo:hi],
            self.rx_z_m[lo:hi],
            None if self.clutter is None else self.clutter.take(slice(lo, hi)),
            self.index[lo:hi],
        )


@dataclass(frozen=True)
class _Pairs:
    """Site-point pairs of one block: point index, site index, and (for ``extra_*``) the screened RSRP of the
    interferers not modelled finely."""

    pi: np.ndarray
    si: np.ndarray
    extra_p: np.ndarray
    extra_s: np.ndarray
    extra_rsrp: np.ndarray


def _environment(ctx: _Ctx, pts: _Points, pi: np.ndarray) -> Environment | np.ndarray:
    """The project's environment, or per pair the clutter class's where it names one."""
    if pts.clutter is None:
        return ctx.environment
    env = pts.clutter.environment[pi]
    return np.where(env == "", ctx.environment, env)


def _evaluate(
    ctx: _Ctx, pts: _Points, pi: np.ndarray, si: np.ndarray, step_m: float, model: Model, *, terrain: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Path loss and profile completeness of the pairs (:func:`pair_loss_db`)."""
    res = _evaluate_pairs(ctx, pts, pi, si, step_m, model, terrain=terrain)
    return res.loss_db, res.complete


def _evaluate_pairs(
    ctx: _Ctx, pts: _Points, pi: np.ndarray, si: np.ndarray, step_m: float, model: Model, *, terrain: bool = True
) -> PairLoss:
    """Path loss, profile completeness and P.1812 fallback of the pairs (:func:`planning.radio.pathloss.pair_loss`)."""
    st = ctx.st
    grid = None if pts.clutter is None else pts.clutter.height_grid
    return _pair_loss(
        ctx.dem if terrain else None,
        st.x[si],
        st.y[si],
        pts.px[pi],
        pts.py[pi],
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(pi), ctx.rx.height_m),
        model,
        _environment(ctx, pts, pi),
        step_m,
        P1812Params.of(ctx.radio, grid),
    )


def _rsrp_of(ctx: _Ctx, pts: _Points, pi: np.ndarray, si: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """RSRP of the pairs with the receiver's gains and the losses at it (building entry, clutter)."""
    extra = o2i_loss_db(ctx.st.band_mhz[si]) if ctx.rx.indoor else 0.0
    if pts.clutter is not None and not (ctx.model == "p1812" and pts.clutter.height_grid is not None):
        # P.1812 counts the receiver's clutter through the clutter heights of the profile: no extra loss on top
        extra = extra + pts.clutter.extra_loss_db[pi]
    return pair_rsrp_dbm(
        ctx.st,
        si,
        pts.px[pi],
        pts.py[pi],
        loss + extra,
        radio=ctx.radio,
        budget=ctx.budget,
        rx_gain_dbi=ctx.rx.gain_dbi,
        body_loss_db=ctx.rx.body_loss_db,
        rx_z_m=pts.rx_z_m[pi],
    )


def _screen(ctx: _Ctx, pts: _Points, pi: np.ndarray, si: np.ndarray) -> _Pairs:
    """The pairs to model finely: with a DEM, the strongest ``screen_sites_per_point`` per point and tech on flat
    earth, screened on a coarse terrain profile, of which the strongest ``max_sites_per_point`` are kept; the
    others keep their screened RSRP as interference."""
    budget = ctx.budget
    none = np.zeros(0, np.int64)
    if not (budget.max_sites_per_point and ctx.dem is not None):
        return _Pairs(pi, si, none, none, np.zeros(0))
    flat, _ = _evaluate(ctx, pts, pi, si, 0.0, ctx.model, terrain=False)
    keep = strongest_pairs(pi, _rsrp_of(ctx, pts, pi, si, flat), ctx.st.tech[si], k=budget.screen_sites_per_point)
    pi, si = pi[keep], si[keep]
    coarse_model: Model = "hata" if ctx.model == "itm" else ctx.model
    screen, _ = _evaluate(ctx, pts, pi, si, budget.screen_step_m, coarse_model)
    est = _rsrp_of(ctx, pts, pi, si, screen)
    keep = strongest_pairs(pi, est, ctx.st.tech[si], k=budget.max_sites_per_point)
    fin = ~keep & np.isfinite(est)
    return _Pairs(pi[keep], si[keep], pi[fin], si[fin], est[fin])


def _coverage_block(ctx: _Ctx, pts: _Points) -> pd.DataFrame:
    """Coverage of one block of points (see :func:`coverage`); blocks bound the memory of the pair arrays."""
    st = ctx.st
    pi, si = site_point_pairs(pts.px, pts.py, st, ctx.ranges)
    keep = pts.on_dem[pi]
    pi, si = pi[keep], si[keep]
    n_range = len(pi)
    pairs = _screen(ctx, pts, pi, si)
    pi, si = pairs.pi, pairs.si
    n_pts = len(pts.px)
    logger.info("coverage: %d points x %d sites: %d pairs in range, %d modelled", n_pts, len(st.x), n_range, len(pi))
    res = _evaluate_pairs(ctx, pts, pi, si, ctx.radio.profile_step_m, ctx.model)
    loss, complete = res.loss_db, res.complete
    rsrp = _rsrp_of(ctx, pts, pi, si, loss)
    out = pd.DataFrame(index=pts.index)
    incomplete = np.zeros(n_pts, dtype=bool)
    np.logical_or.at(incomplete, pi, ~complete)
    out["sites_in_range"] = np.bincount(pi, minlength=n_pts)
    out["paths_p1812_fallback"] = np.bincount(pi, weights=res.fallback, minlength=n_pts).astype(np.int64)
    out["terrain"] = np.where(~pts.on_dem, "off_dem", np.where(incomplete, "partial", "ok"))
    valid = np.isfinite(rsrp)
    for tech in TECHS:
        sel = valid & (st.tech[si] == tech)
        served = _serving(ctx, tech, pi[sel], si[sel], rsrp[sel], pairs, n_pts)
        for col, values in _tech_columns(ctx, tech, served, pts).items():
            out[col] = values
    return out


@dataclass(frozen=True)
class _Served:
    """Per point with a server of one technology (``has``): serving site, RSRP and SINR (dB, EVM-capped)."""

    has: np.ndarray
    site: np.ndarray
    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray


def _serving(ctx: _Ctx, tech: str, p: np.ndarray, s: np.ndarray, r: np.ndarray, pairs: _Pairs, n_pts: int) -> _Served:
    """Per point, its best server of ``tech`` (highest RSRP) and the SINR against noise and the co-channel sites
    (modelled and screened) at the link budget's load, limited by ``sinr_cap_db``."""
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
    noise = noise_dbm(st.scs_khz[bsite], budget.noise_figure_db)
    sinr = capped_sinr_db(10.0 * np.log10(sig / (10.0 ** (noise / 10.0) + interf)), ctx.radio.sinr_cap_db)
    return _Served(has=has, site=bsite, rsrp_dbm=r[bp], sinr_db=sinr)


def uplink_dbm(st: SiteTable, si: np.ndarray, rsrp_dbm: np.ndarray, *, power_dbm: float) -> np.ndarray:
    """Total power (dBm) site ``si`` receives from a UE at ``power_dbm`` over the path whose downlink RSRP is
    ``rsrp_dbm``: the same path loss, pattern and UE gain, the site's uplink gain instead of its EIRP.
    ``power_dbm`` is net of the losses only the uplink has (:attr:`ReceiverSpec.ul_power_dbm`)."""
    return rsrp_dbm + 10.0 * np.log10(st.subcarriers[si]) - st.eirp_dbm[si] + power_dbm + st.ul_gain_db[si]


def link_margins_db(
    st: SiteTable,
    si: np.ndarray,
    rsrp_dbm: np.ndarray,
    *,
    radio: RadioSettings,
    budget: LinkBudget,
    power_dbm: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(downlink RSRP margin, uplink margin, uplink rate in Mbps) of site ``si`` at its receivers.

    The downlink margin is RSRP minus the tech's threshold; the uplink margin the received power
    (:func:`uplink_dbm`) minus the sensitivity for the tech's edge rate
    (:func:`planning.radio.linkbudget.ul_required_dbm`), both in dB at the median.
    """
    lte = st.tech[si] == "4g"
    ul_share = np.where(is_tdd(st.band_mhz[si]), 1.0 - budget.tdd_dl_fraction, 1.0)
    common = {
        "noise_figure_db": radio.bs_noise_figure_db,
        "interference_margin_db": radio.ul_interference_margin_db,
        "alpha": budget.ul_alpha,
        "sinr_min_db": budget.ul_sinr_min_db,
        "se_max_bps_hz": budget.ul_se_max_bps_hz,
    }
    n_rb, scs = st.subcarriers[si] / 12.0, st.scs_khz[si]
    edge = np.where(lte, radio.lte_ul_edge_mbps, radio.nr_ul_edge_mbps)
    ul_rx = uplink_dbm(st, si, rsrp_dbm, power_dbm=power_dbm)
    ul_margin = ul_rx - ul_required_dbm(edge, n_rb, scs, ul_share, **common)
    dl_margin = rsrp_dbm - np.where(lte, radio.lte_rsrp_threshold_dbm, radio.nr_rsrp_threshold_dbm)
    return dl_margin, ul_margin, ul_rate_mbps(ul_rx, n_rb, scs, ul_share, **common)


def peak_mbps(st: SiteTable, si: np.ndarray, sinr_db: np.ndarray, *, budget: LinkBudget) -> np.ndarray:
    """One user's downlink rate alone in the cell of site ``si`` (Mbps): :func:`throughput_mbps` with the site's
    bandwidth, MIMO layers and TDD share, at most the site's backhaul capacity."""
    dl = np.where(is_tdd(st.band_mhz[si]), budget.tdd_dl_fraction, 1.0)
    air = throughput_mbps(sinr_db, st.bandwidth_mhz[si], layers=st.dl_layers[si], dl_fraction=dl, budget=budget)
    return np.minimum(air, st.backhaul_mbps[si])


def sector_of(st: SiteTable, si: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Sector (1-3, nearest boresight of a 3-sector site; 0 for an omni site) of site ``si`` serving each point."""
    bearing = np.degrees(np.arctan2(px - st.x[si], py - st.y[si])) % 360.0
    az = st.azimuth_deg[si]
    k = np.round(((bearing - np.nan_to_num(az)) % 360.0) / 120.0).astype(np.int64) % 3 + 1
    return np.where(np.isnan(az), 0, k)


def _tech_columns(ctx: _Ctx, tech: str, sv: _Served, pts: _Points) -> dict[str, np.ndarray]:
    """The ``tech`` columns of every point from its server (NaN, None, 0 or False where it has none)."""
    st, radio, has = ctx.st, ctx.radio, sv.has
    n_pts = len(has)
    p = np.flatnonzero(has)
    dl_m, ul_m, ul_rate = link_margins_db(
        st, sv.site, sv.rsrp_dbm, radio=radio, budget=ctx.budget, power_dbm=ctx.rx.ul_power_dbm
    )
    link = np.minimum(dl_m, ul_m)
    sinr_ok = sv.sinr_db >= (radio.lte_sinr_threshold_db if tech == "4g" else radio.nr_sinr_threshold_db)
    ok = (link >= shadow_margin_db(radio.shadow_sigma_db, radio.edge_probability)) & sinr_ok
    peak = np.where(ok, peak_mbps(st, sv.site, sv.sinr_db, budget=ctx.budget), 0.0)
    cells = pd.Series(st.site_id[sv.site], dtype=object).astype(str) + "/"
    cells += sector_of(st, sv.site, pts.px[p], pts.py[p]).astype(str)

    def full(values: np.ndarray, fill: object, dtype: npt.DTypeLike = float) -> np.ndarray:
        arr = np.full(n_pts, fill, dtype=dtype)
        arr[p] = values
        return arr

    return {
        f"{tech}_site_id": full(st.site_id[sv.site], None, object),
        f"{tech}_cell_id": full(cells.to_numpy(dtype=object), None, object),
        f"{tech}_rsrp_dbm": np.round(full(sv.rsrp_dbm, np.nan), 2),
        f"{tech}_sinr_db": np.round(full(sv.sinr_db, np.nan), 2),
        f"{tech}_ul_margin_db": np.round(full(ul_m, np.nan), 2),
        f"{tech}_ul_mbps": np.round(full(ul_rate, 0.0), 3),
        f"{tech}_location_probability": np.round(full(location_probability(link, radio.shadow_sigma_db), 0.0), 4),
        f"{tech}_peak_mbps": np.round(full(peak, 0.0), 2),
        f"{tech}_throughput_mbps": np.round(full(peak, 0.0), 2),
        f"{tech}_covered": full(ok, False, bool),
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
    clutter: PointClutter | None = None,
) -> pd.DataFrame:
    """4G and 5G coverage of every point from its best server, downlink and uplink.

    Parameters
    ----------
    points, sites : GeoDataFrame
        Validated layers in the same metric CRS.
    radio : RadioSettings
        Thresholds, equipment, uplink, shadowing, model, environment, profile step and calibration.
    dem : Dem, optional
        Terrain; without it the flat-earth model is used (RMa/UMa in their NLOS branch) over ground at 0 m.
    receiver : {"handheld", "cpe", "indoor_cpe"}
        Handheld UE at ``radio.ue_height_m`` with ``budget.ue_gain_dbi``, a fixed-wireless CPE outdoors at
        ``budget.cpe_height_m`` with ``budget.cpe_gain_dbi``, or the same CPE indoors (UE height, building entry
        loss); see :func:`receiver_of`.
    reference_ground_m : float, optional
        Ground height (m) that Hata's effective antenna height is measured from; default the 5th percentile
        of the points' ground. Partitioned runs pass the value of all points so every partition agrees.
    clutter : PointClutter, optional
        Per point (aligned with ``points``): environment and extra loss from a land-cover raster.

    Returns
    -------
    DataFrame
        Index of ``points``; per tech ``{t}_site_id``, ``{t}_cell_id`` (``site/sector``), ``{t}_rsrp_dbm``,
        ``{t}_sinr_db``, ``{t}_ul_margin_db`` (uplink margin over the edge rate's sensitivity, dB, median),
        ``{t}_ul_mbps`` (uplink rate of one user, median), ``{t}_location_probability``, ``{t}_peak_mbps``,
        ``{t}_throughput_mbps`` (equal to the peak here: the stage applies the busy hour), ``{t}_covered``;
        ``sites_in_range`` (paths modelled), ``paths_p1812_fallback`` (of those, outside the model's range and
        computed with ITU-R P.1812) and ``terrain`` ("ok", "off_dem": the point is outside the DEM and gets no coverage
        value, "partial": some paths leave the DEM and only the others were evaluated).
    """
    ctx, pts = _context(
        points,
        sites,
        radio=radio,
        dem=dem,
        receiver=receiver,
        budget=budget,
        model=model,
        environment=environment,
        reference_ground_m=reference_ground_m,
        clutter=clutter,
    )
    step = max(int(budget.chunk_points), 1)
    blocks = [_coverage_block(ctx, pts.block(lo, lo + step)) for lo in range(0, len(pts.px), step)]
    if not blocks:
        return _coverage_block(ctx, pts)
    return pd.concat(blocks)


_OPTIMISM: tuple[Environment, ...] = ("rural", "suburban", "urban", "urban_large")


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
    clutter: PointClutter | None = None,
) -> tuple[_Ctx, _Points]:
    """The sites, their ranges and the receiver of one coverage call; the points."""
    if points.crs is None or not points.crs.is_projected or (len(sites) and not points.crs.equals(sites.crs)):
        msg = f"`points` and `sites` must share one projected CRS; got {points.crs} and {sites.crs}"
        raise ValueError(msg)
    model = model or radio.model
    environment = environment or radio.environment
    rx = receiver_of(receiver, radio, budget)
    geoms = np.asarray(points.geometry.values)
    px, py = shapely.get_x(geoms), shapely.get_y(geoms)
    if dem is not None and not dem.crs.equals(points.crs):
        dem = reproject_dem(dem, points.crs)
    st = site_table(sites, radio, dem=dem)
    pz = np.zeros(len(px))
    bonus = None
    if dem is not None:
        pz = sample_heights(dem, px, py)
        low = (
            reference_ground_m
            if reference_ground_m is not None
            else (np.nanpercentile(pz, 5) if np.isfinite(pz).any() else np.nan)
        )
        bonus = np.clip(np.nan_to_num(st.ground_m - low, nan=0.0), 0.0, None)
    present = {environment} | ({str(e) for e in clutter.environment if e} if clutter is not None else set())
    widest = next(e for e in _OPTIMISM if e in present) if present <= set(_OPTIMISM) else environment
    ranges = max_range_m(
        st,
        radio,
        model=model,
        environment=widest,
        rx_height_m=rx.height_m,
        rx_gain_dbi=rx.gain_dbi,
        budget=budget,
        height_bonus_m=bonus,
        p1812=P1812Params.of(radio),
    )
    ctx = _Ctx(st=st, ranges=ranges, dem=dem, radio=radio, budget=budget, model=model, environment=environment, rx=rx)
    return ctx, _Points(px, py, np.isfinite(pz), pz + rx.height_m, clutter, points.index)


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
    ctx, _ = _context(
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
