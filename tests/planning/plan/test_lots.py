"""Tender lots: compact clusters of similar cost (hand-built clusters, random balance bound)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.plan.lots import lot_table, tender_lots, work_amounts, work_lots


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


def test_work_amounts_add_up_to_capex_by_work_type() -> None:
    inter = pd.DataFrame(
        {
            "kind": ["fibre", "new_site", "new_site", "share", "line_upgrade"],
            "capex_cny": [60_000.0, 520_000.0, 462_000.0, 200_000.0, 0.0],
            "equipment_cny": [np.nan, 400_000.0, 400_000.0, 200_000.0, np.nan],
            "backhaul": ["", "fibre", "microwave", "existing", ""],
            "backhaul_cny": [np.nan, 150_000.0, 62_000.0, 0.0, np.nan],
        }
    )
    a = work_amounts(inter, ran_equipment_cny=150_000.0)
    np.testing.assert_allclose(a.sum(axis=1), inter["capex_cny"])
    # the fibre-backhauled site: its trench share 120k (capex less equipment) is fibre lines, 150k radios, 250k tower
    assert a.loc[1].tolist() == [120_000.0, 250_000.0, 150_000.0, 0.0]
    # the microwave site: 62k microwave, 150k radios, 250k tower
    assert a.loc[2].tolist() == [0.0, 250_000.0, 150_000.0, 62_000.0]
    assert a.loc[3].tolist() == [0.0, 0.0, 200_000.0, 0.0]
    assert a.loc[0].tolist() == [60_000.0, 0.0, 0.0, 0.0]


def test_work_lots_stay_within_the_bounds() -> None:
    rng = np.random.default_rng(3)
    n = 60
    inter = pd.DataFrame(
        {
            "kind": ["fibre"] * 40 + ["new_site"] * 20,
            "capex_cny": np.r_[rng.uniform(20_000, 300_000, 40), np.full(20, 450_000.0)],
            "equipment_cny": np.r_[np.full(40, np.nan), np.full(20, 400_000.0)],
            "backhaul": [""] * 40 + ["fibre"] * 20,
            "backhaul_cny": np.r_[np.full(40, np.nan), np.full(20, 60_000.0)],
            "county": "临江市",
        }
    )
    xy = rng.uniform(0, 80_000, (n, 2))
    table, member = work_lots(
        inter, xy[:, 0], xy[:, 1], ran_equipment_cny=150_000.0, lot_max_cny=2_000_000.0, lot_min_cny=500_000.0
    )
    assert set(table["work_type"]) == {"fibre_lines", "towers", "ran_equipment"}
    assert (table["amount_cny"] <= 2_000_000.0 + 1e-6).all()
    assert table["amount_cny"].sum() == pytest.approx(inter["capex_cny"].sum())
    towers = table[table["work_type"] == "towers"]  # 20 towers of 250k: 5 M in 3 lots of at most 2 M
    assert towers["amount_cny"].sum() == pytest.approx(5_000_000.0)
    assert len(towers) == math.ceil(5_000_000 / 2_000_000)
    # every intervention is in the lots of its work types: a fibre-backhauled site in three
    assert all(len(m.split(";")) == 3 for m in member.iloc[40:])
    assert all(m.startswith("光缆线路-") and ";" not in m for m in member.iloc[:40])
