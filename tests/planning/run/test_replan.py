"""Re-planning keeps commitments (docs/status-ledger.md, "Re-planning"): the demo's plan adopted as the project's
ledger, four field reports (a fibre line completed, a site under construction, a village found connected, an item
cancelled), then a re-run: every committed row keeps its remedy, money, batch and year, the optimiser buys nothing
the commitments already close, and plan_diff.csv says what changed and why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gis.project import load_project
from planning.cli import cli
from planning.cli.run import commitments_line, run
from planning.run import run_pipeline
from planning.status import (
    LedgerError,
    apply_updates,
    budget_left,
    commitments,
    create_ledger,
    read_ledger,
    read_updates,
    unspent_by_year,
)
from planning.status.ledger_replan import COMMITTED

REPORT_DATE = "2026/6/1"  # Chinese Excel's date, after the demo run's plan (2026-01-01)


def _reports(plan: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Four field reports on the demo's planned villages, in Chinese as a county office writes them."""
    planned = plan[plan["status"] == "planned"].sort_values(["batch", "id"])
    fibre1 = planned[(planned["batch"] == 1) & (planned["remedy"] == "fibre")].iloc[0]["id"]
    site = planned[planned["remedy"].str.contains("new_site") & (planned["id"] != fibre1)].iloc[0]["id"]
    later = planned[(planned["batch"] > 1) & ~planned["id"].isin([site]) & (planned["layer"] == "villages")]
    found = later.iloc[-1]["id"]
    cancel = later.iloc[0]["id"]
    ids = {"completed": fibre1, "under_construction": site, "accepted": found, "excluded": cancel}
    rows = [
        {"编号": fibre1, "状态": "竣工", "日期": REPORT_DATE, "备注": "光缆已完工", "核减原因": ""},
        {"编号": site, "状态": "在建", "日期": REPORT_DATE, "备注": "基站开工", "核减原因": ""},
        {"编号": found, "状态": "验收", "日期": REPORT_DATE, "备注": "运营商自建已通", "核减原因": ""},
        {"编号": cancel, "状态": "核减", "日期": REPORT_DATE, "备注": "", "核减原因": "撤并"},
    ]
    return pd.DataFrame(rows), ids


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reported_ledger(run1: Path, demo_copy: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The demo's first plan as the demo copy's ledger, with the four field reports applied."""
    ledger = demo_copy.parent / "ledger.gpkg"
    shutil.copy(run1 / "ledger.gpkg", ledger)
    reports, ids = _reports(read_ledger(ledger))
    reports.to_csv(tmp_path / "reports.csv", index=False)
    apply_updates(ledger, read_updates(tmp_path / "reports.csv"), today=dt.date(2026, 6, 2))
    text = demo_copy.read_text(encoding="utf-8") + '\n[ledger]\npath = "ledger.gpkg"\n'
    demo_copy.write_text(text, "utf-8")
    return ledger, ids


def test_a_rerun_keeps_the_committed_rows_and_writes_the_plan_diff(demo_run, demo_copy: Path, tmp_path: Path) -> None:
    _, run1 = demo_run
    ledger, ids = _reported_ledger(run1, demo_copy, tmp_path)
    before = read_ledger(ledger).set_index("id")
    sha = _sha(ledger)

    out = tmp_path / "run2"
    result = run_pipeline(load_project(demo_copy), out, offline=True, ledger_date=dt.date(2026, 7, 1))

    assert _sha(ledger) == sha  # the project's ledger is never written by a run
    diff = pd.read_csv(out / "plan_diff.csv", dtype={"id": str}).set_index("id")
    after = read_ledger(out / "ledger.gpkg").set_index("id")
    committed = before[before["status"].isin(COMMITTED)]
    # every commitment kept as it was: remedy, money, batch, year, status
    assert (diff.loc[committed.index, "change"] == "kept").all()
    for col in ("remedy_id", "remedy_cost_cny", "batch", "year", "status"):
        pd.testing.assert_series_equal(after.loc[committed.index, col], committed[col], check_names=False)
    # batch 1 of the first plan is kept whole (its one row completed since)
    batch1 = before[(before["batch"] == 1) & before["status"].isin(COMMITTED)]
    assert len(batch1) >= 10
    assert (diff.loc[batch1.index, "change"] == "kept").all()
    assert after.at[ids["completed"], "status"] == "completed"
    assert after.at[ids["under_construction"], "status"] == "under_construction"
    # the two field reports that take rows out of the plan
    assert diff.at[ids["excluded"], "change"] == "dropped"
    assert "excluded" in diff.at[ids["excluded"], "reason"]
    assert diff.at[ids["accepted"], "change"] == "done"
    # the optimiser buys nothing a commitment already pays for
    new_ids = set(pd.read_csv(out / "proposal.csv")["candidate_id"].astype(str))
    kept_ids = {i for r in committed["remedy_id"] for i in str(r).split(";") if i}
    assert not new_ids & kept_ids
    # money: the commitments' cost shares, as the summary and the diff say
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["commitments"]
    assert summary["rows"] == len(committed)
    assert summary["committed_cny"] == round(float(committed["remedy_cost_cny"].sum()), 2)
    assert summary["plan_diff"]["kept"]["after_cny"] == summary["committed_cny"]
    assert summary["plan_diff"]["dropped"]["before_cny"] == round(
        float(before.at[ids["excluded"], "remedy_cost_cny"]), 2
    )
    assert result.summary["commitments"] == summary
    # the money still to be paid (planned, under construction) is held first in its years: each year's new work
    # fits what the yearly budget leaves (1.5 M CNY a year in the demo), one dearer item alone excepted
    unpaid = committed[committed["status"].isin(["planned", "under_construction"])]
    assert summary["unspent_cny"] == round(float(unpaid["remedy_cost_cny"].sum()), 2)
    assert summary["unspent_cny"] < summary["committed_cny"]  # the completed fibre line is paid
    by_year = unpaid.groupby(unpaid["year"].astype(int))["remedy_cost_cny"].sum()
    assert summary["unspent_by_year_cny"] == {str(y): round(float(v), 2) for y, v in by_year.items()}
    assert "budget_asked_cny" not in summary  # target mode: no total budget to share
    # the KPIs before are the real ones (the reports touched no school), not those with the commitments built
    first = json.loads((run1 / "summary.json").read_text(encoding="utf-8"))["proposal"]
    again = result.summary["proposal"]
    for key in ("school_connected_before", "school_outlet_before"):
        assert again[key] == first[key]
    assert again["school_outlet_before"] < again["school_outlet_after"]


def test_replan_takes_planned_or_all_only(tiny_project: Path) -> None:
    res = CliRunner().invoke(cli, ["run", str(tiny_project), "--out", "x", "--replan", "some"])
    assert res.exit_code == 2
    assert "'planned'" in res.output


def test_replan_alone_frees_everything() -> None:
    assert run.make_context("run", ["p.toml", "--replan", "--out", "o"]).params["replan"] == "all"
    assert run.make_context("run", ["p.toml", "--out", "o", "--replan"]).params["replan"] == "all"
    assert run.make_context("run", ["p.toml", "--replan", "planned"]).params["replan"] == "planned"
    assert run.make_context("run", ["p.toml"]).params["replan"] is None


def _committed_ledger(path: Path) -> Path:
    """A ledger of two villages planned (2 M CNY in 2027) and one under construction (1.5 M CNY in 2028)."""
    rows = gpd.GeoDataFrame(
        {
            "id": ["villages:V1", "villages:V2", "villages:V3"],
            "layer": ["villages"] * 3,
            "name": ["甲村", "乙村", "丙村"],
            "county": ["临江市"] * 3,
            "kind": ["poor_village"] * 3,
            "lacks": ["broadband"] * 3,
            "access": ["none"] * 3,
            "remedy": ["fibre", "fibre", "new_site"],
            "remedy_id": ["FX-1", "FX-2", "NS-3"],
            "remedy_cost_cny": [1_000_000.0, 1_000_000.0, 1_500_000.0],
            "batch": [1.0, 1.0, 2.0],
            "year": [2027.0, 2027.0, 2028.0],
            "status": ["planned", "planned", "under_construction"],
        },
        geometry=shapely.points([0.0, 10.0, 20.0], [0.0, 0.0, 0.0]),
        crs=3857,
    )
    return create_ledger(rows, path, date=dt.date(2026, 1, 10))


@pytest.mark.parametrize(("budget", "refused"), [(3_500_000, True), (2_000_000, True), (3_600_000, False)])
def test_a_budget_the_commitments_take_whole_is_refused_before_the_work(
    tiny_project: Path, budget: int, refused: bool
) -> None:
    ledger = _committed_ledger(tiny_project.parent / "ledger.gpkg")
    text = tiny_project.read_text(encoding="utf-8")
    tiny_project.write_text(text + f'\n[optimise]\nbudget_cny = {budget}\n\n[ledger]\npath = "ledger.gpkg"\n', "utf-8")
    project = load_project(tiny_project)
    if not refused:  # 100 000 CNY left for new work: the budget check passes (the run itself is tested on the demo)
        assert budget_left(budget, sum(unspent_by_year(commitments(read_ledger(ledger))).values())) == 100_000
        return
    out = tiny_project.parent / "out"
    res = CliRunner().invoke(cli, ["run", str(tiny_project), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "3,500,000 CNY" in res.output
    assert "nothing is left for a new plan" in res.output
    assert not out.exists()  # refused before the work
    with pytest.raises(LedgerError, match="nothing is left"):
        run_pipeline(project, out)
    # --replan planned frees the 2 M planned: 1.5 M under construction stays held
    assert unspent_by_year(commitments(read_ledger(ledger), replan="planned")) == {2028: 1_500_000.0}


def test_a_budget_rerun_spends_on_new_work_only_what_the_commitments_leave(
    demo_run, demo_copy: Path, tmp_path: Path
) -> None:
    _, run1 = demo_run
    text = demo_copy.read_text(encoding="utf-8")
    demo_copy.write_text(text.replace("[optimise]\n", "[optimise]\nbudget_cny = 8000000\n", 1), "utf-8")
    ledger, _ = _reported_ledger(run1, demo_copy, tmp_path)
    before = read_ledger(ledger)
    unpaid = before[before["status"].isin(["planned", "under_construction"])]
    held = unpaid.groupby(unpaid["year"].astype(int))["remedy_cost_cny"].sum()

    out = tmp_path / "run2"
    result = run_pipeline(load_project(demo_copy), out, offline=True, ledger_date=dt.date(2026, 7, 1))

    c, prop = result.summary["commitments"], result.summary["proposal"]
    assert c["budget_asked_cny"] == 8_000_000
    assert c["unspent_cny"] == pytest.approx(float(unpaid["remedy_cost_cny"].sum()), abs=0.01)
    left = 8_000_000 - c["unspent_cny"]
    assert prop["budget_cny"] == pytest.approx(left, abs=0.01)
    assert c["budget_new_plan_cny"] == pytest.approx(left, abs=0.01)
    assert 0 < prop["cost_cny"] <= left + 1
    # each year's new work within what the yearly budget (1.5 M CNY) leaves after that year's commitments; a year
    # the commitments fill (or overrun) gets nothing new
    years = pd.read_csv(out / "batches.csv").query("batch > 0")
    assert years["committed_cny"].to_numpy() == pytest.approx(years["year"].astype(int).map(held).fillna(0.0))
    busy = years["interventions"] > 0
    total = years["cost_cny"] + years["committed_cny"]
    assert (total[busy] <= 1_500_000 + 1e-6).all()
    assert (years.loc[~busy, "cost_cny"] == 0).all()
    assert (years["over_budget"] == (total > 1_500_000 + 1e-6)).all()
    assert busy.iloc[0]  # the first year's commitments leave room: new work starts there


def test_the_terminal_line_names_the_money_held_and_the_budget_left() -> None:
    c = {"rows": 59, "unspent_cny": 6913416.97, "budget_asked_cny": 8e6, "budget_new_plan_cny": 1086583.03}
    line = commitments_line(c)
    assert "59 row(s), 6,913,417 CNY still to be paid" in line
    assert "budget 8,000,000 CNY, 1,086,583 CNY of it for the new plan" in line
    assert "for the new plan" not in commitments_line({"rows": 2, "unspent_cny": 0.0})  # target mode
