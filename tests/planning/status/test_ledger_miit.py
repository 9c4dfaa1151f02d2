"""The MIIT 台账's fields in field reports (GeoPackage ledger): Chinese headers, each cell checked, an event per
change; the same report on the PostGIS ledger is in test_ledger_pg.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from planning.status.ledger import LedgerError, create_ledger, parse_date, read_history, read_ledger
from planning.status.ledger_miit import miit_value
from planning.status.ledger_updates import apply_updates, read_updates
from tests.planning.status.test_ledger_lifecycle import rows

TODAY = dt.date(2026, 12, 6)
REPORT = (
    "编号,状态,日期,电信光纤,移动4G,接入能力,是否纳入普遍服务,普遍服务批次,未通原因,建设企业,验收人,验收日期,实测带宽\n"
    "V1,在建,2026/3/5,在建,竣工,8,是,第2批,光缆未到村,中国电信临江分公司,,,\n"
    "S1,验收,2026年4月1日,验收,,120,是,2,,中国联通,县教育局,2026/4/1,182.5\n"
)


def check(field: str, text: str) -> tuple[str, str]:
    return miit_value(field, text, parse_date=parse_date, today=TODAY)


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("fibre_status_telecom", "竣工", "completed"),
        ("lte_status_mobile", "Under_Construction", "under_construction"),
        ("access_mbps", "11.5", "11.5"),
        ("usf_included", "否", "no"),
        ("usf_batch", "第3批", "3"),
        ("accepted_on", "2026年12月5日", "2026-12-05"),
        ("builder", "中国铁塔", "中国铁塔"),
    ],
)
def test_each_miit_cell_is_written_one_way(field: str, text: str, value: str) -> None:
    assert check(field, text) == (value, "")


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("fibre_status_telecom", "excluded"),
        ("access_mbps", "nan"),
        ("access_mbps", "-1"),
        ("usf_included", "maybe"),
        ("usf_batch", "第100批"),
        ("accepted_on", "2026/12/7"),  # the day after TODAY
        ("accepted_on", "2026/2/30"),
        ("fibre_status_tower", "竣工"),  # not a field
    ],
)
def test_bad_miit_cells_say_what_was_expected(field: str, text: str) -> None:
    value, why = check(field, text)
    assert value == ""
    assert why.startswith(("expected", "`")) or "future" in why


def test_a_chinese_report_with_miit_fields(tmp_path: Path) -> None:
    ledger = create_ledger(rows(), tmp_path / "ledger.gpkg", date=dt.date(2026, 1, 10))
    report = tmp_path / "台账更新.csv"
    report.write_text(REPORT, encoding="utf-8")
    res = apply_updates(ledger, read_updates(report), today=TODAY)
    assert res.applied == 2
    t = read_ledger(ledger).set_index("id")
    v1, s1 = t.loc["villages:V1"], t.loc["schools:S1"]
    assert (v1["status"], v1["status_date"]) == ("under_construction", "2026-03-05")
    assert (v1["fibre_status_telecom"], v1["lte_status_mobile"], v1["access_mbps"]) == (
        "under_construction",
        "completed",
        8.0,
    )
    assert (v1["usf_included"], v1["usf_batch"], v1["unconnected_reason"]) == ("yes", "2", "光缆未到村")
    assert (s1["status"], s1["accepted_by"], s1["accepted_on"], s1["builder"]) == (
        "accepted",
        "县教育局",
        "2026-04-01",
        "中国联通",
    )
    hist = read_history(ledger)
    assert sorted(hist.loc[hist["id"] == "villages:V1", "field"]) == sorted(
        [
            "status",
            "status",
            "fibre_status_telecom",
            "lte_status_mobile",
            "access_mbps",
            "usf_included",
            "usf_batch",
            "unconnected_reason",
            "builder",
        ]
    )
    # the same report again changes nothing
    again = apply_updates(ledger, read_updates(report), today=TODAY)
    assert (again.applied, again.unchanged) == (0, 2)


def test_a_bad_miit_cell_rejects_the_report(tmp_path: Path) -> None:
    ledger = create_ledger(rows(), tmp_path / "ledger.gpkg", date=dt.date(2026, 1, 10))
    report = tmp_path / "u.csv"
    report.write_text("编号,状态,日期,接入能力\nV1,规划,2026/3/5,fast\n", encoding="utf-8")
    with pytest.raises(LedgerError) as err:
        apply_updates(ledger, read_updates(report), today=TODAY)
    assert [p.column for p in err.value.problems] == ["access_mbps"]
    assert read_ledger(ledger).set_index("id").loc["villages:V1", "status"] == "unconnected"
