"""Phasing: a chosen plan split into yearly batches under a yearly budget, most-needed first."""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """Yearly batches of a plan: batch number (1-based) per chosen candidate, and totals after each batch."""

    batch: np.ndarray
    batch_cost: np.ndarray
    covered_weight_after: np.ndarray
    over_budget: np.ndarray


def phase(
    coverage: sparse.spmatrix,
    cost: np.ndarray,
    weight: np.ndarray,
    selected: np.ndarray,
    *,
    yearly_budget: float,
    priority: np.ndarray | None = None,
) -> Phase:
    """Split ``selected`` candidates into yearly batches under ``yearly_budget``, most needed first.

    Candidates are taken in order of the priority weight they newly serve per unit cost (``priority`` per
    demand, default ``weight``: registered poor villages and teaching points weigh most), re-evaluated after
    each pick, and packed into the current year while its budget allows; a candidate dearer than a whole year
    gets a year of its own (flagged in ``over_budget``).

    Returns
    -------
    Phase
        ``batch`` aligned with ``selected``; per batch: cost, cumulative covered weight, over-budget flag.
    """
    if yearly_budget <= 0:
        msg = f"`yearly_budget` = {yearly_budget}; expected > 0"
        raise ValueError(msg)
    a = sparse.csc_matrix(coverage, dtype=bool)
    cost = np.asarray(cost, dtype=float)
    weight = np.asarray(weight, dtype=float)
    prio = weight if priority is None else np.asarray(priority, dtype=float)
    sel = np.asarray(selected, dtype=np.int64)
    covered = np.zeros(a.shape[0], dtype=bool)
    price = np.maximum(cost[sel], 1e-9)

    def rows(k: int) -> np.ndarray:
        return a.indices[a.indptr[sel[k]] : a.indptr[sel[k] + 1]]

    def ratio(k: int) -> float:
        r = rows(k)
        return float(prio[r][~covered[r]].sum()) / price[k]

    # lazy greedy: a candidate's newly served priority only falls as others are built (coverage is submodular),
    # so a stored ratio is an upper bound and the first one that is still current is the best; ties go to the
    # earlier candidate, as in re-evaluating every candidate after each pick
    heap = [(-ratio(k), k) for k in range(len(sel))]
    heapq.heapify(heap)
    batch = np.zeros(len(sel), dtype=np.int64)
    year, spent = 1, 0.0
    costs, after, over = [], [], []
    while heap:
        placed = False
        skipped = []
        while heap:
            neg, k = heapq.heappop(heap)
            now = ratio(k)
            if now < -neg:
                heapq.heappush(heap, (-now, k))
                continue
            c = cost[sel[k]]
            if spent + c <= yearly_budget + 1e-6 or spent == 0.0:
                batch[k] = year
                spent += c
                covered[rows(k)] = True
                placed = True
                break
            skipped.append((-now, k))  # does not fit this year: the next best is tried
        for item in skipped:
            heapq.heappush(heap, item)
        if not placed or not heap:
            costs.append(spent)
            after.append(float(weight[covered].sum()))
            over.append(spent > yearly_budget + 1e-6)
            year += 1
            spent = 0.0
    return Phase(
        batch=batch,
        batch_cost=np.array(costs),
        covered_weight_after=np.array(after),
        over_budget=np.array(over, dtype=bool),
    )
