"""The optimiser's heuristics (planning.plan.heuristics): greedy start, neighbourhood search, LP dive and rounding."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from planning.plan.heuristics import greedy_cover, lp_dive, neighbourhood_search, reduced_cost_fixing, round_lp
from planning.plan.highs import build_model, read_result, solve_root_lp
from planning.plan.needs import Needs
from tests.reference.orlib import ORLIB, orlib_optima, read_orlib_scp


@pytest.mark.parametrize("share", [1.0, 0.9])
def test_neighbourhood_search_improves_a_poor_start_and_stays_feasible(share: float) -> None:

    a, cost = read_orlib_scp(ORLIB / "scp41.txt")
    w = np.random.default_rng(1).uniform(1.0, 3.0, a.shape[0])
    set_cover = share == 1.0
    need = share * w.sum()
    must = np.ones(a.shape[0], dtype=bool) if set_cover else np.zeros(a.shape[0], dtype=bool)
    start = greedy_cover(a.tocsr(), cost, w, must, budget=None, needs=None if set_cover else Needs.share(w, need))
    # the worst start: every candidate chosen
    every = np.arange(a.shape[1])
    for sel0 in (start, every):
        sel = neighbourhood_search(
            a.tocsr(),
            cost,
            w,
            must,
            sel0,
            needs=None if set_cover else Needs.share(w, need),
            set_cover=set_cover,
            size=60,
            deadline=time.perf_counter() + 4.0,
        )
        covered = np.asarray(a[:, sel].sum(axis=1)).ravel() > 0
        assert covered.all() if set_cover else w[covered].sum() >= need - 1e-6
        assert cost[sel].sum() <= cost[sel0].sum()
        if set_cover:
            assert cost[sel].sum() >= orlib_optima()["scp41"]
    # from every column it must find something far cheaper (scp41: 1000 columns, optimum 429)
    assert cost[sel].sum() < 0.2 * cost.sum()


def test_neighbourhood_search_moves_the_uncovered_weight_between_areas() -> None:

    # two areas that share no demand. Area 1: demand a (weight 5) served by cA (cost 10). Area 2: demands b
    # (weight 5) and d (weight 10); cD serves d (cost 1), cB serves b and d (cost 2). Serve 15 of 20: the start
    # {cA, cD} (cost 11) leaves b out; the optimum {cB} (cost 2) leaves a out. Re-solving one area with the other
    # fixed cannot leave a out (area 1 alone must keep its weight) nor pay less in area 2 (cD is its cheapest
    # way to weight 10), so a neighbourhood inside one area never improves; two balls, one per area, do.
    a = sparse.csr_matrix(
        np.array(
            [
                [1, 0, 0],  # a: cA
                [0, 0, 1],  # b: cB
                [0, 1, 1],
            ],  # d: cD, cB
            dtype=bool,
        )
    )
    cost = np.array([10.0, 1.0, 2.0])  # cA, cD, cB
    w = np.array([5.0, 5.0, 10.0])
    must = np.zeros(3, dtype=bool)
    start = np.array([0, 1])
    for balls, expected in ((1, 11.0), (2, 2.0)):
        sel = neighbourhood_search(
            a,
            cost,
            w,
            must,
            start,
            needs=Needs.share(w, 15.0),
            set_cover=False,
            size=4,
            balls=balls,
            deadline=time.perf_counter() + 1.6,
        )
        assert cost[sel].sum() == expected
        assert w[np.asarray(a[:, sel].sum(axis=1)).ravel() > 0].sum() >= 15.0


@pytest.mark.parametrize("share", [1.0, 0.95])
def test_lp_dive_fixes_towards_a_cover_no_cheaper_than_the_lp(share: float) -> None:

    a, cost = read_orlib_scp(ORLIB / "scpa1.txt")
    a = a.tocsr()
    w = np.random.default_rng(2).uniform(1.0, 3.0, a.shape[0])
    set_cover = share == 1.0
    need = None if set_cover else share * w.sum()
    must = np.ones(a.shape[0], dtype=bool) if set_cover else np.zeros(a.shape[0], dtype=bool)
    h = build_model(
        a,
        cost,
        w,
        must,
        budget=None,
        needs=None if need is None else Needs.share(w, need),
        set_cover=set_cover,
        time_limit_s=30,
        mip_rel_gap=1e-3,
        relax=True,
    )
    h.run()
    x_root, lp_bound, _ = read_result(h, a.shape[1], budget=None, relax=True)
    fixed_before = int((x_root > 1 - 1e-6).sum())
    x = lp_dive(h, a.shape[1], deadline=time.perf_counter() + 20, stop_at=5)
    assert ((x > 1e-6) & (x < 1 - 1e-6)).sum() <= 5
    assert (x > 1 - 1e-6).sum() > fixed_before  # it fixed something
    assert x @ cost >= lp_bound - 1e-6  # fixing only raises the LP
    sel = round_lp(a, cost, w, must, x, needs=None if need is None else Needs.share(w, need))
    covered = np.asarray(a[:, sel].sum(axis=1)).ravel() > 0
    assert covered.all() if set_cover else w[covered].sum() >= need - 1e-6
    assert cost[sel].sum() >= lp_bound - 1e-6
    if set_cover:
        assert cost[sel].sum() >= orlib_optima()["scpa1"]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(2, 9), st.integers(2, 7), st.booleans())
def test_reduced_cost_fixing_keeps_every_solution_at_least_as_good_as_the_incumbent(
    seed: int, n_d: int, n_c: int, with_floor: bool
) -> None:
    # brute force over every choice: a solution that serves at least the incumbent's weight within the budget (and
    # the floor) keeps every column the root LP's reduced costs fixed, so the fixed model keeps the optimum
    rng = np.random.default_rng(seed)
    a = sparse.csr_matrix(rng.random((n_d, n_c)) < 0.4)
    cost = rng.integers(1, 10, n_c).astype(float)
    w = rng.integers(1, 9, n_d).astype(float)
    budget = float(rng.integers(1, int(cost.sum()) + 1))
    must = np.zeros(n_d, dtype=bool)
    floor = Needs.groups(sparse.csr_matrix(rng.integers(0, 2, (n_d, 1)).astype(float)), np.array([1.0]))
    needs = floor if with_floor else None
    lp = solve_root_lp(a, cost, w, must, budget=budget, needs=needs, set_cover=False, time_limit_s=10)
    if not lp.optimal:
        return
    dense = a.toarray()
    values = []
    for mask in range(2**n_c):
        x = np.array([(mask >> j) & 1 for j in range(n_c)], dtype=float)
        cov = (dense @ x) > 0
        if cost @ x <= budget + 1e-9 and (needs is None or needs.met(cov)):
            values.append((float(w[cov].sum()), np.r_[x, cov.astype(float)]))
    for inc in sorted({v for v, _ in values}):  # every feasible choice's weight as the incumbent's
        lower, upper = reduced_cost_fixing(lp.x, lp.dual, lp.value, -inc)
        for v, cols in values:
            if v >= inc - 1e-9:
                assert (cols >= lower - 1e-9).all()
                assert (cols <= upper + 1e-9).all()
