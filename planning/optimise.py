"""Geometry-free covering optimiser: which interventions to fund (set cover, partial cover, budgeted max cover).

:func:`solve_cover` takes a sparse boolean coverage matrix (demand x candidate), a cost per candidate and a
weight per demand, and either

* with ``budget``: maximises the covered weight at total cost <= budget (budgeted maximal covering), or
* with ``min_share``: minimises cost so that the covered weight >= ``min_share`` x the coverable weight
  (partial set cover; 1.0 is set cover),

with ``must_cover`` demands (schools) always covered. Exact through HiGHS (highspy) after reductions: demands
no candidate covers are set aside, demands with identical candidate sets are merged (their weights add up),
candidates whose demand set is inside a no-dearer candidate's are dropped, and in set cover a must-cover demand
whose candidate set contains another must-cover demand's is implied and dropped. A greedy solution
(cost-effectiveness order, redundant picks removed) comes first; it is the answer when HiGHS cannot help, with
a Lagrangian bound (subgradient) for set cover, and the gap against the best proven bound is always reported.

Budget mode gives HiGHS the whole time limit, started from the greedy answer. A (partial) cover uses two
threads (:func:`_cover_search`; HiGHS releases the GIL): the full MILP runs in the background for its bound
(root cuts) and, when it finishes, its answer, while the main thread solves the LP relaxation, dives from it
(:func:`_dive`: fix the largest fractional values to 1, re-solve warm), rounds and improves the result
(:func:`_round_lp`), and spends the rest on a large-neighbourhood search (:func:`_lns`: ~500 candidates freed
around a chosen one, first where the root LP disagrees with the choice, the rest fixed, the freed part re-solved
by HiGHS from the current choice). The search stops when the MILP proves optimality; the bound is the best of
the LP and the MILP's.

:func:`phase` splits a chosen plan into yearly batches under a yearly budget, most-needed first.
"""

from __future__ import annotations

import functools
import heapq
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

Status = Literal["optimal", "feasible", "infeasible"]
Method = Literal["auto", "milp", "greedy"]


@dataclass(frozen=True)
class CoverResult:
    """Solution of :func:`solve_cover`.

    Attributes
    ----------
    selected : ndarray of int
        Chosen candidate indices (sorted).
    covered : ndarray of bool
        Per demand: covered by a chosen candidate.
    cost : float
        Total cost of the chosen candidates.
    covered_weight : float
        Total weight of covered demands.
    bound : float
        Proven bound on the objective: a lower bound on cost (``min_share``) or an upper bound on covered
        weight (``budget``).
    gap : float
        Relative gap between the solution and the bound (0 = proven optimal).
    status : {"optimal", "feasible", "infeasible"}
    method : str
        Where the answer came from: ``milp`` (HiGHS on the whole model), ``lp-dive`` (the rounded LP dive),
        ``greedy`` (greedy, with a Lagrangian bound for set cover), with ``+lns`` when the neighbourhood search
        improved it.
    seconds : float
    reductions : dict
        Sizes before and after each reduction.
    """

    selected: np.ndarray
    covered: np.ndarray
    cost: float
    covered_weight: float
    bound: float
    gap: float
    status: Status
    method: str
    seconds: float
    reductions: dict[str, int] = field(default_factory=dict)


def _check(coverage: sparse.spmatrix, cost: np.ndarray, weight: np.ndarray) -> sparse.csr_matrix:
    a = sparse.csr_matrix(coverage, dtype=bool)
    n_d, n_c = a.shape
    if cost.shape != (n_c,):
        msg = f"`cost` has shape {cost.shape}; expected ({n_c},), one per candidate (column)"
        raise ValueError(msg)
    if weight.shape != (n_d,):
        msg = f"`weight` has shape {weight.shape}; expected ({n_d},), one per demand (row)"
        raise ValueError(msg)
    for name, arr in (("cost", cost), ("weight", weight)):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if len(bad):
            msg = f"`{name}` has negative or non-finite values at {bad[:10].tolist()}; expected finite values >= 0"
            raise ValueError(msg)
    a.eliminate_zeros()
    return a


def _reduce(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, *, set_cover: bool
            ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Merge identical demands, drop dominated candidates (and implied must-cover rows in set cover).

    Returns the reduced matrix, weights and must flags per reduced demand, the kept candidate indices and the
    sizes before and after each step.
    """
    n_d, n_c = a.shape
    stats = {"demands": n_d, "candidates": n_c}
    coverable = np.diff(a.indptr) > 0
    rows = np.flatnonzero(coverable)
    stats["coverable_demands"] = len(rows)
    cols = np.arange(n_c)
    # dominated candidates: N(j) inside N(k) and cost_k <= cost_j (equal sets and costs: keep the lower index)
    for _ in range(2):
        sub = a[rows][:, cols].tocsc().astype(np.float64)
        size = np.diff(sub.indptr)
        overlap = (sub.T @ sub).tocoo()
        j, k, ov = overlap.row, overlap.col, overlap.data
        c = cost[cols]
        dom = (j != k) & (ov == size[j]) & ((c[k] < c[j]) | ((c[k] == c[j]) & ((size[k] > size[j]) | (k < j))))
        drop = np.zeros(len(cols), dtype=bool)
        drop[np.unique(j[dom])] = True
        drop |= size == 0
        if not drop.any():
            break
        cols = cols[~drop]
    stats["candidates_after_dominance"] = len(cols)
    sub = a[rows][:, cols].tocsr()
    sub.sort_indices()
    # identical demands: same candidate set -> one row, weights summed, must if any is must
    keys = [sub.indices[sub.indptr[i]:sub.indptr[i + 1]].tobytes() for i in range(sub.shape[0])]
    uniq: dict[bytes, int] = {}
    group = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        group[i] = uniq.setdefault(key, len(uniq))
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    red = sub[first]
    w = np.bincount(group, weights=weight[rows], minlength=len(uniq))
    m = np.bincount(group, weights=must[rows].astype(float), minlength=len(uniq)) > 0
    stats["demands_after_merge"] = red.shape[0]
    keep_row = np.ones(red.shape[0], dtype=bool)
    if set_cover and red.shape[0] <= 20_000:
        # row i implied by row r when N(r) is inside N(i): covering r covers i
        f = red.astype(np.float64)
        ov = (f @ f.T).tocoo()
        size = np.diff(red.indptr)
        i, r, v = ov.row, ov.col, ov.data
        implied = (i != r) & (v == size[r]) & ((size[i] > size[r]) | (i > r))
        keep_row[np.unique(i[implied])] = False
    red = red[keep_row]
    stats["demands_after_implied"] = red.shape[0]
    return red.tocsr(), w[keep_row], m[keep_row], cols, stats


def _greedy(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, *,
            budget: float | None, need_weight: float | None) -> np.ndarray:
    """Greedy by covered weight per cost (must-cover demands first), then drop redundant picks."""
    csc = a.tocsc()
    n_d, n_c = a.shape
    covered = np.zeros(n_d, dtype=bool)
    chosen = np.zeros(n_c, dtype=bool)
    spent = 0.0
    big = weight.sum() + 1.0

    def gains() -> np.ndarray:
        val = np.where(covered, 0.0, weight + np.where(must, big, 0.0))
        return csc.T @ val

    while True:
        if budget is None:
            done = (covered | ~must).all() and (need_weight is None or weight[covered].sum() >= need_weight - 1e-9)
            if done:
                break
        g = gains()
        ok = ~chosen & (g > 0)
        if budget is not None:
            ok &= cost <= budget - spent + 1e-9
        if not ok.any():
            break
        ratio = np.where(ok, g / np.maximum(cost, 1e-12), -1.0)
        j = int(np.argmax(ratio))
        chosen[j] = True
        spent += cost[j]
        covered[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]] = True
    # redundant picks, dearest first
    sel = np.flatnonzero(chosen)
    cnt = np.asarray(a[:, sel].sum(axis=1)).ravel()
    for j in sel[np.argsort(-cost[sel])]:
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if (cnt[rows] >= 2).all():
            chosen[j] = False
            cnt[rows] -= 1
        elif budget is None and need_weight is not None and not must[rows].any():
            lost = rows[cnt[rows] == 1]
            cov_w = weight[cnt > 0].sum()
            if cov_w - weight[lost].sum() >= need_weight - 1e-9:
                chosen[j] = False
                cnt[rows] -= 1
    return np.flatnonzero(chosen)


def _round_lp(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, xs: np.ndarray, *,
              need_weight: float, deadline: float = math.inf) -> np.ndarray:
    """Cover solution from an LP optimum: take candidates by decreasing x*, complete greedily, then improve.

    Improvement: drop the dearest redundant picks; then for each pick (dearest first) try removing it and
    repairing by greedy cost-effectiveness, keeping the change when the total cost falls; this pass stops at
    ``deadline`` (``time.perf_counter()``), as it is quadratic in the number of picks.
    """
    csc = a.tocsc()
    n_c = a.shape[1]
    big = weight.sum() + 1.0

    def rows_of(j: int) -> np.ndarray:
        return csc.indices[csc.indptr[j]:csc.indptr[j + 1]]

    def cover_count(sel_mask: np.ndarray) -> np.ndarray:
        return csc @ sel_mask.astype(np.float64)

    def feasible(cnt: np.ndarray) -> bool:
        cov = cnt > 0
        return bool((cov | ~must).all() and weight[cov].sum() >= need_weight - 1e-9)

    chosen = np.zeros(n_c, dtype=bool)
    chosen[xs >= 0.5 - 1e-9] = True
    cnt = cover_count(chosen)
    cov_w = float(weight[cnt > 0].sum())
    must_left = int((must & (cnt == 0)).sum())
    for j in np.argsort(-xs, kind="stable"):
        if must_left == 0 and cov_w >= need_weight - 1e-9:
            break
        if not chosen[j] and xs[j] > 1e-6:
            chosen[j] = True
            rows = rows_of(j)
            new = rows[cnt[rows] == 0]
            cnt[rows] += 1
            cov_w += float(weight[new].sum())
            must_left -= int(must[new].sum())
    if not feasible(cnt):
        extra = _greedy(a, cost, weight, must, budget=None, need_weight=need_weight)
        chosen[extra] = True
        cnt = cover_count(chosen)

    def prune(chosen: np.ndarray, cnt: np.ndarray) -> None:
        # drop picks, dearest first, while every must demand stays covered and the covered weight stays enough;
        # the check is local: only the rows a pick alone covers are lost
        cov_w = float(weight[cnt > 0].sum())
        for j in np.flatnonzero(chosen)[np.argsort(-cost[chosen], kind="stable")]:
            rows = rows_of(j)
            lost = rows[cnt[rows] == 1]
            if must[lost].any() or cov_w - weight[lost].sum() < need_weight - 1e-9:
                continue
            chosen[j] = False
            cnt[rows] -= 1
            cov_w -= float(weight[lost].sum())

    prune(chosen, cnt)
    best_cost = float(cost[chosen].sum())
    for j in np.flatnonzero(chosen)[np.argsort(-cost[chosen], kind="stable")]:
        if time.perf_counter() > deadline:
            logger.info("LP rounding: improvement pass stopped at its deadline")
            break
        if not chosen[j]:
            continue
        trial = chosen.copy()
        trial[j] = False
        tcnt = cnt.copy()
        tcnt[rows_of(j)] -= 1
        ban = np.zeros(n_c, dtype=bool)
        ban[j] = True
        while not feasible(tcnt):
            val = np.where(tcnt > 0, 0.0, weight + np.where(must, big, 0.0))
            gain = csc.T @ val
            ok = ~trial & ~ban & (gain > 0)
            if not ok.any():
                break
            k = int(np.argmax(np.where(ok, gain / np.maximum(cost, 1e-12), -1.0)))
            trial[k] = True
            tcnt[rows_of(k)] += 1
        if feasible(tcnt):
            prune(trial, tcnt)
            if cost[trial].sum() < best_cost - 1e-9:
                chosen, cnt, best_cost = trial, tcnt, float(cost[trial].sum())
    return np.flatnonzero(chosen)


def _dive(h: Any, n_c: int, *, deadline: float, share: float = 0.2, stop_at: int = 30) -> np.ndarray:
    """LP diving from the solved relaxation ``h``: fix the candidates with the largest fractional values to 1
    (the top ``share`` of the fractional ones, at least one) and re-solve (warm, dual simplex) until at most
    ``stop_at`` values are fractional, the LP turns infeasible, or ``deadline`` passes. Returns the last LP
    values of the candidates (the caller rounds them): far closer to an optimal cover than rounding the root LP
    (on the 40k x 6k bench, rounded and improved: 294.8 M CNY against 302.9 M from the root LP; the dive itself
    takes about a second after the root).
    """
    x = np.asarray(h.getSolution().col_value)[:n_c]
    rounds = 0
    while time.perf_counter() < deadline:
        frac = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
        if len(frac) <= stop_at:
            break
        pick = frac[np.argsort(-x[frac], kind="stable")[:max(1, int(len(frac) * share))]]
        h.changeColsBounds(len(pick), pick.astype(np.int32), np.ones(len(pick)), np.ones(len(pick)))
        h.setOptionValue("time_limit", max(0.1, deadline - time.perf_counter()))
        h.run()
        if h.getInfo().primal_solution_status != 2:  # cannot happen for a cover (fixing to 1 keeps it feasible)
            break
        x = np.asarray(h.getSolution().col_value)[:n_c]
        rounds += 1
    logger.info("LP dive: %d rounds, %d values still fractional", rounds,
                int(((x > 1e-6) & (x < 1 - 1e-6)).sum()))
    return x


def _lns(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, sel: np.ndarray, *,
         need_weight: float, set_cover: bool, deadline: float, size: int = 500, sub_limit_s: float = 2.0,
         sub_gap: float = 5e-3, seed: int = 0, stop: Callable[[], bool] | None = None,
         centre_weight: np.ndarray | None = None, balls: int = 3) -> np.ndarray:
    """Large-neighbourhood search on a (partial) cover until ``deadline`` (``time.perf_counter()``).

    Each step frees ``size`` candidates in ``balls`` neighbourhoods, each grown from a chosen candidate through
    the demands they share (breadth first), keeps the rest of the solution fixed, and re-solves the freed part
    exactly with HiGHS (the demands the fixed part does not cover; the weight still needed), started from the
    current choice; a cheaper answer replaces it. Several separate balls let one step move the uncovered
    weight a partial cover may leave from one area to another (one ball must keep its own area's coverage):
    on the 40k x 6k bench, 45 s from the same start, one ball ended at 293.1-294.3 M CNY over four seeds,
    three balls at 293.0-293.2 M (optimum 292.67 M). Centres are drawn among the chosen candidates not tried
    since their neighbourhood last changed, in proportion to ``centre_weight`` (uniformly without it). Stops
    early when ``stop()`` turns true. Returns the chosen candidates (never dearer than ``sel``).
    """
    csc = a.tocsc()
    n_c = a.shape[1]
    best = np.zeros(n_c, dtype=bool)
    best[sel] = True
    rng = np.random.default_rng(seed)
    tried = np.zeros(n_c, dtype=bool)
    steps = improved = 0
    while time.perf_counter() < deadline - 1.0 and best.any() and not (stop is not None and stop()):
        steps += 1
        free = np.zeros(n_c, dtype=bool)
        centres = np.flatnonzero(best & ~tried)
        if not len(centres):  # every chosen one tried since its neighbourhood last changed: start over
            tried[:] = False
            centres = np.flatnonzero(best)
        p = None if centre_weight is None else centre_weight[centres] / centre_weight[centres].sum()
        for b in range(balls):
            frontier = np.array([rng.choice(centres, p=p)])
            tried[frontier] = True
            free[frontier] = True
            cap = size * (b + 1) // balls
            while free.sum() < cap and len(frontier):
                rows = np.unique(np.concatenate([csc.indices[csc.indptr[j]:csc.indptr[j + 1]] for j in frontier]))
                nb = np.unique(a[rows].indices)
                nb = nb[~free[nb]]
                if len(nb) > cap - free.sum():
                    nb = rng.choice(nb, cap - int(free.sum()), replace=False)
                free[nb] = True
                frontier = nb
        fixed = best & ~free
        cnt = csc @ fixed.astype(np.float64)
        fc = np.flatnonzero(free)
        sub = a[:, fc].tocsr()
        rows = np.flatnonzero((np.diff(sub.indptr) > 0) & (cnt == 0))
        if not len(rows):
            continue
        need_sub = None if set_cover else need_weight - float(weight[cnt > 0].sum())
        start = np.flatnonzero(best[fc])
        current = float(cost[fc[start]].sum())
        limit = min(sub_limit_s, deadline - time.perf_counter())
        if limit < 0.5:
            break
        got, _, _ = _milp(sub[rows], cost[fc], weight[rows], must[rows], budget=None,
                          need_weight=None if need_sub is None else max(need_sub, 0.0), set_cover=set_cover,
                          time_limit_s=limit, mip_rel_gap=sub_gap, start=start, y_binary=False)
        if got is not None and float(cost[fc[got]].sum()) < current - 1e-6:
            best[fc] = False
            best[fc[got]] = True
            tried[fc] = False
            improved += 1
    logger.info("LNS: %d steps, %d improvements, cost %.1f -> %.1f", steps, improved, float(cost[sel].sum()),
                float(cost[best].sum()))
    return np.flatnonzero(best)


def _lagrangian_cover_bound(a: sparse.csr_matrix, cost: np.ndarray, upper: float, *, iters: int = 300) -> float:
    """Lower bound on set cover cost: max over u >= 0 of sum(u) + sum_j min(0, c_j - sum_{i in N(j)} u_i)."""
    csc = a.tocsc()
    n_d = a.shape[0]
    cmin = np.array([cost[a.indices[a.indptr[i]:a.indptr[i + 1]]].min() for i in range(n_d)])
    u = cmin.copy() * 0.5
    best = 0.0
    step = 1.0
    for _ in range(iters):
        reduced = cost - csc.T @ u
        x = reduced < 0
        val = u.sum() + reduced[x].sum()
        best = max(best, val)
        sub = 1.0 - a[:, x].sum(axis=1).A1 if x.any() else np.ones(n_d)
        norm = float(sub @ sub)
        if norm == 0:
            break
        u = np.maximum(0.0, u + step * (upper - val) / norm * sub)
        step *= 0.98
    return best


_BANNER_LOCK = threading.Lock()


@functools.cache
def _quiet_banner() -> None:
    """HiGHS prints its banner to stdout (from C++) when a process makes its first ``Highs``, whatever its
    options: make that first one with file descriptor 1 pointed at /dev/null, so that the CLI's stdout stays
    the CLI's. Under a lock: two threads redirecting at once would leave file descriptor 1 on /dev/null for
    good (each saving the other's redirection); two threads that both miss the cache just run it in turn."""
    import highspy

    with _BANNER_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _model(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, *, budget: float | None,
           need_weight: float | None, set_cover: bool, time_limit_s: float, mip_rel_gap: float,
           start: np.ndarray | None = None, relax: bool = False, y_binary: bool = True) -> Any:
    """A ``highspy.Highs`` holding the model (candidates are its first columns), not yet run; ``y_binary``:
    the demand columns of a partial cover or budget model binary (else continuous; see below)."""
    import highspy

    _quiet_banner()

    n_d, n_c = a.shape
    af = a.astype(np.float64).tocsc()
    if set_cover:
        mat = af
        col_cost = cost
        col_lo, col_hi = np.zeros(n_c), np.ones(n_c)
        row_lo, row_hi = np.ones(n_d), np.full(n_d, np.inf)
        integer = np.ones(n_c, dtype=bool)
    else:
        # x (candidates, binary), y (demands, in [0, 1]): y_i - sum_j a_ij x_j <= 0, and one row for the budget
        # (sum c x <= B) or the weight to cover (sum w y >= need). y binary or continuous gives the same optimum
        # (with x binary, y_i can reach 1 exactly when i is covered), but not the same search: with continuous y,
        # HiGHS's path separator aggregates the weight row (one entry per demand) with the link rows, and on the
        # 40k x 6k bench spent 83 % of its time there, 6-7 s per round of root cuts (bound 291.6 M CNY at 58 s);
        # with binary y the rounds are short and the bound reaches 292.3 M (optimum 292.67 M). The small
        # neighbourhood sub-MIPs of the search do better with continuous y (they stop at their gap sooner with
        # binary y, on 293.3 M against 293.1 M after 45 s, three seeds)
        link = sparse.hstack([-af, sparse.eye(n_d, format="csc")], format="csc")
        if budget is not None:
            extra = sparse.csc_matrix(np.r_[cost, np.zeros(n_d)][None, :])
            col_cost = np.r_[np.zeros(n_c), -weight]
            extra_lo, extra_hi = -np.inf, budget
        else:
            extra = sparse.csc_matrix(np.r_[np.zeros(n_c), weight][None, :])
            col_cost = np.r_[cost, np.zeros(n_d)]
            extra_lo, extra_hi = need_weight, np.inf
        mat = sparse.vstack([link, extra], format="csc")
        col_lo = np.r_[np.zeros(n_c), np.where(must, 1.0, 0.0)]
        col_hi = np.ones(n_c + n_d)
        row_lo = np.r_[np.full(n_d, -np.inf), extra_lo]
        row_hi = np.r_[np.zeros(n_d), extra_hi]
        integer = np.r_[np.ones(n_c, dtype=bool), np.full(n_d, y_binary)]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = mat.shape[1], mat.shape[0]
    lp.col_cost_ = col_cost
    lp.col_lower_, lp.col_upper_ = col_lo, col_hi
    lp.row_lower_ = np.where(np.isinf(row_lo), -inf, row_lo)
    lp.row_upper_ = np.where(np.isinf(row_hi), inf, row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = mat.shape[1], mat.shape[0]
    lp.a_matrix_.start_ = mat.indptr
    lp.a_matrix_.index_ = mat.indices
    lp.a_matrix_.value_ = mat.data
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(int(os.environ.get("COVERPLAN_HIGHS_LOG", "0"))))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    if start is not None:
        x0 = np.zeros(n_c)
        x0[start] = 1.0
        if not set_cover:
            y0 = np.minimum(1.0, af @ x0)
            x0 = np.r_[x0, y0]
        sol = highspy.HighsSolution()
        sol.col_value = list(x0)
        h.setSolution(sol)
    return h


def _milp(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, *, budget: float | None,
          need_weight: float | None, set_cover: bool, time_limit_s: float, mip_rel_gap: float,
          start: np.ndarray | None = None, relax: bool = False, deadline: float | None = None,
          progress: dict[str, float] | None = None, y_binary: bool = True) -> tuple[np.ndarray | None, float, str]:
    """HiGHS (highspy) on the reduced model, started from ``start`` (chosen candidates) when given.

    Returns (chosen candidates or None, proven bound on the objective, status); with ``relax`` the LP
    relaxation: (candidate values x* in [0, 1], LP bound, status). HiGHS releases the GIL while it runs, so
    a call in a thread runs beside the caller's work. ``deadline`` (``time.perf_counter()``): a MIP is also
    interrupted at its first check after it (HiGHS checks its own time limit only between rounds of cuts at
    the root, which can overrun it by seconds on a large model); at each check ``progress["bound"]`` gets the
    bound proven so far (for a caller that cannot wait for the next check).
    """
    h = _model(a, cost, weight, must, budget=budget, need_weight=need_weight, set_cover=set_cover,
               time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, start=start, relax=relax, y_binary=y_binary)
    if deadline is not None:
        def interrupt(event: Any) -> None:
            if progress is not None and np.isfinite(event.data_out.mip_dual_bound):
                progress["bound"] = float(event.data_out.mip_dual_bound)
            if time.perf_counter() > deadline:
                event.interrupt()

        h.cbMipInterrupt += interrupt
    h.run()
    return _result(h, a.shape[1], budget=None if set_cover else budget, relax=relax)


def _result(h: Any, n_c: int, *, budget: float | None, relax: bool) -> tuple[np.ndarray | None, float, str]:
    """(chosen candidates or LP values, bound, status) of a run ``h`` (see :func:`_milp`)."""
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None, np.nan, "infeasible"
    if info.primal_solution_status != 2:  # no feasible solution
        return None, np.nan, "no_solution"
    if relax:
        xs = np.asarray(h.getSolution().col_value)[:n_c]
        val = float(info.objective_function_value)
        return xs, (-val if budget is not None else val), (
            "optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible")
    x = np.asarray(h.getSolution().col_value)[:n_c] > 0.5
    bound = float(info.mip_dual_bound)
    if budget is not None:
        bound = -bound
    return np.flatnonzero(x), bound, "optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"


def _cover_search(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, must: np.ndarray, start: np.ndarray,
                  *, need_weight: float | None, set_cover: bool, deadline: float, mip_rel_gap: float,
                  seed: int = 0) -> tuple[np.ndarray, float, Status, str]:
    """A (partial) cover on the reduced model, using two threads until ``deadline``.

    In a background thread the full MILP runs (HiGHS releases the GIL) from ``start``, for its bound and for its
    answer when it finishes. Meanwhile: the LP relaxation (its bound), an LP dive (:func:`_dive`) rounded and
    improved (:func:`_round_lp`), then the neighbourhood search (:func:`_lns`) until the deadline or until the
    MILP has proven its answer optimal. Returns (chosen candidates, bound, status, method): the cheapest answer
    found, the best bound (LP or MILP), ``optimal`` when the gap is within ``mip_rel_gap``.
    """
    n_c = a.shape[1]
    t0 = time.perf_counter()
    total = deadline - t0
    best, meth, bound = start, "greedy", np.nan
    options = {"budget": None, "need_weight": need_weight, "set_cover": set_cover, "mip_rel_gap": mip_rel_gap}
    progress: dict[str, float] = {}
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverplan-milp")
    try:
        # the MILP stops at its first check after the deadline (a round of root cuts can take seconds); an
        # answer not back by then is not waited for: its last bound is used and the thread ends on its own
        full = pool.submit(_milp, a, cost, weight, must, time_limit_s=max(1.0, total - 1.0), start=start,
                           deadline=deadline - 1.0, progress=progress, **options)

        def solved() -> bool:
            return full.done() and full.result()[2] == "optimal"

        h = _model(a, cost, weight, must, time_limit_s=max(1.0, total / 3), relax=True, **options)
        h.run()
        x_root, lp_bound, lp_st = _result(h, n_c, budget=None, relax=True)
        centre_weight = None
        if x_root is not None and not solved():
            if lp_st == "optimal":
                bound = lp_bound
            # the search frees first around picks the root LP did not want
            centre_weight = 1.05 - np.clip(x_root, 0.0, 1.0)
            xs = _dive(h, n_c, deadline=t0 + total / 3)
            r_sel = _round_lp(a, cost, weight, must, xs, need_weight=need_weight or 0.0, deadline=t0 + total / 2)
            logger.info("LP bound %.1f, LP dive rounded to %.1f", lp_bound, cost[r_sel].sum())
            if cost[r_sel].sum() < cost[best].sum():
                best, meth = r_sel, "lp-dive"
        del h
        if not solved() and deadline - time.perf_counter() > 3.0:
            l_sel = _lns(a, cost, weight, must, best, need_weight=need_weight or 0.0, set_cover=set_cover,
                         deadline=deadline - 0.5, stop=solved, centre_weight=centre_weight, seed=seed)
            if cost[l_sel].sum() < cost[best].sum() - 1e-9:
                best, meth = l_sel, meth + "+lns"
        try:
            sel, mb, st = full.result(timeout=max(0.0, deadline - time.perf_counter()))
        except TimeoutError:
            sel, mb, st = None, progress.get("bound", np.nan), "running"
            logger.info("full MILP still in a round of cuts at the deadline: its last bound %.1f is used", mb)
    finally:
        pool.shutdown(wait=False)
    if st == "infeasible":
        return best, np.nan, "infeasible", "milp"
    if sel is not None and cost[sel].sum() <= cost[best].sum() + 1e-9:
        best, meth = sel, "milp"
    if not np.isnan(mb):
        bound = mb if np.isnan(bound) else max(bound, mb)
    total_cost = float(cost[best].sum())
    gap = (total_cost - bound) / total_cost if total_cost > 0 and not np.isnan(bound) else 0.0
    status: Status = "optimal" if not np.isnan(bound) and gap <= mip_rel_gap * 1.0001 else "feasible"
    return best, bound, status, meth


def solve_cover(
    coverage: sparse.spmatrix,
    cost: np.ndarray,
    weight: np.ndarray,
    *,
    budget: float | None = None,
    min_share: float | None = None,
    must_cover: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-3,
    method: Method = "auto",
    seed: int = 0,
) -> CoverResult:
    """Choose candidates that cover demands: budgeted maximal covering or (partial) set cover.

    Parameters
    ----------
    coverage : scipy.sparse matrix (n_demand x n_candidate), bool
        ``coverage[i, j]``: candidate ``j`` serves demand ``i``.
    cost : ndarray (n_candidate,)
        Cost of each candidate (CNY, >= 0).
    weight : ndarray (n_demand,)
        Weight of each demand (>= 0).
    budget : float, optional
        Maximise covered weight with total cost <= budget.
    min_share : float, optional
        Minimise cost with covered weight >= min_share x the coverable weight (1.0: every coverable demand).
    must_cover : ndarray of bool (n_demand,) or of int, optional
        Demands that must be covered in any case.
    time_limit_s : float
        Wall-clock limit of the exact solver.
    mip_rel_gap : float
        Relative gap at which HiGHS stops (default 1e-3: within 0.1 % of the proven bound).
    method : {"auto", "milp", "greedy"}
        ``auto``: HiGHS, with the greedy solution as fallback; ``greedy``: greedy + Lagrangian bound only.
    seed : int
        Seed of the neighbourhood search (cover modes that HiGHS does not finish).

    Returns
    -------
    CoverResult

    Raises
    ------
    ValueError
        Neither or both of ``budget`` and ``min_share``; shapes or values out of range; a must-cover demand that
        no candidate covers (its index named).
    """
    t0 = time.perf_counter()
    if (budget is None) == (min_share is None):
        msg = f"give exactly one of `budget` ({budget}) and `min_share` ({min_share})"
        raise ValueError(msg)
    if min_share is not None and not 0.0 <= min_share <= 1.0:
        msg = f"`min_share` = {min_share}; expected a share between 0 and 1"
        raise ValueError(msg)
    if budget is not None and budget < 0:
        msg = f"`budget` = {budget}; expected >= 0"
        raise ValueError(msg)
    cost = np.asarray(cost, dtype=float)
    weight = np.asarray(weight, dtype=float)
    a = _check(coverage, cost, weight)
    n_d = a.shape[0]
    must = np.zeros(n_d, dtype=bool)
    if must_cover is not None:
        mc = np.asarray(must_cover)
        if mc.dtype == bool:
            if mc.shape != (n_d,):
                msg = f"`must_cover` has shape {mc.shape}; expected ({n_d},)"
                raise ValueError(msg)
            must = mc.copy()
        else:
            must[mc.astype(np.int64)] = True
    uncoverable_must = np.flatnonzero(must & (np.diff(a.indptr) == 0))
    if len(uncoverable_must):
        msg = f"`must_cover` demands {uncoverable_must[:10].tolist()} are covered by no candidate; expected each " \
              "must-cover demand to have at least one"
        raise ValueError(msg)
    coverable_w = float(weight[np.diff(a.indptr) > 0].sum())
    set_cover = min_share is not None and (min_share >= 1.0 or coverable_w == 0.0)
    need = None if min_share is None else min_share * coverable_w * (1 - 1e-12)
    red, w, m, cols, stats = _reduce(a, cost, weight, must, set_cover=set_cover)
    rc = cost[cols]
    if set_cover:
        m = np.ones(red.shape[0], dtype=bool)

    # greedy first (the fallback and an incumbent), its Lagrangian bound for set cover
    g_sel = _greedy(red, rc, w, m, budget=budget, need_weight=need)
    best_sel, bound, status, meth = g_sel, np.nan, "feasible", "greedy"
    if budget is not None:
        g_must = np.asarray(red[:, g_sel].sum(axis=1)).ravel()[m] > 0 if len(g_sel) else np.zeros(int(m.sum()), bool)
        if rc[g_sel].sum() > budget + 1e-6 or not g_must.all():
            status = "infeasible"  # not an incumbent: over the budget, or a must-cover demand left out
    trivial = red.shape[0] == 0 or red.shape[1] == 0
    if trivial and status != "infeasible":  # nothing left to decide: the greedy answer is optimal
        status = "optimal"
        bound = float(_covered_weight(red, w, g_sel)) if budget is not None else float(rc[g_sel].sum())
    if method in ("auto", "milp") and not trivial and budget is None:
        best_sel, bound, status, meth = _cover_search(red, rc, w, m, g_sel, need_weight=need, set_cover=set_cover,
                                                      deadline=t0 + time_limit_s, mip_rel_gap=mip_rel_gap,
                                                      seed=seed)
    elif method in ("auto", "milp") and not trivial:
        sel, mb, st = _milp(red, rc, w, m, budget=budget, need_weight=need, set_cover=False,
                            time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)),
                            mip_rel_gap=mip_rel_gap, start=None if status == "infeasible" else g_sel)
        if st == "infeasible":
            status, meth = "infeasible", "milp"
        elif sel is not None:
            if _covered_weight(red, w, sel) >= _covered_weight(red, w, g_sel) - 1e-9 or status == "infeasible":
                best_sel, meth = sel, "milp"
            bound, status = mb, st
        elif method == "milp":
            logger.warning("HiGHS found no solution in %.0f s; the greedy solution is returned", time_limit_s)
    if np.isnan(bound) or status != "optimal":
        if set_cover and red.shape[0]:
            lag = _lagrangian_cover_bound(red, rc, float(rc[best_sel].sum()))
            bound = lag if np.isnan(bound) else max(bound, lag)
        elif budget is not None and np.isnan(bound):
            bound = float(w.sum())  # trivial upper bound: everything coverable
        elif np.isnan(bound):
            bound = 0.0
    selected = np.sort(cols[best_sel])
    covered = np.asarray(a[:, selected].sum(axis=1)).ravel() > 0
    total_cost = float(cost[selected].sum())
    cw = float(weight[covered].sum())
    if budget is not None:
        gap = 0.0 if bound <= 0 else max(0.0, (bound - cw) / bound)
    else:
        gap = 0.0 if total_cost <= 0 else max(0.0, (total_cost - bound) / total_cost)
    if status == "optimal" and gap > max(mip_rel_gap, 1e-6) * 1.0001:
        status = "feasible"
    if status == "infeasible":
        gap = math.inf
    res = CoverResult(selected=selected, covered=covered, cost=total_cost, covered_weight=cw, bound=float(bound),
                      gap=float(gap), status=status, method=meth, seconds=time.perf_counter() - t0,
                      reductions=stats)
    logger.info("solve_cover: %s by %s, cost %.0f, covered weight %.1f, gap %.4f, %.2f s (%s)", res.status,
                res.method, res.cost, res.covered_weight, res.gap, res.seconds, stats)
    return res


def _covered_weight(a: sparse.csr_matrix, w: np.ndarray, sel: np.ndarray) -> float:
    return float(w[np.asarray(a[:, sel].sum(axis=1)).ravel() > 0].sum())


# ---------------------------------------------------------------- phasing


@dataclass(frozen=True)
class Phase:
    """Yearly batches of a plan: batch number (1-based) per chosen candidate, and totals after each batch."""

    batch: np.ndarray
    batch_cost: np.ndarray
    covered_weight_after: np.ndarray
    over_budget: np.ndarray


def phase(coverage: sparse.spmatrix, cost: np.ndarray, weight: np.ndarray, selected: np.ndarray, *,
          yearly_budget: float, priority: np.ndarray | None = None) -> Phase:
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
        return a.indices[a.indptr[sel[k]]:a.indptr[sel[k] + 1]]

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
    return Phase(batch=batch, batch_cost=np.array(costs), covered_weight_after=np.array(after),
                 over_budget=np.array(over, dtype=bool))


# ---------------------------------------------------------------- OR-Library reader (tests and benchmarks)


def read_orlib_scp(path: str | Path) -> tuple[sparse.csr_matrix, np.ndarray]:
    """An OR-Library set-cover file: (coverage matrix rows x columns, column costs)."""
    tokens = Path(path).read_text().split()
    vals = np.array(tokens, dtype=np.int64)
    m, n = int(vals[0]), int(vals[1])
    cost = vals[2:2 + n].astype(float)
    pos = 2 + n
    r, c = [], []
    for i in range(m):
        k = int(vals[pos])
        cols = vals[pos + 1:pos + 1 + k] - 1
        r.append(np.full(k, i))
        c.append(cols)
        pos += 1 + k
    rr, cc = np.concatenate(r), np.concatenate(c)
    return sparse.csr_matrix((np.ones(len(rr), dtype=bool), (rr, cc)), shape=(m, n)), cost
