"""planning.present.report on the demo run: tables agree with the proposal, the HTML holds every table, files open."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planning.present.report import TABLES, html_table
from planning.status.gaps import REGION


class _Tables(HTMLParser):
    """Rows (lists of cell texts) of each table with an id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id = None
        self._cell = None
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._id = a.get("id")
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self.tables[self._id].append([])
        elif tag in ("td", "th") and self._id:
            self._cell = ""
        elif tag == "img":
            self.images.append(a.get("id", ""))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._id][-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self._id = None


@pytest.fixture(scope="module")
def report(demo_run):
    result, out = demo_run
    parser = _Tables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    return result, out, parser


def test_report_html_has_every_table_with_the_proposal_rows(report):
    result, _, html = report
    prop = result.proposal
    assert set(html.tables) == {"region", "cost_curve", "counties", "batches", "interventions", "ledger"}
    assert len(html.tables["interventions"]) == 1 + len(prop.interventions)  # heading + one row each
    assert len(html.tables["ledger"]) == 1 + len(result.gaps.ledger)
    assert len(html.tables["batches"]) == 1 + len(prop.batches)
    assert len(html.tables["counties"]) == 1 + len(result.gaps.targets)
    assert {"chart-cost_curve", "chart-county_coverage"} <= set(html.images)
    # region row: poor villages with broadband, before/after as the proposal's totals say
    poor = html.tables["region"][1]
    t = prop.totals
    assert poor[2] == f"{t['poor_broadband_share_before']:.1%}"
    assert poor[3] == f"{t['poor_broadband_share_after']:.1%}"


def test_tables_add_up(report):
    result, out, _ = report
    prop = result.proposal
    inter = pd.read_csv(out / "report_interventions.csv")
    assert inter["cost_cny"].sum() == pytest.approx(prop.totals["cost_cny"], abs=len(inter))  # rounded per row
    batches = pd.read_csv(out / "report_batches.csv")
    assert batches["cost_cny"].sum() == pytest.approx(prop.totals["cost_cny"], rel=1e-9, abs=1)
    assert np.all(np.diff(batches["cumulative_cost_cny"]) >= 0)
    ledger = pd.read_csv(out / "report_ledger.csv", dtype={"id": str})
    remaining = ledger[ledger["remaining"]]
    # villages with broadband that lack only 4G are ledger rows but not demands of the plan (domain review §3.3)
    not_demands = ledger[~ledger["id"].isin(set(prop.demands["demand_id"]))]
    assert set(not_demands["lacks"]) <= {"4g"}
    assert len(remaining) == int((~prop.demands["served"]).sum()) + len(not_demands) < len(ledger)
    served_batch = dict(zip(prop.demands["demand_id"], prop.demands["batch"], strict=True))
    for row in ledger.itertuples():
        assert row.closed_in_batch == served_batch.get(row.id, 0)
    counties = pd.read_csv(out / "report_counties.csv")
    region = counties[counties["county"] == REGION].iloc[0]
    assert region["poor_broadband_share_after"] >= region["poor_broadband_share_before"]


def test_cost_curve_grows_with_the_budget_and_never_exceeds_it(report):
    _, out, _ = report
    curve = pd.read_csv(out / "report_cost_curve.csv")
    assert len(curve) == 8
    assert (curve["cost_cny"] <= curve["budget_cny"] + 1e-6).all()
    assert np.all(np.diff(curve["weight_share"]) >= -1e-9)
    assert curve["weight_share"].between(0, 1).all()


def test_xlsx_has_one_sheet_per_table(report):
    _, out, _ = report
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    # the demo is one province: no national summary sheet
    assert wb.sheetnames == [t for t in TABLES if t != "provinces"]
    assert not (out / "report_provinces.csv").exists()
    inter = pd.read_excel(out / "report.xlsx", sheet_name="interventions")
    assert len(inter) == len(pd.read_csv(out / "report_interventions.csv"))


def test_html_table_escapes_and_formats():
    frame = pd.DataFrame({"name": ["<b>x</b>"], "share": [0.9876], "cost": [1234567.0], "ok": [True]})
    text = html_table(frame, table_id="t", share_cols=("share",))
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "<b>x" not in text
    assert "98.8%" in text
    assert "1,234,567" in text
    assert "✓" in text
