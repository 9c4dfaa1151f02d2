"""Phasing: each year's true spend (trench segments paid when first built) holds the budget; precedence of
segments; priority classes first (hand-built cases and random instances)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from planning.plan.outcome import committed_per_batch
from planning.plan.phasing import phase


def test_phase_respects_yearly_budget_and_priority() -> None:
    a = sparse.csr_matrix(np.eye(5, dtype=bool))
    cost = np.array([4.0, 3.0, 3.0, 8.0, 1.0])
    weight = np.array([1.0, 9.0, 3.0, 2.0, 1.0])
    ph = phase(a, cost, weight, np.arange(5), yearly_budget=6.0)
    # most weight per cost first: c1 (3.0/CNY), then c4 and c2 (1.0/CNY) fill year 1 (3 + 1 = 4; c2 would be 7)
    assert ph.batch[1] == 1
    assert ph.batch[3] not in (ph.batch[1],)
    for b, c in enumerate(ph.batch_cost, start=1):
        assert c <= 6.0 or (ph.over_budget[b - 1] and (ph.batch == b).sum() == 1)
    assert ph.over_budget.sum() == 1  # the 8-CNY candidate alone exceeds a year
    assert np.all(np.diff(ph.covered_weight_after) >= 0)
    assert ph.covered_weight_after[-1] == pytest.approx(weight.sum())
    assert ph.batch_cost.sum() == pytest.approx(cost.sum())


def test_shared_trench_is_paid_when_first_built() -> None:
    # fibre extensions A and B share a trunk T (80 CNY) and have branches a, b (10 each): allocated 50 each.
    # A site S (45, a village of weight 1: less weight per CNY than A) serves a third village. Year budget 100.
    # Priced at their allocated shares, A + S (95) would
    # fit year 1 but spend 80 + 10 + 45 = 135; at true spend A costs 90, then B only 10 (the trunk is built).
    a = sparse.csr_matrix(np.eye(3, dtype=bool))  # A, B, S serve one demand each
    weight = np.array([5.0, 5.0, 1.0])
    seg = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=bool))  # T, a, b x A, B, S
    seg_cost = np.array([80.0, 10.0, 10.0])
    own = np.array([0.0, 0.0, 45.0])
    ph = phase(a, own, weight, np.arange(3), yearly_budget=100.0, segments=seg, segment_cost=seg_cost)
    assert list(ph.batch) == [1, 1, 2]
    assert list(ph.batch_cost) == [100.0, 45.0]
    assert list(ph.segment_batch) == [1, 1, 1]
    assert not ph.over_budget.any()


def test_an_unconnected_school_comes_first_whatever_its_cost_effectiveness() -> None:
    # a school with no connection (class 1) on a dear site; cheap village fibre (class 3) is far more weight per
    # CNY. The school is built in year 1.
    a = sparse.csr_matrix(np.eye(4, dtype=bool))
    cost = np.array([900.0, 100.0, 100.0, 100.0])
    weight = np.array([5.0, 9.0, 9.0, 9.0])
    klass = np.array([1, 3, 3, 3])
    ph = phase(a, cost, weight, np.arange(4), yearly_budget=1000.0, priority_class=klass)
    assert ph.batch[0] == 1
    assert list(ph.batch) == [1, 1, 2, 2]
    without = phase(a, cost, weight, np.arange(4), yearly_budget=1000.0)
    assert without.batch[0] == 2  # by weight per CNY alone the school would wait


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100_000), st.integers(2, 12), st.integers(1, 8))
def test_random_plans_hold_the_budget_and_build_segments_first(seed: int, n: int, n_seg: int) -> None:
    rng = np.random.default_rng(seed)
    n_d = n + 3
    a = rng.random((n_d, n)) < 0.3
    a[rng.integers(0, n_d, n), np.arange(n)] = True  # each serves something
    seg = rng.random((n_seg, n)) < 0.3
    fibre = seg.any(axis=0)
    seg_cost = rng.integers(1, 30, n_seg).astype(float)
    own = np.where(fibre, 0.0, rng.integers(1, 40, n).astype(float))
    budget = float(rng.integers(20, 80))
    ph = phase(
        sparse.csr_matrix(a),
        own,
        rng.random(n_d),
        np.arange(n),
        yearly_budget=budget,
        priority_class=rng.integers(1, 4, n_d),
        segments=sparse.csr_matrix(seg),
        segment_cost=seg_cost,
    )
    assert set(ph.batch) == set(range(1, len(ph.batch_cost) + 1))
    for b, spend in enumerate(ph.batch_cost, start=1):
        assert spend <= budget + 1e-9 or (ph.over_budget[b - 1] and (ph.batch == b).sum() == 1)
    # every needed segment is built in the batch of the first extension that needs it, and paid once
    needed = seg.any(axis=1)
    for s in range(n_seg):
        if needed[s]:
            assert ph.segment_batch[s] == ph.batch[seg[s]].min()
        else:
            assert ph.segment_batch[s] == 0
    assert ph.batch_cost.sum() == pytest.approx(own.sum() + seg_cost[needed].sum())


def test_commitments_take_their_years_first() -> None:
    # four independent 4-CNY items, 10 CNY a year; the ledger's commitments spend 8, then 10, then nothing
    a = sparse.csr_matrix(np.eye(4, dtype=bool))
    cost = np.full(4, 4.0)
    weight = np.array([4.0, 3.0, 2.0, 1.0])
    free = phase(a, cost, weight, np.arange(4), yearly_budget=10.0)
    assert free.batch.tolist() == [1, 1, 2, 2]
    assert free.committed_cost is None
    ph = phase(a, cost, weight, np.arange(4), yearly_budget=10.0, committed=np.array([8.0, 10.0]))
    # year 1 leaves 2 CNY, year 2 nothing: the new items land in years 3 and 4, two a year
    assert ph.batch.tolist() == [3, 3, 4, 4]
    assert ph.batch_cost.tolist() == [0.0, 0.0, 8.0, 8.0]  # the new plan's spend only
    assert ph.committed_cost is not None
    assert ph.committed_cost.tolist() == [8.0, 10.0, 0.0, 0.0]
    assert not ph.over_budget.any()
    assert ph.covered_weight_after.tolist() == [0.0, 0.0, 7.0, 10.0]


def test_a_year_holds_new_items_within_what_its_commitments_leave() -> None:
    a = sparse.csr_matrix(np.eye(3, dtype=bool))
    ph = phase(
        a, np.full(3, 4.0), np.array([3.0, 2.0, 1.0]), np.arange(3), yearly_budget=10.0, committed=np.array([6.0])
    )
    assert ph.batch.tolist() == [1, 2, 2]  # 6 + 4 = 10 fits year 1; the other two wait
    assert (ph.batch_cost + ph.committed_cost).tolist() == [10.0, 8.0]


def test_an_item_dearer_than_a_year_waits_for_a_year_with_nothing_committed() -> None:
    a = sparse.csr_matrix(np.eye(2, dtype=bool))
    ph = phase(
        a, np.array([15.0, 2.0]), np.array([5.0, 1.0]), np.arange(2), yearly_budget=10.0, committed=np.array([3.0])
    )
    assert ph.batch.tolist() == [2, 1]
    assert ph.over_budget.tolist() == [False, True]


def test_commitments_alone_over_a_year_are_flagged_and_refused_when_not_money() -> None:
    a = sparse.csr_matrix(np.eye(1, dtype=bool))
    ph = phase(a, np.array([2.0]), np.array([1.0]), np.arange(1), yearly_budget=10.0, committed=np.array([12.0]))
    assert ph.batch.tolist() == [2]
    assert ph.over_budget.tolist() == [True, False]
    for bad in ([-1.0], [np.nan]):
        with pytest.raises(ValueError, match="committed"):
            phase(a, np.array([2.0]), np.array([1.0]), np.arange(1), yearly_budget=10.0, committed=np.array(bad))


def test_commitments_by_year_become_batches_from_the_first_year() -> None:
    # late work (2025) and rows with no year (0) spend in batch 1; 2028 is batch 2, 2030 batch 4
    held = committed_per_batch({0: 5.0, 2025: 1.0, 2027: 2.0, 2028: 4.0, 2030: 3.0}, first_year=2027)
    assert held.tolist() == [8.0, 4.0, 0.0, 3.0]
    assert committed_per_batch({}, first_year=2027).tolist() == []
    assert committed_per_batch({2024: 7.0}, first_year=2027).tolist() == [7.0]
