"""A microwave hop as a path survey judges it: the clearance rule of ITU-R P.530, the link budget of a radio, dish
and modulation, and the availability under rain (P.530 with P.837 rain rates and P.838 coefficients) and
multipath fading (P.530 §2.3).

* **Clearance** (P.530-18 §2.2.2.1): at the median effective earth-radius factor (k = 4/3) the line between the
  antennas clears the terrain and its clutter by ``clearance_f1`` (1.0) first-Fresnel-zone radii, and at the k_e
  exceeded 99.9 % of the worst month (:func:`k_low`, P.530 Figure 3, a function of the hop length) by
  ``clearance_low_f1`` (0.3 for an obstruction extended along the path; 0.0 for a single isolated one).
  :func:`clear_by_rule` applies both to clearances computed at 1 GHz (scaled by ``sqrt(f / 1 GHz)``).
* **Rain** (P.530-18 §2.4.1): A0.01 = gamma_R(R0.01) x d x r, r = 1 / (0.477 d^0.633 R^(0.073 alpha) f^0.123 -
  10.579 (1 - exp(-0.024 d))) (at most 2.5), and A_p = A0.01 C1 p^-(C2 + C3 log10 p); :func:`rain_exceeded_pct`
  inverts it in closed form for the percentage of the year a fade margin is exceeded.
* **Multipath** (P.530-18 §2.3.1, small percentages): p_w = K d^3.4 (1 + |eps_p|)^-1.03 f^0.8 10^(-0.00076 h_L -
  A/10) % of the worst month, K from the refractivity gradient dN1 (P.453) and the terrain roughness s_a; converted
  to the average year with §2.3.4's Delta G (:func:`worst_month_to_year`).
* **Availability**: 100 - rain outage - yearly multipath outage at the hop's flat fade margin (both counted as
  outage, the conservative convention of link planning tools).

``itur`` (0.4.0) supplies the P.837 rain rate, the P.838 coefficients, P.676 gas and the P.530 geoclimatic factor;
the P.530 formulas are written here, vectorised, and tested against ``itur.models.itu530``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from itur.models.itu530 import multipath_loss_for_A
from itur.models.itu676 import gaseous_attenuation_terrestrial_path
from itur.models.itu837 import rainfall_rate
from itur.models.itu838 import rain_specific_attenuation_coefficients

from gis.settings import BackhaulSettings

__all__ = [
    "HopRadio",
    "availability_pct",
    "choose_radio",
    "clear_by_rule",
    "dish_gain_dbi",
    "k_low",
    "multipath_occurrence_pct",
    "rain_attenuation_db",
    "rain_coefficients",
    "rain_exceeded_pct",
    "rain_rate_mm_h",
    "worst_month_to_year",
]

_C_M_S = 299_792_458.0


def k_low(length_m: np.ndarray, settings: BackhaulSettings) -> np.ndarray:
    """The effective earth-radius factor exceeded 99.9 % of the worst month for hops of ``length_m`` (P.530-18
    Figure 3, read as ``settings.k_low`` at ``settings.k_low_path_km``; log-linear in the length, held beyond)."""
    d_km = np.maximum(np.asarray(length_m, dtype=float) / 1000.0, 1e-3)
    return np.interp(np.log(d_km), np.log(np.asarray(settings.k_low_path_km)), np.asarray(settings.k_low))


def clear_by_rule(
    median_ref: np.ndarray, low_ref: np.ndarray, freq_ghz: np.ndarray | float, settings: BackhaulSettings
) -> np.ndarray:
    """Whether hops pass P.530's clearance rule at ``freq_ghz``, from their least clearance in first-Fresnel radii
    at 1 GHz at the median k (``median_ref``) and at k_e 99.9 % (``low_ref``); NaN (off the DEM) never passes."""
    scale = np.sqrt(np.asarray(freq_ghz, dtype=float))
    with np.errstate(invalid="ignore"):
        return (np.asarray(median_ref) * scale >= settings.clearance_f1) & (
            np.asarray(low_ref) * scale >= settings.clearance_low_f1
        )


def rain_rate_mm_h(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Rain rate exceeded 0.01 % of an average year, R0.01 (mm/h, 1-minute integration; ITU-R P.837 maps)."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))
    if not lat.size:
        return np.zeros(0)
    return np.asarray(rainfall_rate(lat, lon, 0.01).value, dtype=float).reshape(lat.shape)


def rain_coefficients(freq_ghz: float, tilt_deg: float) -> tuple[float, float]:
    """ITU-R P.838-3 coefficients (k, alpha) of the specific rain attenuation gamma = k R^alpha (dB/km) on a
    terrestrial path at ``freq_ghz`` and polarisation tilt ``tilt_deg`` (0 horizontal, 90 vertical)."""
    k, alpha = rain_specific_attenuation_coefficients(float(freq_ghz), 0.0, float(tilt_deg))
    return float(k), float(alpha)


def _rain_terms(
    length_km: np.ndarray, freq_ghz: float, r001_mm_h: np.ndarray, tilt_deg: float
) -> tuple[np.ndarray, float, float, float]:
    """A0.01 (dB) and the P.530 power-law constants C1, C2, C3."""
    k, alpha = rain_coefficients(freq_ghz, tilt_deg)
    d = np.maximum(np.asarray(length_km, dtype=float), 1e-3)
    rr = np.asarray(r001_mm_h, dtype=float)
    f = float(freq_ghz)
    with np.errstate(divide="ignore", over="ignore"):
        r = 1.0 / (0.477 * d**0.633 * rr ** (0.073 * alpha) * f**0.123 - 10.579 * (1.0 - np.exp(-0.024 * d)))
    r = np.where(r > 0, np.minimum(r, 2.5), 2.5)
    a001 = k * rr**alpha * d * r
    c0 = 0.12 + 0.4 * np.log10(f / 10.0) ** 0.8 if f >= 10.0 else 0.12
    c1 = 0.07**c0 * 0.12 ** (1.0 - c0)
    c2 = 0.855 * c0 + 0.546 * (1.0 - c0)
    c3 = 0.139 * c0 + 0.043 * (1.0 - c0)
    return a001, c1, c2, c3


def rain_attenuation_db(
    length_km: np.ndarray, freq_ghz: float, r001_mm_h: np.ndarray, p_pct: float, *, tilt_deg: float
) -> np.ndarray:
    """Rain attenuation (dB) exceeded ``p_pct`` % of an average year on hops of ``length_km`` (P.530-18 §2.4.1,
    eqs. 32-35; ``p_pct`` in 0.001-1 %)."""
    a001, c1, c2, c3 = _rain_terms(length_km, freq_ghz, r001_mm_h, tilt_deg)
    return a001 * c1 * p_pct ** (-(c2 + c3 * np.log10(p_pct)))


def rain_exceeded_pct(
    margin_db: np.ndarray, length_km: np.ndarray, freq_ghz: float, r001_mm_h: np.ndarray, *, tilt_deg: float
) -> np.ndarray:
    """Percentage of an average year the rain attenuation exceeds ``margin_db`` (the inverse of
    :func:`rain_attenuation_db`: log10 p solves C3 x^2 + C2 x + log10(M / (A0.01 C1)) = 0). A margin of 0 dB or less:
    100 %; beyond the method's 0.001 % the power law is extrapolated."""
    a001, c1, c2, c3 = _rain_terms(length_km, freq_ghz, r001_mm_h, tilt_deg)
    m = np.asarray(margin_db, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.log10(m / (a001 * c1))
        x = (-c2 + np.sqrt(np.maximum(c2 * c2 - 4.0 * c3 * q, 0.0))) / (2.0 * c3)
    p = 10.0**x
    return np.where(m <= 0.0, 100.0, np.where(a001 <= 0.0, 0.0, np.minimum(p, 100.0)))


def multipath_occurrence_pct(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    length_km: np.ndarray,
    freq_ghz: float,
    h_a_m: np.ndarray,
    h_b_m: np.ndarray,
) -> np.ndarray:
    """Multipath occurrence factor p0 (% of the worst month at 0 dB fade depth; P.530-18 eq. 7 with A = 0): the
    deep-fade tail is p0 x 10^(-A/10). ``h_a_m``, ``h_b_m``: antenna heights above sea level."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
    if not lat.size:
        return np.zeros(0)
    d = np.maximum(np.asarray(length_km, dtype=float), 1e-3)
    out = multipath_loss_for_A(
        lat, np.asarray(lon_deg, dtype=float), np.asarray(h_a_m), np.asarray(h_b_m), d, float(freq_ghz), 0.0
    )
    return np.asarray(out.value, dtype=float).reshape(lat.shape)


def worst_month_to_year(
    p_worst_pct: np.ndarray, lat_deg: np.ndarray, length_km: np.ndarray, h_a_m: np.ndarray, h_b_m: np.ndarray
) -> np.ndarray:
    """Average-year percentage from the worst month's (P.530-18 §2.3.4, eq. 23: Delta G = 10.5 - 5.6 log10(1.1 +/-
    |cos 2 xi|^0.7) - 2.7 log10 d + 1.7 log10(1 + |eps_p|), at most 10.8 dB; + for |xi| <= 45 deg)."""
    xi = np.radians(np.asarray(lat_deg, dtype=float))
    c = np.abs(np.cos(2.0 * xi)) ** 0.7
    sign = np.where(np.abs(np.asarray(lat_deg, dtype=float)) <= 45.0, 1.0, -1.0)
    d = np.maximum(np.asarray(length_km, dtype=float), 1e-3)
    eps = np.abs(np.asarray(h_b_m, dtype=float) - np.asarray(h_a_m, dtype=float)) / d
    dg = 10.5 - 5.6 * np.log10(1.1 + sign * c) - 2.7 * np.log10(d) + 1.7 * np.log10(1.0 + eps)
    return np.asarray(p_worst_pct, dtype=float) * 10.0 ** (-np.minimum(dg, 10.8) / 10.0)


def dish_gain_dbi(diameter_m: float, freq_ghz: float, efficiency: float) -> float:
    """Gain of a parabolic dish (dBi): 10 log10(eta (pi D f / c)^2)."""
    return float(10.0 * np.log10(efficiency * (np.pi * diameter_m * freq_ghz * 1e9 / _C_M_S) ** 2))


def _gas_db_per_km(freq_ghz: float) -> float:
    """Specific attenuation of oxygen and water vapour at ground level (ITU-R P.676, 7.5 g/m3, 1013 hPa, 15 C)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(
            gaseous_attenuation_terrestrial_path(1.0, float(freq_ghz), 0.0, 7.5, 1013.25, 288.15, "approx").value
        )


def availability_pct(
    margin_db: np.ndarray,
    length_km: np.ndarray,
    freq_ghz: float,
    r001_mm_h: np.ndarray,
    p0_pct: np.ndarray,
    year_factor: np.ndarray,
    *,
    tilt_deg: float,
) -> np.ndarray:
    """Yearly availability (%) of hops with a flat fade margin ``margin_db``: 100 - rain outage - multipath outage
    (``p0_pct`` x 10^(-M/10) in the worst month, times ``year_factor`` = 10^(-Delta G / 10) for the year)."""
    m = np.asarray(margin_db, dtype=float)
    rain = rain_exceeded_pct(m, length_km, freq_ghz, r001_mm_h, tilt_deg=tilt_deg)
    multi = np.minimum(np.asarray(p0_pct) * 10.0 ** (-np.maximum(m, 0.0) / 10.0) * np.asarray(year_factor), 100.0)
    return np.where(m <= 0.0, 0.0, np.maximum(100.0 - rain - multi, 0.0))


@dataclass(frozen=True)
class HopRadio:
    """The radio chosen for each hop (NaN/empty/inf where no configuration meets the rule): band (GHz), dish
    diameter (m, both ends), channel (MHz), modulation, capacity (Mbps), fade margin (dB), yearly availability
    (%), rain attenuation exceeded 0.01 % of the year (dB) and the hop's price (CNY: two radios, two dishes and the
    installation)."""

    band_ghz: np.ndarray
    dish_m: np.ndarray
    channel_mhz: np.ndarray
    modulation: np.ndarray
    capacity_mbps: np.ndarray
    margin_db: np.ndarray
    availability_pct: np.ndarray
    rain001_db: np.ndarray
    cost_cny: np.ndarray

    def frame(self) -> pd.DataFrame:
        """The hops' radios as a table (one row per hop)."""
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class _Option:
    """One configuration of a band: dish, channel, modulation, their price, capacity and the receive level budget
    without the path (transmit power + 2 dish gains - branching - threshold, dB)."""

    dish_m: float
    channel_mhz: float
    modulation: str
    capacity_mbps: float
    budget_db: float
    cost_cny: float


def _options(band_index: int, settings: BackhaulSettings) -> list[_Option]:
    band = settings.microwave[band_index]
    out = []
    for dish in settings.dishes:
        if dish.diameter_m < band.min_dish_m:
            continue
        gain = dish_gain_dbi(dish.diameter_m, band.freq_ghz, settings.dish_efficiency)
        cost = 2.0 * (band.radio_cny + dish.cost_cny) + settings.hop_install_cny
        for ch in band.channels_mhz:
            for mod in settings.modulations:
                threshold = mod.threshold_28mhz_dbm + 10.0 * np.log10(ch / 28.0) + band.threshold_offset_db
                budget = band.tx_power_dbm + 2.0 * gain - settings.branching_loss_db - threshold
                out.append(_Option(dish.diameter_m, ch, mod.name, mod.mbps_per_mhz * ch, budget, cost))
    return sorted(out, key=lambda o: (o.cost_cny, -o.budget_db))


def choose_radio(
    length_m: np.ndarray,
    band_ok: np.ndarray,
    needed_mbps: np.ndarray,
    *,
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    h_a_asl_m: np.ndarray,
    h_b_asl_m: np.ndarray,
    settings: BackhaulSettings,
) -> HopRadio:
    """The cheapest band, dish, channel and modulation for each hop that carries ``needed_mbps`` at
    ``settings.availability_pct`` (a tie: the larger fade margin).

    Parameters
    ----------
    length_m : ndarray
        Hop lengths (m).
    band_ok : ndarray of bool, shape (hops, bands)
        Which bands of ``settings.microwave`` the hop may use (clear by the rule and within the band's reach).
    needed_mbps : ndarray
        Capacity each hop must carry.
    lat_deg, lon_deg : ndarray
        The hops' midpoints (WGS84), for the rain rate and the geoclimatic factor.
    h_a_asl_m, h_b_asl_m : ndarray
        Antenna heights above sea level (multipath: path inclination and the lower antenna).
    """
    n = len(length_m)
    d_km = np.asarray(length_m, dtype=float) / 1000.0
    need = np.broadcast_to(np.asarray(needed_mbps, dtype=float), (n,))
    best = _empty_radio(n)
    if not n:
        return _frozen(best)
    r001 = rain_rate_mm_h(lat_deg, lon_deg)
    year = worst_month_to_year(np.ones(n), lat_deg, d_km, h_a_asl_m, h_b_asl_m)
    # highest band first: on a tie in price the hop keeps the higher band (the lower ones for the longer hops)
    for b in sorted(range(len(settings.microwave)), key=lambda k: -settings.microwave[k].freq_ghz):
        band = settings.microwave[b]
        rows = np.flatnonzero(np.asarray(band_ok)[:, b])
        if not len(rows):
            continue
        f = band.freq_ghz
        fspl = 20.0 * np.log10(4.0 * np.pi * length_m[rows] * f * 1e9 / _C_M_S)
        path = fspl + _gas_db_per_km(f) * d_km[rows]
        p0 = multipath_occurrence_pct(lat_deg[rows], lon_deg[rows], d_km[rows], f, h_a_asl_m[rows], h_b_asl_m[rows])
        a001 = rain_attenuation_db(d_km[rows], f, r001[rows], 0.01, tilt_deg=settings.polarisation_tilt_deg)
        for opt in _options(b, settings):
            better = (need[rows] <= opt.capacity_mbps) & (opt.cost_cny < best["cost_cny"][rows])
            if not better.any():
                continue
            sub = rows[better]
            margin = opt.budget_db - path[better]
            avail = availability_pct(
                margin, d_km[sub], f, r001[sub], p0[better], year[sub], tilt_deg=settings.polarisation_tilt_deg
            )
            ok = avail >= settings.availability_pct
            take = sub[ok]
            values = (f, opt.dish_m, opt.channel_mhz, opt.modulation, opt.capacity_mbps)
            for key, v in zip(
                ("band_ghz", "dish_m", "channel_mhz", "modulation", "capacity_mbps"), values, strict=True
            ):
                best[key][take] = v
            best["margin_db"][take] = margin[ok]
            best["availability_pct"][take] = avail[ok]
            best["rain001_db"][take] = a001[better][ok]
            best["cost_cny"][take] = opt.cost_cny
    return _frozen(best)


def _empty_radio(n: int) -> dict[str, np.ndarray]:
    out = {k: np.full(n, np.nan) for k in ("band_ghz", "dish_m", "channel_mhz", "capacity_mbps", "margin_db")}
    out |= {"availability_pct": np.full(n, np.nan), "rain001_db": np.full(n, np.nan)}
    out["modulation"] = np.full(n, "", dtype=object)
    out["cost_cny"] = np.full(n, np.inf)
    return out


def _frozen(d: dict[str, np.ndarray]) -> HopRadio:
    return HopRadio(**d)
