"""Geometry-free covering optimiser: which interventions to fund (set cover, partial cover, budgeted max cover).

:func:`solve_cover` takes a sparse boolean coverage matrix (demand x candidate), a cost per candidate and a
weight per demand, and either

* with ``budget``: maximises the covered weight at total cost <= budget (budgeted maximal covering), or
* with ``min_share``: minimises cost so that the covered weight >= ``min_share`` x the coverable weight
  (partial set cover; 1.0 is set cover),

with ``must_cover`` demands (schools) always covered. Exact through HiGHS (highspy) after reductions: demands
no candidate covers are set aside, and so, in a least-cost cover with rows (not a set cover, not budget mode), are
the demands no row counts and no must flag marks; candidates whose demand set (of the demands kept) is inside a
no-dearer candidate's are dropped (of two with the same set and cost, the one serving more of all the weight
stays), demands with identical candidate sets are merged (their weights add up), and in set cover a must-cover
demand whose candidate set contains another must-cover demand's is implied and dropped. A least-cost answer then
takes the cost-0 candidates that serve what it leaves out (:func:`_with_free`). A greedy solution
(cost-effectiveness order, redundant picks removed) comes first; it is the answer when HiGHS cannot help, with
a Lagrangian bound (subgradient) for set cover, and the gap against the best proven bound is always reported.

Budget mode gives HiGHS the whole time limit, started from the greedy answer. A (partial) cover uses two
threads (:func:`_cover_search`; HiGHS releases the GIL): the full MILP runs in the background for its bound
(root cuts) and, when it finishes, its answer, while the main thread solves the LP relaxation, dives from it
(:func:`lp_dive`: fix the largest fractional values to 1, re-solve warm), rounds and improves the result
(:func:`round_lp`), and spends the rest on a large-neighbourhood search (:func:`neighbourhood_search`: ~500
candidates freed around a chosen one, first where the root LP disagrees with the choice, the rest fixed, the
freed part re-solved by HiGHS from the current choice); each better answer is handed to the running MILP
(HiGHS's user-solution callback), which prunes from it. The search stops when the MILP proves optimality; the
bound is the best of the LP and the MILP's. The pieces are in :mod:`planning.plan.heuristics` and
:mod:`planning.plan.highs`; :func:`planning.plan.phasing.phase` splits a chosen plan into yearly batches.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal, NotRequired, TypedDict

import numpy as np
from scipy import sparse

from planning.plan.heuristics import (
    fill,
    greedy_cover,
    lagrangian_cover_bound,
    lp_dive,
    neighbourhood_search,
    reduce_cover,
    reduced_cost_fixing,
    round_budget_lp,
    round_lp,
)
from planning.plan.highs import RootLp, build_model, read_result, run_highs, solve_milp, solve_root_lp
from planning.plan.needs import Needs

logger = logging.getLogger(__name__)

__all__ = [
    "CoverResult",
    "CoverStage",
    "Method",
    "Status",
    "solve_cover",
    "solve_priorities",
]

Status = Literal["optimal", "feasible", "infeasible"]
Method = Literal["auto", "milp", "greedy"]
#: One priority class of :func:`solve_priorities` (``CoverResult.stages``): its index, the weight it covers, its
#: bound, gap, status and where the bound came from, and its seconds (absent from the stages of a national merge).
CoverStage = TypedDict(
    "CoverStage",
    {
        "class": int,
        "covered_weight": float,
        "bound": float,
        "gap": float,
        "status": Status,
        "bound_source": NotRequired[str],
        "seconds": NotRequired[float],
    },
)


class _ModelOptions(TypedDict):
    """The options :func:`_cover_search` gives both the full MILP and its LP relaxation."""

    budget: float | None
    needs: Needs | None
    set_cover: bool
    mip_rel_gap: float


@dataclass(frozen=True)
class CoverResult:
    """Solution of :func:`solve_cover`.

    Attributes
    ----------
    selected : ndarray of int
        Chosen candidate indices (sorted); a least-cost answer includes the cost-0 candidates that serve demands
        the others leave out.
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
    stages : list of dict
        :func:`solve_priorities` only: per priority class, the weight it covers, its bound, gap and status.
    bound_source : str
        Where ``bound`` was proven: ``milp`` (HiGHS's branch and bound), ``lp`` (the LP relaxation),
        ``lagrangian`` (subgradient, set cover), ``trivial`` (everything coverable, or 0), ``exact`` (nothing left
        to decide after the reductions); :func:`solve_priorities`: each stage's, joined by ``+``.
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
    stages: list[CoverStage] = field(default_factory=list)
    bound_source: str = ""


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


def _cover_search(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    start: np.ndarray,
    *,
    needs: Needs | None,
    set_cover: bool,
    deadline: float,
    mip_rel_gap: float,
    seed: int = 0,
    note: dict[str, str] | None = None,
) -> tuple[np.ndarray, float, Status, str]:
    """A (partial) cover on the reduced model, using two threads until ``deadline``.

    In a background thread the full MILP runs (HiGHS releases the GIL) from ``start``, for its bound and for its
    answer when it finishes. Meanwhile: the LP relaxation (its bound), an LP dive (:func:`lp_dive`) rounded and
    improved (:func:`round_lp`), then the neighbourhood search (:func:`neighbourhood_search`) until the deadline or
    until the MILP has proven its answer optimal. Returns (chosen candidates, bound, status, method): the cheapest
    answer found, the best bound (LP or MILP), ``optimal`` when the gap is within ``mip_rel_gap``.
    """
    t0 = time.perf_counter()
    total = deadline - t0
    best, meth = start, "greedy"
    options: _ModelOptions = {"budget": None, "needs": needs, "set_cover": set_cover, "mip_rel_gap": mip_rel_gap}
    progress: dict[str, float] = {}
    known = {"cost": float(cost[start].sum()), "lp": np.nan}
    box = _Incumbent(start, known["cost"], cost)

    def proven(c: float | None = None) -> bool:  # cost c (default the best) within the gap of any bound so far
        c = min(known["cost"], box.cost) if c is None else c
        b = max(known["lp"] if not np.isnan(known["lp"]) else -np.inf, progress.get("bound", -np.inf))
        return bool(np.isfinite(b) and c - b <= mip_rel_gap * c + 1e-9)

    share_row = needs is not None and needs.n_groups == 1  # one share row (not count rows): the MILP's settings
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverplan-milp")
    abandon = threading.Event()  # set when this thread leaves by an error or Ctrl-C: the MILP stops at its next check
    try:
        # the MILP runs to its answer or the deadline, never stopped by another's proof: its answer wins ties (the
        # plan is the same in every run when it proves it before the handoff delay); it gets our better choices
        full = pool.submit(
            solve_milp,
            a,
            cost,
            weight,
            must,
            time_limit_s=max(1.0, total - 1.0),
            start=start,
            deadline=deadline - 1.0,
            progress=progress,
            stop=abandon.is_set,
            incumbent=box.take,
            ipm_root=share_row,  # a share row, not count rows: measured
            # the main thread finds the answers; HiGHS's sub-MIP heuristics delayed its bound (with count rows its
            # reduced-cost one found better answers at 60 s): measured
            root_sub_mips="none" if share_row else "reduced-cost",
            pseudocost_branching=not share_row and needs is not None,  # count rows: node LPs too long to strong-branch
            **options,
        )

        def solved() -> bool:
            return proven() or (full.done() and full.result()[2] == "optimal")

        hooks = (solved, proven, box.offer)
        best, meth, centre_weight = _lp_phase(
            a, cost, weight, must, options, known, (best, meth), span=(t0, total), hooks=hooks
        )
        bound = known["lp"]
        if not solved() and deadline - time.perf_counter() > 3.0:
            l_sel = neighbourhood_search(
                a,
                cost,
                weight,
                must,
                best,
                needs=needs,
                set_cover=set_cover,
                deadline=deadline - 0.5,
                stop=solved,
                centre_weight=centre_weight,
                seed=seed,
                good_enough=proven,
                on_improve=box.offer,
            )
            if cost[l_sel].sum() < cost[best].sum() - 1e-9:
                best, meth = l_sel, meth + "+lns"
                known["cost"] = float(cost[best].sum())
        wait = max(0.0, deadline - time.perf_counter())
        try:
            sel, mb, st = full.result(timeout=wait)
        except TimeoutError:
            sel, mb, st = None, progress.get("bound", np.nan), "running"
            logger.info("full MILP not back by the deadline: its last bound %.1f is used", mb)
    except BaseException:
        abandon.set()  # else the process's exit would wait for the MILP until the deadline
        raise
    finally:
        pool.shutdown(wait=False)
    return _cover_answer(cost, (best, meth, bound), (sel, mb, st), mip_rel_gap=mip_rel_gap, note=note)


def _cover_answer(
    cost: np.ndarray,
    found: tuple[np.ndarray, str, float],
    milp: tuple[np.ndarray | None, float, str],
    *,
    mip_rel_gap: float,
    note: dict[str, str] | None,
) -> tuple[np.ndarray, float, Status, str]:
    """:func:`_cover_search`'s answer from the main thread's (choice, method, LP bound) and the MILP's (choice or
    None, bound, status): the MILP's choice where it is no dearer, the better bound (``note["bound"]`` its source),
    optimal within ``mip_rel_gap``."""
    best, meth, bound = found
    sel, mb, st = milp
    if st == "infeasible":
        return best, np.nan, "infeasible", "milp"
    if sel is not None and cost[sel].sum() <= cost[best].sum() + 1e-9:
        best, meth = sel, "milp"
    if note is not None:
        note["bound"] = "lp" if not np.isnan(bound) else ""
    if not np.isnan(mb) and (np.isnan(bound) or mb > bound):
        bound = mb
        if note is not None:
            note["bound"] = "milp"
    total_cost = float(cost[best].sum())
    gap = (total_cost - bound) / total_cost if total_cost > 0 and not np.isnan(bound) else 0.0
    status: Status = "optimal" if not np.isnan(bound) and gap <= mip_rel_gap * 1.0001 else "feasible"
    return best, bound, status, meth


class _Incumbent:
    """The best choice the main thread of :func:`_cover_search` has found so far, for the MILP running beside it:
    :meth:`take` gives it once per improvement (HiGHS asks at its own points, from its thread)."""

    def __init__(self, sel: np.ndarray, cost_of: float, cost: np.ndarray) -> None:
        self._unit = cost
        self.sel, self.cost, self._handed = sel, cost_of, cost_of  # the start is HiGHS's own

    def offer(self, sel: np.ndarray) -> None:
        c = float(self._unit[sel].sum())
        if c < self.cost - 1e-9:
            self.sel, self.cost = sel, c

    def take(self) -> np.ndarray | None:
        if self.cost >= self._handed - 1e-9:
            return None
        self._handed = self.cost
        return self.sel


def _lp_phase(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    options: _ModelOptions,
    known: dict[str, float],
    current: tuple[np.ndarray, str],
    *,
    span: tuple[float, float],
    hooks: tuple[Callable[[], bool], Callable[[float], bool], Callable[[np.ndarray], None]],
) -> tuple[np.ndarray, str, np.ndarray | None]:
    """The main thread's LP work of :func:`_cover_search` within ``span`` (start, seconds): the LP relaxation (its
    bound in ``known["lp"]``), the sub-MIP of its fractional candidates, then (unless ``solved()``) a dive rounded and
    improved (stopping when ``proven(cost)``). Returns the best choice, its method and the neighbourhood search's
    centre weights (None without an LP answer); keeps ``known["cost"]`` the best cost and ``offer``s each better
    choice (to the MILP running beside it). ``hooks``: (solved, proven, offer)."""
    t0, total = span
    solved, proven, offer = hooks
    best, meth = current
    n_c = a.shape[1]
    h = build_model(a, cost, weight, must, time_limit_s=max(1.0, total / 3), relax=True, **options)
    run_highs(h)
    x_root, lp_bound, lp_st = read_result(h, n_c, budget=None, relax=True)
    if x_root is None:
        return best, meth, None
    if lp_st == "optimal":
        known["lp"] = lp_bound
    half: _ModelOptions = {**options, "mip_rel_gap": options["mip_rel_gap"] / 2}
    f_sel = _fractional_sub_mip(a, cost, weight, must, x_root, half, deadline=t0 + total / 4)
    if f_sel is not None and cost[f_sel].sum() < cost[best].sum():
        best, meth = f_sel, "lp-sub-mip"
        known["cost"] = float(cost[best].sum())
        offer(best)
    if not solved():
        xs = lp_dive(h, n_c, deadline=t0 + total / 3)
        r_sel = round_lp(a, cost, weight, must, xs, needs=options["needs"], deadline=t0 + total / 2, good_enough=proven)
        logger.info("LP bound %.1f, LP dive rounded to %.1f", lp_bound, cost[r_sel].sum())
        if cost[r_sel].sum() < cost[best].sum():
            best, meth = r_sel, "lp-dive"
            known["cost"] = float(cost[best].sum())
            offer(best)
    # the search frees first around picks the root LP did not want
    return best, meth, 1.05 - np.clip(x_root, 0.0, 1.0)


def _fractional_sub_mip(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    x_root: np.ndarray,
    options: _ModelOptions,
    *,
    deadline: float,
) -> np.ndarray | None:
    """An answer from the sub-MIP of the candidates the root LP (candidate values ``x_root``) leaves fractional, the
    others fixed at their LP values, of the model ``options`` describe, to its ``mip_rel_gap`` (a cover: every
    fractional one at 1 is feasible; a budget: the LP is nearly integral, so the sub-MIP is small); any answer of it
    is one of the whole model. None when there is nothing fractional or it finds none in time."""
    frac = (x_root > 1e-6) & (x_root < 1 - 1e-6)
    if not frac.any() or deadline - time.perf_counter() < 0.5:
        return None
    one = x_root >= 1 - 1e-6
    extra = 0 if options["set_cover"] else a.shape[0]
    lower = np.r_[one.astype(float), np.zeros(extra)]
    upper = np.r_[(one | frac).astype(float), np.ones(extra)]
    sel, _, _ = solve_milp(
        a,
        cost,
        weight,
        must,
        time_limit_s=max(0.5, deadline - time.perf_counter()),
        bounds=(lower, upper),
        budget=options["budget"],
        needs=options["needs"],
        set_cover=options["set_cover"],
        mip_rel_gap=options["mip_rel_gap"],
    )
    logger.info("root LP: %d fractional candidates, their sub-MIP: %s", int(frac.sum()), sel is not None)
    return sel


def solve_cover(
    coverage: sparse.spmatrix,
    cost: np.ndarray,
    weight: np.ndarray,
    *,
    budget: float | None = None,
    min_share: float | None = None,
    groups: tuple[sparse.spmatrix, np.ndarray] | None = None,
    floors: tuple[sparse.spmatrix, np.ndarray] | None = None,
    must_cover: np.ndarray | None = None,
    start: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-3,
    method: Method = "auto",
    seed: int = 0,
) -> CoverResult:
    """Choose candidates that cover demands: budgeted maximal covering, or a cover of least cost.

    Parameters
    ----------
    coverage : scipy.sparse matrix (n_demand x n_candidate), bool
        ``coverage[i, j]``: candidate ``j`` serves demand ``i``.
    cost : ndarray (n_candidate,)
        Cost of each candidate (CNY, >= 0).
    weight : ndarray (n_demand,)
        Weight of each demand (>= 0): the objective in budget mode, the share's weight with ``min_share``.
    budget : float, optional
        Maximise covered weight with total cost <= budget (``floors`` kept).
    min_share : float, optional
        Minimise cost with covered weight >= min_share x the coverable weight (1.0: every coverable demand).
    groups : (member, need), optional
        Minimise cost so that for every group g the covered demands' ``member[i, g]`` (sparse, demand x group)
        add up to ``need[g]`` (e.g. one group per county and KPI, 0/1 members, the shortfall as need). A need
        beyond what the coverable demands can give is capped there (the caller reports it).
    floors : (member, need), optional
        Budget mode: the same kind of rows, kept as constraints (a lexicographic stage keeps what the earlier
        stages achieved).
    must_cover : ndarray of bool (n_demand,) or of int, optional
        Demands that must be covered in any case.
    start : ndarray of int, optional
        Budget mode: a known choice to start from when it is within the budget and meets ``floors``.
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
        Not exactly one of ``budget``, ``min_share`` and ``groups``; shapes or values out of range; a must-cover
        demand that no candidate covers (its index named).
    """
    t0 = time.perf_counter()
    _check_goal(budget, min_share, groups)
    cost, weight = np.asarray(cost, dtype=float), np.asarray(weight, dtype=float)
    a = _check(coverage, cost, weight)
    must = _must_mask(a, must_cover)
    coverable = np.diff(a.indptr) > 0
    set_cover = min_share is not None and (min_share >= 1.0 or float(weight[coverable].sum()) == 0.0)
    needs = _needs(a, weight, coverable, min_share=min_share, groups=groups, floors=floors)
    red, w, m, cols, stats, red_needs = reduce_cover(
        a, cost, weight, must, set_cover=set_cover, needs=needs, needed_only=budget is None
    )
    rc = cost[cols]
    m, red_needs = (np.ones(red.shape[0], dtype=bool), None) if set_cover else (m, red_needs)  # every row a must
    g_sel, best_sel, bound, status, meth = _greedy_start(red, rc, w, m, budget=budget, needs=red_needs)
    note = {"bound": "exact" if status == "optimal" else ""}
    if budget is not None and start is not None:
        g_sel, best_sel, status = _better_start(
            red, rc, w, red_needs, cols, start, g_sel, best_sel, status, budget=budget
        )
    if method in ("auto", "milp") and red.shape[0] and red.shape[1]:
        best_sel, bound, status, meth = _search(
            red,
            rc,
            w,
            m,
            g_sel,
            (best_sel, bound, status, meth),
            budget=budget,
            needs=red_needs,
            set_cover=set_cover,
            deadline=t0 + time_limit_s,
            mip_rel_gap=mip_rel_gap,
            strict=method == "milp",
            seed=seed,
            note=note,
        )
    bound = _fallback_bound(red, rc, w, best_sel, bound, status, set_cover=set_cover, budget=budget, note=note)
    chosen = cols[best_sel] if budget is not None else _with_free(a, cost, cols[best_sel])
    res = _result(a, cost, weight, chosen, bound, status, meth, budget=budget, mip_rel_gap=mip_rel_gap, t0=t0)
    return replace(res, bound_source=note["bound"], reductions=stats)


def _with_free(a: sparse.csr_matrix, cost: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """``chosen`` (original candidate indices) and the candidates of cost 0 that serve demands they leave out: a
    least-cost cover is indifferent to them (the reductions set aside the demands no row counts, and with them such
    candidates); taken, they serve more at the same cost. In order of what each serves of the demands left out
    (then index), each taken unless those taken before it already serve all it serves."""
    free = np.flatnonzero(cost <= 0)
    free = free[~np.isin(free, chosen)]
    if not len(free):
        return chosen
    csc = a.tocsc()
    covered = _served_by(a, chosen)
    gain = np.asarray(csc[:, free].T @ (~covered).astype(np.float64)).ravel()
    taken = list(chosen)
    for j in free[np.lexsort((free, -gain))]:
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if not covered[rows].all():
            taken.append(int(j))
            covered[rows] = True
    return np.asarray(sorted(taken), dtype=np.int64)


def _search(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    m: np.ndarray,
    g_sel: np.ndarray,
    current: tuple[np.ndarray, float, Status, str],
    *,
    budget: float | None,
    needs: Needs | None,
    set_cover: bool,
    deadline: float,
    mip_rel_gap: float,
    strict: bool,
    seed: int,
    note: dict[str, str],
) -> tuple[np.ndarray, float, Status, str]:
    """The exact search on the reduced model: :func:`_cover_search` for a cover, :func:`_budget_search` with a
    budget (``needs`` its floors)."""
    if budget is None:
        return _cover_search(
            red,
            rc,
            w,
            m,
            g_sel,
            needs=needs,
            set_cover=set_cover,
            deadline=deadline,
            mip_rel_gap=mip_rel_gap,
            seed=seed,
            note=note,
        )
    sel, bound, status, meth = _budget_search(
        red,
        rc,
        w,
        m,
        g_sel,
        current,
        budget=budget,
        floors=needs,
        time_limit_s=max(1.0, deadline - time.perf_counter()),
        mip_rel_gap=mip_rel_gap,
        strict=strict,
        note=note,
    )
    return fill(red, rc, w, sel, budget=budget), bound, status, meth


def _needs(
    a: sparse.csr_matrix,
    weight: np.ndarray,
    coverable: np.ndarray,
    *,
    min_share: float | None,
    groups: tuple[sparse.spmatrix, np.ndarray] | None,
    floors: tuple[sparse.spmatrix, np.ndarray] | None,
) -> Needs | None:
    """The requirement rows: a share of the coverable weight, count groups (capped at what the coverable
    demands can give), or a budget stage's floors."""
    if min_share is not None:
        return Needs.share(weight, min_share * float(weight[coverable].sum()) * (1 - 1e-12))
    spec = groups if groups is not None else floors
    if spec is None:
        return None
    needs = Needs.groups(*spec)
    if needs.member.shape[0] != a.shape[0]:
        msg = f"`member` has {needs.member.shape[0]} rows; expected {a.shape[0]}, one per demand"
        raise ValueError(msg)
    reachable = needs.covered(coverable)
    return Needs(needs.member, np.minimum(needs.need, reachable))


def _better_start(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    needs: Needs | None,
    cols: np.ndarray,
    start: np.ndarray,
    g_sel: np.ndarray,
    best_sel: np.ndarray,
    status: Status,
    *,
    budget: float,
) -> tuple[np.ndarray, np.ndarray, Status]:
    """Use ``start`` (original candidate indices) as the incumbent when it fits the budget and the floors and
    covers more weight than the greedy answer."""
    if status == "optimal":  # nothing left to decide after the reductions: the greedy answer is proven
        return g_sel, best_sel, status
    pos = {c: k for k, c in enumerate(cols.tolist())}
    s_sel = np.array(sorted({pos[c] for c in np.asarray(start).tolist() if c in pos}), dtype=np.int64)
    covered = _served_by(red, s_sel)
    fits = rc[s_sel].sum() <= budget + 1e-6 and (needs is None or needs.met(covered))
    if fits and (status == "infeasible" or _covered_weight(red, w, s_sel) >= _covered_weight(red, w, g_sel)):
        return s_sel, s_sel, "feasible"
    return g_sel, best_sel, status


def _greedy_start(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    m: np.ndarray,
    *,
    budget: float | None,
    needs: Needs | None,
) -> tuple[np.ndarray, np.ndarray, float, Status, str]:
    """The greedy answer (the fallback and an incumbent): (greedy choice, best choice, bound, status, method).

    In budget mode it is no incumbent when it is over the budget, leaves a must-cover demand out or misses a floor
    (status ``infeasible``); with nothing left to decide after the reductions it is optimal.
    """
    g_sel = greedy_cover(red, rc, w, m, budget=budget, needs=needs if budget is None else None)
    bound = np.nan
    status: Status = "feasible"
    if budget is not None:
        covered = _served_by(red, g_sel)
        if rc[g_sel].sum() > budget + 1e-6 or not covered[m].all() or (needs is not None and not needs.met(covered)):
            status = "infeasible"  # not an incumbent: over the budget, a must-cover demand left out, a floor missed
    trivial = red.shape[0] == 0 or red.shape[1] == 0
    if trivial and status != "infeasible":  # nothing left to decide: the greedy answer is optimal
        status = "optimal"
        bound = float(_covered_weight(red, w, g_sel)) if budget is not None else float(rc[g_sel].sum())
    return g_sel, g_sel, bound, status, "greedy"


def _check_goal(budget: float | None, min_share: float | None, groups: object) -> None:
    if sum(x is not None for x in (budget, min_share, groups)) != 1:
        msg = f"give exactly one of `budget` ({budget}), `min_share` ({min_share}) and `groups`"
        raise ValueError(msg)
    if min_share is not None and not 0.0 <= min_share <= 1.0:
        msg = f"`min_share` = {min_share}; expected a share between 0 and 1"
        raise ValueError(msg)
    if budget is not None and budget < 0:
        msg = f"`budget` = {budget}; expected >= 0"
        raise ValueError(msg)


def _must_mask(a: sparse.csr_matrix, must_cover: np.ndarray | None) -> np.ndarray:
    """Per demand: must be covered (from a boolean mask or indices); ValueError for one no candidate covers."""
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
        msg = (
            f"`must_cover` demands {uncoverable_must[:10].tolist()} are covered by no candidate; expected each "
            "must-cover demand to have at least one"
        )
        raise ValueError(msg)
    return must


def _budget_search(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    m: np.ndarray,
    g_sel: np.ndarray,
    current: tuple[np.ndarray, float, Status, str],
    *,
    budget: float,
    floors: Needs | None,
    time_limit_s: float,
    mip_rel_gap: float,
    strict: bool,
    note: dict[str, str],
) -> tuple[np.ndarray, float, Status, str]:
    """The budgeted model (with ``floors``): its LP relaxation (a bound, and an incumbent rounded from it), then,
    unless the incumbent is already proven within ``mip_rel_gap`` by the LP bound, HiGHS from the incumbent with
    the columns fixed that the root LP's reduced costs rule out (:func:`reduced_cost_fixing`). Returns the best
    answer and the best proven bound (the LP's or the MILP's, the smaller)."""
    t0 = time.perf_counter()
    best_sel, bound, status, meth = current
    lp = solve_root_lp(red, rc, w, m, budget=budget, needs=floors, set_cover=False, time_limit_s=time_limit_s)
    if lp.infeasible:
        return best_sel, bound, "infeasible", "milp"
    lp_bound = -lp.value if lp.optimal else np.nan
    if lp.optimal:
        best_sel, status, meth = _lp_incumbent(
            red,
            rc,
            w,
            m,
            floors,
            lp,
            (best_sel, status, meth),
            budget=budget,
            proven_at=(1 - mip_rel_gap) * lp_bound,
            deadline=t0 + 0.5 * time_limit_s,
            mip_rel_gap=mip_rel_gap / 2,
        )
    incumbent = _covered_weight(red, w, best_sel) if status != "infeasible" else np.nan
    note["bound"] = "lp" if lp.optimal else ""
    if lp.optimal and status != "infeasible" and lp_bound - incumbent <= mip_rel_gap * lp_bound:
        return best_sel, lp_bound, "optimal", meth
    bounds = None
    if lp.optimal and status != "infeasible":
        bounds = reduced_cost_fixing(lp.x, lp.dual, lp.value, -incumbent)
        logger.info(
            "reduced-cost fixing: %d of %d candidates fixed (LP bound %.1f, incumbent %.1f)",
            int(((bounds[0] == bounds[1])[: red.shape[1]]).sum()),
            red.shape[1],
            lp_bound,
            incumbent,
        )
    sel, mb, st = solve_milp(
        red,
        rc,
        w,
        m,
        budget=budget,
        needs=floors,
        set_cover=False,
        time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)),
        mip_rel_gap=mip_rel_gap,
        start=None if status == "infeasible" else best_sel,
        bounds=bounds,
        ipm_root=True,
        parallel_search=True,  # nothing else of ours runs meanwhile: HiGHS's tree search gets the second thread
    )
    if st == "infeasible":  # with fixings it cannot be (the incumbent keeps them): kept as an unproven answer
        return (best_sel, bound, "infeasible", "milp") if bounds is None else (best_sel, lp_bound, "feasible", meth)
    if np.isfinite(mb) and (np.isnan(lp_bound) or mb < lp_bound):
        note["bound"] = "milp"
    else:
        mb = lp_bound
    if sel is not None:
        if status == "infeasible" or _covered_weight(red, w, sel) >= incumbent - 1e-9:
            best_sel, meth = sel, "milp"
        return best_sel, mb, ("optimal" if st == "optimal" else "feasible"), meth
    if strict:
        logger.warning("HiGHS found no solution in %.0f s; the best heuristic solution is returned", time_limit_s)
    return best_sel, (mb if not np.isnan(mb) else bound), status, meth


def _lp_incumbent(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    m: np.ndarray,
    floors: Needs | None,
    lp: RootLp,
    current: tuple[np.ndarray, Status, str],
    *,
    budget: float,
    proven_at: float,
    deadline: float,
    mip_rel_gap: float,
) -> tuple[np.ndarray, Status, str]:
    """The best of ``current`` (choice, status, method), the root LP rounded (:func:`round_budget_lp`) and, unless
    that is proven already (serves ``proven_at``), the sub-MIP of the candidates the root LP leaves fractional
    (the others fixed at their LP values; a budgeted cover's LP is nearly integral, so it is small): any answer
    of it is an answer of the whole model."""
    best_sel, status, meth = current
    n_c = red.shape[1]
    best_w = _covered_weight(red, w, best_sel) if status != "infeasible" else -np.inf
    x = lp.x[:n_c]
    r_sel = round_budget_lp(red, rc, w, x, budget=budget)
    r_w = _covered_weight(red, w, r_sel)
    if r_w > best_w + 1e-9 and _fits(red, rc, m, floors, r_sel, budget=budget):
        best_sel, status, meth, best_w = r_sel, "feasible", "lp-round", r_w
    if best_w >= proven_at:
        return best_sel, status, meth
    options: _ModelOptions = {"budget": budget, "needs": floors, "set_cover": False, "mip_rel_gap": mip_rel_gap}
    sel = _fractional_sub_mip(red, rc, w, m, x, options, deadline=deadline)
    if sel is not None:
        sel = fill(red, rc, w, sel, budget=budget)
        s_w = _covered_weight(red, w, sel)
        if s_w > best_w + 1e-9 and _fits(red, rc, m, floors, sel, budget=budget):
            best_sel, status, meth = sel, "feasible", "lp-sub-mip"
    logger.info("root LP incumbent: %s", meth)
    return best_sel, status, meth


def _fits(
    red: sparse.csr_matrix, rc: np.ndarray, m: np.ndarray, floors: Needs | None, sel: np.ndarray, *, budget: float
) -> bool:
    """``sel`` is within the budget, covers every must-cover demand and meets the floors."""
    covered = _served_by(red, sel)
    return bool(rc[sel].sum() <= budget + 1e-6 and covered[m].all() and (floors is None or floors.met(covered)))


def _fallback_bound(
    red: sparse.csr_matrix,
    rc: np.ndarray,
    w: np.ndarray,
    best_sel: np.ndarray,
    bound: float,
    status: str,
    *,
    set_cover: bool,
    budget: float | None,
    note: dict[str, str],
) -> float:
    """The proven bound, with the Lagrangian bound (set cover) or a trivial one where HiGHS proved none
    (``note["bound"]`` names where it came from)."""
    if not np.isnan(bound) and status == "optimal":
        return bound
    if set_cover and red.shape[0]:
        lag = lagrangian_cover_bound(red, rc, float(rc[best_sel].sum()))
        if np.isnan(bound) or lag > bound:
            note["bound"] = "lagrangian"
            return lag
        return bound
    if np.isnan(bound):
        note["bound"] = "trivial"
        return float(w.sum()) if budget is not None else 0.0  # everything coverable / nothing to pay
    return bound


def _result(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    chosen: np.ndarray,
    bound: float,
    status: Status,
    meth: str,
    *,
    budget: float | None,
    mip_rel_gap: float,
    t0: float,
    stats: dict[str, int] | None = None,
) -> CoverResult:
    """The :class:`CoverResult` of the chosen candidates (original indices), with the gap against ``bound``."""
    selected = np.sort(chosen)
    covered = _served_by(a, selected)
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
    res = CoverResult(
        selected=selected,
        covered=covered,
        cost=total_cost,
        covered_weight=cw,
        bound=float(bound),
        gap=float(gap),
        status=status,
        method=meth,
        seconds=time.perf_counter() - t0,
        reductions=stats or {},
    )
    logger.info(
        "solve_cover: %s by %s, cost %.0f, covered weight %.1f, gap %.4f, %.2f s (%s)",
        res.status,
        res.method,
        res.cost,
        res.covered_weight,
        res.gap,
        res.seconds,
        stats,
    )
    return res


def _covered_weight(a: sparse.csr_matrix, w: np.ndarray, sel: np.ndarray) -> float:
    return float(w[_served_by(a, sel)].sum())


def _served_by(a: sparse.csr_matrix, sel: np.ndarray) -> np.ndarray:
    """Per demand (row of ``a``): whether a candidate of ``sel`` (column indices) serves it."""
    return np.asarray(a[:, sel].sum(axis=1)).ravel() > 0 if len(sel) else np.zeros(a.shape[0], dtype=bool)


def solve_priorities(
    coverage: sparse.spmatrix,
    cost: np.ndarray,
    class_weights: np.ndarray,
    *,
    budget: float,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-3,
    seed: int = 0,
    start: np.ndarray | None = None,
) -> CoverResult:
    """Budgeted covering with priority classes served in order (lexicographic).

    Stage k maximises the weight of class k (column k of ``class_weights``) within ``budget`` while keeping what
    every earlier class achieved (a floor row each), started from the better for class k of the previous stage's
    choice and ``start`` (when ``start`` is within the budget and meets the floors: a cost curve's previous,
    smaller budget); the last stage's choice is the answer, so the budget is spent whenever spending it serves more
    of any class. Classes without weight are skipped; the time limit is shared among the others (a stage proven
    early leaves its time to the next). Never infeasible: choosing nothing is within any budget >= 0.

    Returns
    -------
    CoverResult
        Of the last stage; ``covered_weight`` sums every class; ``status`` is optimal when every stage is proven
        within ``mip_rel_gap``; ``bound`` and ``gap`` are the whole problem's: the bound is the sum of the stages'
        bounds (stage k's bound on class k, given what the plan serves of the classes before it), the gap the
        total weight served against it; ``bound_source`` names each stage's source (``+``-joined); ``stages``
        holds each class's covered weight, bound, gap, status and bound source.
    """
    t0 = time.perf_counter()
    weights = np.asarray(class_weights, dtype=float)
    if weights.ndim != 2 or weights.shape[0] != coverage.shape[0]:
        msg = f"`class_weights` has shape {weights.shape}; expected (n_demand, n_classes) = ({coverage.shape[0]}, k)"
        raise ValueError(msg)
    active = [k for k in range(weights.shape[1]) if weights[:, k].sum() > 0]
    floors_m: list[np.ndarray] = []
    floors_n: list[float] = []
    stages: list[CoverStage] = []
    res, prev = None, None
    a = sparse.csr_matrix(coverage, dtype=bool)
    outside = None if start is None else np.asarray(start, dtype=np.int64)
    if outside is not None and float(np.asarray(cost, dtype=float)[outside].sum()) > budget + 1e-6:
        outside = None
    for n, k in enumerate(active):
        t_stage = time.perf_counter()
        left = time_limit_s - (t_stage - t0)
        floors = (sparse.csr_matrix(np.column_stack(floors_m)), np.array(floors_n)) if floors_m else None
        res = solve_cover(
            a,
            cost,
            weights[:, k],
            budget=budget,
            floors=floors,
            start=_stage_start(a, weights, k, floors_m, floors_n, prev, outside),
            time_limit_s=max(1.0, left / (len(active) - n)),
            mip_rel_gap=mip_rel_gap,
            seed=seed,
        )
        achieved = float(weights[res.covered, k].sum())
        stages.append(
            {
                "class": k,
                "covered_weight": achieved,
                "bound": res.bound,
                "gap": res.gap,
                "status": res.status,
                "bound_source": res.bound_source,
                "seconds": time.perf_counter() - t_stage,
            }
        )
        floors_m.append(weights[:, k])
        floors_n.append(achieved * (1 - 1e-9))
        prev = res.selected
    if res is None:  # nothing has weight
        res = solve_cover(coverage, cost, np.zeros(coverage.shape[0]), budget=budget, time_limit_s=1.0)
    return _lexicographic(res, weights, stages, t0=t0)


def _stage_start(
    a: sparse.csr_matrix,
    weights: np.ndarray,
    k: int,
    floors_m: list[np.ndarray],
    floors_n: list[float],
    prev: np.ndarray | None,
    outside: np.ndarray | None,
) -> np.ndarray | None:
    """The start of stage ``k``: the previous stage's choice or ``outside`` (a known choice within the budget),
    whichever serves more of class ``k``; ``outside`` only where it keeps every earlier class's floor."""
    if outside is None:
        return prev
    covered = _served_by(a, outside)
    if any(float(m[covered].sum()) < need for m, need in zip(floors_m, floors_n, strict=True)):
        return prev
    if prev is None:
        return outside
    prev_cov = _served_by(a, prev)
    return outside if float(weights[covered, k].sum()) > float(weights[prev_cov, k].sum()) else prev


def _lexicographic(res: CoverResult, weights: np.ndarray, stages: list[CoverStage], *, t0: float) -> CoverResult:
    """The last stage's result as the whole lexicographic problem's: total weight, the sum of the stage bounds and
    the gap against it, optimal when every stage is."""
    covered = res.covered
    total = float(weights.sum(axis=1)[covered].sum())
    status: Status = "optimal" if all(st["status"] == "optimal" for st in stages) else "feasible"
    bound = float(sum(max(float(st["bound"]), float(st["covered_weight"])) for st in stages)) if stages else total
    gap = max(0.0, (bound - total) / bound) if bound > 0 else 0.0
    return CoverResult(
        selected=res.selected,
        covered=covered,
        cost=res.cost,
        covered_weight=total,
        bound=bound,
        gap=gap,
        status=status,
        method=res.method,
        seconds=time.perf_counter() - t0,
        reductions=res.reductions,
        stages=stages,
        bound_source="+".join(str(st.get("bound_source", "")) for st in stages),
    )
