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
    return h[r0, c0] * (1 - tc) * (1 - tr) + h[r0, c1] * tc * (1 - tr) + h[r1, c0] * (1 - tc) * tr + h[r1, c1] * tc * tr


@njit(cache=True, inline="always")
def _j(v: float) -> float:
    if v <= -0.78:
        return 0.0
    v = min(v, 1e6)
    return 6.9 + 20.0 * math.log10(math.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)


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
    """Per pair: (diffraction_db, los, complete, tx height above average terrain 3-15 km out)."""
    n = sx.shape[0]
    diff = np.zeros(n)
    los = np.ones(n, dtype=np.bool_)
    complete = np.ones(n, dtype=np.bool_)
    heff = np.zeros(n)
    ae = k_factor * _R_EARTH
    for i in prange(n):
        dx = px[i] - sx[i]
        dy = py[i] - sy[i]
        big_d = math.sqrt(dx * dx + dy * dy)
        ns = max(math.ceil(big_d / step_m), 1) + 1
        z = np.empty(ns)
        d = np.empty(ns)
        ok = True
        for k in range(ns):
            t = k / (ns - 1)
            d[k] = t * big_d
            zk = _bilinear(h, sx[i] + t * dx, sy[i] + t * dy, x0, y0, res_x, res_y)
            if math.isnan(zk):
                ok = False
            z[k] = zk
        complete[i] = ok
        if not ok:
            diff[i] = np.nan
            continue
        # effective height: tx above the average terrain 3-15 km out (scaled down on short paths)
        if big_d > 15000.0:
            lo = 3000.0
        elif big_d > 3000.0:
            lo = 3000.0 * big_d / 15000.0
        else:
            lo = 0.0
        hi = min(big_d, 15000.0)
        s = 0.0
        c = 0
        for k in range(ns):
            if d[k] >= lo and d[k] <= hi:
                s += z[k]
                c += 1
        avg = s / c if c > 0 else z[0]
        heff[i] = z[0] + htx[i] - avg
        lam = _C / (freq_mhz[i] * 1e6)
        z_tx = z[0] + htx[i]
        z_rx = z[ns - 1] + hrx[i]
        for k in range(ns):
            z[k] += d[k] * (big_d - d[k]) / (2.0 * ae)
        # main edge and LOS test
        vmax = -np.inf
        im = -1
        blocked = False
        for k in range(1, ns - 1):
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
        los[i] = not blocked
        loss = _j(vmax) if im >= 0 else 0.0
        if max_edges >= 2 and im >= 0 and vmax > -0.78:
            dm = d[im]
            zm = z[im]
            vl = -np.inf
            for k in range(1, im):
                d1 = d[k]
                d2 = dm - d1
                if d1 <= 0.0 or d2 <= 0.0:
                    continue
                hh = z[k] - (z_tx + (zm - z_tx) * d1 / dm)
                v = hh * math.sqrt(2.0 * dm / (lam * d1 * d2))
                vl = max(vl, v)
            loss += _j(vl) if vl > -np.inf else 0.0
            if max_edges >= 3:
                span = big_d - dm
                vr = -np.inf
                for k in range(im + 1, ns - 1):
                    d1 = d[k] - dm
                    d2 = big_d - d[k]
                    if d1 <= 0.0 or d2 <= 0.0:
                        continue
                    hh = z[k] - (zm + (z_rx - zm) * d1 / span)
                    v = hh * math.sqrt(2.0 * span / (lam * d1 * d2))
                    vr = max(vr, v)
                loss += _j(vr) if vr > -np.inf else 0.0
        diff[i] = loss
    return diff, los, complete, heff
