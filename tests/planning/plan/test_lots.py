"""Tender lots: compact clusters of similar cost (hand-built clusters, random balance bound)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.plan.lots import lot_table, tender_lots


def test_four_separate_clusters_are_four_lots() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [50_000.0, 0.0], [0.0, 50_000.0], [50_000.0, 50_000.0]])
    xy = np.repeat(centres, 5, axis=0) + rng.normal(0, 1000, (20, 2))
    lot = tender_lots(xy[:, 0], xy[:, 1], np.full(20, 100.0), n_lots=4)
    assert sorted(set(lot)) == [1, 2, 3, 4]
    for c in range(4):  # each cluster whole in one lot
        assert len(set(lot[c * 5 : (c + 1) * 5])) == 1
    frame = pd.DataFrame({"lot": lot, "x_m": xy[:, 0], "y_m": xy[:, 1], "cost_cny": 100.0, "county": "临江市"})
    table = lot_table(frame)
    assert list(table["cost_cny"]) == [500.0] * 4
    assert (table["extent_km"] < 10).all()


def test_one_lot_per_county() -> None:
    lot = tender_lots(np.zeros(4), np.zeros(4), np.ones(4), n_lots=0, county=np.array(["乙县", "甲县", "乙县", "丙县"]))
    assert list(lot) == [2, 3, 2, 1]  # numbered in county order (丙 < 乙 < 甲 by code point)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 60), st.integers(1, 9))
def test_lots_hold_about_an_equal_share_of_the_cost(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100_000, (n, 2))
    cost = rng.uniform(1e4, 1e6, n)
    lot = tender_lots(xy[:, 0], xy[:, 1], cost, n_lots=k)
    lots = min(k, n)
    assert sorted(set(lot)) == list(range(1, lots + 1))
    per = np.bincount(lot, weights=cost)[1:]
    # each bisection misses its share by less than one intervention's cost
    slack = cost.max() * math.ceil(math.log2(lots)) if lots > 1 else 0.0
    assert np.all(np.abs(per - cost.sum() / lots) <= slack + 1e-6)
