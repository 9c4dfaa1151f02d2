"""The plan against the programme's rules, by hand: the subsidy of three interventions (6 years; 10 in a border
county; a school-only line funded elsewhere), a KPI reached after its deadline, and the unserved needs with why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from gis.admin import REGION
from gis.settings.programme import build_programme
from planning.plan.compliance import (
    batch_funding,
    cheapest_serving,
    compliance_table,
    deadline_rows,
    programme_funding,
    subsidy_cny,
    subsidy_objective,
    unserved_table,
)
from planning.plan.cover import solve_cover

#: A new site in a village, a fibre line shared by a village and a school, a fibre line to a school alone.
CHOSEN = pd.DataFrame(
    {
        "candidate_id": ["NS-V1", "FX-V2", "FX-S2"],
        "serves": ["villages:V1", "villages:V2;schools:S1", "schools:S2"],
        "batch": [1, 1, 2],
        "capex_cny": [400_000.0, 60_000.0, 30_000.0],
        "opex_cny_per_year": [24_000.0, 600.0, 288.0],
    }
)


def test_subsidy_of_three_interventions_by_hand_6_years():
    p = build_programme(["usf-2018-pilot"], border=False)
    out = programme_funding(CHOSEN, p, local_share=0.1)
    # 0.3 x (400,000 + 6 x 24,000) = 163,200; 0.3 x (60,000 + 6 x 600) = 19,080; a school-only line: 0
    assert out["central_cny"].tolist() == pytest.approx([163_200.0, 19_080.0, 0.0])
    assert out["local_cny"].tolist() == pytest.approx([40_000.0, 6_000.0, 0.0])
    assert out["operator_cny"].tolist() == pytest.approx([196_800.0, 34_920.0, 30_000.0])
    assert out["subsidy_eligible"].tolist() == [True, True, False]


def test_subsidy_of_three_interventions_by_hand_10_years_in_a_border_county():
    p = build_programme(["usf-2018-pilot"], border=True)
    out = programme_funding(CHOSEN, p, local_share=0.0)
    # 0.3 x (400,000 + 10 x 24,000) = 192,000; 0.3 x (60,000 + 10 x 600) = 19,800
    assert out["central_cny"].tolist() == pytest.approx([192_000.0, 19_800.0, 0.0])
    assert out["subsidy_base_cny"].tolist() == pytest.approx([640_000.0, 66_000.0, 32_880.0])


def test_a_batch_central_money_is_the_sum_of_its_items():
    p = build_programme(["usf-2018-pilot"], border=True)
    items = programme_funding(CHOSEN, p, local_share=0.0)
    batches = pd.DataFrame({"batch": [0, 1, 2], "cost_cny": [0.0, 450_000.0, 30_000.0]})
    out = batch_funding(batches, items)
    assert out["central_cny"].tolist() == pytest.approx([0.0, 211_800.0, 0.0])
    assert out["operator_cny"].tolist() == pytest.approx([0.0, 238_200.0, 30_000.0])


def test_no_pack_subsidy_leaves_the_funding_as_it_was():
    assert programme_funding(CHOSEN, build_programme(["poverty-2018"]), local_share=0.0) is CHOSEN


def _batches(shares: list[float], *, first_year: int) -> pd.DataFrame:
    n = len(shares)
    return pd.DataFrame(
        {
            "batch": range(n),
            "year": [None, *range(first_year, first_year + n - 1)],
            "cost_cny": [0.0] + [1_000_000.0] * (n - 1),
            "poor_broadband_share": shares,
        }
    )


def test_a_kpi_reached_after_its_deadline_is_missed_with_the_budget_that_would_meet_it():
    p = build_programme(["poverty-2018"], kpi_overrides={"poor_broadband": {"deadline_year": 2028}})
    batches = _batches([0.5, 0.7, 0.9, 0.95, 0.99], first_year=2027)  # 98 % reached in batch 4, 2030
    (row,) = [r for r in deadline_rows(p, batches, yearly_budget_cny=1e6) if r["kpi"] == "poor_broadband"]
    assert (row["batch_met"], row["year_met"], row["met"], row["years_late"]) == (4, 2030, False, 2)
    # 4 M CNY of spend by the end of 2028: two years, 2 M a year
    assert row["budget_to_meet_cny"] == pytest.approx(2_000_000.0)


def test_a_deadline_before_batch_1_no_budget_meets():
    p = build_programme(["poverty-2018"])  # due by the end of 2020
    table = compliance_table(p, _batches([0.5, 0.99], first_year=2027), CHOSEN, yearly_budget_cny=1e6)
    row = table[table["rule"].str.startswith("poor_broadband")].iloc[0]
    assert not row["met"]
    assert "reached 2027; 7 year(s) after the deadline" in row["value"]
    assert "no budget meets it: the deadline 2020 is before batch 1" in row["value"]
    assert "关于推进网络扶贫的实施方案" in row["citation"]


def test_a_kpi_met_in_time():
    p = build_programme(["poverty-2018"], kpi_overrides={"poor_broadband": {"deadline_year": 2030}})
    (row,) = [
        r
        for r in deadline_rows(p, _batches([0.5, 0.99], first_year=2027), yearly_budget_cny=1e6)
        if r["kpi"] == "poor_broadband"
    ]
    assert (row["met"], row["year_met"], row["years_late"], row["budget_to_meet_cny"]) == (True, 2027, None, None)


def test_every_unserved_need_says_why_costliest_first():
    demands = pd.DataFrame(
        {
            "unit": ["villages:V1", "villages:V2", "villages:V3", "villages:V4", "villages:V5"],
            "name": ["a", "b", "c", "d", "e"],
            "need": ["4g", "4g", "4g", "broadband", "4g"],
            "is_poor": [True, True, True, False, True],
            "county": ["x"] * 5,
            "served": [False, False, False, False, True],
        }
    )
    # candidate 0 (100 k) serves V1 and V5; candidate 1 (700 k) serves V1 and V4; nothing serves V2 or V3
    cover = sparse.csr_matrix(np.array([[1, 1], [0, 0], [0, 0], [0, 1], [1, 0]], dtype=bool))
    cheapest = cheapest_serving(cover, np.array([100_000.0, 700_000.0]))
    assert cheapest.tolist() == [100_000.0, np.inf, np.inf, 700_000.0, 100_000.0]
    excluded = pd.Series({"villages:V3": "relocated"})
    out = unserved_table(
        demands, excluded, cheapest, targeted=np.array([True, True, True, False, True]), budget_mode=False
    )
    assert out["unit"].tolist() == ["villages:V1", "villages:V2", "villages:V3", "villages:V4"]
    assert out["why"].tolist() == ["left out: target below 100 %", "not coverable", "excluded: relocated", "no target"]
    budget = unserved_table(demands, excluded, cheapest, targeted=np.ones(5, dtype=bool), budget_mode=True)
    assert budget.set_index("unit").loc["villages:V1", "why"] == "over budget"


def test_with_slack_only_by_exclusion_the_kpi_is_reached_at_its_needed_share():
    p = build_programme(["poverty-2018"], kpi_overrides={"poor_broadband": {"deadline_year": 2030}})
    # before the plan 25 of 61 with a shortfall of 36: all 61 are needed (no row excluded with a reason)
    before = pd.DataFrame(
        {"county": [REGION], "poor_broadband_n": [61], "poor_broadband_have": [25], "poor_broadband_shortfall": [36]}
    )
    batches = _batches([25 / 61, 60 / 61, 1.0], first_year=2029)  # 98.4 % in 2029, 100 % in 2030
    (row,) = [
        r for r in deadline_rows(p, batches, yearly_budget_cny=1e6, before=before) if r["kpi"] == "poor_broadband"
    ]
    assert (row["needed"], row["batch_met"], row["year_met"], row["met"]) == (1.0, 2, 2030, True)


#: The demands of CHOSEN's three items (coverage: demand x candidate): V1's 4G by NS-V1, V2's broadband and S1's
#: connection by FX-V2, S2's connection by FX-S2.
DEMAND_LAYER = np.array(["villages", "villages", "schools", "schools"], dtype=object)
COVERAGE = sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool))


def test_the_subsidy_objective_is_the_packs_formula_by_hand():
    capex, opex = CHOSEN["capex_cny"].to_numpy(), CHOSEN["opex_cny_per_year"].to_numpy()
    got = subsidy_objective(
        capex, opex, demand_layer=DEMAND_LAYER, coverage_csr=COVERAGE, programme=build_programme(["usf-2018-pilot"])
    )
    # 0.3 x (400,000 + 6 x 24,000) + 0.001 x 400,000 = 163,600; 0.3 x (60,000 + 6 x 600) + 60 = 19,140; the
    # school-only line: 0 + 0.001 x 30,000 = 30 (the tie-break: not free)
    assert got.tolist() == pytest.approx([163_600.0, 19_140.0, 30.0])
    border = build_programme(["usf-2018-pilot"], border=True)
    got = subsidy_objective(capex, opex, demand_layer=DEMAND_LAYER, coverage_csr=COVERAGE, programme=border)
    assert got.tolist() == pytest.approx([192_400.0, 19_860.0, 30.0])  # 10 years of opex
    # the items' money agrees: the subsidy without the tie-break
    assert subsidy_cny(capex, opex, np.array([True, True, False]), border).tolist() == pytest.approx(
        [192_000.0, 19_800.0, 0.0]
    )


def test_the_subsidy_objective_prefers_what_the_pack_pays_less_for():
    """Two ways to serve one village's 4G: a new site (400,000 capex, 24,000 opex a year: the pack pays 0.3 x
    (400,000 + 6 x 24,000) = 163,200) or a dearer one with no running cost (450,000: 135,000). 30 % of capex
    would choose the first (120,000 < 135,000); the pack's formula chooses the second."""
    capex, opex = np.array([400_000.0, 450_000.0]), np.array([24_000.0, 0.0])
    cov = sparse.csr_matrix(np.array([[1, 1]], dtype=bool))
    obj = subsidy_objective(
        capex,
        opex,
        demand_layer=np.array(["villages"]),
        coverage_csr=cov,
        programme=build_programme(["usf-2018-pilot"]),
    )
    assert obj.tolist() == pytest.approx([163_600.0, 135_450.0])
    member = sparse.csr_matrix(np.ones((1, 1)))
    res = solve_cover(cov, obj, np.ones(1), groups=(member, np.array([1.0])), time_limit_s=10)
    assert res.selected.tolist() == [1]
    res = solve_cover(cov, 0.3 * capex, np.ones(1), groups=(member, np.array([1.0])), time_limit_s=10)
    assert res.selected.tolist() == [0]


def test_a_regional_rate_and_assumed_terms_are_in_the_compliance_table():
    p = build_programme(["usf-2018-pilot"], region="west")
    verified = dataclasses.replace(p, subsidy=dataclasses.replace(p.subsidy, regional_rates={"west": 0.5}))
    out = programme_funding(CHOSEN, verified, local_share=0.0)
    assert out["central_cny"].tolist() == pytest.approx([272_000.0, 31_800.0, 0.0])  # 0.5 x (capex + 6 x opex)
    batches = pd.DataFrame({"batch": [0, 1], "year": [None, 2027], "cost_cny": [0.0, 1.0]})
    table = compliance_table(p, batches, programme_funding(CHOSEN, p, local_share=0.0), yearly_budget_cny=1.0)
    row = table[table["rule"] == "central rate by region (west)"].iloc[0]
    assert row["value"] == "regional rate for west: number not verified; the pack's 30% applies"
    g5 = build_programme(["usf-2026-5g"])
    table = compliance_table(g5, batches, programme_funding(CHOSEN, g5, local_share=0.0), yearly_budget_cny=1.0)
    assert table["rule"].str.endswith("(assumed: terms not verified)").sum() == 1
    assert (
        "not verified in 工信厅联通信函〔2025〕417号"
        in table.loc[table["rule"] == "subsidy terms assumed", "value"].iloc[0]
    )
