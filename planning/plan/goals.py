"""What the optimiser is asked for: the programme's KPI targets per county (target mode) or its priorities within
a budget (budget mode).

Target mode (``[optimise] budget_cny`` left out): for every county and every KPI with a target that the county does
not meet yet, one count row: of the demands that KPI counts there (e.g. the 4G demands of the county's
registered poor villages), at least the shortfall (``ceil(target x n) - have``, :func:`planning.status.kpi.
shortfall`) must be served. The optimiser finds the cheapest plan that meets every row at once, so one site that
serves the broadband and the 4G of several poor villages counts for both KPIs.

Budget mode: three priority classes served in order (lexicographic, :func:`planning.plan.cover.
solve_priorities`): unconnected schools (their connection), registered poor villages (broadband and 4G), then
everything else (schools' outlets, other villages, 5G); within a class the demands' weights count.

Geometry-free: pure functions of the demand table and the KPI table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from gis.admin import REGION
from planning.status import KPI_NEED, KPIS

#: Budget mode's classes in the order they are served (``priority_class`` 1, 2, 3 of the demand table).
CLASS_NAMES = ("unconnected_schools", "poor_villages", "rest")


@dataclass(frozen=True)
class Goal:
    """A budget (CNY, budget mode) or the count rows of target mode (``member``: demand x row, ``need`` per row,
    ``labels``: (county, KPI) per row)."""

    budget_cny: float | None
    member: sparse.csr_matrix | None = None
    need: np.ndarray | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def is_budget(self) -> bool:
        return self.budget_cny is not None


def kpi_members(demands: pd.DataFrame, kpi_key: str) -> np.ndarray:
    """Per demand row: counted by ``kpi_key`` (the KPI's need, and among whom it counts)."""
    kpi = next(k for k in KPIS if k.key == kpi_key)
    mask = (demands["need"] == KPI_NEED[kpi_key]).to_numpy() & (demands["layer"] == kpi.layer).to_numpy()
    if kpi.among == "poor":
        mask &= demands["is_poor"].to_numpy(dtype=bool)
    elif kpi.among == "teaching_points":
        mask &= (demands["kind"] == "teaching_point").to_numpy()
    return mask


def target_goal(demands: pd.DataFrame, kpis: pd.DataFrame) -> Goal:
    """The count rows of target mode (see the module docstring) for these demand rows.

    Parameters
    ----------
    demands : DataFrame
        Demand rows (:func:`planning.plan.candidates.demand_table`): ``county``, ``layer``, ``need``, ``is_poor``,
        ``kind``.
    kpis : DataFrame
        The KPI table per county (:func:`planning.status.kpi.kpi_table`): ``{key}_shortfall``.
    """
    counties = kpis[kpis["county"] != REGION].set_index("county")
    cols, needs, labels = [], [], []
    county = demands["county"].to_numpy()
    for kpi in KPIS:
        members = kpi_members(demands, kpi.key)
        short = counties[f"{kpi.key}_shortfall"]
        for name in short.index[short.to_numpy() > 0]:
            rows = np.flatnonzero(members & (county == name))
            if not len(rows):
                continue
            cols.append(rows)
            needs.append(float(short[name]))
            labels.append((str(name), kpi.key))
    indices = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    indptr = np.cumsum([0, *map(len, cols)])
    member = sparse.csc_matrix((np.ones(len(indices)), indices, indptr), shape=(len(demands), len(cols))).tocsr()
    return Goal(budget_cny=None, member=member, need=np.asarray(needs, dtype=float), labels=tuple(labels))


def class_weights(demands: pd.DataFrame) -> np.ndarray:
    """Budget mode's objective per class: column k holds the weight of the demands of priority class k + 1."""
    w = demands["weight"].to_numpy(dtype=float)
    cls = demands["priority_class"].to_numpy(dtype=np.int64)
    return np.column_stack([np.where(cls == k + 1, w, 0.0) for k in range(len(CLASS_NAMES))])


def phasing_priority(demands: pd.DataFrame) -> np.ndarray:
    """Per demand: its weight scaled by class (x1e6 class 1, x1e3 class 2), so that the yearly batches build
    unconnected schools first, then poor villages (:func:`planning.plan.phasing.phase`)."""
    scale = np.array([1e6, 1e3, 1.0])
    return demands["weight"].to_numpy(dtype=float) * scale[demands["priority_class"].to_numpy(dtype=np.int64) - 1]
