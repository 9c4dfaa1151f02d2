"""KPIs as the programmes count them: per county, each with its target; shortfalls; exclusions (hand-computed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gis.admin import REGION
from gis.settings import TargetSettings
from planning.status.kpi import kpi_table, share, short_kpis, shortfall

TARGETS = TargetSettings()


def status_villages() -> pd.DataFrame:
    # county A: 2 poor (both broadband, one without 4G), 1 other; county B: 1 poor without anything, 1 other
    return pd.DataFrame(
        {
            "county": ["A", "A", "A", "B", "B"],
            "is_poor": [True, True, False, True, False],
            "has_broadband": [True, True, False, False, True],
            "has_4g": [True, False, False, False, True],
            "has_5g": [False, False, False, False, True],
            "excluded": ["", "", "", "", ""],
        }
    )


def status_schools() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county": ["A", "A", "A", "B", "B", "B"],
            "kind": ["primary", "secondary", "teaching_point", "teaching_point", "primary", "primary"],
            "connected": [True, True, False, True, False, True],
            "meets_outlet": [True, False, False, False, False, False],
            "excluded": ["", "", "", "", "", ""],
        }
    )


def test_shortfall_hand_values() -> None:
    assert shortfall(48, 61, 0.98) == 12  # ceil(0.98 * 61 = 59.78) = 60 -> 12 more
    assert shortfall(60, 61, 0.98) == 0
    assert shortfall(49, 50, 0.98) == 0  # 0.98 * 50 = 49 exactly
    assert shortfall(0, 0, 0.98) == 0
    assert shortfall(0, 1, 0.98) == 1
    assert shortfall(0, 10, 0.0) == 0  # no target


def test_share_is_nan_when_nothing_is_counted() -> None:
    assert share(1, 2) == 0.5
    assert math.isnan(share(0, 0))


def test_kpi_table_per_county_and_region() -> None:
    t = kpi_table(status_villages(), status_schools(), targets=TARGETS).set_index("county")
    assert list(t.index) == ["A", "B", REGION]
    assert t.loc["A", "poor_broadband_have"] == 2
    assert t.loc["A", "poor_broadband_shortfall"] == 0
    # "4G first": county A meets broadband but not 4G (1 of 2 poor villages has 4G)
    assert t.loc["A", "poor_4g_have"] == 1
    assert t.loc["A", "poor_4g_shortfall"] == 1
    assert t.loc["B", "poor_broadband_shortfall"] == 1
    assert t.loc[REGION, "poor_broadband_share"] == pytest.approx(2 / 3)
    assert t.loc[REGION, "poor_4g_shortfall"] == 2  # ceil(0.98 * 3) = 3, 1 has it
    # 5G: no target by default -> met
    assert t.loc[REGION, "village_5g_have"] == 1
    assert bool(t.loc[REGION, "village_5g_met"])
    assert t.loc["A", "school_connected_have"] == 2
    assert t.loc["A", "school_connected_shortfall"] == 1
    assert t.loc["B", "school_outlet_have"] == 0
    assert t.loc[REGION, "school_outlet_shortfall"] == math.ceil(0.98 * 6) - 1
    assert t.loc[REGION, "tp_connected_n"] == 2
    assert t.loc[REGION, "tp_connected_have"] == 1
    assert t.loc[REGION, "teaching_points"] == 2
    assert not t["meets_all"].any()


def test_county_meeting_weighted_share_but_not_the_poor_village_count() -> None:
    # 50 villages: 49 large non-poor with broadband, 1 small poor without. Served weight (1 + population/1000,
    # poor x3) is far above 98 %, but the programme counts poor villages: 0 of 1 -> short by 1.
    n = 50
    v = pd.DataFrame(
        {
            "county": ["A"] * n,
            "is_poor": [False] * (n - 1) + [True],
            "has_broadband": [True] * (n - 1) + [False],
            "has_4g": [True] * (n - 1) + [False],
            "has_5g": [False] * n,
            "excluded": [""] * n,
        }
    )
    population = np.array([3000.0] * (n - 1) + [100.0])
    weight = (1 + population / 1000) * np.where(v["is_poor"], 3.0, 1.0)
    assert weight[v["has_broadband"]].sum() / weight.sum() > 0.98
    t = kpi_table(v, status_schools().iloc[:0], targets=TARGETS).set_index("county")
    assert t.loc["A", "poor_broadband_shortfall"] == 1
    assert not bool(t.loc["A", "meets_all"])


def test_relocated_and_merged_leave_the_counts_other_programme_stays() -> None:
    v = status_villages()
    v.loc[3, "excluded"] = "relocated"  # the poor village of B without anything moved away
    s = status_schools()
    s.loc[4, "excluded"] = "merged"
    s.loc[2, "excluded"] = "other_programme"  # still counted
    t = kpi_table(v, s, targets=TARGETS).set_index("county")
    assert t.loc["B", "poor_villages"] == 0
    assert np.isnan(t.loc["B", "poor_broadband_share"])
    assert bool(t.loc["B", "poor_broadband_met"])
    assert t.loc["B", "schools"] == 2
    assert t.loc["A", "schools"] == 3
    # A's unconnected teaching point is left to another programme: still counted, so A stays short, and the
    # short list says why
    assert t.loc["A", "school_connected_other_programme"] == 1
    assert t.loc["B", "school_connected_other_programme"] == 0
    short = short_kpis(t.reset_index()).set_index(["county", "kpi"])
    assert short.loc[("A", "tp_connected"), "other_programme"] == 1
    assert short.loc[("A", "school_connected"), "shortfall"] == 1


def test_short_kpis_lists_each_missed_target() -> None:
    t = kpi_table(status_villages(), status_schools(), targets=TargetSettings(school_outlet_share=0.0))
    short = short_kpis(t)
    region = short[short["county"] == REGION].set_index("kpi")
    assert set(region.index) == {"poor_broadband", "poor_4g", "school_connected", "tp_connected"}
    assert region.loc["poor_4g", "shortfall"] == 2
    assert "school_outlet" not in set(short["kpi"])


def test_people_weighted_shares_hand_values() -> None:
    # poor villages: A1 1,200 people (broadband, 4G), A2 300 (broadband), B1 500 (nothing, relocated later);
    # schools: A 400 / 250 / 30 students, B 20 / 600 / 150 (connected: A1, A2, B1, B3)
    v = status_villages().assign(population=[1200, 300, 800, 500, 2000])
    s = status_schools().assign(students=[400, 250, 30, 20, 600, 150])
    t = kpi_table(v, s, targets=TARGETS).set_index("county")
    assert t.loc[REGION, "poor_broadband_people_share"] == pytest.approx(1500 / 2000)
    assert t.loc[REGION, "poor_4g_people_share"] == pytest.approx(1200 / 2000)
    assert t.loc["A", "poor_4g_people_share"] == pytest.approx(1200 / 1500)  # 1 of 2 by count, 80 % by people
    assert t.loc[REGION, "village_5g_people_share"] == pytest.approx(2000 / 4800)
    assert t.loc[REGION, "school_connected_people_share"] == pytest.approx((400 + 250 + 20 + 150) / 1450)
    assert t.loc[REGION, "tp_connected_people_share"] == pytest.approx(20 / 50)
    assert t.loc["B", "school_outlet_people_n"] == 770
    # a relocated village leaves the people counts too; a layer without the column gives NaN, never 0
    v.loc[3, "excluded"] = "relocated"
    t = kpi_table(v, s.drop(columns="students"), targets=TARGETS).set_index("county")
    assert t.loc[REGION, "poor_broadband_people_share"] == pytest.approx(1.0)
    assert np.isnan(t.loc["B", "poor_broadband_people_share"])
    assert np.isnan(t.loc[REGION, "school_connected_people_share"])
