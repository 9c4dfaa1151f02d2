"""planning.present.report on the demo run: tables agree with the proposal, the HTML holds every table, files open."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from matplotlib import font_manager

from gis.admin import REGION
from gis.settings import TargetSettings
from planning.present.labels import TABLE_TITLES, code_text, known_column, verify_text
from planning.present.report import (
    TABLES,
    chart_targets,
    cjk_font,
    cost_curve_chart,
    county_chart,
    find_cjk_font_file,
    html_table,
    workbook_sheet,
    write_workbook,
)
from tests.html_tables import HtmlTables


@pytest.fixture(scope="module")
def report(demo_run):
    result, out = demo_run
    parser = HtmlTables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    return result, out, parser


def test_report_html_has_every_table_with_the_proposal_rows(report):
    result, out, html = report
    prop = result.proposal
    assert set(html.tables) == {
        "region",
        "cost_curve",
        "counties",
        "batches",
        "interventions",
        "lots",
        "application",
        "townships",
        "ledger",
        "ledger_changes",
        "verification",
        "unserved",  # V000189, S000050, S000073 and the untargeted needs, each with why
    }  # no KPI short after the demo's target plan; no programme pack: no compliance table
    assert html.tables["unserved"][1][0] == "villages:V000189"  # the costliest left out comes first
    assert len(html.tables["lots"]) == 1 + 1  # the demo is one county: one lot
    # the application adds up: per township and for the county, what the proposal holds
    app = pd.read_csv(out / "report_application.csv")
    towns = pd.read_csv(out / "report_townships.csv", dtype={"township": str})
    t = prop.totals
    for table in (app[app["county"] == REGION], towns):
        assert table["capex_cny"].sum() == pytest.approx(t["capex_cny"], abs=len(towns) + 1)
        assert table["central_cny"].sum() + table["local_cny"].sum() + table["operator_cny"].sum() == pytest.approx(
            table["capex_cny"].sum(), rel=1e-9
        )
    served = prop.demands[prop.demands["served"]].drop_duplicates("unit")
    assert towns["villages"].sum() + towns["schools"].sum() == len(served)
    assert (towns["township"].str.len() == 9).all()
    assert towns["cable_km"].sum() == pytest.approx(prop.routes["length_m"].sum() / 1000.0, abs=0.01 * len(towns))
    assert len(html.tables["interventions"]) == 1 + len(prop.interventions)  # heading + one row each
    assert len(html.tables["ledger"]) == 1 + len(result.gaps.ledger)
    assert len(html.tables["batches"]) == 1 + len(prop.batches)
    assert len(html.tables["counties"]) == 1 + len(result.gaps.targets)
    assert len(html.tables["verification"]) == 1 + len(result.gaps.verification)
    assert {"chart-cost_curve", "chart-county_coverage"} <= set(html.images)
    # one region row per KPI; poor villages with broadband before/after as the proposal's totals say
    assert len(html.tables["region"]) == 1 + 9  # six KPIs and the fibre (poor, all villages) and village 4G KPIs
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


def test_each_townships_row_holds_exactly_its_own_interventions_and_units(report):
    """The townships add up to their county's row, column by column, and each intervention and served unit is
    counted in the township of the first village or school it serves (counted by hand from the proposal)."""
    result, out, _ = report
    prop = result.proposal
    app = pd.read_csv(out / "report_application.csv")
    towns = pd.read_csv(out / "report_townships.csv", dtype={"township": str})
    counts = [c for c in towns.columns if c.endswith("_count")] + ["villages", "schools", "fibre_extensions"]
    money = ["capex_cny", "central_cny", "local_cny", "operator_cny", "opex_cny_per_year"]
    for county, part in towns.groupby("county"):
        row = app[app["county"] == county].iloc[0]
        for col in counts:
            assert int(part[col].sum()) == int(row[col]), col
        for col in money:
            assert float(part[col].sum()) == pytest.approx(float(row[col]), rel=1e-9, abs=1e-6), col
    code = result.gaps.villages.set_index("village_id")["admin_code"].astype(str).str[:9]
    first = prop.interventions["serves"].astype(str).str.split(";").str[0]
    vill = first.str.startswith("villages:")
    town_of = first[vill].str.split(":", n=1).str[1].map(code)
    per_town = prop.interventions.loc[vill.to_numpy()].groupby(town_of.to_numpy())["capex_cny"].sum()
    got = towns.set_index("township")["capex_cny"]
    for town, capex in per_town.items():  # schools sit in their nearest village's township: at least these
        assert got[town] >= capex - 1e-6


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
    # the demo is one province: no national summary sheet; the demo is a zh project: Chinese sheet names
    # and no programme rule pack: no compliance sheet
    assert wb.sheetnames == [TABLE_TITLES[t][0] for t in TABLES if t not in ("provinces", "compliance")]
    assert wb.sheetnames[:2] == ["全区指标", "分区县"]
    assert not (out / "report_provinces.csv").exists()
    inter = pd.read_excel(out / "report.xlsx", sheet_name="建设项目")
    assert len(inter) == len(pd.read_csv(out / "report_interventions.csv"))


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def test_zh_workbook_has_chinese_headers_and_planner_formats(report):
    result, out, _ = report
    wb = openpyxl.load_workbook(out / "report.xlsx")
    inter = wb["建设项目"]
    assert inter["A1"].value == "批次"
    assert inter.freeze_panes == "A2"
    head = _header(inter)
    assert {"项目编号", "类型", "回传", "投资（元）", "服务点数", "服务对象"} <= set(head)
    cost = inter.cell(row=2, column=head["投资（元）"])
    assert isinstance(cost.value, int | float)
    assert cost.number_format == "#,##0"
    kinds = {inter.cell(row=r, column=head["类型"]).value for r in range(2, inter.max_row + 1)}
    assert "新建基站" in kinds
    assert kinds <= {"新建基站", "光纤延伸", "5G 升级", "共享铁塔（4G）", "共享铁塔（5G）", "卫星接入", "线路提速"}
    backhaul = {inter.cell(row=r, column=head["回传"]).value for r in range(2, inter.max_row + 1)}
    assert "微波回传" in backhaul
    region = wb["全区指标"]
    assert [c.value for c in region[1]] == [
        "指标",
        "统计数",
        "目标",
        "方案前",
        "方案后",
        "按人口加权（前）",
        "按人口加权（后）",
        "是否达标",
        "未达标区县数",
    ]
    before = region.cell(row=2, column=4)
    t = result.proposal.totals
    assert before.value == pytest.approx(t["poor_broadband_before"], abs=5e-5)  # totals keep 4 decimals
    assert before.number_format == "0.0%"
    assert region.cell(row=2, column=8).value in ("是", "否")
    people = region.cell(row=2, column=6)  # poor villages with broadband, weighted by population, before
    reg = result.gaps.targets.set_index("county").loc[REGION]
    assert people.value == pytest.approx(reg["poor_broadband_people_share"])
    assert people.value != pytest.approx(reg["poor_broadband_share"])  # a weighting of its own, not the count
    assert people.number_format == "0.0%"
    ledger = wb["台账"]
    lhead = _header(ledger)
    lacks = {ledger.cell(row=r, column=lhead["缺口"]).value for r in range(2, ledger.max_row + 1)}
    assert "宽带、4G" in lacks
    # column widths fitted to what is shown (the default is 13): the names served are wide, shares narrow
    widths = {c: inter.column_dimensions[openpyxl.utils.get_column_letter(i)].width for c, i in head.items()}
    assert widths["服务对象"] == 50
    assert 8 <= widths["批次"] < 13
    counties = wb["分区县"]
    assert [counties.cell(row=r, column=1).value for r in range(2, counties.max_row + 1)][-1] == "全区合计"
    # no code a planner would have to look up is left in any text cell of the workbook
    codes = {"new_site", "upgrade_5g", "broadband;4g", "microwave", "fibre_extension", "optimal", "outlet_target"}
    codes.add(REGION)
    texts = {c.value for ws in wb for row in ws.iter_rows(min_row=2) for c in row if c.data_type == "s"}
    assert not codes & texts


def test_report_html_shows_no_codes_in_a_zh_project(report):
    _, _, html = report
    cells = {c for rows in html.tables.values() for row in rows for c in row}
    assert not {"new_site", "fibre", "microwave", "broadband;4g", "fibre_extension", "optimal"} & cells
    assert {"新建基站", "微波回传", "宽带、4G", "光纤延伸"} <= cells
    assert html.tables["interventions"][0][:5] == ["批次", "年度", "标段", "项目编号", "类型"]


def test_every_column_of_the_demo_report_tables_has_metadata(report):
    """A column the metadata does not know is still written (heading = its name); this lists any, so a new table
    column gets its Chinese heading and format in planning/present/labels.py COLUMNS."""
    _, out, _ = report
    unknown = []
    for key in TABLES:
        path = out / f"report_{key}.csv"
        if path.exists():
            columns = pd.read_csv(path, nrows=0).columns
            unknown += [f"{key}.{c}" for c in columns if not known_column(c, table=key)]
    assert unknown == []


def test_an_unknown_column_is_written_with_its_name_and_the_format_of_its_unit(tmp_path):
    frame = pd.DataFrame({"route_km": [12.345], "extra_cost_cny": [1234567.8], "served_share": [0.5], "mystery": ["x"]})
    _, headers, formats, _ = workbook_sheet(frame, table="new_table", language="zh")
    assert headers == {c: c for c in frame.columns}
    assert formats == {"route_km": "#,##0.0", "extra_cost_cny": "#,##0", "served_share": "0.0%"}
    path = write_workbook({"new_table": frame}, tmp_path / "r.xlsx", language="zh")
    ws = openpyxl.load_workbook(path)["new_table"]
    assert [c.value for c in ws[1]] == ["route_km", "extra_cost_cny", "served_share", "mystery"]
    assert ws["A2"].number_format == "#,##0.0"
    assert ws["A2"].value == pytest.approx(12.345)
    assert html_table(frame, table_id="t", language="zh").count("12.3<") == 1


def test_en_workbook_has_english_headings_and_words(tmp_path):
    frame = pd.DataFrame({"kind": ["new_site", "fibre"], "cost_cny": [350000.0, 1234.5], "lacks": ["broadband;4g", ""]})
    path = write_workbook({"interventions": frame}, tmp_path / "r.xlsx", language="en")
    ws = openpyxl.load_workbook(path)["Interventions"]
    assert [c.value for c in ws[1]] == ["Kind", "Cost (CNY)", "Lacks"]
    assert [ws["A2"].value, ws["A3"].value] == ["New site", "Fibre extension"]
    assert ws["C2"].value == "Broadband, 4G"
    assert ws["C3"].value is None
    assert ws["B2"].number_format == "#,##0"


def test_html_table_escapes_and_formats():
    frame = pd.DataFrame({"name": ["<b>x</b>"], "share": [0.9876], "cost": [1234567.0], "ok": [True]})
    text = html_table(frame, table_id="t", share_cols=("share",))
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "<b>x" not in text
    assert "98.8%" in text
    assert "1,234,567" in text
    assert "✓" in text


def _counties(names: list[str]) -> pd.DataFrame:
    n = len(names)
    return pd.DataFrame(
        {
            "county": [*names, REGION],
            "poor_broadband_before": np.linspace(0.5, 0.9, n + 1),
            "poor_broadband_after": np.ones(n + 1),
        }
    )


@pytest.mark.skipif(find_cjk_font_file() is None, reason="no font with Chinese glyphs installed (fonts-wqy-microhei)")
def test_charts_find_the_cjk_font_by_its_file_even_when_the_font_cache_misses_it(monkeypatch):
    # a font cache built before the font was installed: matplotlib lists no CJK font at all
    stale = [f for f in font_manager.fontManager.ttflist if f.fname != str(find_cjk_font_file())]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr("planning.present.report._REGISTERED", set())
    names = ["临江市", "浑江区", "抚松县"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail here
        fig = county_chart(_counties(names), language="zh")
        png = fig.savefig(io.BytesIO(), format="png")
    assert png is None
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names  # the names themselves, never "#1"
    assert ax.get_ylabel() == "贫困村宽带通达率"
    family = ax.get_xticklabels()[0].get_fontfamily()
    assert family[0] == cjk_font()


def test_en_charts_have_english_labels_and_county_names_as_they_are():
    fig = county_chart(_counties(["临江市", "$\\frac$"]), language="en")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Poor villages with broadband"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["临江市", "$\\frac$"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Before", "After"]


def test_verification_notes_are_in_the_planners_words_in_a_zh_report(report):
    """The field-check notes (planning.status.evidence) are English sentences with numbers; a zh report shows them
    in Chinese, numbers kept, in the HTML and the workbook (the CSV keeps the notes as written)."""
    result, out, html = report
    rows = html.tables["verification"]
    col = rows[0].index("需核实内容")
    notes = [r[col] for r in rows[1:]]
    assert len(notes) == len(result.gaps.verification) > 0
    leftover = [n for n in notes if re.search(r"\b(reported|model|access|fibre)\b", n)]
    assert leftover == []
    first = result.gaps.verification["what"].iloc[0]
    distance = re.search(r"\(([\d,]+) m along roads\)", first)
    if distance:
        assert f"沿道路 {distance.group(1)} 米" in notes[0]
    wb = openpyxl.load_workbook(out / "report.xlsx")
    sheet = wb["待核实清单"]
    head = _header(sheet)
    assert sheet.cell(row=2, column=head["需核实内容"]).value == notes[0]
    assert pd.read_csv(out / "report_verification.csv")["what"].iloc[0] == first


@pytest.mark.parametrize(
    ("note", "zh"),
    [
        (
            "fibre: reported no, model yes (fibre 1,120 m away along roads)",
            "光纤：上报无，模型有（沿道路距光缆 1,120 米）",
        ),
        ("4g: reported yes, model no (RSRP -115.3 dBm)", "4G：上报有，模型无（RSRP -115.3 dBm）"),
        ("5g: reported yes, model no (no site in range)", "5G：上报有，模型无（范围内无基站）"),
        ("access: reported 5g, model finds no 5g coverage", "接入方式：上报 5G，模型预测无 5G 覆盖"),
        (
            "bandwidth_mbps: not reported (outlet unknown, not counted at target); access: not reported, status from "
            "the model only",
            "带宽：未上报（出口带宽未知，不计入达标）；接入方式：未上报，状态仅来自模型预测",
        ),
        ("a note no pattern knows", "a note no pattern knows"),
    ],
)
def test_verification_notes_translate_part_by_part(note, zh):
    assert verify_text(note, "zh", sep="；") == zh  # as the report's table shows it
    assert verify_text(note, "en", sep="; ") == note


def test_chart_target_lines_come_from_the_project_targets():
    targets = TargetSettings(school_connected_share=0.9, poor_village_broadband_share=0.95, school_outlet_share=0.0)
    assert chart_targets(targets) == (0.9, 0.95, 0.95, 0.0)

    def dashed(fig) -> list[float]:
        lines = fig.axes[0].get_lines()
        return sorted(float(ln.get_ydata()[0]) for ln in lines if ln.get_linestyle() == "--")

    assert dashed(county_chart(_counties(["a", "b"]), language="en", target_share=0.9)) == [0.9]
    assert dashed(county_chart(_counties(["a", "b"]), language="en", target_share=0.0)) == []
    curve = pd.DataFrame(
        {
            "cost_cny": [1e5, 2e5],
            "unconnected_schools_share": [0.5, 1.0],
            "poor_villages_share": [0.4, 0.9],
            "poor_broadband_share": [0.4, 0.9],
            "school_outlet_share": [0.2, 0.6],
        }
    )
    # one line per distinct target set (0: no target), not one per series
    assert dashed(cost_curve_chart(curve, language="en", target_shares=chart_targets(targets))) == [0.9, 0.95]


def test_the_unserved_table_says_why_in_the_reports_language(report):
    result, _, html = report
    # every reason the plan gives (besides a ledger's free-text exclusion) has the planner's words in Chinese
    reasons = set(result.proposal.unserved["why"])
    fixed = {r for r in reasons if not r.startswith("excluded: ")}
    assert fixed
    for reason in fixed:
        assert code_text(reason, "why", "zh") != reason
    assert code_text("left out: target below 100 %", "why", "zh") == "目标低于 100%，本方案未纳入"
    assert code_text("4g", "need", "zh") == "4G 覆盖"
    shown = {row[5] for row in html.tables["unserved"][1:]}  # the "why" column as the zh report shows it
    assert shown <= {code_text(r, "why", "zh") for r in reasons}
