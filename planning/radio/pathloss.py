"""Path loss of site-point pairs by the project's model, each model used only inside its validity range.

* ``p1812`` (the default): ITU-R P.1812-8 on the DEM profile with representative clutter heights
  (:mod:`planning.radio.p1812`); without a DEM on flat ground at 0 m.
* ``hata``, ``rma``, ``uma``: the empirical model alone. The profile decides only what the model itself asks for
  (Hata's effective base height, the TR 38.901 LOS or NLOS branch); no terrain diffraction edges are added on top,
  since the empirical fit already contains the typical obstruction of its environment.
* ``free_space``: free space plus Deygout diffraction (up to three knife edges) over the profile.
* ``itm``: Longley-Rice point to point (itmlogic).

A pair outside its model's range (:func:`outside_validity`: distance, frequency, antenna heights as the model's
source states them) is computed with P.1812 instead and flagged, never extrapolated silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer

from gis.settings import RadioSettings
from gis.terrain import Dem, profiles
from planning.radio import p1812
from planning.radio._terrain_kernel import pair_terrain
from planning.radio.propagation import Environment, Model, base_loss_db, terrain_loss_db

__all__ = ["VALIDITY", "P1812Params", "PairLoss", "outside_validity", "pair_loss"]

#: Validity of each model: (frequency MHz, distance m, base antenna height m, mobile antenna height m), closed ranges.
#: Okumura-Hata / COST-231 Hata (COST 231 final report §4.4.1): 150-2000 MHz, 1-20 km, 30-200 m, 1-10 m;
#: TR 38.901 Table 7.4.1-1 RMa: 0.5-30 GHz, 10 m-10 km (LOS; NLOS to 5 km), 10-150 m, 1-10 m; UMa: 0.5-100 GHz,
#: 10 m-5 km, h_UT 1.5-22.5 m; ITM (NTIA Report 82-100): 20 MHz-20 GHz, 1-2000 km, 0.5-3000 m.
VALIDITY: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "hata": ((150.0, 2000.0), (1000.0, 20_000.0), (30.0, 200.0), (1.0, 10.0)),
    "rma": ((500.0, 30_000.0), (10.0, 10_000.0), (10.0, 150.0), (1.0, 10.0)),
    "uma": ((500.0, 100_000.0), (10.0, 5_000.0), (1.0, 1000.0), (1.5, 22.5)),
    "itm": ((20.0, 20_000.0), (1000.0, 2_000_000.0), (0.5, 3000.0), (0.5, 3000.0)),
}
_RMA_NLOS_MAX_M = 5_000.0


@dataclass(frozen=True)
class P1812Params:
    """What P.1812 needs beyond the pair: refractivity (``dn`` N-units/km, ``n0``), the representative clutter
    height of profile points without a class (m), an optional clutter-height grid (heights m, (x0, y0, res_x,
    res_y)) in the pairs' CRS, and the time percentage (50 % for coverage)."""

    dn: float = p1812.DN_DEFAULT
    n0: float = p1812.N0_DEFAULT
    clutter_height_m: float = 0.0
    clutter_grid: tuple[np.ndarray, tuple[float, float, float, float]] | None = None
    p_pct: float = 50.0

    @classmethod
    def of(
        cls, radio: RadioSettings, grid: tuple[np.ndarray, tuple[float, float, float, float]] | None = None
    ) -> P1812Params:
        """The project's settings (``[radio] p1812_*``) with the land cover's clutter heights ``grid``."""
        return cls(
            dn=radio.p1812_dn, n0=radio.p1812_n0, clutter_height_m=radio.p1812_clutter_height_m, clutter_grid=grid
        )


@dataclass(frozen=True)
class PairLoss:
    """Per pair: basic transmission loss (dB, NaN off the DEM), whether the profile lies on the DEM, and whether the
    pair fell outside the chosen model's range and was computed with P.1812."""

    loss_db: np.ndarray
    complete: np.ndarray
    fallback: np.ndarray


def outside_validity(
    model: Model,
    dist_m: np.ndarray,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    *,
    los: np.ndarray | None = None,
) -> np.ndarray:
    """True where a pair lies outside ``model``'s range (:data:`VALIDITY`); RMa NLOS pairs (``los`` False) end at
    5 km. P.1812 and free space have no range here (the project's bands lie in 300-6000 MHz)."""
    n = len(dist_m)
    if model not in VALIDITY:
        return np.zeros(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    for (lo, hi), v in zip(VALIDITY[model], (freq_mhz, dist_m, tx_height_m, rx_height_m), strict=True):
        a = np.broadcast_to(np.asarray(v, dtype=float), (n,))
        out |= (a < lo) | (a > hi)
    if model == "rma" and los is not None:
        out |= ~np.asarray(los, dtype=bool) & (dist_m > _RMA_NLOS_MAX_M)
    return out


def _latitudes(crs: CRS | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Latitude (deg) of the points, 45 deg without a CRS (P.1812 uses it only for b0, the anomalous-propagation
    time percentage, which leaves the 50 % loss of a short path unchanged)."""
    if crs is None or not len(x):
        return np.full(len(x), 45.0)
    _, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return np.asarray(lat, dtype=float)


def _p1812(
    dem: Dem | None, ends: np.ndarray, freq_mhz: np.ndarray, heights: np.ndarray, step_m: float, params: P1812Params
) -> tuple[np.ndarray, np.ndarray]:
    """P.1812 on the DEM's profiles, or on flat ground at 0 m without a DEM."""
    if dem is not None:
        grid, t, crs = dem.height_m, dem.transform, dem.crs
        transform = (t.c, t.f, t.a, t.e)
    else:
        lo = ends.reshape(-1, 2).min(axis=0) - 1.0
        hi = ends.reshape(-1, 2).max(axis=0) + 1.0
        grid, crs = np.zeros((1, 1)), None
        transform = (float(lo[0]), float(hi[1]), float(hi[0] - lo[0]), -float(hi[1] - lo[1]))
    mid = (ends[:, :2] + ends[:, 2:]) / 2.0
    lat = _latitudes(crs, mid[:, 0], mid[:, 1])
    return p1812.pair_loss_db(
        grid,
        transform,
        ends,
        heights,
        freq_mhz / 1000.0,
        lat,
        step_m=max(step_m, 1.0) if dem is not None else 1e9,
        p_pct=params.p_pct,
        dn=params.dn,
        n0=params.n0,
        clutter_height_m=params.clutter_height_m,
        clutter_grid=params.clutter_grid,
    )


def _empirical(
    dem: Dem | None,
    ends: np.ndarray,
    freq_mhz: np.ndarray,
    heights: np.ndarray,
    *,
    model: Model,
    environment: Environment | np.ndarray,
    step_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loss, complete, los) of free space / Hata / RMa / UMa / ITM; terrain diffraction is added to free space
    only."""
    n = len(ends)
    dist = np.hypot(ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1])
    sx, sy, px, py = (np.ascontiguousarray(ends[:, k]) for k in range(4))
    ht, hr = np.ascontiguousarray(heights[:, 0]), np.ascontiguousarray(heights[:, 1])
    if dem is None:
        flat: Model = "free_space" if model == "itm" else model
        return _base(flat, dist, freq_mhz, ht, hr, False, environment), np.ones(n, dtype=bool), np.zeros(n, bool)
    if model == "itm":
        res = terrain_loss_db(profiles(dem, sx, sy, px, py, step_m=step_m), freq_mhz, ht, hr, model="itm")
        return res.loss_db, res.complete, res.los
    t = dem.transform
    f = np.ascontiguousarray(freq_mhz, float)
    diff, los, complete, heff = pair_terrain(
        dem.height_m, t.c, t.f, t.a, t.e, sx, sy, px, py, ht, hr, f, float(step_m), 4.0 / 3.0, 0.6, 3
    )
    hb = np.clip(heff, 10.0, 300.0) if model == "hata" else ht
    loss = _base(model, dist, f, hb, hr, los, environment)
    if model == "free_space":
        loss = loss + diff
    return np.where(complete, loss, np.nan), complete, los


def _base(
    model: Model,
    dist: np.ndarray,
    freq_mhz: np.ndarray,
    tx_height_m: np.ndarray,
    rx_height_m: np.ndarray,
    los: np.ndarray | bool,
    environment: Environment | np.ndarray,
) -> np.ndarray:
    """:func:`planning.radio.propagation.base_loss_db` with one environment or one per pair."""
    if isinstance(environment, str):
        return base_loss_db(model, dist, freq_mhz, tx_height_m, rx_height_m, los=los, environment=environment)
    env = np.asarray(environment, dtype=object)
    n = len(dist)
    f, ht, hr = (np.broadcast_to(np.asarray(a, dtype=float), (n,)) for a in (freq_mhz, tx_height_m, rx_height_m))
    lo = np.broadcast_to(np.asarray(los, dtype=bool), (n,))
    out = np.empty(n)
    for e in np.unique(env):
        m = env == e
        out[m] = base_loss_db(model, dist[m], f[m], ht[m], hr[m], los=lo[m], environment=e)
    return out


def pair_loss(
    dem: Dem | None,
    ends_m: np.ndarray,
    freq_mhz: np.ndarray,
    heights_m: np.ndarray,
    *,
    model: Model,
    environment: Environment | np.ndarray = "suburban",
    step_m: float = 30.0,
    params: P1812Params = P1812Params(),
) -> PairLoss:
    """Loss of site-to-point pairs by ``model``, P.1812 where a pair lies outside the model's range.

    Parameters
    ----------
    dem : Dem, optional
        Terrain in the pairs' metric CRS; without it flat ground at 0 m.
    ends_m : ndarray, shape (n, 4)
        Site x, y and point x, y (m).
    freq_mhz : ndarray, shape (n,)
        Carrier frequency (MHz).
    heights_m : ndarray, shape (n, 2)
        Antenna heights above ground at the site and at the point (m).
    model, environment : str
        The project's model; Hata's environment (one, or one per pair).
    step_m : float
        Profile sample spacing (m).
    params : P1812Params
        P.1812's refractivity and clutter.
    """
    ends = np.ascontiguousarray(ends_m, dtype=float).reshape(-1, 4)
    heights = np.ascontiguousarray(np.broadcast_to(np.asarray(heights_m, float), (len(ends), 2)))
    f = np.ascontiguousarray(np.broadcast_to(np.asarray(freq_mhz, float), (len(ends),)))
    n = len(ends)
    if model == "p1812":
        loss, complete = _p1812(dem, ends, f, heights, step_m, params)
        return PairLoss(loss, complete, np.zeros(n, dtype=bool))
    loss, complete, los = _empirical(dem, ends, f, heights, model=model, environment=environment, step_m=step_m)
    dist = np.hypot(ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1])
    fallback = outside_validity(model, dist, f, heights[:, 0], heights[:, 1], los=los)
    if fallback.any():
        alt, alt_ok = _p1812(dem, ends[fallback], f[fallback], heights[fallback], step_m, params)
        loss = loss.copy()
        loss[fallback] = alt
        complete = complete.copy()
        complete[fallback] = alt_ok
    return PairLoss(loss, complete, fallback)
