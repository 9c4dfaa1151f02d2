"""Gap analysis: village and school status, shortfalls and the per-county target table (hand-computed)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.project import TargetSettings
from planning.status.gaps import REGION, ledger_rows, school_status, shortfall, target_table, village_status
from tests.conftest import CRS_M

TARGETS = TargetSettings()


def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "village_id": ["V1", "V2", "V3", "V4", "V5"],
            "name": ["甲", "乙", "丙", "丁", "戊"],
            "county": ["A", "A", "A", "B", "B"],
            "is_poor": [True, True, False, True, False],
        },
        geometry=shapely.points(np.arange(5) * 100.0, np.zeros(5)),
        crs=CRS_M,
        index=[10, 11, 12, 13, 14],
    )


def test_village_status_from_coverage_and_reach() -> None:
    v = villages()
    cov = pd.DataFrame(
        {"4g_covered": [False, True, True, False, False], "5g_covered": [False, False, True, False, False]},
        index=v.index,
    )
    reach = pd.DataFrame({"connected": [True, False, False, False, False]}, index=v.index)
    s = village_status(v, coverage=cov, reach=reach)
    assert list(s.index) == [10, 11, 12, 13, 14]  # input index kept
    assert list(s["broadband"]) == ["fibre", "4g", "5g", "none", "none"]
    # V1 is poor with fibre but no 4G ("4G first for poor villages"); V4 poor with nothing
    assert list(s["lacks"]) == ["4g", "", "", "broadband;4g", "broadband"]


def test_village_without_evidence_is_unknown_not_none() -> None:
    s = village_status(villages())
    assert set(s["broadband"]) == {"unknown"}
    assert not s["has_broadband"].any()


def test_misaligned_coverage_is_refused() -> None:
    v = villages()
    cov = pd.DataFrame({"4g_covered": [True] * 5, "5g_covered": [True] * 5})
    with pytest.raises(ValueError, match="same index"):
        village_status(v, coverage=cov)


def schools() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "school_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
            "name": list("ABCDEF"),
            "kind": ["primary", "secondary", "teaching_point", "teaching_point", "primary", "primary"],
            "county": ["A", "A", "A", "B", "B", "B"],
            "access": ["none", "4g", None, "satellite", "none", "satellite"],
            "bandwidth_mbps": [0.0, 30.0, np.nan, 20.0, 0.0, np.nan],
        },
        geometry=shapely.points(np.arange(6) * 100.0, np.ones(6)),
        crs=CRS_M,
    )


def test_school_status_outlet_and_target() -> None:
    s = schools()
    reach = pd.DataFrame({"connected": [True, False, False, False, False, False]}, index=s.index)
    cov = pd.DataFrame(
        {
            "4g_covered": [False, True, True, False, False, False],
            "5g_covered": [False, False, True, False, False, False],
            "4g_throughput_mbps": [0.0, 42.0, 60.0, 0.0, 0.0, 0.0],
            "5g_throughput_mbps": [0.0, 0.0, 310.0, 0.0, 0.0, 0.0],
        },
        index=s.index,
    )
    st = school_status(s, targets=TARGETS, coverage=cov, reach=reach)
    assert list(st["access"]) == ["fibre", "4g", "5g", "satellite", "none", "satellite"]
    np.testing.assert_allclose(st["outlet_mbps"].to_numpy(), [1000.0, 42.0, 310.0, 20.0, 0.0, np.nan])
    assert list(st["meets_outlet"]) == [True, False, True, False, False, False]
    assert list(st["connected"]) == [True, True, True, True, False, True]
    assert list(st["lacks"]) == ["", "outlet_target", "", "outlet_target", "connection;outlet_target", "outlet_target"]


def test_school_status_from_reported_columns_only() -> None:
    st = school_status(schools(), targets=TargetSettings(school_outlet_mbps=25.0))
    # no model results: the reported access and bandwidth count; S3 has no access reported -> unknown
    assert list(st["access"]) == ["none", "4g", "unknown", "satellite", "none", "satellite"]
    assert list(st["meets_outlet"]) == [False, True, False, False, False, False]


def test_shortfall_hand_values() -> None:
    assert shortfall(48, 61, 0.98) == 12  # ceil(0.98 * 61 = 59.78) = 60 -> 12 more
    assert shortfall(60, 61, 0.98) == 0
    assert shortfall(49, 50, 0.98) == 0  # 0.98 * 50 = 49 exactly
    assert shortfall(0, 0, 0.98) == 0
    assert shortfall(0, 1, 0.98) == 1


def test_target_table_per_county_and_region() -> None:
    v = villages()
    cov = pd.DataFrame({"4g_covered": [True, True, False, False, False], "5g_covered": [False] * 5}, index=v.index)
    vs = village_status(v, coverage=cov)
    s = schools()
    ss = school_status(
        s, targets=TARGETS, reach=pd.DataFrame({"connected": [True, True, False, False, False, False]}, index=s.index)
    )
    t = target_table(vs, ss, targets=TARGETS).set_index("county")
    assert list(t.index) == ["A", "B", REGION]
    assert t.loc["A", "poor_villages"] == 2
    assert t.loc["A", "poor_with_broadband"] == 2
    assert t.loc["A", "poor_broadband_shortfall"] == 0
    assert t.loc["B", "poor_villages"] == 1
    assert t.loc["B", "poor_broadband_shortfall"] == 1
    assert t.loc[REGION, "poor_broadband_share"] == pytest.approx(2 / 3)
    assert t.loc[REGION, "poor_broadband_shortfall"] == 1  # ceil(0.98 * 3) = 3 -> 1 more
    # schools: A has S1, S2 fibre, S3 reported nothing but a model ran -> none; B: satellite, none, satellite
    assert t.loc["A", "schools_connected"] == 2
    assert t.loc["A", "schools_connected_shortfall"] == 1
    assert t.loc["B", "schools_connected"] == 2
    assert t.loc["B", "schools_outlet_ok"] == 0
    assert t.loc[REGION, "schools_outlet_shortfall"] == math.ceil(0.98 * 6) - 2
    assert t.loc[REGION, "teaching_points"] == 2
    assert not t["meets_all"].any()


def test_ledger_rows_list_what_lacks() -> None:
    v, s = villages(), schools()
    vs = village_status(
        v,
        coverage=pd.DataFrame(
            {"4g_covered": [False, True, True, True, True], "5g_covered": [False] * 5}, index=v.index
        ),
    )
    ss = school_status(s, targets=TARGETS)
    cost = pd.Series({"villages:V1": 12_345.0})
    rows = ledger_rows(vs, ss, geometry_villages=v.geometry, geometry_schools=s.geometry, reach_cost_cny=cost)
    assert rows["id"].iloc[0] == "villages:V1"
    assert rows["lacks"].iloc[0] == "broadband;4g"
    assert rows["remedy"].iloc[0] == "fibre_extension"
    assert rows["remedy_cost_cny"].iloc[0] == pytest.approx(12_345.0)
    assert set(rows["status"]) == {"unconnected"}
    assert len(rows) == 1 + int((ss["lacks"] != "").sum())
    assert rows.crs == v.crs
