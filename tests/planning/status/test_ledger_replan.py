"""Commitments, the optimiser's evidence with them delivered, and the plan diff, on hand-built ledger tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planning.status import LedgerError
from planning.status.ledger_replan import (
    budget_left,
    commitments,
    diff_totals,
    plan_diff,
    served_needs,
    unspent_by_year,
    with_commitments,
)


def table(**cols: list) -> pd.DataFrame:
    base = {
        "id": ["villages:V1", "villages:V2", "villages:V3", "schools:S1", "schools:S2"],
        "name": ["甲村", "乙村", "丙村", "甲小学", "乙小学"],
        "county": ["临江市"] * 5,
        "status": ["planned", "under_construction", "completed", "planned", "unconnected"],
        "lacks": ["broadband;4g", "broadband", "broadband", "connection;outlet_target", "outlet_target"],
        "remedy": ["fibre", "new_site", "fibre", "satellite", ""],
        "remedy_id": ["FX-1", "NS-2", "FX-3", "SAT-4", ""],
        "remedy_cost_cny": [1000.0, 350000.0, 2000.0, 30000.0, np.nan],
        "batch": [1.0, 1.0, 2.0, 2.0, np.nan],
        "year": [2027.0, 2027.0, 2028.0, 2028.0, np.nan],
        "plan_detail": [
            "broadband: 2027 (fibre FX-1)",
            "broadband: 2027 (new_site NS-2); 4g: 2027 (new_site NS-2)",
            "",
            "connection: 2028 (satellite SAT-4)",
            "",
        ],
        "reason": [""] * 5,
    }
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("replan", "kept"),
    [
        ("none", ["villages:V1", "villages:V2", "villages:V3", "schools:S1"]),
        ("planned", ["villages:V2", "villages:V3"]),
        ("all", []),
    ],
)
def test_commitments_by_what_may_be_redecided(replan: str, kept: list[str]) -> None:
    c = commitments(table(), replan=replan)  # type: ignore[arg-type]
    assert list(c.index) == kept
    assert c["remedy_cost_cny"].sum() == {"none": 383000.0, "planned": 352000.0, "all": 0.0}[replan]


def test_commitments_refuse_an_unknown_replan() -> None:
    with pytest.raises(ValueError, match="replan="):
        commitments(table(), replan="some")  # type: ignore[arg-type]


def test_served_needs_come_from_the_plan_detail() -> None:
    assert served_needs("broadband: 2027 (fibre FX-1); 4g: 2029 (new_site HP1)", "broadband;4g") == "broadband;4g"
    assert served_needs("connection: 2028 (satellite SAT-4)", "connection;outlet_target") == "connection"
    assert served_needs("", "broadband") == "broadband"  # entered by hand: all it lacked


def test_commitments_count_as_delivering_only_what_their_plan_serves() -> None:
    measured = pd.DataFrame(
        {
            "status": ["unconnected", "accepted"],
            "lacks": ["outlet_target", "broadband"],
            "measured_mbps": [np.nan, np.nan],
            "reason": ["", ""],
            "access": [pd.NA, "fibre"],
        },
        index=["schools:S2", "villages:V9"],
    )
    ev = with_commitments(measured, commitments(table()), outlet_mbps=100.0)
    assert ev.at["villages:V1", "status"] == "accepted"
    assert ev.at["villages:V1", "lacks"] == "broadband"  # its 4G is still to plan
    assert ev.at["villages:V3", "lacks"] == "broadband"  # no detail: what it lacked
    assert ev.at["schools:S1", "lacks"] == "connection"
    assert ev.at["schools:S1", "measured_mbps"] == 0.0  # connected by satellite, outlet still lacking
    assert ev.at["schools:S2", "status"] == "unconnected"  # not a commitment: unchanged
    assert ev.at["villages:V9", "status"] == "accepted"


def test_plan_diff_names_each_change_with_its_reason_and_money() -> None:
    before = table(
        status=["planned", "planned", "planned", "excluded", "unconnected"],
        reason=["", "", "", "merged", ""],
    )
    after = table(
        status=["planned", "planned", "unconnected", "excluded", "planned"],
        remedy=["fibre", "upgrade_5g", "", "satellite", "fibre"],
        remedy_id=["FX-1", "U5-2", "", "SAT-4", "FX-5"],
        remedy_cost_cny=[1000.0, 150000.0, np.nan, 30000.0, 8000.0],
        batch=[2.0, 1.0, np.nan, 2.0, 1.0],
        reason=["", "", "", "merged", ""],
    )
    after = pd.concat([after, table().iloc[[0]].assign(id="villages:V7", status="planned")], ignore_index=True)
    d = plan_diff(before, after).set_index("id")
    assert d.loc["villages:V1", ["change", "reason"]].tolist() == ["moved", "re-phased: batch 1 -> 2"]
    assert d.loc["villages:V2", ["change", "reason"]].tolist() == ["replaced", "re-optimised: NS-2 -> U5-2"]
    assert d.at["villages:V3", "change"] == "dropped"
    assert d.at["villages:V3", "cost_before_cny"] == 2000.0
    assert np.isnan(d.at["villages:V3", "cost_after_cny"])
    assert d.loc["schools:S1", ["change", "reason"]].tolist() == [
        "dropped",
        "excluded (核减) by a field report: merged",
    ]
    assert d.loc["schools:S2", ["change", "reason"]].tolist() == ["added", "chosen by the optimiser"]
    assert d.loc["villages:V7", ["change", "reason"]].tolist() == ["added", "newly lacking: chosen by the optimiser"]
    totals = diff_totals(d.reset_index())
    assert totals["dropped"] == {"rows": 2, "before_cny": 32000.0, "after_cny": 0.0}
    assert totals["added"] == {"rows": 2, "before_cny": 0.0, "after_cny": 9000.0}


def test_plan_diff_keeps_commitments_and_marks_accepted_rows_done() -> None:
    before = table()
    after = table(status=["planned", "under_construction", "accepted", "planned", "unconnected"])
    d = plan_diff(before, after, kept=pd.Index(["villages:V1", "villages:V2", "schools:S1"])).set_index("id")
    assert d.at["villages:V1", "change"] == "kept"
    assert d.at["villages:V1", "reason"].startswith("committed (planned)")
    assert d.at["villages:V3", "change"] == "done"
    assert "schools:S2" not in d.index  # in no plan, before or after


@pytest.mark.parametrize(
    ("replan", "by_year"),
    [
        ("none", {2027: 351000.0, 2028: 30000.0}),  # V3 is completed: paid, not held
        ("planned", {2027: 350000.0}),  # only V2, under construction
        ("all", {}),
    ],
)
def test_unspent_by_year_holds_planned_and_under_construction_rows(replan: str, by_year: dict) -> None:
    assert unspent_by_year(commitments(table(), replan=replan)) == by_year  # type: ignore[arg-type]


def test_a_commitment_with_no_year_is_held_as_year_0() -> None:
    t = table(year=[np.nan, 2027.0, 2028.0, 2028.0, np.nan])
    assert unspent_by_year(commitments(t)) == {0: 1000.0, 2027: 350000.0, 2028: 30000.0}


def test_budget_left_is_the_budget_less_what_commitments_still_spend() -> None:
    assert budget_left(400000.0, 381000.0) == pytest.approx(19000.0)
    with pytest.raises(LedgerError, match=r"381,000 CNY.*381,000 CNY.*--replan"):
        budget_left(381000.0, 381000.0, ledger="ledger.gpkg")
    with pytest.raises(LedgerError, match=r"ledger\.gpkg: the commitments"):
        budget_left(100000.0, 381000.0, ledger="ledger.gpkg")
