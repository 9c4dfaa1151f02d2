"""Candidate radio links (planning.radio.links): coverage criteria and the busy-hour school rate (hand-checked)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.settings import RadioSettings
from planning.radio.links import radio_links
from tests.conftest import CRS_M


def test_radio_links_near_and_far() -> None:
    radio = RadioSettings()
    demands = gpd.GeoDataFrame(
        {"layer": ["villages", "villages", "schools"]},
        geometry=shapely.points([0.0, 60_000.0, 200.0], [500.0, 0.0, 0.0]),
        crs=CRS_M,
    )
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["N1"], "tech": ["4g"], "band_mhz": [1800.0], "height_m": [35.0]},
        geometry=[shapely.Point(0.0, 0.0)],
        crs=CRS_M,
    )
    existing = pd.DataFrame({"4g_rsrp_dbm": [np.nan] * 3, "5g_rsrp_dbm": [np.nan] * 3})
    d, c = radio_links(demands, cands, existing, radio=radio, dem=None)
    assert set(c) <= {0}
    # 500 m away: covered; 60 km away: not
    assert 0 in d
    assert 1 not in d
    # a school 200 m from the site clears a 10 Mbps outlet on an otherwise empty carrier
    high = radio_links(demands, cands, existing, radio=radio, dem=None, school_outlet_mbps=10.0)[0]
    assert 2 in high


def test_school_link_needs_the_busy_hour_rate_not_the_peak() -> None:
    """A school 200 m from a new CMCC LTE site has a 176 Mbps peak (SINR at the 30 dB cap, 2 x 4.4 bit/s/Hz x
    20 MHz); two villages as close use 2 x 100 x 0.57 / 176 = 65 % of the cell at the busy hour: 62 Mbps left."""
    radio = RadioSettings()
    demands = gpd.GeoDataFrame(
        {"layer": ["villages", "villages", "schools"]},
        geometry=shapely.points([0.0, -200.0, 200.0], [200.0, 0.0, 0.0]),
        crs=CRS_M,
    )
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["N1"], "tech": ["4g"], "band_mhz": [1800.0], "height_m": [35.0], "operator": ["CMCC"]},
        geometry=[shapely.Point(0.0, 0.0)],
        crs=CRS_M,
    )

    def links(village_mbps: float) -> set[int]:
        existing = pd.DataFrame(
            {"4g_rsrp_dbm": [np.nan] * 3, "5g_rsrp_dbm": [np.nan] * 3, "demand_mbps": [village_mbps] * 2 + [100.0]}
        )
        d, _ = radio_links(demands, cands, existing, radio=radio, dem=None)
        return set(d.tolist())

    load = 2 * 100.0 * 0.57 / 176.0
    assert 176.0 * (1 - load) < 100.0
    assert links(100.0) == {0, 1}  # villages covered; the school not at the busy hour
    assert 176.0 * (1 - 2 * 20.0 * 0.57 / 176.0) >= 100.0
    assert links(20.0) == {0, 1, 2}
    # a large school asking more than the outlet target (students x Mbps per student) is not served either
    existing = pd.DataFrame(
        {"4g_rsrp_dbm": [np.nan] * 3, "5g_rsrp_dbm": [np.nan] * 3, "demand_mbps": [0.0, 0.0, 180.0]}
    )
    assert 2 not in radio_links(demands, cands, existing, radio=radio, dem=None)[0]
