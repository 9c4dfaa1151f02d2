"""Link-budget pieces on arrays: shadow-fading margin and location probability, SINR cap, vertical antenna pattern,
building entry loss, uplink budget, per-band equipment.

Units: dB, dBm, dBi, MHz, kHz, Mbps, degrees. Every function is geometry-free and vectorised; sources in
README "Radio propagation and coverage".

* Shadow fading is lognormal with standard deviation ``sigma_db`` (TR 38.901 Table 7.4.1-1: RMa NLOS 8 dB).
  A link closes at a location probability ``p`` when its median margin is at least
  ``sigma x Q^-1(1 - p)`` (:func:`shadow_margin_db`); a point's probability is ``Phi(margin / sigma)``.
* SINR is limited by transmitter and receiver EVM: ``1 / (1/SINR + 1/cap)`` (:func:`capped_sinr_db`); 3.5 % EVM
  for 256QAM (TS 36.104 / TS 38.104 §6.5.2) alone bounds it near 29 dB.
* Vertical pattern (TR 36.814 Table A.2.1.1-2, the form of TR 38.901 Table 7.3-1):
  ``A_V = -min(12 ((theta - tilt) / theta_3dB)^2, SLA_V)``, combined with the horizontal pattern as
  ``-min(-(A_H + A_V), A_m)``.
* Building entry (TR 38.901 §7.4.3.1, low-loss model): ``5 - 10 log10(0.3 x 10^(-L_glass/10) +
  0.7 x 10^(-L_concrete/10))`` with ``L_glass = 2 + 0.2 f``, ``L_concrete = 5 + 4 f`` (f in GHz), plus the RMa
  indoor loss ``0.5 d_in`` at the mean depth of ``min(U(0,10), U(0,10))`` = 10/3 m.
* Uplink: a user at full power on the allocation that maximises its rate (:func:`ul_rate_mbps`), rates by the
  attenuated Shannon bound of TR 36.942 Annex A (uplink: alpha 0.4, SINR_min -10 dB, 2.0 bit/s/Hz); the
  sensitivity for an edge rate is :func:`ul_required_dbm`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.special import ndtr

from gis.settings import BandEquipment

__all__ = [
    "NOISE_DBM_HZ",
    "LinkBudget",
    "antenna_pattern_db",
    "capped_sinr_db",
    "elevation_deg",
    "equipment_index",
    "location_probability",
    "noise_dbm",
    "o2i_loss_db",
    "shadow_margin_db",
    "ul_rate_mbps",
    "ul_required_dbm",
    "vertical_gain_db",
]

#: Thermal noise density, dBm/Hz (kT at 290 K).
NOISE_DBM_HZ = -174.0
#: Vertical side-lobe level of a macro panel (TR 36.814 Table A.2.1.1-2), dB.
VERTICAL_SIDELOBE_DB = 20.0


def noise_dbm(scs_khz: np.ndarray, noise_figure_db: float | np.ndarray) -> np.ndarray:
    """Thermal noise (dBm) in one subcarrier of ``scs_khz`` behind a receiver of ``noise_figure_db``:
    ``-174 dBm/Hz + 10 log10(bandwidth in Hz) + NF``; e.g. 15 kHz and 7 dB give -125.24 dBm."""
    return NOISE_DBM_HZ + 10.0 * np.log10(np.asarray(scs_khz, dtype=float) * 1e3) + noise_figure_db


@dataclass(frozen=True)
class LinkBudget:
    """Receiver and air-interface parameters of the link budget (dB, dBi, dBm; sources in the module doc).

    Downlink rates by TR 36.942 Annex A (``alpha``, ``sinr_min_db``, ``se_max_bps_hz``); uplink rates by its uplink
    row (``ul_alpha`` 0.4, ``ul_sinr_min_db`` -10 dB, ``ul_se_max_bps_hz`` 2.0). MIMO layers come from the site's
    equipment (``RadioSettings.equipment``); the project's radio settings hold the thresholds and the uplink.
    """

    noise_figure_db: float = 7.0
    ue_gain_dbi: float = 0.0
    body_loss_db: float = 0.0
    cable_loss_db: float = 0.0
    load: float = 0.5
    alpha: float = 0.6
    sinr_min_db: float = -10.0
    se_max_bps_hz: float = 4.4
    ul_alpha: float = 0.4
    ul_sinr_min_db: float = -10.0
    ul_se_max_bps_hz: float = 2.0
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


def shadow_margin_db(sigma_db: float, probability: float) -> float:
    """Margin (dB) over the median that a lognormal-shadowed link needs to close at ``probability``.

    ``sigma_db x Q^-1(1 - p)`` = ``sigma_db x Phi^-1(p)``; e.g. 8 dB and 75 % give 5.40 dB, 90 % 10.25 dB.
    """
    if not 0.0 < probability < 1.0:
        msg = f"`probability` = {probability!r}; expected a location probability between 0 and 1"
        raise ValueError(msg)
    return float(sigma_db) * NormalDist().inv_cdf(float(probability))


def location_probability(margin_db: np.ndarray, sigma_db: float) -> np.ndarray:
    """Probability that a link with median margin ``margin_db`` (dB above its threshold) closes under lognormal
    shadowing of ``sigma_db``: ``Phi(margin / sigma)`` (a step at 0 dB when sigma is 0; 0 where the margin is NaN)."""
    m = np.asarray(margin_db, dtype=float)
    p = (m >= 0.0).astype(float) if sigma_db <= 0.0 else ndtr(m / float(sigma_db))
    return np.where(np.isnan(m), 0.0, p)


def capped_sinr_db(sinr_db: np.ndarray, cap_db: float) -> np.ndarray:
    """SINR limited by an EVM floor at ``cap_db``: ``-10 log10(10^(-SINR/10) + 10^(-cap/10))`` (dB)."""
    s = np.asarray(sinr_db, dtype=float)
    return -10.0 * np.log10(10.0 ** (-s / 10.0) + 10.0 ** (-float(cap_db) / 10.0))


def elevation_deg(tx_z_m: np.ndarray, rx_z_m: np.ndarray | float, distance_m: np.ndarray) -> np.ndarray:
    """Angle (degrees) of the receiver below the transmitter's horizontal (negative: above it); heights are
    antenna heights above sea level, the distance horizontal."""
    return np.degrees(np.arctan2(np.asarray(tx_z_m) - np.asarray(rx_z_m), np.maximum(np.asarray(distance_m), 1.0)))


def vertical_gain_db(
    elevation: np.ndarray,
    tilt_deg: np.ndarray,
    beamwidth_deg: np.ndarray,
    *,
    sidelobe_db: float = VERTICAL_SIDELOBE_DB,
) -> np.ndarray:
    """Vertical pattern relative to boresight (dB, <= 0): ``-min(12 ((theta - tilt) / theta_3dB)^2, SLA_V)``."""
    off = (np.asarray(elevation, dtype=float) - np.asarray(tilt_deg, dtype=float)) / np.asarray(beamwidth_deg)
    return -np.minimum(12.0 * off**2, sidelobe_db)


def antenna_pattern_db(horizontal_db: np.ndarray, vertical_db: np.ndarray, *, max_attenuation_db: float) -> np.ndarray:
    """Combined pattern ``-min(-(A_H + A_V), A_m)`` (dB, <= 0)."""
    return -np.minimum(-(np.asarray(horizontal_db) + np.asarray(vertical_db)), max_attenuation_db)


def o2i_loss_db(freq_mhz: np.ndarray) -> np.ndarray:
    """Building entry loss (dB) of TR 38.901 §7.4.3.1's low-loss model plus the mean RMa indoor loss (1.67 dB).

    About 13.3 dB at 1.8 GHz and 14.4 dB at 3.5 GHz.
    """
    f = np.asarray(freq_mhz, dtype=float) / 1000.0
    l_glass = 2.0 + 0.2 * f
    l_concrete = 5.0 + 4.0 * f
    wall = 5.0 - 10.0 * np.log10(0.3 * 10.0 ** (-l_glass / 10.0) + 0.7 * 10.0 ** (-l_concrete / 10.0))
    return wall + 0.5 * 10.0 / 3.0


def _noise_re_dbm(scs_khz: np.ndarray, noise_figure_db: float, interference_margin_db: float) -> np.ndarray:
    return noise_dbm(scs_khz, noise_figure_db) + interference_margin_db


def ul_rate_mbps(
    rx_dbm: np.ndarray,
    n_rb: np.ndarray,
    scs_khz: np.ndarray,
    ul_fraction: np.ndarray,
    *,
    noise_figure_db: float,
    interference_margin_db: float,
    alpha: float,
    sinr_min_db: float,
    se_max_bps_hz: float,
) -> np.ndarray:
    """One user's uplink rate (Mbps) on its best allocation, given the total power ``rx_dbm`` the base station
    receives from it.

    A power-limited user spreads its power over as many resource blocks as keep the SINR at ``sinr_min_db`` (the
    rate ``N log(1 + a/N)`` grows with the allocation N); once the whole carrier (``n_rb``) is used the SINR rises
    instead. Allocations are time-averaged (fractions of a block). Noise per resource element: -174 dBm/Hz +
    10 log10(subcarrier spacing) + noise figure + interference margin.
    """
    rx = np.asarray(rx_dbm, dtype=float)
    scs_hz = np.asarray(scs_khz, dtype=float) * 1e3
    n0 = _noise_re_dbm(scs_khz, noise_figure_db, interference_margin_db)
    se_min = alpha * math.log2(1.0 + 10.0 ** (sinr_min_db / 10.0))
    with np.errstate(over="ignore"):
        rbs_at_min = 10.0 ** ((rx - n0 - sinr_min_db) / 10.0) / 12.0
    nrb = np.asarray(n_rb, dtype=float)
    partial = rbs_at_min * 12.0 * scs_hz * se_min
    sinr_full = rx - 10.0 * np.log10(12.0 * nrb) - n0
    se_full = np.where(
        sinr_full < sinr_min_db, 0.0, np.minimum(alpha * np.log2(1.0 + 10.0 ** (sinr_full / 10.0)), se_max_bps_hz)
    )
    full = 12.0 * nrb * scs_hz * se_full
    rate = np.where(rbs_at_min <= nrb, partial, full) * np.asarray(ul_fraction, dtype=float) / 1e6
    return np.where(np.isnan(rx), 0.0, rate)


def ul_required_dbm(
    target_mbps: np.ndarray,
    n_rb: np.ndarray,
    scs_khz: np.ndarray,
    ul_fraction: np.ndarray,
    *,
    noise_figure_db: float,
    interference_margin_db: float,
    alpha: float,
    sinr_min_db: float,
    se_max_bps_hz: float,
) -> np.ndarray:
    """Uplink sensitivity (dBm): the least total received power for which :func:`ul_rate_mbps` reaches
    ``target_mbps`` (inf where no power does, the rate being capped at ``se_max_bps_hz`` over the carrier).

    Where part of the carrier suffices: noise per RE + SINR_min + 10 log10(target / (scs x SE(SINR_min) x UL
    share)); otherwise the SINR over the whole carrier that gives the rate, + 10 log10(12 n_rb) + noise per RE.
    """
    target = np.asarray(target_mbps, dtype=float) * 1e6
    scs_hz = np.asarray(scs_khz, dtype=float) * 1e3
    ulf = np.asarray(ul_fraction, dtype=float)
    nrb = np.asarray(n_rb, dtype=float)
    n0 = _noise_re_dbm(scs_khz, noise_figure_db, interference_margin_db)
    se_min = alpha * math.log2(1.0 + 10.0 ** (sinr_min_db / 10.0))
    need_rb = target / (12.0 * scs_hz * se_min * ulf)
    partial = n0 + sinr_min_db + 10.0 * np.log10(target / (scs_hz * se_min * ulf))
    se_req = target / (12.0 * nrb * scs_hz * ulf)
    with np.errstate(over="ignore"):
        sinr_req = 10.0 * np.log10(np.maximum(2.0 ** (np.minimum(se_req, 1e3) / alpha) - 1.0, 1e-30))
    full = np.where(se_req > se_max_bps_hz, np.inf, sinr_req + 10.0 * np.log10(12.0 * nrb) + n0)
    return np.where(need_rb <= nrb, partial, full)


def equipment_index(tech: np.ndarray, band_mhz: np.ndarray, equipment: tuple[BandEquipment, ...]) -> np.ndarray:
    """Index of the first ``equipment`` row matching each site's technology and band (-1 where none does)."""
    t = np.asarray(tech, dtype=object)
    b = np.asarray(band_mhz, dtype=float)
    out = np.full(len(b), -1, dtype=np.int64)
    for k, row in enumerate(equipment):
        hit = (out < 0) & (t == row.tech) & (b >= row.band_low_mhz) & (b <= row.band_high_mhz)
        out[hit] = k
    return out
