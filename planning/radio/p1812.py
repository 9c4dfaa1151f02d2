"""ITU-R P.1812-8: path-specific propagation prediction for point-to-area terrestrial services, 30 MHz-6 GHz.

Written from the Recommendation (Annex 1 §3-§4 and Attachment 1 to Annex 1), in the structure of its sections;
the equation numbers in the comments are those of P.1812-8 as ITU-R Working Party 3M's validation logs label
them. The terms of the method:

* §3.5-§3.8: effective Earth radius (eq. 6-7), the time percentage b0 of anomalous refractivity (eq. 2-5),
  smooth-Earth heights, horizon angles and distances (Attachment 1 §5);
* §4.1: line of sight with multipath/focusing corrections (eq. 8-11);
* §4.2-§4.3: the delta-Bullington diffraction over the profile ``h + R`` (representative clutter heights on every
  point but the two terminals, eq. 12-21), the spherical-Earth first-term and interpolation (eq. 22-36),
  combined at p % (eq. 37-43);
* §4.4: troposcatter (eq. 44-45); §4.5: ducting and layer reflection (eq. 46-56);
* §4.6: the blend of those (eq. 57-63); §4.8-§4.9: location variability and the final loss (eq. 64-69).

Clutter at the terminals is the representative clutter height ``R`` of the profile points next to each terminal
(P.1812-8 §3.2: the terminal points themselves carry none), which the diffraction model sees as obstacles; there
is no separate terminal-clutter term since P.1812-6.

:func:`basic_transmission_loss` is the public entry for one profile; :func:`pair_loss_db` runs the same compiled
kernel over many site-point pairs, sampling the profile from a DEM (and a clutter-height grid) without
materialising the profiles. Tested against WP 3M's validation profiles (tests/reference/p1812/).
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numba import njit, prange

from planning.radio._terrain_kernel import _bilinear  # the DEM sampler the terrain kernels use

logger = logging.getLogger(__name__)

__all__ = ["DN_DEFAULT", "N0_DEFAULT", "basic_transmission_loss", "pair_loss_db", "path_centre"]

#: Defaults for the demo region (Linjiang, Jilin, 41.8 N 127.2 E): ITU-R P.1812-8 / P.452-16 maps DN50 and N050
#: (the same digital maps), read at that point (pycraf 2.1.0 ``deltaN_N0_from_map``): 38.7 N-units/km, 317.4.
DN_DEFAULT = 38.7
N0_DEFAULT = 317.4
_RE_KM = 6371.0


# ------------------------------------------------------------------------------------------------ statistics
@njit(cache=True)
def _t(y: float) -> float:
    return math.sqrt(-2.0 * math.log(y))  # eq. (66a) T(y), Attachment 3


@njit(cache=True)
def _inv_cum_norm(x: float) -> float:
    """Approximate inverse complementary cumulative normal I(x) (Attachment 3, eq. 66)."""
    x = min(max(x, 1e-6), 0.999999)
    z = x if x <= 0.5 else 1.0 - x
    tz = _t(z)
    c = ((0.010328 * tz + 0.802853) * tz + 2.515516698) / (((0.001308 * tz + 0.189269) * tz + 1.432788) * tz + 1.0)
    return tz - c if x <= 0.5 else -(tz - c)


# ------------------------------------------------------------------------------------------------ §3: path data
@njit(cache=True)
def _zone_lengths(d: np.ndarray, zone: np.ndarray) -> tuple[float, float, float]:
    """(dtm: longest continuous land (zones 3, 4) section; dlm: longest continuous inland (4) section; omega:
    fraction of the path over sea (1)), each section extended by half the spacing to its neighbours (§3.7)."""
    n = d.shape[0]
    dtm = 0.0
    dlm = 0.0
    sea = 0.0
    for kind in range(3):
        k = 0
        while k < n:
            z = zone[k]
            inside = (z >= 3) if kind == 0 else (z == 4 if kind == 1 else z == 1)
            if not inside:
                k += 1
                continue
            start = k
            while k + 1 < n and (
                zone[k + 1] >= 3 if kind == 0 else (zone[k + 1] == 4 if kind == 1 else zone[k + 1] == 1)
            ):
                k += 1
            stop = k
            length = d[stop] - d[start]
            if stop < n - 1:
                length += (d[stop + 1] - d[stop]) / 2.0
            if start > 0:
                length += (d[start] - d[start - 1]) / 2.0
            if kind == 0:
                dtm = max(dtm, length)
            elif kind == 1:
                dlm = max(dlm, length)
            else:
                sea += length
            k += 1
    return dtm, dlm, sea / (d[n - 1] - d[0])


@njit(cache=True)
def _beta0(phi_deg: float, dtm_km: float, dlm_km: float) -> float:
    """Time percentage b0 (%) for which refractive index lapse-rates exceed 100 N-units/km (eq. 2-5)."""
    tau = 1.0 - math.exp(-(4.12e-4 * dlm_km**2.41))  # eq. (3)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2  # eq. (2)
    mu1 = min(mu1, 1.0)
    a = abs(phi_deg)
    if a <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * a)  # eq. (4)
        return 10.0 ** (-0.015 * a + 1.67) * mu1 * mu4  # eq. (5)
    return 4.17 * mu1 * mu1**0.3


@njit(cache=True)
def _steepest(d: np.ndarray, h: np.ndarray, hs: float, ae: float, from_rx: bool) -> tuple[float, int]:
    """Largest elevation angle (mrad) of the profile's inner points seen from the transmitter (eq. 77; the first
    point of that angle) or from the receiver (``from_rx``, eq. 82a; the last such point), and that point.

    The angle is ``1000 atan(x)``: ``x`` is scanned first and ``atan`` taken only of the points whose ``x`` lies
    within 1e-9 (1 + x^2) of the largest (every point that could round to the same angle), which gives the angle
    and point of an ``atan`` at every point."""
    n = d.shape[0]
    dtot = d[n - 1]
    xmax = -1e300
    for k in range(1, n - 1):
        dk = dtot - d[k] if from_rx else d[k]
        xmax = max(xmax, (h[k] - hs) / (1000.0 * dk) - dk / (2.0 * ae))
    near = xmax - 1e-9 * (1.0 + xmax * xmax)
    best = -1e300
    at = 1
    for k in range(1, n - 1):
        dk = dtot - d[k] if from_rx else d[k]
        x = (h[k] - hs) / (1000.0 * dk) - dk / (2.0 * ae)
        if x < near:
            continue
        th = 1000.0 * math.atan(x)
        if th > best or (from_rx and th >= best):
            best = th
            at = k
    return best, at


@njit(cache=True)
def _horizons(
    d: np.ndarray, h: np.ndarray, hts: float, hrs: float, ae: float, f: float
) -> tuple[float, float, float, float, int, int]:
    """(theta_t, theta_r mrad; dlt, dlr km; indices of the two horizon points): Attachment 1 §5.3-§5.4.

    Trans-horizon when a terrain point rises above the direct ray (eq. 76-78): horizon elevation angles and
    distances from each terminal (eq. 77-83). Line of sight: both horizon distances are measured to the point of
    largest diffraction parameter nu (eq. 81, 83a)."""
    n = d.shape[0]
    dtot = d[n - 1]
    theta_max, lt = _steepest(d, h, hts, ae, False)  # eq. (77)
    theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))  # eq. (78)
    theta_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    if theta_max > theta_td:  # trans-horizon
        theta_r, lr = _steepest(d, h, hrs, ae, True)  # eq. (82a)
        return theta_max, theta_r, d[lt], dtot - d[lr], lt, lr  # eq. (80), (83)
    lam = 0.2998 / f
    numax = -1e300
    for k in range(1, n - 1):
        nu = (h[k] + 500.0 * d[k] * (dtot - d[k]) / ae - (hts * (dtot - d[k]) + hrs * d[k]) / dtot) * math.sqrt(
            0.002 * dtot / (lam * d[k] * (dtot - d[k]))
        )
        if nu >= numax:
            numax = nu
            lt = k
    return theta_td, theta_rd, d[lt], dtot - d[lt], lt, lt


@njit(cache=True)
def _smooth_earth(
    d: np.ndarray, h: np.ndarray, htg: float, hrg: float
) -> tuple[float, float, float, float, float, float]:
    """(hst, hsr: least-squares smooth-Earth heights at the terminals, eq. 85-88; hstd, hsrd: those for the
    diffraction model, eq. 89-91), all metres a.m.s.l."""
    n = d.shape[0]
    dtot = d[n - 1]
    v1 = 0.0
    v2 = 0.0
    for k in range(1, n):
        dd = d[k] - d[k - 1]
        v1 += dd * (h[k] + h[k - 1])  # eq. (85)
        v2 += dd * (h[k] * (2.0 * d[k] + d[k - 1]) + h[k - 1] * (d[k] + 2.0 * d[k - 1]))  # eq. (86)
    hst = (2.0 * v1 * dtot - v2) / dtot**2  # eq. (87)
    hsr = (v2 - v1 * dtot) / dtot**2  # eq. (88)
    hts = h[0] + htg
    hrs = h[n - 1] + hrg
    hobs = -1e300
    aobt = -1e300
    aobr = -1e300
    for k in range(1, n - 1):
        hh = h[k] - (hts * (dtot - d[k]) + hrs * d[k]) / dtot  # eq. (89d)
        hobs = max(hobs, hh)  # eq. (89a)
        aobt = max(aobt, hh / d[k])  # eq. (89b)
        aobr = max(aobr, hh / (dtot - d[k]))  # eq. (89c)
    hstp = hst
    hsrp = hsr
    if hobs > 0.0:
        hstp = hst - hobs * aobt / (aobt + aobr)  # eq. (90c), (90e)
        hsrp = hsr - hobs * aobr / (aobt + aobr)  # eq. (90d), (90f)
    hstd = h[0] if hstp >= h[0] else hstp  # eq. (91a-b)
    hsrd = h[n - 1] if hsrp > h[n - 1] else hsrp  # eq. (91c-d)
    return hst, hsr, hstd, hsrd, hts, hrs


# ------------------------------------------------------------------------------------------------ §4.2: diffraction
@njit(cache=True)
def _j_db(nu: float) -> float:
    """Knife-edge loss J(nu), eq. (12); 0 for nu <= -0.78."""
    if nu <= -0.78:
        return 0.0
    return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


@njit(cache=True)
def _bullington(d: np.ndarray, g: np.ndarray, hts: float, hrs: float, ap: float, f: float, flat: bool) -> float:
    """Bullington loss over the profile ``g`` (or over a flat one, ``flat``), eq. (13)-(21)."""
    n = d.shape[0]
    dtot = d[n - 1] - d[0]
    lam = 0.2998 / f
    ce = 1.0 / ap
    stim = -1e300
    for k in range(1, n - 1):
        gk = 0.0 if flat else g[k]
        stim = max(stim, (gk + 500.0 * ce * d[k] * (dtot - d[k]) - hts) / d[k])  # eq. (13)
    s_tr = (hrs - hts) / dtot  # eq. (14)
    if stim < s_tr:  # line of sight: the largest diffraction parameter, eq. (15)-(16)
        numax = -1e300
        for k in range(1, n - 1):
            gk = 0.0 if flat else g[k]
            nu = (gk + 500.0 * ce * d[k] * (dtot - d[k]) - (hts * (dtot - d[k]) + hrs * d[k]) / dtot) * math.sqrt(
                0.002 * dtot / (lam * d[k] * (dtot - d[k]))
            )
            numax = max(numax, nu)
        luc = _j_db(numax)
    else:  # trans-horizon: the Bullington point, eq. (17)-(20)
        srim = -1e300
        for k in range(1, n - 1):
            gk = 0.0 if flat else g[k]
            srim = max(srim, (gk + 500.0 * ce * d[k] * (dtot - d[k]) - hrs) / (dtot - d[k]))  # eq. (17)
        dbp = (hrs - hts + srim * dtot) / (stim + srim)  # eq. (18)
        nub = (hts + stim * dbp - (hts * (dtot - dbp) + hrs * dbp) / dtot) * math.sqrt(
            0.002 * dtot / (lam * dbp * (dtot - dbp))
        )  # eq. (20)
        luc = _j_db(nub)
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)  # eq. (21)


@njit(cache=True)
def _first_term_one(
    eps: float, sigma: float, d: float, hte: float, hre: float, adft: float, f: float, pol: int
) -> float:
    """First-term spherical-Earth loss for one surface and polarisation, eq. (29)-(36)."""
    k = 0.036 * (adft * f) ** (-1.0 / 3.0) * ((eps - 1.0) ** 2 + (18.0 * sigma / f) ** 2) ** (-0.25)  # eq. (29a)
    if pol == 2:
        k = k * math.sqrt(eps**2 + (18.0 * sigma / f) ** 2)  # eq. (29b)
    beta = (1.0 + 1.6 * k**2 + 0.67 * k**4) / (1.0 + 4.5 * k**2 + 1.53 * k**4)  # eq. (30)
    x = 21.88 * beta * (f / adft**2) ** (1.0 / 3.0) * d  # eq. (31)
    y = 0.9575 * beta * (f**2 / adft) ** (1.0 / 3.0)  # eq. (32)
    fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x if x >= 1.6 else -20.0 * math.log10(x) - 5.6488 * x**1.425  # (33)
    g_min = 2.0 + 20.0 * math.log10(k)
    gains = 0.0
    for he in (hte, hre):
        b = beta * y * he  # eq. (35)
        gy = 17.6 * (b - 1.1) ** 0.5 - 5.0 * math.log10(b - 1.1) - 8.0 if b > 2.0 else 20.0 * math.log10(b + 0.1 * b**3)
        gains += max(gy, g_min)  # eq. (34)
    return -fx - gains  # eq. (36)


@njit(cache=True)
def _first_term(d: float, hte: float, hre: float, adft: float, f: float, omega: float, pol: int) -> float:
    """Land/sea mix of the first-term loss, eq. (28)."""
    land = _first_term_one(22.0, 0.003, d, hte, hre, adft, f, pol)
    sea = _first_term_one(80.0, 5.0, d, hte, hre, adft, f, pol)
    return omega * sea + (1.0 - omega) * land


@njit(cache=True)
def _spherical(d: float, hte: float, hre: float, ap: float, f: float, omega: float, pol: int) -> float:
    """Spherical-Earth diffraction loss Ldsph, eq. (22)-(27)."""
    lam = 0.2998 / f
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))  # eq. (22)
    if d >= dlos:
        return _first_term(d, hte, hre, ap, f, omega, pol)
    c = (hte - hre) / (hte + hre)  # eq. (24d)
    m = 250.0 * d * d / (ap * (hte + hre))  # eq. (24e)
    b = (
        2.0
        * math.sqrt((m + 1.0) / (3.0 * m))
        * math.cos(math.pi / 3.0 + math.acos(1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)) / 3.0)
    )  # eq. (24c)
    dse1 = d / 2.0 * (1.0 + b)  # eq. (24a)
    dse2 = d - dse1  # eq. (24b)
    hse = ((hte - 500.0 * dse1 * dse1 / ap) * dse2 + (hre - 500.0 * dse2 * dse2 / ap) * dse1) / d  # eq. (23)
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam / d)  # eq. (25)
    if hse > hreq:
        return 0.0
    aem = 500.0 * (d / (math.sqrt(hte) + math.sqrt(hre))) ** 2  # eq. (26)
    ldft = max(_first_term(d, hte, hre, aem, f, omega, pol), 0.0)
    return (1.0 - hse / hreq) * ldft  # eq. (27)


@njit(cache=True)
def _delta_bullington(
    d: np.ndarray,
    g: np.ndarray,
    hts: float,
    hrs: float,
    hstd: float,
    hsrd: float,
    ap: float,
    f: float,
    omega: float,
    pol: int,
) -> float:
    """Delta-Bullington diffraction loss for an effective Earth radius ``ap``, eq. (37)-(39)."""
    lbulla = _bullington(d, g, hts, hrs, ap, f, False)
    hts1 = hts - hstd  # eq. (37a)
    hrs1 = hrs - hsrd  # eq. (37b)
    lbulls = _bullington(d, g, hts1, hrs1, ap, f, True)
    ldsph = _spherical(d[d.shape[0] - 1] - d[0], hts1, hrs1, ap, f, omega, pol)  # eq. (38)
    return lbulla + max(ldsph - lbulls, 0.0)  # eq. (39)


# ------------------------------------------------------------------------------------------------ §4.4-§4.5
@njit(cache=True)
def _troposcatter(dtot: float, theta: float, f: float, p: float, n0: float) -> float:
    """Troposcatter loss Lbs, eq. (44)-(45)."""
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(f / 2.0) ** 2  # eq. (45)
    return 190.1 + lf + 20.0 * math.log10(dtot) + 0.573 * theta - 0.15 * n0 - 10.125 * math.log10(50.0 / p) ** 0.7


@njit(cache=True)
def _site_shielding(theta: float, dl: float, f: float) -> float:
    """Site-shielding loss of one terminal, eq. (48)."""
    th2 = theta - 0.1 * dl  # eq. (48a)
    if th2 <= 0.0:
        return 0.0
    return 20.0 * math.log10(1.0 + 0.361 * th2 * math.sqrt(f * dl)) + 0.264 * th2 * f ** (1.0 / 3.0)


@njit(cache=True)
def _duct_coupling(dc: float, dl: float, omega: float, hs: float) -> float:
    """Over-sea surface-duct coupling correction of one terminal, eq. (49)."""
    if dc <= 5.0 and dc <= dl and omega >= 0.75:
        return -3.0 * math.exp(-0.25 * dc * dc) * (1.0 + math.tanh(0.07 * (50.0 - hs)))
    return 0.0


@njit(cache=True)
def _anomalous(
    dtot: float,
    dlt: float,
    dlr: float,
    dct: float,
    dcr: float,
    dlm: float,
    hts: float,
    hrs: float,
    hte: float,
    hre: float,
    hm: float,
    theta_t: float,
    theta_r: float,
    f: float,
    p: float,
    omega: float,
    ae: float,
    b0: float,
) -> float:
    """Ducting / layer-reflection loss Lba, eq. (46)-(56)."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # eq. (47a)
    af = (
        102.45
        + 20.0 * math.log10(f)
        + 20.0 * math.log10(dlt + dlr)
        + alf
        + _site_shielding(theta_t, dlt, f)
        + _site_shielding(theta_r, dlr, f)
        + _duct_coupling(dct, dlt, omega, hts)
        + _duct_coupling(dcr, dlr, omega, hrs)
    )  # eq. (47)
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # eq. (51)
    theta1 = 1e3 * dtot / ae + min(theta_t, 0.1 * dlt) + min(theta_r, 0.1 * dlr)  # eq. (52), (52a)
    di = min(dtot - dlt - dlr, 40.0)  # eq. (56a)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * di)) if hm > 10.0 else 1.0  # eq. (56)
    tau = 1.0 - math.exp(-(4.12e-4 * dlm**2.41))  # eq. (3)
    alpha = max(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)  # eq. (55a)
    mu2 = min((500.0 / ae * dtot**2 / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)  # eq. (55)
    beta = b0 * mu2 * mu3  # eq. (54)
    lb = math.log10(beta)
    gamma = 1.076 / (2.0058 - lb) ** 1.012 * math.exp(-(9.51 - 4.8 * lb + 0.198 * lb**2) * 1e-6 * dtot**1.13)  # (53a)
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma  # eq. (53)
    return af + gamma_d * theta1 + ap  # eq. (46), (50)


# ------------------------------------------------------------------------------------------------ the whole method
@njit(cache=True)
def _ducting_heights(
    d: np.ndarray, h: np.ndarray, hst: float, hsr: float, htg: float, hrg: float, lt: int, lr: int
) -> tuple[float, float, float]:
    """(hte, hre: terminal effective heights, eq. 92-94; hm: terrain roughness, eq. 95)."""
    n = d.shape[0]
    hst = min(hst, h[0])  # eq. (92a)
    hsr = min(hsr, h[n - 1])  # eq. (92b)
    m = (hsr - hst) / d[n - 1]  # eq. (93)
    hm = -1e300
    for k in range(lt, lr + 1):
        hm = max(hm, h[k] - (hst + m * d[k]))  # eq. (95)
    return htg + h[0] - hst, hrg + h[n - 1] - hsr, hm  # eq. (94a-b)


@njit(cache=True)
def _lb_db(
    f: float,
    p: float,
    d: np.ndarray,
    h: np.ndarray,
    g: np.ndarray,
    zone: np.ndarray,
    htg: float,
    hrg: float,
    pol: int,
    phi_path: float,
    dn: float,
    n0: float,
    dct: float,
    dcr: float,
    pl: float,
    sigma_l: float,
) -> float:
    """Basic transmission loss (dB) of one profile; ``g`` = terrain + representative clutter (terminals bare)."""
    dtm, dlm, omega = _zone_lengths(d, zone)
    n = d.shape[0]
    return _lb_zoned(
        f, p, d, h, g, htg, hrg, pol, phi_path, dn, n0, dct, dcr, pl, sigma_l, dtm, dlm, omega, zone[n - 1] == 1
    )


@njit(cache=True)
def _lb_zoned(
    f: float,
    p: float,
    d: np.ndarray,
    h: np.ndarray,
    g: np.ndarray,
    htg: float,
    hrg: float,
    pol: int,
    phi_path: float,
    dn: float,
    n0: float,
    dct: float,
    dcr: float,
    pl: float,
    sigma_l: float,
    dtm: float,
    dlm: float,
    omega: float,
    rx_at_sea: bool,
) -> float:
    """:func:`_lb_db` given the path's zone lengths (``dtm``, ``dlm`` km, sea fraction ``omega``, §3.7) and whether
    the receiver stands at sea."""
    n = d.shape[0]
    dtot = d[n - 1] - d[0]
    b0 = _beta0(phi_path, dtm, dlm)
    ae = _RE_KM * 157.0 / (157.0 - dn)  # eq. (6), (7a)
    ab = _RE_KM * 3.0  # eq. (7b)
    hst, hsr, hstd, hsrd, hts, hrs = _smooth_earth(d, h, htg, hrg)
    theta_t, theta_r, dlt, dlr, lt, lr = _horizons(d, h, hts, hrs, ae, f)
    theta = 1e3 * dtot / ae + theta_t + theta_r  # eq. (84)
    hte, hre, hm = _ducting_heights(d, h, hst, hsr, htg, hrg, lt, lr)
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))  # eq. (57)
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # eq. (58)
    lbfs = 92.4 + 20.0 * math.log10(f) + 10.0 * math.log10(dtot**2 + ((hts - hrs) / 1000.0) ** 2)  # eq. (8), (8a)
    es = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + es * math.log10(p / 50.0)  # eq. (9a), (10)
    lb0b = lbfs + es * math.log10(b0 / 50.0)  # eq. (9b), (11)
    ld50 = _delta_bullington(d, g, hts, hrs, hstd, hsrd, ae, f, omega, pol)
    ldp = ld50
    if p < 50.0:
        ldb = _delta_bullington(d, g, hts, hrs, hstd, hsrd, ab, f, omega, pol)
        fi = _inv_cum_norm(p / 100.0) / _inv_cum_norm(b0 / 100.0) if p > b0 else 1.0  # eq. (40)
        ldp = ld50 + fi * (ldb - ld50)  # eq. (41)
    lbd50 = lbfs + ld50  # eq. (42)
    lbd = lb0p + ldp  # eq. (43)
    lminb0p = lb0p + (1.0 - omega) * ldp  # eq. (59)
    if p >= b0:
        fi = _inv_cum_norm(p / 100.0) / _inv_cum_norm(b0 / 100.0)
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi  # eq. (59)
    lba = _anomalous(dtot, dlt, dlr, dct, dcr, dlm, hts, hrs, hte, hre, hm, theta_t, theta_r, f, p, omega, ae, b0)
    lminbap = 2.5 * math.log(math.exp(lba / 2.5) + math.exp(lb0p / 2.5))  # eq. (60)
    lbda = lminbap + (lbd - lminbap) * fk if lminbap <= lbd else lbd  # eq. (61)
    lbam = lbda + (lminb0p - lbda) * fj  # eq. (62)
    lbs = _troposcatter(dtot, theta, f, p, n0)
    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # eq. (63)
    lloc = -_inv_cum_norm(pl / 100.0) * sigma_l if not rx_at_sea else 0.0  # eq. (64)-(67)
    return max(lb0p, lbc + lloc)  # eq. (69)


# ------------------------------------------------------------------------------------------------ public entry
def path_centre(phi_t: float, phi_r: float, lam_t: float, lam_r: float) -> float:
    """Latitude (deg) of the great-circle path's centre (Attachment 6 of Annex 1, as P.2001 Attachment H)."""
    pt, pr = math.radians(phi_t), math.radians(phi_r)
    dlon = math.radians(lam_r - lam_t)
    r = math.sin(pt) * math.sin(pr) + math.cos(pt) * math.cos(pr) * math.cos(dlon)
    dist = math.acos(max(min(r, 1.0), -1.0))
    x1 = math.sin(pr) - r * math.sin(pt)
    y1 = math.cos(pt) * math.cos(pr) * math.sin(dlon)
    bearing = math.radians(lam_r) if abs(x1) < 1e-9 and abs(y1) < 1e-9 else math.atan2(y1, x1)
    half = dist / 2.0
    s = math.sin(pt) * math.cos(half) + math.cos(pt) * math.sin(half) * math.cos(bearing)
    return math.degrees(math.asin(max(min(s, 1.0), -1.0)))


def _check(*, f_ghz: float, p_pct: float, htg_m: float, hrg_m: float, pol: int, pl_pct: float, n: int) -> None:
    if not 0.03 <= f_ghz <= 6.0:
        msg = f"`f_ghz` = {f_ghz:g} is outside P.1812's range [0.03, 6] GHz"
        raise ValueError(msg)
    if not 1.0 <= p_pct <= 50.0:
        msg = f"`p_pct` = {p_pct:g} is outside P.1812's range [1, 50] %"
        raise ValueError(msg)
    if not (1.0 <= htg_m <= 3000.0 and 1.0 <= hrg_m <= 3000.0):
        msg = f"antenna heights {htg_m:g} m, {hrg_m:g} m are outside P.1812's range [1, 3000] m"
        raise ValueError(msg)
    if pol not in (1, 2):
        msg = f"`pol` = {pol}; expected 1 (horizontal) or 2 (vertical)"
        raise ValueError(msg)
    if not 0.0 < pl_pct < 100.0:
        msg = f"`pl_pct` = {pl_pct:g}; expected a location percentage in (0, 100)"
        raise ValueError(msg)
    if n < 5:
        msg = f"the profile has {n} points; P.1812 needs at least 5"
        raise ValueError(msg)


def basic_transmission_loss(
    *,
    f_ghz: float,
    p_pct: float,
    d_km: object,
    h_m: object,
    r_m: object,
    zone: object,
    htg_m: float,
    hrg_m: float,
    pol: int,
    phi_t: float,
    phi_r: float,
    lam_t: float,
    lam_r: float,
    pl_pct: float = 50.0,
    sigma_l_db: float = 0.0,
    dn: float = DN_DEFAULT,
    n0: float = N0_DEFAULT,
    dct_km: float = 500.0,
    dcr_km: float = 500.0,
) -> float:
    """Basic transmission loss (dB) not exceeded for ``p_pct`` % time and ``pl_pct`` % locations, ITU-R P.1812-8.

    Parameters
    ----------
    f_ghz : float
        Frequency, GHz (0.03-6).
    p_pct : float
        Time percentage, % (1-50).
    d_km, h_m, r_m, zone : array_like
        Profile from the transmitter: distance (km, ascending from 0), terrain height a.m.s.l. (m), representative
        clutter height (m; the terminals' own values are ignored), radio-climatic zone (1 sea, 3 coastal land,
        4 inland).
    htg_m, hrg_m : float
        Antenna heights above ground, m (1-3000).
    pol : {1, 2}
        Polarisation: 1 horizontal, 2 vertical.
    phi_t, phi_r, lam_t, lam_r : float
        Latitude and longitude of the transmitter and receiver, degrees.
    pl_pct, sigma_l_db : float
        Location percentage (%) and location variability (dB, §4.8); 50 % / 0 dB gives the median.
    dn, n0 : float
        Refractivity lapse rate through the lowest 1 km (N-units/km) and sea-level surface refractivity at the path
        centre (the DN50/N050 maps).
    dct_km, dcr_km : float
        Distance over land from each terminal to the coast (km); 0 for a terminal at sea.

    Returns
    -------
    float
        Lb, dB.
    """
    d = np.ascontiguousarray(d_km, dtype=float)
    h = np.ascontiguousarray(h_m, dtype=float)
    r = np.ascontiguousarray(r_m, dtype=float)
    z = np.ascontiguousarray(zone, dtype=np.int64)
    _check(f_ghz=f_ghz, p_pct=p_pct, htg_m=htg_m, hrg_m=hrg_m, pol=pol, pl_pct=pl_pct, n=len(d))
    if not (len(h) == len(r) == len(z) == len(d)):
        msg = f"profile arrays differ in length: d {len(d)}, h {len(h)}, r {len(r)}, zone {len(z)}"
        raise ValueError(msg)
    if d[0] != 0.0 or np.any(np.diff(d) <= 0.0):
        msg = "`d_km` must start at 0 and increase"
        raise ValueError(msg)
    if not np.isin(z, (1, 3, 4)).all():
        msg = "`zone` may only hold 1 (sea), 3 (coastal land) or 4 (inland)"
        raise ValueError(msg)
    if not (np.isfinite(h).all() and np.isfinite(r).all()):
        msg = "`h_m` and `r_m` must be finite"
        raise ValueError(msg)
    g = h + r
    g[0] = h[0]
    g[-1] = h[-1]
    dct = 0.0 if z[0] == 1 else float(dct_km)
    dcr = 0.0 if z[-1] == 1 else float(dcr_km)
    phi = path_centre(phi_t, phi_r, lam_t, lam_r)
    return float(
        _lb_db(
            float(f_ghz), float(p_pct), d, h, g, z, float(htg_m), float(hrg_m), int(pol), phi, float(dn), float(n0),
            dct, dcr, float(pl_pct), float(sigma_l_db),
        )
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------ many pairs
@njit(cache=True, inline="always")
def _sample(grid: np.ndarray, x: float, y: float, x0: float, y0: float, res_x: float, res_y: float) -> float:
    """Nearest cell of ``grid`` under (x, y); NaN off the grid."""
    rows, cols = grid.shape
    col = math.floor((x - x0) / res_x)
    row = math.floor((y - y0) / res_y)
    if col < 0 or row < 0 or col >= cols or row >= rows:
        return np.nan
    return grid[row, col]


# cached (compiling it costs ~5 s per process): a cached caller that misses its cache while its cached callees hit
# (a process starting while another writes the cache) compiles and registers itself, then fails to save with
# "no compiled object yet"; :func:`_run_pairs` runs the registered kernel then. ``_bilinear`` and ``_sample`` are
# inlined (numba IR), so an edit of ``_terrain_kernel.py`` alone needs p1812.py touched to refresh this cache.
@njit(parallel=True, cache=True)
def _pairs_kernel(
    dem: np.ndarray,
    dem_t: np.ndarray,
    clutter: np.ndarray,
    clutter_t: np.ndarray,
    ends: np.ndarray,
    heights: np.ndarray,
    f_ghz: np.ndarray,
    phi_deg: np.ndarray,
    params: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (site -> point): P.1812 Lb (dB) on the DEM profile, and whether the profile lies on the DEM.

    ``dem_t``/``clutter_t``: (x0, y0, res_x, res_y); ``ends``: (n, 4) site x, y, point x, y; ``heights``: (n, 2)
    antenna heights above ground; ``params``: step_m, p_pct, dn, n0, default clutter height, pol, use clutter grid.
    """
    n = ends.shape[0]
    out = np.full(n, np.nan)
    complete = np.ones(n, dtype=np.bool_)
    step_m, p, dn, n0, r_default = params[0], params[1], params[2], params[3], params[4]
    pol = int(params[5])
    use_grid = params[6] > 0.5
    for i in prange(n):
        ax, ay, bx, by = ends[i, 0], ends[i, 1], ends[i, 2], ends[i, 3]
        big_d = math.hypot(bx - ax, by - ay)
        ns = max(math.ceil(big_d / step_m), 4) + 1
        d = np.empty(ns)
        h = np.empty(ns)
        g = np.empty(ns)
        ok = True
        for k in range(ns):
            t = k / (ns - 1)
            x = ax + t * (bx - ax)
            y = ay + t * (by - ay)
            d[k] = t * big_d / 1000.0
            h[k] = _bilinear(dem, x, y, dem_t[0], dem_t[1], dem_t[2], dem_t[3])
            if math.isnan(h[k]):
                ok = False
            r = r_default
            if use_grid:
                rc = _sample(clutter, x, y, clutter_t[0], clutter_t[1], clutter_t[2], clutter_t[3])
                if not math.isnan(rc):
                    r = rc
            g[k] = h[k] + r
        complete[i] = ok
        if not ok:
            continue
        if big_d < 1.0:  # co-located (a candidate mast at the village): line of sight down the mast, free space
            slant_km = max(abs(heights[i, 0] - heights[i, 1]), 1.0) / 1000.0
            out[i] = 92.45 + 20.0 * math.log10(f_ghz[i]) + 20.0 * math.log10(slant_km)
            continue
        g[0] = h[0]
        g[ns - 1] = h[ns - 1]
        # all inland (zone 4): the longest land and inland sections are the whole path, none of it over sea (§3.7)
        out[i] = _lb_zoned(
            f_ghz[i], p, d, h, g, heights[i, 0], heights[i, 1], pol, phi_deg[i], dn, n0, 500.0, 500.0, 50.0, 0.0,
            d[ns - 1] - d[0], d[ns - 1] - d[0], 0.0, False,
        )  # fmt: skip
    return out, complete


def pair_loss_db(
    dem: np.ndarray,
    dem_transform: tuple[float, float, float, float],
    ends_m: np.ndarray,
    heights_m: np.ndarray,
    f_ghz: np.ndarray,
    phi_deg: np.ndarray,
    *,
    step_m: float = 30.0,
    p_pct: float = 50.0,
    dn: float = DN_DEFAULT,
    n0: float = N0_DEFAULT,
    clutter_height_m: float = 0.0,
    clutter_grid: tuple[np.ndarray, tuple[float, float, float, float]] | None = None,
    pol: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """P.1812 basic transmission loss of many site-to-point paths on a DEM (compiled, parallel over pairs).

    Parameters
    ----------
    dem : ndarray
        Terrain heights a.m.s.l. (m), north-up, in the pairs' metric CRS.
    dem_transform : tuple
        (x0, y0, res_x, res_y) of ``dem`` (res_y negative for north-up).
    ends_m : ndarray, shape (n, 4)
        Site x, y and point x, y (m).
    heights_m : ndarray, shape (n, 2)
        Antenna heights above ground at the site and at the point (m).
    f_ghz, phi_deg : ndarray, shape (n,)
        Frequency (GHz) and path-centre latitude (deg) per pair.
    step_m : float
        Profile sample spacing (m; at least 5 samples per path).
    clutter_height_m : float
        Representative clutter height of profile points off ``clutter_grid`` (or of all, without one), m.
    clutter_grid : (ndarray, tuple), optional
        Representative clutter heights (m, NaN: no data) on a grid in the same CRS, and its transform.
    pol : {1, 2}
        Polarisation (2: vertical, as a cross-polarised base-station antenna's main component is treated).

    Returns
    -------
    loss_db, complete : ndarray
        Lb (dB; NaN off the DEM; a path under 1 m, a mast at the point itself, is free space over the height
        difference) and whether the profile lies on the DEM.
    """
    if clutter_grid is None:
        grid, grid_t, use = np.zeros((1, 1), dtype=np.float32), (0.0, 0.0, 1.0, 1.0), 0.0
    else:
        grid, grid_t, use = np.asarray(clutter_grid[0], dtype=np.float32), clutter_grid[1], 1.0
    params = np.array([step_m, p_pct, dn, n0, clutter_height_m, float(pol), use])
    return _run_pairs(
        np.ascontiguousarray(dem, dtype=np.float32),
        np.asarray(dem_transform, dtype=float),
        np.ascontiguousarray(grid),
        np.asarray(grid_t, dtype=float),
        np.ascontiguousarray(ends_m, dtype=float).reshape(-1, 4),
        np.ascontiguousarray(heights_m, dtype=float).reshape(-1, 2),
        np.ascontiguousarray(f_ghz, dtype=float),
        np.ascontiguousarray(phi_deg, dtype=float),
        params,
    )


def _run_pairs(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_pairs_kernel` on ``args``; when numba compiled it but could not save it to its cache ("no compiled
    object yet": see the note above the kernel), the compiled kernel is registered: run it without the cache."""
    try:
        return _pairs_kernel(*args)
    except RuntimeError as exc:
        if "no compiled object yet" not in str(exc):
            raise
        logger.debug("P.1812 pair kernel compiled but not cached (%s)", exc)
        return _pairs_kernel(*args)
