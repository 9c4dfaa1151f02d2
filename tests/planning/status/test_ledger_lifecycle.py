"""The ledger's lifecycle: acceptance with a measured speed, exclusion with a reason, the plan written as dated
events (remedy, cost share, batch, year; planned and back), a ledger written by an earlier coverplan."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning.status.ledger import (
    LedgerError,
    copy_ledger,
    create_ledger,
    diff,
    ledger_evidence,
    read_history,
    read_ledger,
    record_plan,
    state_at,
)
from planning.status.ledger_updates import apply_updates
from planning.status.reconcile import ledger_school_counts
from tests.conftest import CRS_M

D0 = dt.date(2026, 1, 10)


def rows() -> gpd.GeoDataFrame:
    ids = ["villages:V1", "villages:V2", "schools:S1", "schools:S2"]
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "layer": ["villages", "villages", "schools", "schools"],
            "name": ["金营村", "乙村", "甲小学", "乙教学点"],
            "county": ["临江市"] * 4,
            "kind": ["poor_village", "village", "primary", "teaching_point"],
            "lacks": ["broadband;4g", "broadband", "connection;outlet_target", "outlet_target"],
            "access": ["", "", "none", "4g"],
            "evidence": ["predicted", "predicted", "reported", "reported"],
            "status": ["unconnected"] * 4,
        },
        geometry=shapely.points(np.arange(4) * 10.0, np.zeros(4)),
        crs=CRS_M,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return create_ledger(rows(), tmp_path / "ledger.gpkg", date=D0)


def upd(*recs: dict) -> pd.DataFrame:
    cols = ["id", "status", "date", "note", "measured_mbps", "reason"]
    return pd.DataFrame([{c: r.get(c, "") for c in cols} for r in recs])


def plan(**rows_: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows_, orient="index")
    frame.index = [i.replace("__", ":") for i in frame.index]
    return frame


def test_accepting_a_school_needs_its_measured_speed(ledger: Path) -> None:
    with pytest.raises(LedgerError) as err:
        apply_updates(ledger, upd({"id": "schools:S1", "status": "accepted", "date": "2026-03-01"}))
    assert [p.column for p in err.value.problems] == ["measured_mbps"]
    for bad in ("nan", "-5", "1e9", "fast"):
        with pytest.raises(LedgerError):
            apply_updates(
                ledger, upd({"id": "schools:S1", "status": "accepted", "date": "2026-03-01", "measured_mbps": bad})
            )
    res = apply_updates(
        ledger,
        upd(
            {
                "id": "schools:S1",
                "status": "accepted",
                "date": "2026-03-01",
                "measured_mbps": "182.5",
                "note": "验收测速",
            }
        ),
    )
    assert res.applied == 1
    row = read_ledger(ledger).set_index("id").loc["schools:S1"]
    assert (row["status"], row["measured_mbps"]) == ("accepted", 182.5)
    ev = ledger_evidence(ledger)
    assert ev.loc["schools:S1", "measured_mbps"] == 182.5
    # a village's acceptance needs no speed
    assert apply_updates(ledger, upd({"id": "villages:V1", "status": "accepted", "date": "2026-03-02"})).applied == 1


def test_exclusion_needs_a_reason_and_coming_back_needs_force(ledger: Path) -> None:
    with pytest.raises(LedgerError) as err:
        apply_updates(ledger, upd({"id": "villages:V2", "status": "excluded", "date": "2026-02-01"}))
    assert [p.column for p in err.value.problems] == ["reason"]
    with pytest.raises(LedgerError):
        apply_updates(ledger, upd({"id": "villages:V2", "status": "excluded", "date": "2026-02-01", "reason": "moved"}))
    apply_updates(
        ledger,
        upd(
            {
                "id": "villages:V2",
                "status": "excluded",
                "date": "2026-02-01",
                "reason": "relocated",
                "note": "易地扶贫搬迁",
            }
        ),
    )
    assert ledger_evidence(ledger).loc["villages:V2", "reason"] == "relocated"
    with pytest.raises(LedgerError, match="1 bad row"):
        apply_updates(ledger, upd({"id": "villages:V2", "status": "unconnected", "date": "2026-02-02"}))
    apply_updates(ledger, upd({"id": "villages:V2", "status": "unconnected", "date": "2026-02-02"}), force=True)
    assert read_ledger(ledger).set_index("id").loc["villages:V2", "status"] == "unconnected"


def test_the_plan_is_written_as_dated_events(ledger: Path) -> None:
    p1 = plan(
        villages__V1={
            "remedy": "new_site",
            "remedy_id": "HP00004",
            "remedy_cost_cny": 61_428.57,
            "batch": 2,
            "year": 2028,
            "funding": "",
        },
        schools__S1={
            "remedy": "fibre",
            "remedy_id": "FX-schools:S1",
            "remedy_cost_cny": 99_789.53,
            "batch": 1,
            "year": 2027,
            "funding": "",
        },
    )
    events = record_plan(ledger, rows(), p1, date=dt.date(2026, 11, 30))
    now = read_ledger(ledger).set_index("id")
    assert now.loc["villages:V1", ["status", "remedy", "remedy_id", "batch", "year"]].tolist() == [
        "planned",
        "new_site",
        "HP00004",
        2.0,
        2028.0,
    ]
    assert now.loc["villages:V1", "remedy_cost_cny"] == pytest.approx(61_428.57)
    assert now.loc["villages:V2", "status"] == "unconnected"
    assert set(events.loc[events["field"] == "status", "id"]) == {"villages:V1", "schools:S1"}
    # the same plan again: nothing changes, no event
    assert len(record_plan(ledger, rows(), p1, date=dt.date(2026, 12, 1))) == 0
    # a later plan serves S1 another way and drops V1: V1 goes back to unconnected, S1 keeps planned
    p2 = plan(
        schools__S1={
            "remedy": "satellite",
            "remedy_id": "SAT-schools:S1",
            "remedy_cost_cny": 200_000.0,
            "batch": 1,
            "year": 2027,
            "funding": "",
        }
    )
    events = record_plan(ledger, rows(), p2, date=dt.date(2026, 12, 15))
    changed = {(r.id, r.field): (r.old, r.new) for r in events.itertuples()}
    assert changed[("villages:V1", "status")] == ("planned", "unconnected")
    assert changed[("schools:S1", "remedy")] == ("fibre", "satellite")
    assert ("schools:S1", "status") not in changed
    # the past is replayed: on 2026-12-01 V1 was planned with HP00004
    past = state_at(ledger, dt.date(2026, 12, 1))
    assert (past.loc["villages:V1", "status"], past.loc["villages:V1", "remedy_id"]) == ("planned", "HP00004")
    hist = read_history(ledger)
    assert set(hist["event_date"]) == {"2026-01-10", "2026-11-30", "2026-12-15"}


def test_rows_under_construction_keep_their_status_and_new_gaps_are_added(ledger: Path) -> None:
    apply_updates(ledger, upd({"id": "schools:S2", "status": "under_construction", "date": "2026-05-01"}))
    more = pd.concat([rows(), rows().iloc[[1]].assign(id="villages:V9", name="新村")], ignore_index=True)
    more = gpd.GeoDataFrame(more, geometry="geometry", crs=CRS_M)
    p = plan(
        schools__S2={
            "remedy": "fibre",
            "remedy_id": "FX-schools:S2",
            "remedy_cost_cny": 5.0,
            "batch": 1,
            "year": 2027,
            "funding": "",
        },
        villages__V9={
            "remedy": "fibre",
            "remedy_id": "FX-villages:V9",
            "remedy_cost_cny": 7.0,
            "batch": 1,
            "year": 2027,
            "funding": "",
        },
    )
    record_plan(ledger, more, p, date=dt.date(2026, 11, 30))
    now = read_ledger(ledger).set_index("id")
    assert now.loc["schools:S2", "status"] == "under_construction"  # the plan never moves a row back
    assert now.loc["villages:V9", "status"] == "planned"
    assert now.loc["villages:V9", "name"] == "新村"


def test_a_ledger_from_an_earlier_coverplan_gets_the_new_columns(ledger: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.gpkg"
    copy_ledger(ledger, old)
    con = sqlite3.connect(old)
    for col in ("year", "funding", "measured_mbps", "reason", "evidence"):
        con.execute(f"ALTER TABLE ledger DROP COLUMN {col}")
    con.commit()
    con.close()
    assert "year" in read_ledger(old)  # read: filled in empty
    record_plan(
        old,
        rows(),
        plan(
            villages__V1={
                "remedy": "fibre",
                "remedy_id": "FX-villages:V1",
                "remedy_cost_cny": 1.0,
                "batch": 1,
                "year": 2027,
                "funding": "",
            }
        ),
        date=dt.date(2026, 11, 30),
    )
    assert read_ledger(old).set_index("id").loc["villages:V1", "year"] == 2027
    with pytest.raises(LedgerError, match="already exists"):
        copy_ledger(ledger, old)


TODAY = dt.date(2026, 3, 1)
PLAN_S1 = {
    "schools__S1": {
        "remedy": "fibre",
        "remedy_id": "FX-schools:S1",
        "remedy_cost_cny": 99_789.53,
        "batch": 1,
        "year": 2027,
        "funding": "",
    }
}


def test_a_first_field_report_back_fills_history_before_the_ledger_existed(ledger: Path) -> None:
    """A school connected in 2025-06, reported in 2026-03 against a ledger created on 2026-01-10 (and planned by
    that run): completed since 2025-06 now and at every date since, in the replay, the diff and the evidence."""
    record_plan(ledger, rows(), plan(**PLAN_S1), date=D0)
    counts_before = ledger_school_counts(ledger, at=dt.date(2026, 2, 1))
    res = apply_updates(
        ledger,
        upd({"id": "schools:S1", "status": "completed", "date": "2025-06-15", "note": "2025年6月已开通"}),
        today=TODAY,
    )
    assert (res.applied, res.events) == (1, 1)
    now = read_ledger(ledger).set_index("id")
    assert now.loc["schools:S1", ["status", "status_date", "remedy_id"]].tolist() == [
        "completed",
        "2025-06-15",
        "FX-schools:S1",
    ]
    event = read_history(ledger).iloc[-1]
    assert (event["id"], event["event_date"], event["new"]) == ("schools:S1", "2025-06-15", "completed")
    assert pd.isna(event["old"])  # the row exists from this date
    # the row exists from its back-filled date, completed from then on (the run's unconnected/planned superseded)
    assert state_at(ledger, dt.date(2025, 6, 14)).empty
    assert state_at(ledger, dt.date(2025, 6, 15))["status"].to_dict() == {"schools:S1": "completed"}
    for day in (D0, dt.date(2026, 2, 1), TODAY):
        at = state_at(ledger, day)
        assert at.loc["schools:S1", "status"] == "completed"
        assert at.loc["schools:S1", "status_date"] == "2025-06-15"
        assert at.loc["schools:S2", "status"] == "unconnected"
    assert state_at(ledger, dt.date(2026, 2, 1)).loc["schools:S1", "remedy_id"] == "FX-schools:S1"
    d = diff(ledger, dt.date(2025, 6, 1), dt.date(2025, 7, 1))
    assert d["status_to"].to_dict() == {"schools:S1": "completed"}
    assert d["status_from"].isna().all()  # new on that date
    d = diff(ledger, dt.date(2025, 7, 1), dt.date(2026, 2, 1))
    assert "schools:S1" not in d.index  # completed on both dates
    assert set(d.index) == {"villages:V1", "villages:V2", "schools:S2"}  # entered on 2026-01-10
    # the reconciliation no longer counts it as unconnected, on any date since 2025-06-15
    assert counts_before.to_dict() == {"临江市": 1}
    assert ledger_school_counts(ledger, at=dt.date(2026, 2, 1)).to_dict() == {}
    # later reports follow the back-fill in date order, also before the ledger's creation
    apply_updates(
        ledger,
        upd({"id": "schools:S1", "status": "accepted", "date": "2025-09-01", "measured_mbps": "300"}),
        today=TODAY,
    )
    assert state_at(ledger, dt.date(2025, 8, 31)).loc["schools:S1", "status"] == "completed"
    assert state_at(ledger, dt.date(2025, 9, 1)).loc["schools:S1", "status"] == "accepted"
    evidence = ledger_evidence(ledger).loc["schools:S1"]
    assert (evidence["status"], evidence["measured_mbps"], evidence["access"]) == ("accepted", 300.0, "fibre")
    with pytest.raises(LedgerError, match="before this row's last recorded change \\(2025-09-01\\)"):
        apply_updates(ledger, upd({"id": "schools:S1", "status": "accepted", "date": "2025-08-01"}), today=TODAY)


def test_only_the_first_field_report_may_back_fill_and_a_bad_row_rejects_the_file(ledger: Path) -> None:
    apply_updates(ledger, upd({"id": "villages:V1", "status": "under_construction", "date": "2026-02-01"}), today=TODAY)
    before = (read_ledger(ledger).drop(columns="geometry").to_dict("records"), read_history(ledger).to_dict("records"))
    bad = upd(
        {"id": "villages:V2", "status": "completed", "date": "2025-11-01"},  # a fine back-fill on its own
        {"id": "villages:V1", "status": "completed", "date": "2025-12-01"},  # V1 has a report already
        {"id": "schools:S2", "status": "unconnected", "date": "2025-12-01", "note": "x"},  # fine: same status
        {"id": "schools:S1", "status": "completed", "date": "2026-01-09", "note": "是"},  # fine
        {"id": "schools:S1", "status": "completed", "date": "2025-12-01"},  # before row 4's back-fill
    )
    with pytest.raises(LedgerError) as err:
        apply_updates(ledger, bad, today=TODAY)
    problems = [(p.row, p.column) for p in err.value.problems]
    assert problems == [(2, "date"), (5, "date")]  # V1 reported already; S1's back-fill in this file came first
    assert "accepted only as its first" in str(err.value)
    after = (read_ledger(ledger).drop(columns="geometry").to_dict("records"), read_history(ledger).to_dict("records"))
    assert after == before  # nothing applied, not even the good back-fills
    # the lifecycle holds for a back-fill too: planned (by the run) -> unconnected goes backwards
    record_plan(ledger, rows(), plan(**PLAN_S1), date=D0)
    with pytest.raises(LedgerError, match="goes backwards"):
        apply_updates(ledger, upd({"id": "schools:S1", "status": "unconnected", "date": "2025-12-01"}), today=TODAY)
    # a back-fill with the status the row has still says since when
    res = apply_updates(ledger, upd({"id": "schools:S2", "status": "unconnected", "date": "2025-12-01"}), today=TODAY)
    assert res.applied == 1
    assert state_at(ledger, dt.date(2025, 12, 1)).index.tolist() == ["schools:S2"]
