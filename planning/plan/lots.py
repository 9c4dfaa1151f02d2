"""Tender lots (标段): the plan cut into geographically compact lots of similar cost.

:func:`tender_lots` bisects recursively: the interventions of a group are split across the longer side of their
bounding box at the cost-weighted point where the two halves' shares of the cost match the shares of lots each
half is to hold (k lots: floor(k/2) and ceil(k/2)). Every lot is then a box-shaped cluster of neighbouring
interventions, and lots hold about total / k each (an intervention dearer than that stays whole, so a lot may
hold more). With ``n_lots = 0`` each county is a lot (as a county files its pilot application).

Geometry-free: coordinates (metres, a projected CRS) and costs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _split(xy: np.ndarray, cost: np.ndarray, idx: np.ndarray, k: int, out: np.ndarray, first: int) -> None:
    """Lots ``first .. first + k - 1`` for the interventions ``idx`` (in place in ``out``)."""
    if k <= 1 or len(idx) <= 1:
        out[idx] = first
        return
    pts = xy[idx]
    axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
    order = idx[np.argsort(pts[:, axis], kind="stable")]
    k_low = k // 2
    c = np.cumsum(cost[order])
    total = c[-1]
    # the cut where the low side's share of the cost is closest to k_low / k
    want = total * k_low / k if total > 0 else None
    cut = int(np.argmin(np.abs(c[:-1] - want))) + 1 if want is not None else len(order) * k_low // k
    cut = min(max(cut, k_low), len(order) - (k - k_low))  # each side keeps an intervention per lot
    _split(xy, cost, order[:cut], k_low, out, first)
    _split(xy, cost, order[cut:], k - k_low, out, first + k_low)


def tender_lots(
    x_m: np.ndarray, y_m: np.ndarray, cost_cny: np.ndarray, *, n_lots: int, county: np.ndarray | None = None
) -> np.ndarray:
    """The lot (1-based) of each intervention.

    Parameters
    ----------
    x_m, y_m : ndarray
        Intervention locations in a projected metric CRS.
    cost_cny : ndarray
        Cost of each intervention (CNY, >= 0).
    n_lots : int
        Number of lots (>= 1); 0: one lot per county (``county`` required), numbered in county order.
    county : ndarray of str, optional
        County of each intervention.
    """
    n = len(cost_cny)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    if n_lots < 0:
        msg = f"`n_lots` = {n_lots}; expected 0 (one lot per county) or a number of lots >= 1"
        raise ValueError(msg)
    if n_lots == 0:
        if county is None:
            msg = "`n_lots` = 0 (one lot per county) needs `county`"
            raise ValueError(msg)
        codes, _ = pd.factorize(pd.Series(county).astype(str), sort=True)
        return codes.astype(np.int64) + 1
    xy = np.column_stack([np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float)])
    _split(xy, np.asarray(cost_cny, dtype=float), np.arange(n), min(n_lots, n), out, 1)
    return out


def lot_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per lot: interventions, cost (CNY), counties, and the extent of its interventions (km across)."""
    rows = []
    for lot, part in frame.groupby("lot", sort=True):
        xy = np.column_stack([part["x_m"], part["y_m"]])
        span = float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0)))) / 1000.0 if len(part) > 1 else 0.0
        rows.append(
            {
                "lot": int(lot),
                "interventions": len(part),
                "cost_cny": float(part["cost_cny"].sum()),
                "counties": "、".join(sorted(set(part["county"].astype(str)))),
                "extent_km": round(span, 1),
            }
        )
    return pd.DataFrame(rows, columns=["lot", "interventions", "cost_cny", "counties", "extent_km"])
