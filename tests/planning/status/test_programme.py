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
    assert len(notes) == 2
    assert "village point stands for the village committee" in notes[0]
    assert fallbacks(build_programme([]), {}) == []
