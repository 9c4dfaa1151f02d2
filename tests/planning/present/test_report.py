"""planning.present.report on the demo run: tables agree with the proposal, the HTML holds every table, files open."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planning.present.report import TABLES, html_table
from planning.status.kpi import REGION


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
    assert set(html.tables) == {
        "region",
        "cost_curve",
        "counties",
        "batches",
        "interventions",
        "lots",
        "ledger",
        "ledger_changes",
        "verification",
    }  # no KPI short after the demo's target plan
    assert len(html.tables["lots"]) == 1 + 1  # the demo is one county: one lot
    assert len(html.tables["interventions"]) == 1 + len(prop.interventions)  # heading + one row each
    assert len(html.tables["ledger"]) == 1 + len(result.gaps.ledger)
    assert len(html.tables["batches"]) == 1 + len(prop.batches)
    assert len(html.tables["counties"]) == 1 + len(result.gaps.targets)
    assert len(html.tables["verification"]) == 1 + len(result.gaps.verification)
    assert {"chart-cost_curve", "chart-county_coverage"} <= set(html.images)
    # one region row per KPI; poor villages with broadband before/after as the proposal's totals say
    assert len(html.tables["region"]) == 1 + 6
    poor = html.tables["region"][1]
    t = prop.totals
    assert poor[3] == f"{t['poor_broadband_before']:.1%}"
    assert poor[4] == f"{t['poor_broadband_after']:.1%}"


def test_tables_add_up(report):
    result, out, _ = report
    prop = result.proposal
    inter = pd.read_csv(out / "report_interventions.csv")
    assert inter["cost_cny"].sum() == pytest.approx(prop.totals["cost_cny"], abs=len(inter))  # rounded per row
    batches = pd.read_csv(out / "report_batches.csv")
    assert batches["cost_cny"].sum() == pytest.approx(prop.totals["cost_cny"], rel=1e-9, abs=1)
    assert np.all(np.diff(batches["cumulative_cost_cny"]) >= 0)
    ledger = pd.read_csv(out / "report_ledger.csv", dtype={"id": str})
    dem = prop.demands
    open_units = set(dem.loc[~dem["served"], "unit"])
    last_batch = dem[dem["served"]].groupby("unit")["batch"].max()
    for row in ledger.itertuples():
        closed = row.id in last_batch.index and row.id not in open_units
        assert row.closed_in_batch == (last_batch[row.id] if closed else 0)
        assert row.remaining == (not closed)
    assert 0 < int(ledger["remaining"].sum()) < len(ledger)
    counties = pd.read_csv(out / "report_counties.csv")
    region = counties[counties["county"] == REGION].iloc[0]
    assert region["poor_broadband_after"] >= region["poor_broadband_before"]


def test_cost_curve_points_are_budget_runs_within_their_budget(report):
    _, out, _ = report
    curve = pd.read_csv(out / "report_cost_curve.csv")
    assert len(curve) == 6
    assert (curve["cost_cny"] <= curve["budget_cny"] + 1e-6).all()
    assert set(curve["status"]) == {"optimal"}
    # unconnected schools come first: their share never falls as the budget grows
    assert np.all(np.diff(curve["unconnected_schools_share"]) >= -1e-9)
    assert curve["unconnected_schools_share"].between(0, 1).all()


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
