"""Building blocks of the covering optimiser (:func:`planning.plan.cover.solve_cover`), geometry-free on a sparse
boolean coverage matrix (demand x candidate): model reductions, the greedy cover, LP rounding and diving, the
large-neighbourhood search and a Lagrangian bound for set cover.

Each is usable on its own (tests check them on OR-Library instances); :func:`planning.plan.cover.solve_cover`
composes them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numba import njit
from scipy import sparse

from planning.plan.highs import run_highs, solve_milp
from planning.plan.needs import EPS, Needs

logger = logging.getLogger(__name__)


def reduce_cover(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    *,
    set_cover: bool,
    needs: Needs | None = None,
    needed_only: bool = False,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray, dict[str, int], Needs | None]:
    """Merge identical demands, drop dominated candidates (and implied must-cover rows in set cover).

    Returns the reduced matrix, weights and must flags per reduced demand, the kept candidate indices, the sizes
    before and after each step, and ``needs`` on the reduced demands (merged rows' members add up). Demands no
    candidate covers are set aside: they cannot add to a need. ``needed_only`` (a least-cost cover with ``needs``,
    not a set cover): demands that no row of ``needs`` counts and no must flag marks are set aside too (they
    change neither the cost nor a row), before dominance, so a candidate is judged by what it serves of the demands
    that count.
    """
    n_d, n_c = a.shape
    stats = {"demands": n_d, "candidates": n_c}
    coverable = np.diff(a.indptr) > 0
    rows = np.flatnonzero(coverable)
    stats["coverable_demands"] = len(rows)
    if needed_only and needs is not None and not set_cover:
        counted = np.asarray((needs.member[:, needs.need > 0] > 0).sum(axis=1)).ravel() > 0
        rows = rows[counted[rows] | must[rows]]
        stats["demands_that_count"] = len(rows)
    served = np.asarray(a.T @ weight).ravel()  # the weight each serves of every (coverable) demand
    cols = _undominated(a, cost, rows, served=served)
    stats["candidates_after_dominance"] = len(cols)
    sub = a[rows][:, cols].tocsr()
    sub.sort_indices()
    # identical demands: same candidate set -> one row, weights summed, must if any is must
    keys = [sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes() for i in range(sub.shape[0])]
    uniq: dict[bytes, int] = {}
    group = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        group[i] = uniq.setdefault(key, len(uniq))
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    red = sub[first]
    w = np.bincount(group, weights=weight[rows], minlength=len(uniq))
    m = np.bincount(group, weights=must[rows].astype(float), minlength=len(uniq)) > 0
    red_needs = needs.rows(rows).merged(group, len(uniq)) if needs is not None else None
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
    if red_needs is not None:
        red_needs = red_needs.rows(np.flatnonzero(keep_row))
    return red.tocsr(), w[keep_row], m[keep_row], cols, stats, red_needs


def _undominated(a: sparse.csr_matrix, cost: np.ndarray, rows: np.ndarray, *, served: np.ndarray) -> np.ndarray:
    """Candidates kept: N(j) inside N(k) (on ``rows``) with cost_k <= cost_j drops j; equal sets and costs: the one
    with more ``served`` (weight of every coverable demand) stays, then the lower index; candidates covering
    nothing drop."""
    cols = np.arange(a.shape[1])
    for _ in range(2):
        sub = a[rows][:, cols].tocsc().astype(np.float64)
        size = np.diff(sub.indptr)
        overlap = (sub.T @ sub).tocoo()
        j, k, ov = overlap.row, overlap.col, overlap.data
        c, sv = cost[cols], served[cols]
        tie = (sv[k] > sv[j]) | ((sv[k] == sv[j]) & (k < j))  # equal sets and costs: who stays
        dom = (j != k) & (ov == size[j]) & ((c[k] < c[j]) | ((c[k] == c[j]) & ((size[k] > size[j]) | tie)))
        drop = np.zeros(len(cols), dtype=bool)
        drop[np.unique(j[dom])] = True
        drop |= size == 0
        if not drop.any():
            break
        cols = cols[~drop]
    return cols


def greedy_cover(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    *,
    budget: float | None,
    needs: Needs | None,
) -> np.ndarray:
    """Greedy by value per cost (must-cover demands first), then drop redundant picks.

    The value of a demand is its weight in budget mode; in cover mode, what it adds to the groups of ``needs`` still
    short. Cover mode stops when every must demand is covered and every need met; budget mode when nothing
    affordable adds value.
    """
    csc = a.tocsc()
    n_d, n_c = a.shape
    covered = np.zeros(n_d, dtype=bool)
    chosen = np.zeros(n_c, dtype=bool)
    spent = 0.0
    big = weight.sum() + (needs.member.sum() if needs is not None else 0.0) + 1.0

    def gains() -> np.ndarray:
        base = weight if budget is not None or needs is None else needs.value(covered)
        g: np.ndarray = csc.T @ np.where(covered, 0.0, base + np.where(must, big, 0.0))
        return g

    while True:
        if budget is None and (covered | ~must).all() and (needs is None or needs.met(covered)):
            break
        g = gains()
        ok = ~chosen & (g > 0)
        if budget is not None:
            ok &= cost <= budget - spent + 1e-9
        if not ok.any():
            break
        j = int(np.argmax(np.where(ok, g / np.maximum(cost, 1e-12), -1.0)))
        chosen[j] = True
        spent += cost[j]
        covered[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = True
    return _drop_redundant(a, cost, must, chosen, needs=needs if budget is None else None)


def _drop_redundant(
    a: sparse.csr_matrix, cost: np.ndarray, must: np.ndarray, chosen: np.ndarray, *, needs: Needs | None
) -> np.ndarray:
    """Drop picks, dearest first, whose demands all stay covered, or (cover mode) whose loss keeps every need
    met and covers no must demand alone."""
    csc = a.tocsc()
    sel = np.flatnonzero(chosen)
    cnt = np.asarray(a[:, sel].sum(axis=1)).ravel()
    for j in sel[np.argsort(-cost[sel])]:
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if (cnt[rows] >= 2).all():
            chosen[j] = False
            cnt[rows] -= 1
        elif needs is not None and not must[rows].any():
            lost = rows[cnt[rows] == 1]
            if needs.met_without(needs.covered(cnt > 0), lost):
                chosen[j] = False
                cnt[rows] -= 1
    return np.flatnonzero(chosen)


@dataclass(frozen=True)
class _Cover:
    """A covering problem seen column by column (CSC), with the helpers LP rounding repeats."""

    csc: sparse.csc_matrix
    cost: np.ndarray
    weight: np.ndarray
    must: np.ndarray
    needs: Needs

    def rows_of(self, j: int) -> np.ndarray:
        rows: np.ndarray = self.csc.indices[self.csc.indptr[j] : self.csc.indptr[j + 1]]
        return rows

    def count(self, chosen: np.ndarray) -> np.ndarray:
        """Per demand: how many chosen candidates cover it."""
        counts: np.ndarray = self.csc @ chosen.astype(np.float64)
        return counts

    def feasible(self, cnt: np.ndarray) -> bool:
        cov = cnt > 0
        return bool((cov | ~self.must).all() and self.needs.met(cov))

    def prune(self, chosen: np.ndarray, cnt: np.ndarray) -> None:
        """Drop picks, dearest first, while every must demand stays covered and every need stays met (in place);
        the check is local: only the rows a pick alone covers are lost."""
        order = np.flatnonzero(chosen)[np.argsort(-self.cost[chosen], kind="stable")]
        c_indptr, c_indices, must, m_indptr, m_indices, m_data, need = self._kernel_arrays
        _prune_kernel(
            order.astype(np.int64),
            c_indptr,
            c_indices,
            cnt,
            chosen,
            must,
            m_indptr,
            m_indices,
            m_data,
            self.needs.covered(cnt > 0),
            need,
            EPS,
        )

    @cached_property
    def _kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """The problem in the prune kernel's types, converted once (the prune runs hundreds of times)."""
        m = self.needs.member
        return (
            self.csc.indptr.astype(np.int64),
            self.csc.indices.astype(np.int64),
            self.must.astype(np.bool_),
            m.indptr.astype(np.int64),
            m.indices.astype(np.int64),
            m.data.astype(np.float64),
            self.needs.need.astype(np.float64),
        )


@njit(cache=True)
def _lost_amount(
    j: int,
    c_indptr: np.ndarray,
    c_indices: np.ndarray,
    cnt: np.ndarray,
    must: np.ndarray,
    m_indptr: np.ndarray,
    m_indices: np.ndarray,
    m_data: np.ndarray,
    delta: np.ndarray,
    mark: np.ndarray,
    touched: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Per group, what pick ``j`` alone covers (added to ``delta``; the groups listed in ``touched``, flagged in
    ``mark``). Returns how many groups it touched, or ``-1 - touched`` when a row it alone covers is a must demand
    (the gathering stops there)."""
    nt = 0
    for p in range(c_indptr[j], c_indptr[j + 1]):
        i = c_indices[p]
        if cnt[i] != 1:
            continue
        if must[i]:
            return -1 - nt
        for q in range(m_indptr[i], m_indptr[i + 1]):
            g = m_indices[q]
            if not mark[g]:
                mark[g] = True
                touched[nt] = g
                nt += 1
            delta[g] += m_data[q]
    return nt


@njit(cache=True)
def _prune_kernel(
    order: np.ndarray,
    c_indptr: np.ndarray,
    c_indices: np.ndarray,
    cnt: np.ndarray,
    chosen: np.ndarray,
    must: np.ndarray,
    m_indptr: np.ndarray,
    m_indices: np.ndarray,
    m_data: np.ndarray,
    amount: np.ndarray,
    need: np.ndarray,
    eps: float,
) -> None:  # pragma: no cover - compiled
    """:meth:`_Cover.prune` in one pass (``cnt``, ``chosen``, ``amount`` updated in place). A pick whose lost rows
    (those it alone covers) hold a must demand, or would leave a group below its need, stays; while a group is
    short, no pick goes (every group is checked). Compiled because the pass runs once per pick, hundreds of
    thousands of times per rounding (bench/RESULTS.md, "Design choices measured")."""
    n_g = need.shape[0]
    short = False
    for g in range(n_g):
        if amount[g] < need[g] - eps:
            short = True
    delta = np.zeros(n_g)
    mark = np.zeros(n_g, dtype=np.bool_)
    touched = np.empty(n_g, dtype=np.int64)
    for j in order:
        nt = _lost_amount(j, c_indptr, c_indices, cnt, must, m_indptr, m_indices, m_data, delta, mark, touched)
        ok = nt >= 0 and not (short and n_g > 0)
        nt = -1 - nt if nt < 0 else nt
        if ok:
            for k in range(nt):
                g = touched[k]
                if amount[g] - delta[g] < need[g] - eps:
                    ok = False
                    break
        if ok:
            chosen[j] = False
            for p in range(c_indptr[j], c_indptr[j + 1]):
                cnt[c_indices[p]] -= 1
            for k in range(nt):
                amount[touched[k]] -= delta[touched[k]]
        for k in range(nt):
            g = touched[k]
            delta[g] = 0.0
            mark[g] = False


def round_lp(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    xs: np.ndarray,
    *,
    needs: Needs | None,
    deadline: float = math.inf,
    good_enough: Callable[[float], bool] | None = None,
) -> np.ndarray:
    """Cover solution from an LP optimum: take candidates by decreasing x*, complete greedily, then improve.

    Improvement: drop the dearest redundant picks; then for each pick (dearest first) try removing it and
    repairing by greedy value per cost, keeping the change when the total cost falls; this pass stops at
    ``deadline`` (``time.perf_counter()``), as it is quadratic in the number of picks, or once
    ``good_enough(cost)`` says the cost is proven close enough to the optimum.
    """
    needs = needs if needs is not None else Needs.none(a.shape[0])
    p = _Cover(a.tocsc(), cost, weight, must, needs)
    chosen = np.zeros(a.shape[1], dtype=bool)
    chosen[xs >= 0.5 - 1e-9] = True
    cnt = p.count(chosen)
    amount = needs.covered(cnt > 0)
    must_left = int((must & (cnt == 0)).sum())
    for j in np.argsort(-xs, kind="stable"):  # the state is tracked incrementally: no full check per candidate
        if must_left == 0 and (amount >= needs.need - EPS).all():
            break
        if not chosen[j] and xs[j] > 1e-6:
            chosen[j] = True
            rows = p.rows_of(j)
            new = rows[cnt[rows] == 0]
            cnt[rows] += 1
            if len(new):
                amount = amount + needs.amount(new)
                must_left -= int(must[new].sum())
    if not p.feasible(cnt):
        extra = greedy_cover(a, cost, weight, must, budget=None, needs=needs)
        chosen[extra] = True
        cnt = p.count(chosen)
    p.prune(chosen, cnt)
    return np.flatnonzero(_drop_and_repair(p, chosen, cnt, deadline=deadline, good_enough=good_enough))


def _drop_and_repair(
    p: _Cover,
    chosen: np.ndarray,
    cnt: np.ndarray,
    *,
    deadline: float,
    good_enough: Callable[[float], bool] | None = None,
) -> np.ndarray:
    """For each pick, dearest first: remove it, repair greedily by cost-effectiveness (the removed one banned),
    prune, and keep the change when the cost falls; until ``deadline``."""
    big = p.needs.member.sum() + 1.0
    best_cost = float(p.cost[chosen].sum())
    for j in np.flatnonzero(chosen)[np.argsort(-p.cost[chosen], kind="stable")]:
        if time.perf_counter() > deadline:
            logger.info("LP rounding: improvement pass stopped at its deadline")
            break
        if good_enough is not None and good_enough(best_cost):
            logger.info("LP rounding: improvement pass stopped, its answer proven within the gap")
            break
        if not chosen[j]:
            continue
        trial = chosen.copy()
        trial[j] = False
        tcnt = cnt.copy()
        tcnt[p.rows_of(j)] -= 1
        ban = np.zeros(len(chosen), dtype=bool)
        ban[j] = True
        while not p.feasible(tcnt):
            val = np.where(tcnt > 0, 0.0, p.needs.value(tcnt > 0) + np.where(p.must, big, 0.0))
            gain = p.csc.T @ val
            ok = ~trial & ~ban & (gain > 0)
            if not ok.any():
                break
            k = int(np.argmax(np.where(ok, gain / np.maximum(p.cost, 1e-12), -1.0)))
            trial[k] = True
            tcnt[p.rows_of(k)] += 1
        if p.feasible(tcnt):
            p.prune(trial, tcnt)
            if p.cost[trial].sum() < best_cost - 1e-9:
                chosen, cnt, best_cost = trial, tcnt, float(p.cost[trial].sum())
    return chosen


def lp_dive(h: Any, n_c: int, *, deadline: float, share: float = 0.2, stop_at: int = 30) -> np.ndarray:
    """LP diving from the solved relaxation ``h``: fix the candidates with the largest fractional values to 1
    (the top ``share`` of the fractional ones, at least one) and re-solve (warm, dual simplex) until at most
    ``stop_at`` values are fractional, the LP turns infeasible, or ``deadline`` passes. Returns the last LP
    values of the candidates (the caller rounds them): far closer to an optimal cover than rounding the root LP
    (measured in bench/RESULTS.md, "Design choices measured").
    """
    x = np.asarray(h.getSolution().col_value)[:n_c]
    rounds = 0
    while time.perf_counter() < deadline:
        frac = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
        if len(frac) <= stop_at:
            break
        pick = frac[np.argsort(-x[frac], kind="stable")[: max(1, int(len(frac) * share))]]
        h.changeColsBounds(len(pick), pick.astype(np.int32), np.ones(len(pick)), np.ones(len(pick)))
        h.setOptionValue("time_limit", max(0.1, deadline - time.perf_counter()))
        run_highs(h)
        if h.getInfo().primal_solution_status != 2:  # cannot happen for a cover (fixing to 1 keeps it feasible)
            break
        x = np.asarray(h.getSolution().col_value)[:n_c]
        rounds += 1
    logger.info("LP dive: %d rounds, %d values still fractional", rounds, int(((x > 1e-6) & (x < 1 - 1e-6)).sum()))
    return x


def neighbourhood_search(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    sel: np.ndarray,
    *,
    needs: Needs | None,
    set_cover: bool,
    deadline: float,
    size: int = 500,
    sub_limit_s: float = 2.0,
    sub_gap: float = 5e-3,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
    centre_weight: np.ndarray | None = None,
    balls: int = 3,
    good_enough: Callable[[float], bool] | None = None,
    on_improve: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """Large-neighbourhood search on a (partial) cover until ``deadline`` (``time.perf_counter()``).

    Each step frees ``size`` candidates in ``balls`` neighbourhoods, each grown from a chosen candidate through
    the demands they share (breadth first), keeps the rest of the solution fixed, and re-solves the freed part
    exactly with HiGHS (the demands the fixed part does not cover; what each need still lacks), started from the
    current choice; a cheaper answer replaces it. Several balls let one step move uncovered weight between areas
    (bench/RESULTS.md, "Design choices measured"). Centres are drawn among the chosen candidates not tried since
    their neighbourhood last changed, in proportion to ``centre_weight`` (uniformly without it). Stops when
    ``stop()`` or ``good_enough(cost)`` holds; ``on_improve(choice)`` is told each cheaper choice as it is found.
    Returns the choice (never dearer than ``sel``).
    """
    csc = a.tocsc()
    n_c = a.shape[1]
    best = np.zeros(n_c, dtype=bool)
    best[sel] = True
    rng = np.random.default_rng(seed)
    tried = np.zeros(n_c, dtype=bool)
    steps = improved = 0
    while time.perf_counter() < deadline - 1.0 and best.any() and not (stop is not None and stop()):
        if good_enough is not None and good_enough(float(cost[best].sum())):
            break
        steps += 1
        centres = np.flatnonzero(best & ~tried)
        if not len(centres):  # every chosen one tried since its neighbourhood last changed: start over
            tried[:] = False
            centres = np.flatnonzero(best)
        p = None if centre_weight is None else centre_weight[centres] / centre_weight[centres].sum()
        free = _balls(a, csc, centres, p, tried, rng, size=size, balls=balls)
        fixed = best & ~free
        cnt = csc @ fixed.astype(np.float64)
        fc = np.flatnonzero(free)
        sub = a[:, fc].tocsr()
        rows = np.flatnonzero((np.diff(sub.indptr) > 0) & (cnt == 0))
        if not len(rows):
            continue
        sub_needs = None
        if not set_cover and needs is not None:
            sub_needs = Needs(needs.member[rows], needs.remaining(needs.covered(cnt > 0)))
        start = np.flatnonzero(best[fc])
        current = float(cost[fc[start]].sum())
        limit = min(sub_limit_s, deadline - time.perf_counter())
        if limit < 0.5:
            break
        got, _, _ = solve_milp(
            sub[rows],
            cost[fc],
            weight[rows],
            must[rows],
            budget=None,
            needs=sub_needs,
            set_cover=set_cover,
            time_limit_s=limit,
            mip_rel_gap=sub_gap,
            start=start,
            y_binary=False,
        )
        if got is not None and float(cost[fc[got]].sum()) < current - 1e-6:
            best[fc] = False
            best[fc[got]] = True
            tried[fc] = False
            improved += 1
            if on_improve is not None:
                on_improve(np.flatnonzero(best))
    logger.info(
        "LNS: %d steps, %d improvements, cost %.1f -> %.1f",
        steps,
        improved,
        float(cost[sel].sum()),
        float(cost[best].sum()),
    )
    return np.flatnonzero(best)


def _balls(
    a: sparse.csr_matrix,
    csc: sparse.csc_matrix,
    centres: np.ndarray,
    p: np.ndarray | None,
    tried: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int,
    balls: int,
) -> np.ndarray:
    """The candidates :func:`neighbourhood_search` frees in one step: ``balls`` neighbourhoods of ``size`` in all,
    each grown breadth first through shared demands from a centre drawn among ``centres`` (probabilities ``p``;
    marked in ``tried``)."""
    free = np.zeros(a.shape[1], dtype=bool)
    for b in range(balls):
        frontier = np.array([rng.choice(centres, p=p)])
        tried[frontier] = True
        free[frontier] = True
        cap = size * (b + 1) // balls
        while free.sum() < cap and len(frontier):
            rows = np.unique(np.concatenate([csc.indices[csc.indptr[j] : csc.indptr[j + 1]] for j in frontier]))
            nb = np.unique(a[rows].indices)
            nb = nb[~free[nb]]
            if len(nb) > cap - free.sum():
                nb = rng.choice(nb, cap - int(free.sum()), replace=False)
            free[nb] = True
            frontier = nb
    return free


def lagrangian_cover_bound(a: sparse.csr_matrix, cost: np.ndarray, upper: float, *, iters: int = 300) -> float:
    """Lower bound on set cover cost: max over u >= 0 of sum(u) + sum_j min(0, c_j - sum_{i in N(j)} u_i)."""
    csc = a.tocsc()
    n_d = a.shape[0]
    cmin = np.array([cost[a.indices[a.indptr[i] : a.indptr[i + 1]]].min() for i in range(n_d)])
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


def reduced_cost_fixing(
    x: np.ndarray, dual: np.ndarray, lp_value: float, incumbent: float, *, tol: float = 1e-7
) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds that no solution better than the incumbent violates (reduced-cost fixing from the root LP).

    In a minimisation with an optimal LP relaxation of value ``lp_value`` (reduced costs ``dual``, values ``x``),
    moving a column of bounds [0, 1] off the bound it sits at raises any solution's objective by at least its
    reduced cost: a column at 0 with reduced cost d > 0 in a solution costs at least ``lp_value + d``, a column at 1
    with d < 0 left at 0 at least ``lp_value - d``. Where that exceeds ``incumbent`` (the objective of a known
    feasible solution), every solution at least as good as it keeps the column at its bound: the column is fixed
    there. The optimum is unchanged (it is the incumbent or keeps every fixing) and a bound proven on the fixed
    model is one on the whole model (its optimum is at least as good as the incumbent, which keeps the fixings).
    ``tol``: a margin relative to max(1, |lp_value|) for the LP's tolerances.

    Returns (lower, upper) per column: 0/1, tightened where fixed.
    """
    margin = tol * max(1.0, abs(lp_value)) + 1e-9
    at_zero = (x <= 1e-9) & (dual > 0) & (lp_value + dual > incumbent + margin)
    at_one = (x >= 1 - 1e-9) & (dual < 0) & (lp_value - dual > incumbent + margin)
    lower = np.where(at_one, 1.0, 0.0)
    upper = np.where(at_zero, 0.0, 1.0)
    return lower, upper


def round_budget_lp(
    a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, xs: np.ndarray, *, budget: float
) -> np.ndarray:
    """A budgeted cover from LP values: candidates by decreasing x* (then weight served per CNY) while they fit the
    budget, then filled greedily (:func:`fill`). May miss must-cover demands or floors: the caller checks."""
    csc = a.tocsc()
    gain = np.asarray(csc.T @ weight).ravel() / np.maximum(cost, 1e-12)
    order = np.lexsort((-gain, -np.round(xs, 6)))
    chosen = np.zeros(a.shape[1], dtype=bool)
    left = budget
    for j in order:
        if xs[j] <= 1e-6:
            break
        if cost[j] <= left + 1e-9:
            chosen[j] = True
            left -= float(cost[j])
    return fill(a, cost, weight, np.flatnonzero(chosen), budget=budget)


def fill(a: sparse.csr_matrix, cost: np.ndarray, weight: np.ndarray, sel: np.ndarray, *, budget: float) -> np.ndarray:
    """``sel`` with candidates added while the budget allows, each time the one that adds the most uncovered weight
    per CNY (a free one first). Adding only covers more, so floors stay met."""
    chosen = np.zeros(a.shape[1], dtype=bool)
    chosen[np.asarray(sel, dtype=np.int64)] = True
    csc = a.tocsc()
    covered = np.asarray(csc @ chosen.astype(np.float64)).ravel() > 0
    left = budget - float(cost[chosen].sum())
    while True:
        gain = np.asarray(csc.T @ np.where(covered, 0.0, weight)).ravel()
        ok = ~chosen & (cost <= left + 1e-9) & (gain > 0)
        if not ok.any():
            break
        ratio = np.where(ok, gain / np.maximum(cost, 1e-12), -np.inf)
        j = int(np.argmax(ratio))
        chosen[j] = True
        left -= float(cost[j])
        covered[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = True
    return np.flatnonzero(chosen)
