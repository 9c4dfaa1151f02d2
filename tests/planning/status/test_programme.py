"""The programme's definitions on status frames: the 2018 pilot's 4G village (a 4G site within 5 km of the
committee, or signal), the committee from the facilities layer, the village categories and the fallbacks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.settings.programme import build_programme
from planning.status.programme import (
    apply_village_4g_rule,
    committee_points,
    fallbacks,
    nearest_site_m,
    rule_points,
    signal_clause,
    village_category,
)

VILLAGES = gpd.GeoDataFrame(
    {"village_id": ["V1", "V2", "V3"]}, geometry=shapely.points([(0, 0), (10_000, 0), (20_000, 0)]), crs=32652
)
#: a 4G site 4,999 m from V1, a 5G site next to V3 (it does not count for 4G)
SITES = gpd.GeoDataFrame({"tech": ["4g", "5g"]}, geometry=shapely.points([(0, 4_999), (20_000, 10)]), crs=32652)


def test_nearest_4g_site_by_hand():
    d = nearest_site_m(committee_points(VILLAGES, None), SITES, tech="4g")
    assert d.tolist() == [4_999.0, np.hypot(10_000, 4_999), np.hypot(20_000, 4_999)]


def test_the_committee_point_comes_from_the_facilities_layer():
    facilities = gpd.GeoDataFrame(
        {"village_id": ["V2", "V2"], "kind": ["clinic", "village_committee"]},
        geometry=shapely.points([(0, 0), (3_000, 4_999)]),
        crs=32652,
    )
    xy = committee_points(VILLAGES, facilities)
    assert xy.tolist() == [[0.0, 0.0], [3_000.0, 4_999.0], [20_000.0, 0.0]]
    assert nearest_site_m(xy, SITES)[1] == 3_000.0  # now within 5 km


def test_the_2018_rule_counts_a_site_within_5_km_or_signal():
    status = pd.DataFrame({"has_4g": [False, True, False], "lacks": ["broadband;4g", "", "4g"]})
    d = np.array([4_999.0, 20_000.0, 5_001.0])
    out = apply_village_4g_rule(status, site_4g_m=d, programme=build_programme(["usf-2018-pilot"]))
    assert out["has_4g"].tolist() == [True, True, False]
    assert out["has_4g_by"].tolist() == ["site_within", "signal", ""]
    assert out["lacks"].tolist() == ["broadband", "", "4g"]
    plain = apply_village_4g_rule(status, site_4g_m=d, programme=build_programme([]))
    assert plain["has_4g"].tolist() == [False, True, False]  # signal at the point only


def test_village_categories():
    status = pd.DataFrame(
        {
            "has_broadband": [False, True, True, True],
            "has_4g": [False, True, False, True],
            "access_mbps": [0, 8, 50, 12],
        }
    )
    got = village_category(status, upgrade_below_mbps=12.0)
    assert got.tolist() == ["未通村", "升级村", "4G无覆盖村", ""]


def test_missing_layers_are_said():
    notes = fallbacks(build_programme(["usf-2018-pilot"]), {"facilities": None, "settlements": None})
    assert len(notes) == 3
    assert "village point stands for the village committee" in notes[0]
    assert "settlements of 20+ households are not assessed" in notes[1]
    assert "school" in notes[2]
    given = {"facilities": FACILITIES, "settlements": SETTLEMENTS}
    assert len(fallbacks(build_programme(["usf-2018-pilot"]), given)) == 1  # the school only
    assert fallbacks(build_programme([]), {}) == []


#: V1: two settlements of 20+ households (S1 25, S2 30) and one of 19 (S3, not assessed); V2: a committee and a
#: clinic; V3: none of the rule's points (its village point stands for the committee)
SETTLEMENTS = gpd.GeoDataFrame(
    {"settlement_id": ["S1", "S2", "S3"], "village_id": ["V1", "V1", "V1"], "households": [25, 30, 19]},
    geometry=shapely.points([(100, 0), (200, 0), (300, 0)]),
    crs=32652,
)
FACILITIES = gpd.GeoDataFrame(
    {"facility_id": ["F1", "F2"], "village_id": ["V2", "V2"], "kind": ["village_committee", "clinic"]},
    geometry=shapely.points([(10_100, 0), (10_200, 0)]),
    crs=32652,
)


def test_the_rule_points_are_the_facilities_and_the_settlements_of_20_households():
    pts = rule_points(FACILITIES, SETTLEMENTS, min_households=20)
    assert pts["point_id"].tolist() == ["F1", "F2", "S1", "S2"]  # S3 has 19 households
    assert pts["what"].tolist() == ["village_committee", "clinic", "settlement", "settlement"]
    assert pts["village_id"].tolist() == ["V2", "V2", "V1", "V1"]
    assert len(rule_points(None, None, min_households=20)) == 0


def test_the_signal_clause_needs_every_point_of_the_village_by_hand():
    pts = rule_points(FACILITIES, SETTLEMENTS, min_households=20)
    # F1 committee has 4G, F2 clinic has 4G, S1 has 4G, S2 has none
    got = signal_clause(np.array(["V1", "V2", "V3"]), np.array([True, False, True]), pts, np.array([1, 1, 1, 0]))
    # V1: its point has signal but settlement S2 has none; V2: its point has none, but its committee stands for it
    # and committee and clinic have signal; V3: no rule point, the village point's signal
    assert got["signal_4g"].tolist() == [False, True, True]
    assert got["settlements_20hh"].tolist() == [2, 0, 0]
    assert got["settlements_20hh_4g"].tolist() == [1, 0, 0]
    assert got["signal_missing"].tolist() == ["S2", "", ""]
    # the clinic without signal fails V2 too
    got = signal_clause(np.array(["V1", "V2", "V3"]), np.array([True, True, True]), pts, np.array([1, 0, 1, 1]))
    assert got["signal_4g"].tolist() == [True, False, True]


def test_a_settlement_without_signal_and_no_site_within_5_km_makes_the_village_lack_4g():
    status = pd.DataFrame(
        {"has_4g": [True, True, True], "lacks": ["broadband", "", ""], "is_poor": [True, True, False]}
    )
    d = np.array([6_000.0, 4_000.0, 6_000.0])
    signal = np.array([False, False, False])  # a settlement of each lacks signal
    counts = np.array([True, True, False])  # the third: no KPI counts its 4G
    out = apply_village_4g_rule(
        status, site_4g_m=d, programme=build_programme(["usf-2018-pilot"]), signal=signal, counts_4g=counts
    )
    assert out["has_4g"].tolist() == [False, True, False]
    assert out["has_4g_by"].tolist() == ["", "site_within", ""]
    assert out["lacks"].tolist() == ["broadband;4g", "", ""]
