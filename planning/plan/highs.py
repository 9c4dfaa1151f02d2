"""HiGHS (highspy) plumbing of the covering optimiser: the MILP/LP model of a (partial) cover or a budgeted
maximal cover, its solve with a deadline, and the reading of its answer and bound.

HiGHS prints its banner to stdout from C++ on the first ``Highs`` of a process: :func:`quiet_banner` makes that
first one with stdout pointed at /dev/null, under a process-wide lock (two threads redirecting at once would leave
stdout on /dev/null for good). ``COVERPLAN_HIGHS_LOG=1`` turns HiGHS's own log on.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import highspy
import numpy as np
from scipy import sparse

from planning.plan.needs import Needs

logger = logging.getLogger(__name__)

_BANNER_LOCK = threading.Lock()

#: Threads of HiGHS's scheduler in every model of coverplan. HiGHS 1.16 keeps one scheduler per calling thread and
#: refuses a run whose ``threads`` differs from the one that thread's scheduler started with, so every model sets the
#: same number; a MILP that runs alone searches with this many workers (:func:`build_model`'s ``parallel_search``),
#: the others with one. A fixed number, not the machine's cores: HiGHS's parallel search is deterministic for a given
#: number of workers (tested: the same choice and node count in two runs of a model full of ties), so a plan does not
#: depend on how many cores the machine has.
HIGHS_THREADS = 2


SubMips = Literal["all", "reduced-cost", "none"]
"""Which of HiGHS's sub-MIP heuristics a MILP runs (:func:`build_model`'s ``root_sub_mips``)."""


def _scheduler_reset_in_child() -> None:
    """After ``fork``: the child has none of the parent's HiGHS worker threads, and its first HiGHS run would wait
    for them for ever (a process pool started with ``fork`` after coverplan ran); it starts with no scheduler."""
    highspy.Highs.resetGlobalScheduler(True)


os.register_at_fork(after_in_child=_scheduler_reset_in_child)


@functools.cache
def quiet_banner() -> None:
    """HiGHS prints its banner to stdout (from C++) when a process makes its first ``Highs``, whatever its
    options: make that first one with file descriptor 1 pointed at /dev/null, so that the CLI's stdout stays
    the CLI's. Under a lock: two threads redirecting at once would leave file descriptor 1 on /dev/null for
    good (each saving the other's redirection); two threads that both miss the cache just run it in turn."""

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


def build_model(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    *,
    budget: float | None,
    needs: Needs | None,
    set_cover: bool,
    time_limit_s: float,
    mip_rel_gap: float,
    start: np.ndarray | None = None,
    relax: bool = False,
    y_binary: bool = True,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ipm_root: bool = False,
    parallel_search: bool = False,
    root_sub_mips: SubMips = "all",
    pseudocost_branching: bool = False,
) -> Any:
    """A ``highspy.Highs`` holding the model (candidates are its first columns), not yet run.

    Set cover: min cost, every demand covered. Otherwise x (candidates, binary), y (demands): y_i <= sum_j a_ij x_j,
    one row per group of ``needs`` (sum_i member_ig y_i >= need_g: the weight or counts to serve, or a budget
    stage's floors) and, with ``budget``, sum c x <= budget and the objective max sum w y (else min cost).
    ``y_binary``: the demand columns binary (else continuous; see the comment below). ``bounds``: (lower,
    upper) of every column of the model (candidates, then demands unless set cover), tightened from the defaults
    (reduced-cost fixing, :func:`planning.plan.heuristics.reduced_cost_fixing`). ``ipm_root``: a MIP solves the LPs it
    has no basis for (the root, after each restart) by interior point (HiGHS's ``mip_lp_solver``; node LPs stay
    dual simplex from their parent's basis): budget mode's whole model and the cover search's background MILP with
    one requirement row (docs/optimiser.md: where it helps, where not). ``parallel_search``: HiGHS's parallel tree
    search with :data:`HIGHS_THREADS` workers (else one worker): for a MILP that runs alone (budget mode's), not
    beside the cover search's other thread. ``root_sub_mips``: which of HiGHS's sub-MIP heuristics run: ``all``
    (RINS, RENS, the root reduced-cost one), ``reduced-cost`` (that one only) or ``none``; the cover search's
    background MILP, whose answers come from the main thread, runs none with one share row and the reduced-cost one
    with count rows (docs/optimiser.md). ``pseudocost_branching``: branch by pseudocosts from the first node, without
    strong branching to make them reliable first (HiGHS's ``mip_pscost_minreliable`` 0): the cover search's
    background MILP with count rows, whose node LPs are too long for it (docs/optimiser.md).
    """
    quiet_banner()
    n_d, n_c = a.shape
    af = a.astype(np.float64).tocsc()
    needs = needs if needs is not None else Needs.none(n_d)
    if set_cover:
        mat, col_cost = af, cost
        col_lo, col_hi = np.zeros(n_c), np.ones(n_c)
        row_lo, row_hi = np.ones(n_d), np.full(n_d, np.inf)
        integer = np.ones(n_c, dtype=bool)
    else:
        # y binary or continuous gives the same optimum (with x binary, y_i can reach 1 exactly when i is covered),
        # but not the same search: with continuous y, HiGHS's path separator aggregates a weight row (one entry per
        # demand) with the link rows and spends most of its time there; with binary y the root cut rounds are short
        # and the bound is tighter. The small neighbourhood sub-MIPs of the search do better with continuous y.
        # Rows are passed unscaled (a budget row in CNY beside link rows of 1): scaling the budget and floor rows to
        # coefficients of about 1 was tried and measured worse. Figures: bench/RESULTS.md, "Design choices measured".
        link = sparse.hstack([-af, sparse.eye(n_d, format="csc")], format="csc")
        groups = sparse.hstack([sparse.csc_matrix((needs.n_groups, n_c)), needs.member.T.tocsc()], format="csc")
        rows = [link, groups]
        row_lo = np.r_[np.full(n_d, -np.inf), needs.need]
        row_hi = np.r_[np.zeros(n_d), np.full(needs.n_groups, np.inf)]
        if budget is not None:
            rows.append(sparse.csc_matrix(np.r_[cost, np.zeros(n_d)][None, :]))
            row_lo, row_hi = np.r_[row_lo, -np.inf], np.r_[row_hi, budget]
            col_cost = np.r_[np.zeros(n_c), -weight]
        else:
            col_cost = np.r_[cost, np.zeros(n_d)]
        mat = sparse.vstack(rows, format="csc")
        col_lo = np.r_[np.zeros(n_c), np.where(must, 1.0, 0.0)]
        col_hi = np.ones(n_c + n_d)
        integer = np.r_[np.ones(n_c, dtype=bool), np.full(n_d, y_binary)]
    if bounds is not None:
        col_lo, col_hi = np.maximum(col_lo, bounds[0]), np.minimum(col_hi, bounds[1])
    h = _highs(
        mat,
        col_cost,
        col_lo,
        col_hi,
        row_lo,
        row_hi,
        None if relax else integer,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    if not relax:
        _search_options(
            h,
            ipm_root=ipm_root,
            parallel_search=parallel_search,
            root_sub_mips=root_sub_mips,
            pseudocost_branching=pseudocost_branching,
        )
    if start is not None:
        x0 = np.zeros(n_c)
        x0[start] = 1.0
        if not set_cover:
            x0 = np.r_[x0, np.minimum(1.0, af @ x0)]
        sol = highspy.HighsSolution()
        sol.col_value = list(x0)
        h.setSolution(sol)
    return h


def _search_options(
    h: Any, *, ipm_root: bool, parallel_search: bool, root_sub_mips: SubMips, pseudocost_branching: bool
) -> None:
    """The MIP search options of :func:`build_model` (see there), set on ``h``."""
    # the root LP of the priorities' last stage (two floor rows, 40k bench): 4.5 s by interior point against 16.6 s
    # by dual simplex, and the stage proven within 0.1 % in 34 s against 1.31 % at 44 s (bench/RESULTS.md)
    if ipm_root and h.setOptionValue("mip_lp_solver", "ipm") != highspy.HighsStatus.kOk:
        logger.warning("HiGHS refused `mip_lp_solver` = ipm: its root LP stays dual simplex")
    if parallel_search:
        # priorities, 40k bench, 60 s: the whole problem proven within 0.08 % in 45-46 s with two workers (two runs)
        # against 0.33-0.69 % at 60 s with one; plain HiGHS's serve-98 % model was not faster with two
        # (bench/RESULTS.md). "choose" gives HIGHS_THREADS workers in HiGHS 1.16 (tested: its log says so)
        _set(h, "parallel", "choose")
    if root_sub_mips != "all":
        # serve 98 %, 40k instance 0: HiGHS's root RINS ran 65 s (59.5 -> 124.9 s) while the main thread handed it
        # choices as good; without RINS and RENS proven in 122.8 s against 156.0 s (bench/RESULTS.md)
        _set(h, "mip_heuristic_run_rins", False)
        _set(h, "mip_heuristic_run_rens", False)
    if root_sub_mips == "none":
        # then HiGHS's root reduced-cost heuristic: sub-MIPs nested ten deep, 42-50 s of a 140-153 s run after
        # the two root cut loops (HiGHS's profile); without it proven in 83-93 s. With count rows it found the
        # better choice at 60 s instead (rules, instance 0: 0.63 % against 0.73 %; bench/RESULTS.md)
        _set(h, "mip_heuristic_run_root_reduced_cost", False)
    if pseudocost_branching:
        # counties, 40k instance 2: two nodes in the 42 s after the root, 20k of the 34k LP iterations strong
        # branching; from pseudocosts 234 nodes. At 60 s counties 0.48 / 0.35 / 0.70 % (instances 0-2) against
        # 0.52 / 0.41 / 0.71 %, rules 0.61 / 0.44 / 0.67 % against 0.65 / 0.47 / 0.75 % (bench/RESULTS.md)
        _set(h, "mip_pscost_minreliable", 0)


def _highs(
    mat: sparse.csc_matrix,
    col_cost: np.ndarray,
    col_lo: np.ndarray,
    col_hi: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    integer: np.ndarray | None,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
) -> Any:
    """A ``highspy.Highs`` with the model passed (``integer`` None: the LP relaxation), :data:`HIGHS_THREADS`
    threads and one MIP worker, quiet."""
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
    if integer is not None:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(int(os.environ.get("COVERPLAN_HIGHS_LOG", "0"))))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    _set(h, "threads", HIGHS_THREADS)
    _set(h, "parallel", "off")  # one MIP worker, serial simplex; build_model's parallel_search turns it on
    h.passModel(lp)
    return h


def run_highs(h: Any) -> None:
    """Run ``h``; an error status, or an answer whose objective is not its choice's, is not taken for an answer.

    * A solve error, or an objective that is not the one of the choice HiGHS returns, with presolve on: solved
      again without presolve, from the best choice HiGHS had, for the time left. Both seen with HiGHS 1.16.0 on
      small models of coverplan's (``data/reference/highs/``): presolve reduced a budget model to empty and
      postsolved a choice breaking a row ("untransformed violations"); started from a choice of cost 5, a partial
      cover came back "optimal" with that choice and an objective and bound of 3 (the optimum is 5).
    * A refused run (nothing solved: status not set), when this thread's HiGHS scheduler was started with another
      number of threads (a caller used highspy in this thread before coverplan): run on that scheduler's threads,
      with one warning (the search, and so a tie's answer, may differ from a fresh thread's).
    * Any other error, or a failure again: logged as an error; the caller reads what HiGHS has (after an error not
      optimal: a choice HiGHS holds as feasible, else none) and falls back as for a time limit.
    """
    if h.run() != highspy.HighsStatus.kError and _objective_holds(h):
        return
    status = h.getModelStatus()
    if status in (highspy.HighsModelStatus.kSolveError, highspy.HighsModelStatus.kOptimal) and (
        h.getOptionValue("presolve")[1] != "off"
    ):
        logger.info("HiGHS's presolve failed on a model (%s); solving it again without presolve", status)
        _set(h, "presolve", "off")
        _set(h, "time_limit", max(1.0, float(h.getOptionValue("time_limit")[1]) - h.getRunTime()))
        if h.getInfo().primal_solution_status == 2:  # a choice HiGHS holds as feasible: the new run's start
            h.setSolution(h.getSolution())
    elif status == highspy.HighsModelStatus.kNotset:
        _set(h, "threads", 0)
        _warn_foreign_scheduler()
    else:
        logger.error("HiGHS stopped with an error (status %s); its best choice, if any, is used unproven", status)
        return
    if h.run() == highspy.HighsStatus.kError or not _objective_holds(h):
        logger.error("HiGHS failed again (status %s)", h.getModelStatus())


def _objective_holds(h: Any) -> bool:
    """Whether the objective HiGHS reports is the one of the choice it returns (True when it returns none)."""
    if h.getInfo().primal_solution_status != 2:
        return True
    lp = h.getLp()
    value = float(np.dot(lp.col_cost_, h.getSolution().col_value)) + float(lp.offset_)
    reported = float(h.getInfo().objective_function_value)
    return abs(value - reported) <= 1e-6 * max(1.0, abs(value))


@functools.cache
def _warn_foreign_scheduler() -> None:
    """Warn once per process (every run after the first would say it again)."""
    logger.warning(
        "HiGHS's scheduler in this thread was started with another number of threads than coverplan's %d (highspy "
        "used before coverplan?): coverplan's models run on it; a tie may be decided otherwise than in a fresh thread",
        HIGHS_THREADS,
    )


def _set(h: Any, name: str, value: object) -> None:
    """Set a HiGHS option; a refusal (an older or newer HiGHS without it) is a bug to see, not to pass silently."""
    if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
        msg = f"HiGHS refused option `{name}` = {value!r} (highspy {getattr(highspy, '__version__', '?')})"
        raise RuntimeError(msg)


#: A MILP takes choices from :func:`solve_milp`'s ``incumbent`` only after this many CPU seconds of its own thread
#: (not wall seconds: a busy machine does not bring the handoff forward): a model HiGHS proves sooner (the demo's,
#: the tests') gets the same answer in every run, as without a handoff (a choice handed at a moment that depends on
#: the other thread could win a tie); the 40k bench's first handoff comes at ~34 s, after the main thread's sub-MIP.
HANDOFF_AFTER_S = 5.0


def solve_milp(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    *,
    budget: float | None,
    needs: Needs | None,
    set_cover: bool,
    time_limit_s: float,
    mip_rel_gap: float,
    start: np.ndarray | None = None,
    relax: bool = False,
    deadline: float | None = None,
    progress: dict[str, float] | None = None,
    y_binary: bool = True,
    stop: Callable[[], bool] | None = None,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    incumbent: Callable[[], np.ndarray | None] | None = None,
    ipm_root: bool = False,
    parallel_search: bool = False,
    root_sub_mips: SubMips = "all",
    pseudocost_branching: bool = False,
    handoff_after_s: float = HANDOFF_AFTER_S,
) -> tuple[np.ndarray | None, float, str]:
    """HiGHS (highspy) on the reduced model, started from ``start`` (chosen candidates) when given.

    Returns (chosen candidates or None, proven bound on the objective, status); with ``relax`` the LP
    relaxation: (candidate values x* in [0, 1], LP bound, status). HiGHS releases the GIL while it runs, so
    a call in a thread runs beside the caller's work. ``deadline`` (``time.perf_counter()``): a MIP is also
    interrupted at its first check after it (HiGHS checks its own time limit only between rounds of cuts at
    the root, which can overrun it by seconds on a large model); at each check ``progress["bound"]`` gets the
    bound proven so far (for a caller that cannot wait for the next check). ``stop``: interrupt at the first
    check where it returns True (the caller has proven its own answer). ``bounds``, ``ipm_root``,
    ``parallel_search``, ``root_sub_mips``, ``pseudocost_branching``: see :func:`build_model`.
    ``incumbent``: a MIP asks it for a choice (candidate indices) found meanwhile by the caller, at HiGHS's points for
    a user's solution (after its set-up, during the root node's cut rounds, before each dive); a choice it returns
    (None: nothing new) is handed to HiGHS, which keeps it when it is feasible and better than its own: its pruning
    and reduced-cost fixing then work from it; only after ``handoff_after_s`` CPU seconds of the MIP's own
    (:data:`HANDOFF_AFTER_S`).
    """
    h = build_model(
        a,
        cost,
        weight,
        must,
        budget=budget,
        needs=needs,
        set_cover=set_cover,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        start=start,
        relax=relax,
        y_binary=y_binary,
        bounds=bounds,
        ipm_root=ipm_root,
        parallel_search=parallel_search,
        root_sub_mips=root_sub_mips,
        pseudocost_branching=pseudocost_branching,
    )
    raised: list[BaseException] = []  # what the interrupt callback caught, raised after the run
    if deadline is not None or stop is not None:
        limit = math.inf if deadline is None else deadline

        def interrupt(event: Any) -> None:
            # an exception here (Ctrl-C arrives in this callback when HiGHS runs in the main thread) would be
            # swallowed by HiGHS as a solve error: HiGHS is stopped and the exception raised after its run
            try:
                if progress is not None and np.isfinite(event.data_out.mip_dual_bound):
                    progress["bound"] = float(event.data_out.mip_dual_bound)
                if time.perf_counter() > limit or (stop is not None and stop()):
                    event.interrupt()
            except BaseException as exc:
                raised.append(exc)
                event.interrupt()

        h.cbMipInterrupt += interrupt
    if incumbent is not None and not relax:
        h.cbMipUserSolution += _user_solution(a, incumbent, set_cover=set_cover, after_s=handoff_after_s)
    run_highs(h)
    if raised:
        raise raised[0]
    return read_result(h, a.shape[1], budget=None if set_cover else budget, relax=relax)


def _user_solution(
    a: sparse.csr_matrix, incumbent: Callable[[], np.ndarray | None], *, set_cover: bool, after_s: float
) -> Callable[[Any], None]:
    """The callback of :func:`solve_milp` that hands ``incumbent``'s new choices to HiGHS as whole columns
    (candidates, then demands: covered or not), from ``after_s`` seconds on."""

    started = time.thread_time()  # made in the MILP's own thread, where HiGHS runs and calls back (one worker or two)

    def hand(event: Any) -> None:
        if time.thread_time() - started < after_s:
            return
        # an exception here would not reach the caller: HiGHS would end the run with an error and no answer
        try:
            sel = incumbent()
            if sel is None:
                return
            x = np.zeros(a.shape[1])
            x[np.asarray(sel, dtype=np.int64)] = 1.0
            if not set_cover:
                x = np.r_[x, (a @ x > 0.5).astype(float)]
            if event.data_in.setSolution(x) != highspy.HighsStatus.kOk:
                logger.warning("HiGHS refused a choice of %d candidates handed to it", len(sel))
                return
        except Exception:
            logger.exception("a choice could not be handed to HiGHS; it goes on without it")
            return
        logger.info("a choice of %d candidates handed to HiGHS (bound %.1f)", len(sel), event.data_out.mip_dual_bound)

    return hand


def read_result(h: Any, n_c: int, *, budget: float | None, relax: bool) -> tuple[np.ndarray | None, float, str]:
    """(chosen candidates or LP values, bound, status) of a run ``h`` (see :func:`solve_milp`)."""

    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None, np.nan, "infeasible"
    if info.primal_solution_status != 2:  # no feasible solution
        return None, np.nan, "no_solution"
    if relax:
        xs = np.asarray(h.getSolution().col_value)[:n_c]
        val = float(info.objective_function_value)
        return (
            xs,
            (-val if budget is not None else val),
            ("optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"),
        )
    x = np.asarray(h.getSolution().col_value)[:n_c] > 0.5
    bound = float(info.mip_dual_bound)
    if budget is not None:
        bound = -bound
    return np.flatnonzero(x), bound, "optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"


@dataclass(frozen=True)
class RootLp:
    """The LP relaxation of a model of :func:`build_model`, solved: the column values and reduced costs of every
    column (candidates first), its objective in HiGHS's sense (minimised: the negated weight in budget mode) and
    whether it was solved to optimality (only then are ``value`` and ``dual`` a proof); ``h`` the solved model (for
    a dive from it)."""

    x: np.ndarray
    dual: np.ndarray
    value: float
    optimal: bool
    infeasible: bool
    h: Any


def solve_root_lp(
    a: sparse.csr_matrix,
    cost: np.ndarray,
    weight: np.ndarray,
    must: np.ndarray,
    *,
    budget: float | None,
    needs: Needs | None,
    set_cover: bool,
    time_limit_s: float,
) -> RootLp:
    """The LP relaxation of the model (:func:`build_model`), with its reduced costs (for reduced-cost fixing)."""
    h = build_model(
        a,
        cost,
        weight,
        must,
        budget=budget,
        needs=needs,
        set_cover=set_cover,
        time_limit_s=time_limit_s,
        mip_rel_gap=0.0,
        relax=True,
    )
    # interior point with crossover (a vertex and its reduced costs): 1.6 s against 2.7 s CPU for dual simplex on
    # the 40k bench's budget LP, 5.0 s against 23.9 s with the priorities' two floor rows (bench/RESULTS.md)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "on")
    run_highs(h)
    status = h.getModelStatus()
    sol = h.getSolution()
    optimal = status == highspy.HighsModelStatus.kOptimal and h.getInfo().dual_solution_status == 2
    return RootLp(
        x=np.asarray(sol.col_value, dtype=float),
        dual=np.asarray(sol.col_dual, dtype=float),
        value=float(h.getInfo().objective_function_value),
        optimal=bool(optimal),
        infeasible=status == highspy.HighsModelStatus.kInfeasible,
        h=h,
    )
