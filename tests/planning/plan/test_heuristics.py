"""The optimiser's heuristics (planning.plan.heuristics): greedy start, neighbourhood search, LP dive and rounding."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import sparse

from planning.plan.heuristics import greedy_cover, lp_dive, neighbourhood_search, round_lp
from planning.plan.highs import build_model, read_result
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
