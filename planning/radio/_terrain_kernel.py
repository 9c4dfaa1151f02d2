"""Numba kernel: terrain profile, line of sight, Deygout diffraction and effective height per site-point pair.

The same computation as :func:`planning.radio.propagation.terrain_loss_db` on :func:`gis.terrain.profiles` (the
NumPy reference, tested to agree), but walking each profile in a compiled loop without materialising the
ragged sample arrays, in parallel over pairs. The DEM must be in the pairs' metric CRS.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_C = 299_792_458.0
_R_EARTH = 6_371_000.0


@njit(cache=True, inline="always")
def _bilinear(h: np.ndarray, x: float, y: float, x0: float, y0: float, res_x: float, res_y: float) -> float:
    rows, cols = h.shape
    col = (x - x0) / res_x
    row = (y - y0) / res_y
    if col < 0.0 or row < 0.0 or col > cols or row > rows:
        return np.nan
    fc = min(max(col - 0.5, 0.0), cols - 1.0)
    fr = min(max(row - 0.5, 0.0), rows - 1.0)
    c0 = min(int(fc), max(cols - 2, 0))
    r0 = min(int(fr), max(rows - 2, 0))
    c1 = min(c0 + 1, cols - 1)
    r1 = min(r0 + 1, rows - 1)
    tc = fc - c0
    tr = fr - r0
    v: float = (
        h[r0, c0] * (1 - tc) * (1 - tr) + h[r0, c1] * tc * (1 - tr) + h[r1, c0] * (1 - tc) * tr + h[r1, c1] * tc * tr
    )
    return v


@njit(cache=True, inline="always")
def _j(v: float) -> float:
    if v <= -0.78:
        return 0.0
    v = min(v, 1e6)
    return 6.9 + 20.0 * math.log10(math.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)


@njit(cache=True)
def _profile(
    h: np.ndarray,
    x0: float,
    y0: float,
    res_x: float,
    res_y: float,
    ax: float,
    ay: float,
    bx: float,
    by: float,
    step_m: float,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Distances (m) and heights of the terrain profile from a to b at ``step_m``; False when a sample is off the
    DEM."""
    dx = bx - ax
    dy = by - ay
    big_d = math.sqrt(dx * dx + dy * dy)
    ns = max(math.ceil(big_d / step_m), 1) + 1
    z = np.empty(ns)
    d = np.empty(ns)
    ok = True
    for k in range(ns):
        t = k / (ns - 1)
        d[k] = t * big_d
        zk = _bilinear(h, ax + t * dx, ay + t * dy, x0, y0, res_x, res_y)
        if math.isnan(zk):
            ok = False
        z[k] = zk
    return d, z, ok


@njit(cache=True)
def _effective_height(d: np.ndarray, z: np.ndarray, big_d: float, htx: float) -> float:
    """Transmitter height above the average terrain 3-15 km out (scaled down on short paths), m."""
    if big_d > 15000.0:
        lo = 3000.0
    elif big_d > 3000.0:
        lo = 3000.0 * big_d / 15000.0
    else:
        lo = 0.0
    hi = min(big_d, 15000.0)
    s = 0.0
    c = 0
    for k in range(d.shape[0]):
        if d[k] >= lo and d[k] <= hi:
            s += z[k]
            c += 1
    avg = s / c if c > 0 else z[0]
    he: float = z[0] + htx - avg
    return he


@njit(cache=True)
def _main_edge(
    d: np.ndarray, z: np.ndarray, big_d: float, z_tx: float, z_rx: float, lam: float, clearance: float
) -> tuple[float, int, bool]:
    """(largest Fresnel-Kirchhoff v, its sample, whether any sample intrudes into ``clearance`` of the first
    Fresnel zone) over the bulged profile between the two antennas."""
    vmax = -np.inf
    im = -1
    blocked = False
    for k in range(1, d.shape[0] - 1):
        d1 = d[k]
        d2 = big_d - d1
        if d1 <= 0.0 or d2 <= 0.0:
            continue
        hh = z[k] - (z_tx + (z_rx - z_tx) * d1 / big_d)
        r1 = math.sqrt(lam * d1 * d2 / big_d)
        if hh > -clearance * r1:
            blocked = True
        v = hh * math.sqrt(2.0 * big_d / (lam * d1 * d2))
        if v > vmax:
            vmax = v
            im = k
    return vmax, im, blocked


@njit(cache=True)
def _side_v(
    d: np.ndarray,
    z: np.ndarray,
    k0: int,
    k1: int,
    d_start: float,
    z_start: float,
    d_end: float,
    z_end: float,
    lam: float,
) -> float:
    """Largest v of samples ``k0..k1-1`` under the line from (d_start, z_start) to (d_end, z_end)."""
    span = d_end - d_start
    vmax = -np.inf
    for k in range(k0, k1):
        d1 = d[k] - d_start
        d2 = d_end - d[k]
        if d1 <= 0.0 or d2 <= 0.0:
            continue
        hh = z[k] - (z_start + (z_end - z_start) * d1 / span)
        v = hh * math.sqrt(2.0 * span / (lam * d1 * d2))
        vmax = max(vmax, v)
    return vmax


@njit(parallel=True, cache=True)
def pair_terrain(
    h: np.ndarray,
    x0: float,
    y0: float,
    res_x: float,
    res_y: float,
    sx: np.ndarray,
    sy: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    htx: np.ndarray,
    hrx: np.ndarray,
    freq_mhz: np.ndarray,
    step_m: float,
    k_factor: float,
    clearance: float,
    max_edges: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: (diffraction_db, los, complete, tx height above average terrain 3-15 km out).

    Deygout: the main edge, then (``max_edges`` >= 2, 3) the strongest edges left and right of it, each under
    the line between its neighbours; the earth bulge of an effective radius ``k_factor`` x 6371 km.
    """
    n = sx.shape[0]
    diff = np.zeros(n)
    los = np.ones(n, dtype=np.bool_)
    complete = np.ones(n, dtype=np.bool_)
    heff = np.zeros(n)
    ae = k_factor * _R_EARTH
    for i in prange(n):
        d, z, ok = _profile(h, x0, y0, res_x, res_y, sx[i], sy[i], px[i], py[i], step_m)
        complete[i] = ok
        if not ok:
            diff[i] = np.nan
            continue
        ns = d.shape[0]
        big_d = d[ns - 1]
        heff[i] = _effective_height(d, z, big_d, htx[i])
        lam = _C / (freq_mhz[i] * 1e6)
        z_tx = z[0] + htx[i]
        z_rx = z[ns - 1] + hrx[i]
        for k in range(ns):
            z[k] += d[k] * (big_d - d[k]) / (2.0 * ae)
        vmax, im, blocked = _main_edge(d, z, big_d, z_tx, z_rx, lam, clearance)
        los[i] = not blocked
        loss = _j(vmax) if im >= 0 else 0.0
        if max_edges >= 2 and im >= 0 and vmax > -0.78:
            dm = d[im]
            zm = z[im]
            vl = _side_v(d, z, 1, im, 0.0, z_tx, dm, zm, lam)
            loss += _j(vl) if vl > -np.inf else 0.0
            if max_edges >= 3:
                vr = _side_v(d, z, im + 1, ns - 1, dm, zm, big_d, z_rx, lam)
                loss += _j(vr) if vr > -np.inf else 0.0
        diff[i] = loss
    return diff, los, complete, heff


@njit(parallel=True, cache=True)
def hop_clearance(
    h: np.ndarray,
    x0: float,
    y0: float,
    res_x: float,
    res_y: float,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    ha: np.ndarray,
    hb: np.ndarray,
    step_m: float,
    k_factor: float,
    freq_mhz: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per hop a-b: (least clearance of the line between the antennas over the bulged terrain, in radii of the
    first Fresnel zone at ``freq_mhz``; whether the profile lies on the DEM).

    The clearance of the worst sample is ``-v / sqrt(2)`` of :func:`_main_edge`'s largest Fresnel-Kirchhoff v;
    ``inf`` where the profile has no inner sample. Antenna heights ``ha``/``hb`` are above ground.
    """
    n = ax.shape[0]
    out = np.full(n, np.nan)
    complete = np.ones(n, dtype=np.bool_)
    ae = k_factor * _R_EARTH
    lam = _C / (freq_mhz * 1e6)
    for i in prange(n):
        d, z, ok = _profile(h, x0, y0, res_x, res_y, ax[i], ay[i], bx[i], by[i], step_m)
        complete[i] = ok
        if not ok:
            continue
        ns = d.shape[0]
        big_d = d[ns - 1]
        z_a = z[0] + ha[i]
        z_b = z[ns - 1] + hb[i]
        for k in range(ns):
            z[k] += d[k] * (big_d - d[k]) / (2.0 * ae)
        vmax, im, _ = _main_edge(d, z, big_d, z_a, z_b, lam, 0.0)
        out[i] = -vmax / math.sqrt(2.0) if im >= 0 else np.inf
    return out, complete
