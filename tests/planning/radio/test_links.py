"""Candidate radio links (planning.radio.links): coverage criteria and the busy-hour school rate (hand-checked)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.settings import RadioSettings
from gis.synthetic import synthesize
from planning.radio.links import candidate_links, radio_links
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
    20 MHz); two villages as close use 2 x 100 x 0.57 / 176 = 65 % of the cell at the busy hour: 62 Mbps left.
    One omni cell here; as three sectors (the default for a row without azimuth) the school east of the mast is
    on another sector than the villages north and west of it, and keeps its sector to itself."""
    radio = RadioSettings(missing_azimuth="omni")
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
    sectors = RadioSettings()
    existing = pd.DataFrame({"4g_rsrp_dbm": [np.nan] * 3, "5g_rsrp_dbm": [np.nan] * 3, "demand_mbps": [100.0] * 3})
    assert set(radio_links(demands, cands, existing, radio=sectors, dem=None)[0].tolist()) == {0, 1, 2}
    # two 20 MHz carriers per sector halve the villages' load on the one cell: 176 x (1 - 0.65 / 2) = 117 Mbps
    two = gpd.GeoDataFrame(cands.assign(carriers=2), geometry=cands.geometry, crs=CRS_M)
    assert 176.0 * (1 - load / 2) >= 100.0
    assert set(radio_links(demands, two, existing, radio=radio, dem=None)[0].tolist()) == {0, 1, 2}


def test_school_link_needs_its_uplink_demand_too() -> None:
    """The same school, alone on its sector: its CPE uplink (26 dBm, 100 RB at most 2 bit/s/Hz: 36 Mbps) carries
    4 Mbps of classroom video, not 40 Mbps; a link that fails its uplink demand does not serve the school."""
    demands = gpd.GeoDataFrame(
        {"layer": ["villages", "schools"]}, geometry=shapely.points([0.0, 200.0], [200.0, 0.0]), crs=CRS_M
    )
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["N1"], "tech": ["4g"], "band_mhz": [1800.0], "height_m": [35.0], "operator": ["CMCC"]},
        geometry=[shapely.Point(0.0, 0.0)],
        crs=CRS_M,
    )

    def links(ul_mbps: float) -> set[int]:
        existing = pd.DataFrame(
            {
                "4g_rsrp_dbm": [np.nan] * 2,
                "5g_rsrp_dbm": [np.nan] * 2,
                "demand_mbps": [10.0, 100.0],
                "ul_demand_mbps": [np.nan, ul_mbps],
            }
        )
        return set(radio_links(demands, cands, existing, radio=RadioSettings(), dem=None)[0].tolist())

    assert links(4.0) == {0, 1}
    assert links(40.0) == {0}  # more than 100 RB x 180 kHz x 2 bit/s/Hz = 36 Mbps


def test_least_loss_screen_keeps_every_link_that_closes() -> None:
    """The screen drops only pairs that fail even at the least loss P.1812 allows (its free-space term); over a
    synthetic region's terrain (P.1812 and free space), with some demands already served by a strong site, the
    screened and unscreened links are the same, and the screen did drop pairs."""
    r = synthesize(villages=40, seed=2)
    v = r.villages.iloc[:30]
    demands = gpd.GeoDataFrame(
        {"layer": ["villages"] * 24 + ["schools"] * 6}, geometry=v.geometry.to_numpy(), crs=r.villages.crs
    )
    s = r.sites.iloc[:12]
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": [f"N{k}" for k in range(len(s))],
            "tech": ["4g", "5g"] * (len(s) // 2),
            "band_mhz": [1800.0, 3500.0] * (len(s) // 2),
            "height_m": 35.0,
        },
        geometry=s.geometry.to_numpy(),
        crs=r.sites.crs,
    )
    rng = np.random.default_rng(0)
    strong = np.where(rng.random(30) < 0.5, rng.uniform(-95.0, -70.0, 30), np.nan)
    existing = pd.DataFrame(
        {"4g_rsrp_dbm": strong, "5g_rsrp_dbm": strong - 5.0, "demand_mbps": rng.uniform(1.0, 40.0, 30)}
    )
    for model in ("p1812", "free_space"):
        radio = RadioSettings(model=model)
        a = radio_links(demands, cands, existing, radio=radio, dem=r.dem, school_outlet_mbps=10.0)
        b = radio_links(demands, cands, existing, radio=radio, dem=r.dem, school_outlet_mbps=10.0, screen=False)
        assert len(a[0]) > 0
        assert sorted(zip(*a, strict=True)) == sorted(zip(*b, strict=True))
        screened = candidate_links(demands, cands, existing, radio=radio, dem=r.dem)
        full = candidate_links(demands, cands, existing, radio=radio, dem=r.dem, screen=False)
        assert screened is not None
        assert full is not None
        assert len(screened.villages.d) + len(screened.schools.d) < len(full.villages.d) + len(full.schools.d)
