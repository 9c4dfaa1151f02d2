"""The plan's ledger rows (planning.plan.outcome.ledger_plan), computed by hand."""

from __future__ import annotations

import pandas as pd

from planning.plan.outcome import ledger_plan


def test_ledger_rows_split_each_intervention_among_what_it_serves() -> None:
    chosen = pd.DataFrame(
        {
            "candidate_id": ["C1", "C2"],
            "kind": ["fibre", "site_4g"],
            "n_served": [3, 2],
            "cost_cny": [300_000.0, 500_000.0],
            "central_cny": [90_000.0, 150_000.0],
            "local_cny": [210_000.0, 50_000.0],
            "operator_cny": [0.0, 300_000.0],
            "batch": [1, 2],
            "year": [2027, 2028],
        }
    )
    dem = pd.DataFrame(
        {
            "unit": ["villages:V1", "villages:V1", "schools:S1", "villages:V2"],
            "need": ["broadband", "4g", "school_outlet", "broadband"],
            "served": [True, True, True, False],
            "by": ["C1", "C2", "C1", ""],
        }
    )
    out = ledger_plan(dem, chosen)
    assert out.index.tolist() == ["schools:S1", "villages:V1"]  # V2 is not served: no plan row
    v1, s1 = out.loc["villages:V1"], out.loc["schools:S1"]
    # V1: a third of C1 (300,000 / 3) and half of C2 (500,000 / 2); it waits for C2's batch
    assert v1["remedy"] == "fibre;site_4g"
    assert v1["remedy_id"] == "C1;C2"
    assert v1["remedy_cost_cny"] == 350_000.0
    assert (v1["batch"], v1["year"]) == (2, 2028)
    assert v1["funding"] == "central 105,000; local 95,000; operator 150,000"
    assert v1["plan_detail"] == "broadband: 2027 (fibre C1); 4g: 2028 (site_4g C2)"
    assert v1["serves"] == "broadband;4g"
    assert s1["remedy_cost_cny"] == 100_000.0
    assert s1["funding"] == "central 30,000; local 70,000; operator 0"
    assert s1["plan_detail"] == "school_outlet: 2027 (fibre C1)"
    assert (s1["batch"], s1["year"]) == (1, 2027)
