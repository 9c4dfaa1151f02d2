"""Phasing: a chosen plan split into yearly batches that hold the yearly budget at their true spend, in the
programme's order.

A year's true spend is what is built that year: its non-fibre interventions, and the trench segments first built
that year. A fibre extension needs every segment on its path from existing fibre (a trench before its branches,
the precedence of the shared-trench tree); a segment shared with extensions of later years is paid in the year
it is first built, so an extension's cost in a year is the cost of the segments of its path not built yet
(:func:`phase`). Its allocated share of the trenches (what :mod:`planning.plan.proposal` prices it at) is what
it costs the programme in the end, not what a year spends.

Order: priority classes first (class 1 before 2 before 3: unconnected schools, then registered poor villages and
teaching points, then the rest; an intervention takes the best class among the demands it newly serves), then
the priority weight it newly serves per CNY of that year's spend. Each year takes the best that still fits its
budget, re-evaluated after every pick (serving a demand or building a segment changes what the others add and
cost); what does not fit waits for the next year. An intervention that costs more than a whole year gets a year
of its own (``over_budget``).

Commitments (``committed``: what work already planned or under construction spends in each year, from the ledger,
:mod:`planning.status.ledger_replan`) are placed first: a year holds the new interventions only within what its
budget leaves after them, and an intervention dearer than a whole year waits for a year with nothing committed.

Geometry-free: sparse matrices and arrays.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """Yearly batches of a plan.

    Attributes
    ----------
    batch : ndarray of int
        Batch (1-based) per chosen candidate, aligned with ``selected``.
    batch_cost : ndarray
        True spend per batch (CNY): non-fibre interventions plus the segments first built in it.
    covered_weight_after : ndarray
        Weight served once each batch is built (cumulative).
    over_budget : ndarray of bool
        Per batch: it spends (with its commitments) more than a year's budget: one intervention alone dearer than a
        year's budget, or the commitments alone.
    segment_batch : ndarray of int
        Per trench segment: the batch that builds it (0: no chosen extension needs it).
    """

    batch: np.ndarray
    batch_cost: np.ndarray
    covered_weight_after: np.ndarray
    over_budget: np.ndarray
    segment_batch: np.ndarray
    committed_cost: np.ndarray | None = None
    """Per batch: what the commitments spend in it (CNY, not in ``batch_cost``); None without commitments."""


@dataclass
class _State:
    """What is built so far: served demands, built segments."""

    a: sparse.csc_matrix
    seg: sparse.csc_matrix  # segment x chosen: the segments each chosen candidate needs
    seg_cost: np.ndarray
    own_cost: np.ndarray  # per chosen: its cost besides segments
    prio: np.ndarray
    klass: np.ndarray
    covered: np.ndarray
    built: np.ndarray

    def rows(self, k: int) -> np.ndarray:
        rows: np.ndarray = self.a.indices[self.a.indptr[k] : self.a.indptr[k + 1]]
        return rows

    def segments(self, k: int) -> np.ndarray:
        segs: np.ndarray = self.seg.indices[self.seg.indptr[k] : self.seg.indptr[k + 1]]
        return segs

    def spend(self, k: int) -> float:
        """What building ``k`` now costs: its own cost and the segments of its path not yet built."""
        s = self.segments(k)
        return float(self.own_cost[k] + self.seg_cost[s[~self.built[s]]].sum())

    def key(self, k: int) -> tuple[int, float]:
        """Sort key (smaller first): the best class among the demands it newly serves, then -priority per CNY."""
        r = self.rows(k)
        new = r[~self.covered[r]]
        klass = int(self.klass[new].min()) if len(new) else 99
        return klass, -float(self.prio[new].sum()) / max(self.spend(k), 1e-9)

    def build(self, k: int) -> float:
        cost = self.spend(k)
        self.covered[self.rows(k)] = True
        self.built[self.segments(k)] = True
        return cost


def phase(
    coverage: sparse.spmatrix,
    cost: np.ndarray,
    weight: np.ndarray,
    selected: np.ndarray,
    *,
    yearly_budget: float,
    priority: np.ndarray | None = None,
    priority_class: np.ndarray | None = None,
    segments: sparse.spmatrix | None = None,
    segment_cost: np.ndarray | None = None,
    committed: np.ndarray | None = None,
) -> Phase:
    """Split ``selected`` candidates into yearly batches under ``yearly_budget`` (module docstring).

    Parameters
    ----------
    coverage : sparse (n_demand x n_candidate), bool
        Which demands each candidate serves.
    cost : ndarray (n_candidate,)
        Cost of each candidate (CNY) besides trench segments: with ``segments``, a fibre extension's cost is its
        segments' and its own entry should be 0.
    weight : ndarray (n_demand,)
        Demand weights (for ``covered_weight_after``; the priority when ``priority`` is not given).
    selected : ndarray of int
        The chosen candidates.
    yearly_budget : float
        A year's budget (CNY, > 0).
    priority, priority_class : ndarray (n_demand,), optional
        Priority weight and class (1 first) per demand; default ``weight`` and one class.
    segments : sparse (n_segment x n_candidate), bool, optional
        The trench segments each candidate needs (its path from existing fibre); default none.
    segment_cost : ndarray (n_segment,), optional
        Cost of each segment (CNY).
    committed : ndarray, optional
        What commitments already spend in each year (CNY, batch 1 first; later years nothing): a year's new
        interventions get only what its budget leaves after them.
    """
    if yearly_budget <= 0:
        msg = f"`yearly_budget` = {yearly_budget}; expected > 0"
        raise ValueError(msg)
    sel = np.asarray(selected, dtype=np.int64)
    a = sparse.csc_matrix(coverage, dtype=bool)[:, sel]
    n_d = a.shape[0]
    weight = np.asarray(weight, dtype=float)
    if segments is None:
        seg, seg_cost = sparse.csc_matrix((0, len(sel)), dtype=bool), np.zeros(0)
    else:
        seg = sparse.csc_matrix(segments, dtype=bool)[:, sel]
        seg_cost = np.zeros(seg.shape[0]) if segment_cost is None else np.asarray(segment_cost, dtype=float)
        if seg_cost.shape != (seg.shape[0],):
            msg = f"`segment_cost` has shape {seg_cost.shape}; expected ({seg.shape[0]},), one per segment (row)"
            raise ValueError(msg)
    st = _State(
        a=a,
        seg=seg,
        seg_cost=seg_cost,
        own_cost=np.asarray(cost, dtype=float)[sel],
        prio=weight if priority is None else np.asarray(priority, dtype=float),
        klass=np.ones(n_d, dtype=np.int64) if priority_class is None else np.asarray(priority_class, np.int64),
        covered=np.zeros(n_d, dtype=bool),
        built=np.zeros(seg.shape[0], dtype=bool),
    )
    held = np.zeros(0) if committed is None else np.asarray(committed, dtype=float)
    if not np.isfinite(held).all() or (held < 0).any():
        msg = f"`committed` = {held.tolist()}; expected finite amounts >= 0 (CNY per year)"
        raise ValueError(msg)
    ph = _years(st, len(sel), weight, yearly_budget, held)
    if committed is None:
        return ph
    per_batch = np.zeros(len(ph.batch_cost))
    n_held = min(len(held), len(per_batch))
    per_batch[:n_held] = held[:n_held]
    return replace(ph, committed_cost=per_batch)


def _years(st: _State, n: int, weight: np.ndarray, yearly_budget: float, held: np.ndarray) -> Phase:
    """The year-by-year packing of :func:`phase`: a heap of keys, re-evaluated for the candidates that share a
    demand or a segment with each one built (only theirs change)."""
    by_row = st.a.tocsr()  # demand -> chosen candidates serving it
    by_seg = st.seg.tocsr()  # segment -> chosen candidates needing it
    version = np.zeros(n, dtype=np.int64)
    heap = [(*st.key(k), k, 0) for k in range(n)]
    heapq.heapify(heap)
    batch = np.zeros(n, dtype=np.int64)
    seg_batch = np.zeros(st.seg.shape[0], dtype=np.int64)
    left = np.ones(n, dtype=bool)
    costs, after, over = [], [], []
    year = 0
    while left.any():
        year += 1
        before = float(held[year - 1]) if year <= len(held) else 0.0  # the commitments' spend this year
        spent, waiting, placed = before, [], int(before > 0)
        while heap:
            entry = heapq.heappop(heap)
            k, ver = entry[2], entry[3]
            if not left[k] or ver != version[k]:
                continue
            if placed and spent + st.spend(k) > yearly_budget + 1e-6:
                waiting.append(entry)  # does not fit this year: the next best is tried
                continue
            new_segs = st.segments(k)[~st.built[st.segments(k)]]
            seg_batch[new_segs] = year
            rows = st.rows(k)
            spent += st.build(k)
            batch[k], left[k] = year, False
            placed += 1
            touched = (
                np.unique(np.r_[by_row[rows].indices, by_seg[new_segs].indices])
                if len(rows) or len(new_segs)
                else np.zeros(0, dtype=np.int64)
            )
            for j in touched[left[touched]]:
                version[j] += 1
                heapq.heappush(heap, (*st.key(j), j, int(version[j])))
            if spent > yearly_budget + 1e-6:  # a year of its own
                break
        for entry in waiting:
            heapq.heappush(heap, entry)
        costs.append(spent - before)
        after.append(float(weight[st.covered].sum()))
        over.append(spent > yearly_budget + 1e-6)
    return Phase(
        batch=batch,
        batch_cost=np.array(costs),
        covered_weight_after=np.array(after),
        over_budget=np.array(over, dtype=bool),
        segment_batch=seg_batch,
    )
