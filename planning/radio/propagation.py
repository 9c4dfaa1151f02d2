"""Path-loss models, vectorised over NumPy arrays, and terrain-aware loss along DEM profiles.

Distances are 2-D ground distances in metres; models that need the 3-D distance compute it inside.
Frequencies in MHz, heights in metres, losses in dB.

* :func:`free_space_loss_db` — ITU-R P.525.
* :func:`hata_loss_db` — Okumura-Hata (150-1500 MHz) and COST-231 Hata (1500-2000 MHz).
* :func:`rma_loss_db`, :func:`uma_loss_db` — 3GPP TR 38.901 Table 7.4.1-1 rural and urban macro.
* :func:`knife_edge_loss_db` — ITU-R P.526 J(v).
* :func:`terrain_loss_db` — any of the above along DEM profiles, with k-factor earth curvature and a
  60 % first-Fresnel-zone line-of-sight test; free space adds Deygout multiple knife-edge diffraction (up to
  3 edges), the empirical models none; or ``model="itm"``: Longley-Rice point-to-point through the ``itmlogic`` package.

Inputs outside a model's validity range raise ``ValueError`` naming the parameter and the range, unless
the caller passes ``extrapolate=True`` (then a ``UserWarning`` says what was extrapolated).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
from itmlogic.misc.qerfi import qerfi
from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
from itmlogic.preparatory_subroutines.qlrps import qlrps
from itmlogic.statistics.avar import avar

from gis.settings import ENVIRONMENTS, PROPAGATION_MODELS, Environment, Model
from gis.terrain import Profiles

logger = logging.getLogger(__name__)

__all__ = [
    "C_38901_M_S",
    "C_M_S",
    "EARTH_RADIUS_M",
    "FSPL_CONST_DB",
    "MODELS",
    "Environment",
    "ItmParams",
    "Model",
    "TerrainLoss",
    "base_loss_db",
    "free_space_loss_db",
    "hata_loss_db",
    "itm_loss_db",
    "itm_p2p_db",
    "knife_edge_loss_db",
    "rma_loss_db",
    "terrain_loss_db",
    "uma_loss_db",
]

MODELS: tuple[Model, ...] = PROPAGATION_MODELS

C_M_S = 299_792_458.0
C_38901_M_S = 3.0e8  # TR 38.901 Table 7.4.1-1 note: c = 3.0 x 10^8 m/s in the breakpoint distances
EARTH_RADIUS_M = 6_371_000.0
#: 20 log10(4 pi / c) + 20 log10(1e6 Hz/MHz) + 20 log10(1e3 m/km): exact constant of the P.525 formula (32.45 rounded).
FSPL_CONST_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / C_M_S)


# ------------------------------------------------------------------------------------------ checks
def _arr(name: str, value: object) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if np.isnan(a).any():
        msg = f"`{name}` contains NaN; expected finite numbers"
        raise ValueError(msg)
    return a


def _check_range(
    name: str, a: np.ndarray, low: float, high: float, *, unit: str, model: str, extrapolate: bool
) -> None:
    """Refuse values outside [low, high] (or warn when extrapolating)."""
    bad = (a < low) | (a > high)
    if not bad.any():
        return
    worst = a[bad].flat[0]
    text = f"`{name}` = {worst:g} {unit} is outside the {model} validity range [{low:g}, {high:g}] {unit}"
    if extrapolate:
        warnings.warn(f"{text}; extrapolating", UserWarning, stacklevel=3)
        return
    raise ValueError(f"{text}; pass extrapolate=True to extrapolate")


def _positive(name: str, a: np.ndarray, *, allow_zero: bool = False) -> None:
    bad = a < 0 if allow_zero else a <= 0
    if bad.any():
        msg = f"`{name}` = {a[bad].flat[0]:g} must be {'>= 0' if allow_zero else '> 0'}"
        raise ValueError(msg)


def _link_args(
    distance_m: object, freq_mhz: object, base_height_m: object, rx_height_m: object, *, rx_name: str = "ue_height_m"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distance, frequency and the two antenna heights as float arrays, each checked finite and > 0."""
    out = []
    for name, value in (
        ("distance_m", distance_m),
        ("freq_mhz", freq_mhz),
        ("base_height_m", base_height_m),
        (rx_name, rx_height_m),
    ):
        a = _arr(name, value)
        _positive(name, a)
        out.append(a)
    return out[0], out[1], out[2], out[3]


# ------------------------------------------------------------------------------------------ models
def free_space_loss_db(distance_m: object, freq_mhz: object) -> np.ndarray:
    """Free-space basic transmission loss (ITU-R P.525): 20 log10(4 pi d / lambda).

    Parameters
    ----------
    distance_m : array_like
        Path length, metres (> 0).
    freq_mhz : array_like
        Frequency, MHz (> 0).
    """
    d = _arr("distance_m", distance_m)
    f = _arr("freq_mhz", freq_mhz)
    _positive("distance_m", d)
    _positive("freq_mhz", f)
    return FSPL_CONST_DB + 20.0 * np.log10(f) + 20.0 * np.log10(d / 1000.0)


def _hata_core(d_km: np.ndarray, f: np.ndarray, hb: np.ndarray, hm: np.ndarray, environment: str) -> np.ndarray:
    lf = np.log10(f)
    if environment == "urban_large":
        a_hm = np.where(f <= 300.0, 8.29 * np.log10(1.54 * hm) ** 2 - 1.1, 3.2 * np.log10(11.75 * hm) ** 2 - 4.97)
    else:
        a_hm = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
    slope = (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km)
    okumura = 69.55 + 26.16 * lf - 13.82 * np.log10(hb) - a_hm + slope
    cost231 = 46.3 + 33.9 * lf - 13.82 * np.log10(hb) - a_hm + slope + (3.0 if environment == "urban_large" else 0.0)
    loss = np.where(f <= 1500.0, okumura, cost231)
    if environment == "suburban":
        loss = loss - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif environment == "rural":
        loss = loss - 4.78 * lf**2 + 18.33 * lf - 40.94
    return loss


def hata_loss_db(
    distance_m: object,
    freq_mhz: object,
    base_height_m: object,
    *,
    mobile_height_m: object = 1.5,
    environment: Environment = "rural",
    extrapolate: bool = False,
) -> np.ndarray:
    """Okumura-Hata (150-1500 MHz) / COST-231 Hata (1500-2000 MHz) median path loss.

    ``urban_large`` uses the large-city mobile-antenna correction and COST-231's +3 dB; ``urban``,
    ``suburban`` and ``rural`` (open area) use the small/medium-city correction, and suburban and rural
    subtract Hata's suburban and open-area corrections (also above 1500 MHz).

    Validity: 150-2000 MHz, base 30-200 m, mobile 1-10 m, 1-20 km.
    """
    if environment not in ENVIRONMENTS:
        msg = f"`environment` = {environment!r}; expected one of {list(ENVIRONMENTS)}"
        raise ValueError(msg)
    d, f, hb, hm = _link_args(distance_m, freq_mhz, base_height_m, mobile_height_m, rx_name="mobile_height_m")
    _check_range("freq_mhz", f, 150.0, 2000.0, unit="MHz", model="Hata", extrapolate=extrapolate)
    _check_range("base_height_m", hb, 30.0, 200.0, unit="m", model="Hata", extrapolate=extrapolate)
    _check_range("mobile_height_m", hm, 1.0, 10.0, unit="m", model="Hata", extrapolate=extrapolate)
    _check_range("distance_m", d, 1000.0, 20000.0, unit="m", model="Hata", extrapolate=extrapolate)
    return _hata_core(d / 1000.0, f, hb, hm, environment)


def _rma_core(
    d2: np.ndarray, fc_ghz: np.ndarray, hbs: np.ndarray, hut: np.ndarray, los: np.ndarray, h: float, w: float
) -> np.ndarray:
    d3 = np.sqrt(d2**2 + (hbs - hut) ** 2)
    dbp = 2.0 * np.pi * hbs * hut * fc_ghz * 1e9 / C_38901_M_S

    def pl1(dd: np.ndarray) -> np.ndarray:
        return (
            20.0 * np.log10(40.0 * np.pi * dd * fc_ghz / 3.0)
            + min(0.03 * h**1.72, 10.0) * np.log10(dd)
            - min(0.044 * h**1.72, 14.77)
            + 0.002 * np.log10(h) * dd
        )

    dbp3 = np.sqrt(dbp**2 + (hbs - hut) ** 2)
    pl_los = np.where(d2 <= dbp, pl1(d3), pl1(dbp3) + 40.0 * np.log10(d3 / dbp3))
    pl_nlos_p = (
        161.04
        - 7.1 * np.log10(w)
        + 7.5 * np.log10(h)
        - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs)
        + (43.42 - 3.1 * np.log10(hbs)) * (np.log10(d3) - 3.0)
        + 20.0 * np.log10(fc_ghz)
        - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97)
    )
    return np.where(los, pl_los, np.maximum(pl_los, pl_nlos_p))


def rma_loss_db(
    distance_m: object,
    freq_mhz: object,
    *,
    base_height_m: object = 35.0,
    ue_height_m: object = 1.5,
    los: object = True,
    building_height_m: float = 5.0,
    street_width_m: float = 20.0,
    extrapolate: bool = False,
) -> np.ndarray:
    """3GPP TR 38.901 RMa path loss (Table 7.4.1-1), LOS or NLOS (NLOS = max(LOS, NLOS')).

    LOS uses the breakpoint distance d_BP = 2 pi h_BS h_UT f_c / c. Validity: 0.5-30 GHz, 10 m-10 km
    (LOS) / 10 m-5 km (NLOS), h_BS 10-150 m, h_UT 1-10 m, building height 5-50 m, street width 5-50 m.
    """
    d, f, hbs, hut = _link_args(distance_m, freq_mhz, base_height_m, ue_height_m)
    los_a = np.asarray(los, dtype=bool)
    _check_range("freq_mhz", f, 500.0, 30000.0, unit="MHz", model="RMa", extrapolate=extrapolate)
    _check_range("base_height_m", hbs, 10.0, 150.0, unit="m", model="RMa", extrapolate=extrapolate)
    _check_range("ue_height_m", hut, 1.0, 10.0, unit="m", model="RMa", extrapolate=extrapolate)
    _check_range(
        "building_height_m", np.asarray(building_height_m, float), 5, 50, unit="m", model="RMa", extrapolate=extrapolate
    )
    _check_range(
        "street_width_m", np.asarray(street_width_m, float), 5, 50, unit="m", model="RMa", extrapolate=extrapolate
    )
    d_max = np.where(los_a, 10000.0, 5000.0)
    _check_range(
        "distance_m",
        np.where(d > d_max, np.maximum(d, 10000.01), d),
        10.0,
        10000.0,
        unit="m",
        model="RMa",
        extrapolate=extrapolate,
    )
    return _rma_core(d, f / 1000.0, hbs, hut, los_a, float(building_height_m), float(street_width_m))


def uma_loss_db(
    distance_m: object,
    freq_mhz: object,
    *,
    base_height_m: object = 25.0,
    ue_height_m: object = 1.5,
    los: object = True,
    extrapolate: bool = False,
) -> np.ndarray:
    """3GPP TR 38.901 UMa path loss (Table 7.4.1-1) with h_E = 1 m, LOS or NLOS (NLOS = max(LOS, NLOS')).

    Validity: 0.5-100 GHz, 10 m-5 km, h_UT 1.5-22.5 m (h_BS nominally 25 m).
    """
    d, f, hbs, hut = _link_args(distance_m, freq_mhz, base_height_m, ue_height_m)
    los_a = np.asarray(los, dtype=bool)
    _check_range("freq_mhz", f, 500.0, 100000.0, unit="MHz", model="UMa", extrapolate=extrapolate)
    _check_range("ue_height_m", hut, 1.5, 22.5, unit="m", model="UMa", extrapolate=extrapolate)
    _check_range("distance_m", d, 10.0, 5000.0, unit="m", model="UMa", extrapolate=extrapolate)
    fc = f / 1000.0
    d3 = np.sqrt(d**2 + (hbs - hut) ** 2)
    dbp = 4.0 * (hbs - 1.0) * (hut - 1.0) * fc * 1e9 / C_38901_M_S
    pl1 = 28.0 + 22.0 * np.log10(d3) + 20.0 * np.log10(fc)
    pl2 = 28.0 + 40.0 * np.log10(d3) + 20.0 * np.log10(fc) - 9.0 * np.log10(dbp**2 + (hbs - hut) ** 2)
    pl_los = np.where(d <= dbp, pl1, pl2)
    pl_nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc) - 0.6 * (hut - 1.5)
    return np.where(los_a, pl_los, np.maximum(pl_los, pl_nlos))


def knife_edge_loss_db(v: object) -> np.ndarray:
    """Single knife-edge diffraction loss J(v), ITU-R P.526 eq. (31); 0 dB for v <= -0.78."""
    va = np.clip(_arr("v", v), -1e3, 1e6)
    j = 6.9 + 20.0 * np.log10(np.sqrt((va - 0.1) ** 2 + 1.0) + va - 0.1)
    return np.where(va > -0.78, j, 0.0)


# ----------------------------------------------------------------------------------- base loss without terrain
def base_loss_db(
    model: Model,
    distance_m: np.ndarray,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    *,
    los: np.ndarray | bool = True,
    environment: Environment = "rural",
) -> np.ndarray:
    """Loss of a flat-earth base model over whole coverage sweeps (no validity errors).

    Distances are clipped below at 10 m; Hata below 1 km follows its own log-distance law but never goes
    below free space, and carriers above Hata's 2000 MHz (n41 2600, n78 3500 MHz) use TR 38.901 RMa
    (LOS or NLOS as ``los`` says) rather than an extrapolated COST-231.
    """
    d = np.maximum(np.asarray(distance_m, dtype=float), 10.0)
    f = np.asarray(freq_mhz, dtype=float)
    ht = np.asarray(tx_height_m, dtype=float)
    hr = np.asarray(rx_height_m, dtype=float)
    if model == "free_space":
        return FSPL_CONST_DB + 20.0 * np.log10(f) + 10.0 * np.log10((d**2 + (ht - hr) ** 2) / 1e6)
    if model == "hata":
        loss = _hata_core(d / 1000.0, f, np.maximum(ht, 1.0), hr, environment)
        # never below free space (Hata's law is not meant for the first few hundred metres)
        fs = FSPL_CONST_DB + 20.0 * np.log10(f) + 10.0 * np.log10((d**2 + (ht - hr) ** 2) / 1e6)
        loss = np.maximum(loss, fs)
        above = f > 2000.0
        if np.any(above):
            # Hata/COST-231 ends at 2000 MHz: n41/n78 carriers take TR 38.901 RMa instead of extrapolating
            rma = _rma_core(d, f / 1000.0, np.clip(ht, 10.0, 150.0), hr, np.asarray(los, dtype=bool), 5.0, 20.0)
            loss = np.where(above, rma, loss)
        return loss
    if model == "rma":
        return _rma_core(d, f / 1000.0, np.maximum(ht, 1.0), hr, np.asarray(los, dtype=bool), 5.0, 20.0)
    if model == "uma":
        with np.errstate(invalid="ignore"):
            return uma_loss_db(
                d, f, base_height_m=np.maximum(ht, 2.0), ue_height_m=np.maximum(hr, 1.5), los=los, extrapolate=True
            )
    msg = f"`model` = {model!r} has no flat-earth form here; expected one of {list(MODELS[:4])}"
    raise ValueError(msg)


# ----------------------------------------------------------------------------------- terrain
@dataclass(frozen=True)
class TerrainLoss:
    """Terrain-aware loss per path.

    Attributes
    ----------
    loss_db : ndarray
        Total path loss, dB (NaN where the profile leaves the DEM).
    los : ndarray of bool
        True where the path clears 60 % of the first Fresnel zone everywhere.
    diffraction_db : ndarray
        Deygout diffraction loss added to free space, dB (0 for the empirical models and ``itm``).
    complete : ndarray of bool
        False where part of the profile is off the DEM or on nodata.
    """

    loss_db: np.ndarray
    los: np.ndarray
    diffraction_db: np.ndarray
    complete: np.ndarray


def _segment_max(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Maximum of each contiguous segment ``values[offsets[i]:offsets[i+1]]`` (segments are non-empty)."""
    return np.maximum.reduceat(values, offsets[:-1])


def _segment_argmax(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment maximum and the index of its first occurrence (-1 where the maximum is not finite)."""
    best = _segment_max(values, offsets)
    counts = np.diff(offsets)
    is_max = values == np.repeat(best, counts)
    big = np.iinfo(np.int64).max
    idx = np.minimum.reduceat(np.where(is_max, np.arange(len(values)), big), offsets[:-1])
    return best, np.where(np.isfinite(best) & (idx != big), idx, -1)


def _deygout(
    prof: Profiles,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    *,
    k_factor: float,
    fresnel_clearance: float,
    max_edges: int,
) -> tuple[np.ndarray, np.ndarray]:
    """LOS flag and Deygout diffraction loss (dB) per profile (vectorised over all samples)."""
    n = len(prof)
    counts = np.diff(prof.offsets)
    pair = np.repeat(np.arange(n), counts)
    dist = prof.distance_m
    big_d = prof.length_m[pair]
    lam = (C_M_S / (np.asarray(freq_mhz, float) * 1e6))[pair]
    ae = k_factor * EARTH_RADIUS_M
    z = prof.height_m + dist * (big_d - dist) / (2.0 * ae)
    first = prof.offsets[:-1]
    last = prof.offsets[1:] - 1
    z_tx = prof.height_m[first] + tx_height_m
    z_rx = prof.height_m[last] + rx_height_m
    interior = (dist > 0.0) & (dist < big_d)
    d1 = np.where(interior, dist, 1.0)
    d2 = np.where(interior, big_d - dist, 1.0)
    line = z_tx[pair] + (z_rx - z_tx)[pair] * dist / np.maximum(big_d, 1e-9)
    h = z - line
    r1 = np.sqrt(lam * d1 * d2 / np.maximum(big_d, 1e-9))
    blocked = interior & (h > -fresnel_clearance * r1)
    los = np.ones(n, dtype=bool)
    los[pair[blocked]] = False
    v = np.where(interior, h * np.sqrt(2.0 * big_d / (lam * d1 * d2)), -np.inf)
    v = np.where(np.isnan(v), -np.inf, v)
    v_main, i_main = _segment_argmax(v, prof.offsets)
    loss = np.where(v_main > -0.78, knife_edge_loss_db(np.where(np.isfinite(v_main), v_main, -1.0)), 0.0)
    if max_edges >= 2:
        has = (v_main > -0.78) & (i_main >= 0)
        im = np.where(has, i_main, 0)
        d_m = dist[im]
        z_m = z[im]
        dm_s = d_m[pair]
        zm_s = z_m[pair]
        has_s = has[pair]
        # left sub-path: transmitter to the main edge
        left = interior & has_s & (dist < dm_s)
        dl1 = np.where(left, dist, 1.0)
        dl2 = np.where(left, dm_s - dist, 1.0)
        line_l = z_tx[pair] + (zm_s - z_tx[pair]) * dist / np.maximum(dm_s, 1e-9)
        v_l = np.where(left, (z - line_l) * np.sqrt(2.0 * np.maximum(dm_s, 1e-9) / (lam * dl1 * dl2)), -np.inf)
        # right sub-path: main edge to the receiver
        right = interior & has_s & (dist > dm_s)
        dr1 = np.where(right, dist - dm_s, 1.0)
        dr2 = np.where(right, big_d - dist, 1.0)
        span = np.maximum(big_d - dm_s, 1e-9)
        line_r = zm_s + (z_rx[pair] - zm_s) * (dist - dm_s) / span
        v_r = np.where(right, (z - line_r) * np.sqrt(2.0 * span / (lam * dr1 * dr2)), -np.inf)
        vl_max = _segment_max(np.where(np.isnan(v_l), -np.inf, v_l), prof.offsets)
        vr_max = np.full(n, -np.inf)
        if max_edges >= 3:
            vr_max = _segment_max(np.where(np.isnan(v_r), -np.inf, v_r), prof.offsets)
        for vm in (vl_max, vr_max):
            loss = loss + np.where(vm > -0.78, knife_edge_loss_db(np.where(np.isfinite(vm), vm, -1.0)), 0.0)
    return los, loss


def _effective_height(prof: Profiles, tx_height_m: np.ndarray) -> np.ndarray:
    """Transmitter height above the average terrain 3-15 km out (whole path when shorter), metres."""
    counts = np.diff(prof.offsets)
    pair = np.repeat(np.arange(len(prof)), counts)
    d = prof.distance_m
    big_d = prof.length_m[pair]
    lo = np.where(big_d > 15000.0, 3000.0, np.where(big_d > 3000.0, 3000.0 * big_d / 15000.0, 0.0))
    sel = (d >= lo) & (d <= np.minimum(big_d, 15000.0)) & np.isfinite(prof.height_m)
    s = np.bincount(pair[sel], weights=prof.height_m[sel], minlength=len(prof))
    c = np.bincount(pair[sel], minlength=len(prof))
    avg = np.where(c > 0, s / np.maximum(c, 1), prof.height_m[prof.offsets[:-1]])
    return prof.height_m[prof.offsets[:-1]] + tx_height_m - avg


def terrain_loss_db(
    prof: Profiles,
    freq_mhz: object,
    tx_height_m: object,
    rx_height_m: object,
    *,
    model: Model = "hata",
    environment: Environment = "rural",
    k_factor: float = 4.0 / 3.0,
    fresnel_clearance: float = 0.6,
    max_edges: int = 3,
    itm_params: ItmParams | None = None,
) -> TerrainLoss:
    """Path loss along terrain profiles (site at the start of each profile, receiver at the end).

    The base model gives the loss over the path length; with ``hata`` the base-station height is its
    height above the average terrain 3-15 km out (Okumura's effective height, at least 10 m). The profile
    (with earth bulge for an effective radius ``k_factor`` x 6371 km) decides line of sight (clearance of
    ``fresnel_clearance`` x first Fresnel radius at every sample; ``rma``/``uma`` then use their LOS or NLOS
    branch). With ``free_space`` only, Deygout's construction adds knife-edge diffraction loss for up to
    ``max_edges`` edges (the main edge, then the worst edge on each side of it): an empirical model (Hata, RMa,
    UMa) is never stacked with terrain diffraction. ``model="itm"`` runs Longley-Rice point to
    point on each profile instead (:func:`itm_loss_db`).

    Parameters
    ----------
    prof : Profiles
        From :func:`gis.terrain.profiles`, one per path; sample spacing sets the resolution.
    freq_mhz, tx_height_m, rx_height_m : array_like, shape (n,) or scalar
        Frequency and antenna heights above ground.
    """
    if model not in MODELS:
        msg = f"`model` = {model!r}; expected one of {list(MODELS)}"
        raise ValueError(msg)
    if model == "p1812":
        msg = "`model` = 'p1812' runs through planning.radio.pathloss.pair_loss (or planning.radio.p1812)"
        raise ValueError(msg)
    if not 0 < max_edges <= 3:
        msg = f"`max_edges` = {max_edges}; expected 1, 2 or 3"
        raise ValueError(msg)
    n = len(prof)
    f = np.broadcast_to(_arr("freq_mhz", freq_mhz), (n,)).astype(float)
    ht = np.broadcast_to(_arr("tx_height_m", tx_height_m), (n,)).astype(float)
    hr = np.broadcast_to(_arr("rx_height_m", rx_height_m), (n,)).astype(float)
    complete = prof.complete
    if model == "itm":
        loss = itm_loss_db(prof, f, ht, hr, params=itm_params or ItmParams())
        return TerrainLoss(loss, np.zeros(n, dtype=bool), np.zeros(n), complete)
    los, diff = _deygout(prof, f, ht, hr, k_factor=k_factor, fresnel_clearance=fresnel_clearance, max_edges=max_edges)
    hb = np.clip(_effective_height(prof, ht), 10.0, 300.0) if model == "hata" else ht
    base = base_loss_db(model, prof.length_m, f, hb, hr, los=los, environment=environment)
    if model != "free_space":
        # an empirical model already holds its environment's typical obstruction: no knife edges on top
        diff = np.zeros(n)
    loss = np.where(complete, base + diff, np.nan)
    return TerrainLoss(loss, los, diff, complete)


# ----------------------------------------------------------------------------------- ITM (Longley-Rice)
@dataclass(frozen=True)
class ItmParams:
    """Longley-Rice point-to-point parameters (defaults: average ground, continental temperate climate).

    ``time_pct``, ``location_pct`` and ``situation_pct`` are the variability quantiles (percent); the
    median (50/50/50) is what coverage uses.
    """

    epsilon: float = 15.0
    sigma: float = 0.005
    n0: float = 301.0
    polarization: int = 1  # 0 horizontal, 1 vertical
    climate: int = 5  # 1 equatorial ... 5 continental temperate ... 7 maritime temperate over sea
    mdvar: int = 12
    time_pct: float = 50.0
    location_pct: float = 50.0
    situation_pct: float = 50.0


def itm_p2p_db(
    pfl: np.ndarray,
    *,
    tx_height_m: float,
    rx_height_m: float,
    freq_mhz: float,
    params: ItmParams = ItmParams(),
) -> float:
    """Longley-Rice point-to-point basic transmission loss (dB) of one profile, through ``itmlogic``.

    Parameters
    ----------
    pfl : ndarray
        ITM profile: ``[n_intervals, step_m, z_0, ..., z_n]`` (heights in metres).
    """

    profile = [int(pfl[0]), *(float(x) for x in pfl[1:])]  # itmlogic reads a list
    npts = int(profile[0])
    ja = int(3.0 + 0.1 * profile[0])
    jb = npts - ja + 6
    zsys = sum(profile[j] for j in range(ja - 1, jb)) / (jb - ja + 1)
    prop = {
        "hg": [float(tx_height_m), float(rx_height_m)],
        "klimx": 0,
        "mdvarx": -1,
        "klim": params.climate,
        "mdvar": params.mdvar,
        "lvar": 5,
        "mdp": -1,
        "pfl": profile,
        "kwx": 0,
    }
    prop["wn"], prop["gme"], prop["ens"], prop["zgnd"] = qlrps(
        freq_mhz, zsys, params.n0, params.polarization, params.epsilon, params.sigma
    )
    prop = qlrpfl(prop)
    fs = 32.45 + 20.0 * math.log10(freq_mhz) + 20.0 * math.log10(prop["dist"] / 1000.0)
    zt, zl, zs = (qerfi([p / 100.0])[0] for p in (params.time_pct, params.location_pct, params.situation_pct))
    a, prop = avar(zt, zl, zs, prop)
    return float(a + fs)


def itm_loss_db(
    prof: Profiles, freq_mhz: np.ndarray, tx_height_m: np.ndarray, rx_height_m: np.ndarray, *, params: ItmParams
) -> np.ndarray:
    """Longley-Rice loss per profile (a Python loop over itmlogic; ~ms per profile). NaN off the DEM."""
    out = np.full(len(prof), np.nan)
    complete = prof.complete
    for i in range(len(prof)):
        if not complete[i]:
            continue
        d, h = prof.get(i)
        if len(d) < 3 or prof.length_m[i] < 1.0:
            continue
        pfl = np.concatenate([[len(d) - 1, d[1] - d[0]], h])
        out[i] = itm_p2p_db(
            pfl, tx_height_m=tx_height_m[i], rx_height_m=rx_height_m[i], freq_mhz=freq_mhz[i], params=params
        )
    return out
