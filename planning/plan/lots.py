"""Tender lots (标段): the plan cut into geographically compact lots of similar cost.

:func:`tender_lots` bisects recursively: the interventions of a group are split across the longer side of their
bounding box at the cost-weighted point where the two halves' shares of the cost match the shares of lots each
half is to hold (k lots: floor(k/2) and ceil(k/2)). Every lot is then a box-shaped cluster of neighbouring
interventions, and lots hold about total / k each (an intervention dearer than that stays whole, so a lot may
hold more). With ``n_lots = 0`` each county is a lot (as a county files its pilot application).

Geometry-free: coordinates (metres, a projected CRS) and costs.
"""

from __future__ import annotations

import math

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


# ---------------------------------------------------------------- lots by work type

#: Work types a tender is cut by: fibre lines (extensions, site backhaul trenches, line tiers), towers (a new
#: site's tower, civil works and power line), RAN equipment (radios and antennas, satellite terminals), microwave
#: (radios, dishes, relay masts).
WORK_TYPES = ("fibre_lines", "towers", "ran_equipment", "microwave")
#: The words of each work type in a lot's name.
WORK_WORDS = {"fibre_lines": "光缆线路", "towers": "铁塔", "ran_equipment": "无线设备", "microwave": "微波"}


def work_amounts(inter: pd.DataFrame, *, ran_equipment_cny: float) -> pd.DataFrame:
    """Each intervention's capex split by work type (CNY; the columns of :data:`WORK_TYPES` add up to
    ``capex_cny``): a fibre extension and a line tier are fibre lines; a site's backhaul is fibre lines (its trench
    share: capex less equipment) or microwave (``backhaul_cny``); of the rest a new site's radios
    (``ran_equipment_cny`` at most) are RAN equipment and its tower, civil works and power line towers; a share,
    5G upgrade or satellite terminal is RAN equipment."""
    n = len(inter)
    kind = inter["kind"].astype(str).to_numpy()
    capex = inter["capex_cny"].to_numpy(dtype=float)
    back = inter["backhaul"].astype(str).to_numpy() if "backhaul" in inter else np.full(n, "")
    equip = np.nan_to_num(inter["equipment_cny"].to_numpy(dtype=float)) if "equipment_cny" in inter else capex
    back_cny = np.nan_to_num(inter["backhaul_cny"].to_numpy(dtype=float)) if "backhaul_cny" in inter else np.zeros(n)
    line = np.isin(kind, ["fibre", "line_upgrade"])
    fibre_back = np.where(~line & (back == "fibre"), np.clip(capex - equip, 0.0, capex), 0.0)
    micro = np.where(~line & (back == "microwave"), np.minimum(back_cny, capex), 0.0)
    rest = capex - fibre_back - micro
    ran = np.where(kind == "new_site", np.minimum(rest, ran_equipment_cny), rest)
    out = pd.DataFrame(
        {
            "fibre_lines": np.where(line, capex, fibre_back),
            "towers": np.where(line, 0.0, np.where(kind == "new_site", rest - ran, 0.0)),
            "ran_equipment": np.where(line, 0.0, ran),
            "microwave": np.where(line, 0.0, micro),
        },
        index=inter.index,
    )
    return out


def _bounded_lots(xy: np.ndarray, cost: np.ndarray, *, lot_max_cny: float, lot_min_cny: float) -> np.ndarray:
    """Geographic lots (1-based) of one work type: as few as keep every lot at or under ``lot_max_cny`` (a lot of
    one item dearer than that stays whole), never more than keep lots at ``lot_min_cny`` on average where the
    bounds allow it."""
    total = float(cost.sum())
    n = len(cost)
    k = max(1, math.ceil(total / lot_max_cny))
    if lot_min_cny > 0:
        k = max(1, min(k, math.floor(total / lot_min_cny))) if total >= lot_min_cny else 1
        k = max(k, math.ceil(total / lot_max_cny))  # the upper bound wins where the two conflict
    while True:
        lots = tender_lots(xy[:, 0], xy[:, 1], cost, n_lots=min(k, n))
        sums = np.bincount(lots, weights=cost)
        counts = np.bincount(lots)
        over = (sums > lot_max_cny + 1e-6) & (counts > 1)
        if not over.any() or k >= n:
            return lots
        k += 1


def work_lots(
    inter: pd.DataFrame,
    x_m: np.ndarray,
    y_m: np.ndarray,
    *,
    ran_equipment_cny: float,
    lot_max_cny: float,
    lot_min_cny: float,
) -> tuple[pd.DataFrame, pd.Series]:
    """Tender lots by work type and geography (:func:`work_amounts`, then each work type cut by
    :func:`tender_lots` into lots within the bounds).

    Returns
    -------
    DataFrame
        One row per lot: ``lot_id`` (``光缆线路-1``), ``work_type``, ``items``, ``amount_cny``, ``counties``,
        ``extent_km``.
    Series
        Per intervention, the lots it has a part in (``;``-joined ``lot_id``).
    """
    amounts = work_amounts(inter, ran_equipment_cny=ran_equipment_cny)
    xy = np.column_stack([np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float)])
    county = inter["county"].astype(str).to_numpy() if "county" in inter else np.full(len(inter), "")
    member: list[list[str]] = [[] for _ in range(len(inter))]
    rows = []
    for wt in WORK_TYPES:
        a = amounts[wt].to_numpy()
        idx = np.flatnonzero(a > 0)
        if not len(idx):
            continue
        lots = _bounded_lots(xy[idx], a[idx], lot_max_cny=lot_max_cny, lot_min_cny=lot_min_cny)
        for lot in np.unique(lots):
            pick = idx[lots == lot]
            lot_id = f"{WORK_WORDS[wt]}-{int(lot)}"
            span = float(np.hypot(*(xy[pick].max(axis=0) - xy[pick].min(axis=0)))) / 1000.0 if len(pick) > 1 else 0.0
            rows.append(
                {
                    "lot_id": lot_id,
                    "work_type": wt,
                    "items": len(pick),
                    "amount_cny": float(a[pick].sum()),
                    "counties": "、".join(sorted(set(county[pick]))),
                    "extent_km": round(span, 1),
                }
            )
            for i in pick:
                member[i].append(lot_id)
    table = pd.DataFrame(rows, columns=["lot_id", "work_type", "items", "amount_cny", "counties", "extent_km"])
    return table, pd.Series([";".join(m) for m in member], index=inter.index, dtype=object)
