"""The application package's tables: roles from the pack (or the stated default), the task list adding up to the
plan's money, township names with the code as fallback, the performance-target table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.settings import ApplicationSettings, Programme, TownshipName, build_programme
from planning.present.application import (
    applicant_sentence,
    performance_targets,
    roles_table,
    task_list,
    township_names,
)
from planning.present.notebook import applicant_text


def test_roles_follow_the_pack_and_the_default_says_so() -> None:
    pack = roles_table(build_programme(["usf-2018-pilot"]))
    assert pack.loc[pack["role"] == "申报单位", "party"].tolist() == ["省通信管理局会同省财政厅"]
    assert "财建〔2018〕226号" in pack["citation"].iloc[0]
    assert "默认" not in pack["citation"].iloc[0]
    default = roles_table(Programme())
    assert default.loc[default["role"] == "申报单位", "party"].tolist() == ["省通信管理局会同省财政厅"]
    assert "默认" in default["citation"].iloc[0]
    assert "财建〔2018〕226号" in default["citation"].iloc[0]
    assert default["role"].tolist()[-1] == "铁塔产权方"
    assert "中国铁塔" in default["party"].iloc[-1]
    # the notebook's sentence: the pack's applicant, never a city or county department
    text = applicant_sentence(build_programme(["usf-2018-pilot"]), language="zh")
    assert text.startswith("申报单位：省通信管理局会同省财政厅；承建企业：")
    assert "市/县" not in text
    assert "默认" in applicant_sentence(Programme(), language="zh")
    assert "default" in applicant_sentence(Programme(), language="en")
    # Markdown-inert in the notebook: the citation's ASCII punctuation is escaped
    assert "2018\\-05" in applicant_text(Programme(), language="zh")


def test_township_names_from_the_layer_else_the_table_else_the_code() -> None:
    villages = pd.DataFrame(
        {"admin_code": ["220681100201", "220681101202"], "township": ["大栗子街道", None], "village_id": ["a", "b"]}
    )
    names = township_names(villages, ApplicationSettings(township_names=(TownshipName("220681101", "六道沟镇"),)))
    assert names == {"220681100": "大栗子街道", "220681101": "六道沟镇"}
    assert township_names(villages.drop(columns="township"), ApplicationSettings()) == {}


def _status() -> tuple[pd.DataFrame, pd.DataFrame]:
    villages = pd.DataFrame(
        {
            "village_id": ["V1", "V2", "V3"],
            "name": ["东村", "西村", "南村"],
            "has_broadband": [False, True, True],
            "has_4g": [True, True, False],
            "access_mbps": [np.nan, 8.0, 50.0],
            # the status stage's category (planning.status.programme.village_category, 升级村 below 12 Mbps)
            "category": ["未通村", "升级村", "4G无覆盖村"],
        }
    )
    schools = pd.DataFrame({"school_id": ["S1"], "name": ["中心小学"], "kind": ["primary"]})
    return villages, schools


def test_task_list_rows_recompute_to_the_plans_totals() -> None:
    villages, schools = _status()
    inter = pd.DataFrame(
        {
            "candidate_id": ["FX-1", "NS-1", "LU-1"],
            "kind": ["fibre", "new_site", "line_upgrade"],
            "batch": [1, 2, 1],
            "year": [2027, 2028, 2027],
            "serves": ["villages:V1;villages:V2", "villages:V3;schools:S1", "schools:S1"],
            "capex_cny": [90_000.0, 450_000.0, 0.0],
            "central_cny": [27_000.0, 135_000.0, 0.0],
            "builder": ["CMCC", "CUCC", "CTCC"],
            "ran_partner": ["", "CTCC", ""],
        }
    )
    county = dict.fromkeys(["villages:V1", "villages:V2", "villages:V3", "schools:S1"], "临江市")
    town = {"villages:V1": "220681100", "villages:V2": "220681100", "villages:V3": "220681101", "schools:S1": ""}
    out = task_list(
        inter,
        villages=villages,
        schools=schools,
        county_of=county,
        township_of=town,
        names_of_township={"220681100": "大栗子街道"},
        language="zh",
    )
    assert len(out) == 5
    assert out["amount_cny"].sum() == pytest.approx(inter["capex_cny"].sum())
    assert out["subsidy_cny"].sum() == pytest.approx(inter["central_cny"].sum())
    assert out.groupby("batch")["amount_cny"].sum().to_dict() == pytest.approx({1: 90_000.0, 2: 450_000.0})
    by_unit = out[out["candidate_id"] != "LU-1"].set_index("unit")
    # V1 without broadband: 未通村; V2 at 8 Mbps (< 12): 升级村; V3 with broadband, no 4G: 4G无覆盖村
    assert by_unit.loc[["villages:V1", "villages:V2", "villages:V3"], "category"].tolist() == [
        "未通村",
        "升级村",
        "4G无覆盖村",
    ]
    assert by_unit.loc["schools:S1", "category"] == "学校"
    # the name where one is known, else the code
    assert by_unit.loc[["villages:V1", "villages:V3"], "township"].tolist() == ["大栗子街道", "220681101"]
    assert by_unit.loc["villages:V3", "amount_cny"] == 225_000.0
    assert by_unit.loc["villages:V3", "ran_partner"] == "CTCC"


def test_performance_targets_take_the_packs_deadline_else_the_year_reached() -> None:
    region = pd.DataFrame(
        {
            "indicator": ["行政村4G覆盖率", "学校联网率"],
            "target": [0.98, None],
            "before": [0.70, 0.9],
            "after": [0.99, 1.0],
        }
    )
    batches = pd.DataFrame({"batch": [0, 1, 2], "year": [None, 2027, 2028], "village_4g_share": [0.7, 0.9, 0.99]})
    with_pack = performance_targets(
        region, ["village_4g", "school_connected"], batches, build_programme(["usf-2018-pilot"])
    )
    assert with_pack[["kpi", "baseline", "target", "planned", "deadline_year", "year_reached"]].to_dict("records") == [
        {
            "kpi": "village_4g",
            "baseline": 0.7,
            "target": 0.98,
            "planned": 0.99,
            "deadline_year": 2020,
            "year_reached": 2028,
        }
    ]
    without = performance_targets(region, ["village_4g", "school_connected"], batches, Programme())
    assert without["deadline_year"].tolist() == [2028]
