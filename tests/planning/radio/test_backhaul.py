"""Microwave backhaul: Fresnel clearance on the DEM, hop length per band, far-end rules, relays and satellite."""

from __future__ import annotations

import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from gis.settings import BackhaulSettings, CostSettings, RadioSettings
from gis.synthetic import synthesize
from gis.terrain import dem_from_array, profiles
from planning.plan.candidates import site_costs
from planning.radio.backhaul import hop_band, hop_clearance_f1

CRS = "EPSG:32652"
X0, Y0 = 300_000.0, 4_650_000.0
BH = BackhaulSettings()


def test_flat_earth_clearance_hand_computed():
    """20 km hop, 35 m masts on a smooth earth at k = 4/3: at mid-path the bulge is 5.89 m and the first Fresnel
    zone at 1 GHz 38.7 m, so the line clears it by (35 - 5.89) / 38.7 = 0.752 radii."""
    bulge = 10_000.0**2 / (2 * 4 / 3 * 6_371_000.0)
    r1 = math.sqrt(299_792_458.0 / 1e9 * 10_000.0 * 10_000.0 / 20_000.0)
    expected = (35.0 - bulge) / r1
    assert expected == pytest.approx(0.7519, abs=1e-4)
    dem = dem_from_array(np.zeros((30, 250), np.float32), Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    ax, ay, bx, by = (
        np.array([X0 + 1000.0]),
        np.array([Y0 - 1500.0]),
        np.array([X0 + 21_000.0]),
        np.array([Y0 - 1500.0]),
    )
    kw = {"k_factor": 4 / 3, "step_m": 50.0}
    on_dem = hop_clearance_f1(dem, ax, ay, 35.0, bx, by, 35.0, **kw)
    smooth = hop_clearance_f1(None, ax, ay, 35.0, bx, by, 35.0, **kw)
    assert on_dem[0] == pytest.approx(expected, abs=1e-6)
    assert smooth[0] == pytest.approx(expected, abs=1e-6)
    # at 7 GHz the zone is sqrt(7) narrower: clearance x 2.65
    at7 = hop_clearance_f1(None, ax, ay, 35.0, bx, by, 35.0, freq_mhz=7000.0, **kw)
    assert at7[0] == pytest.approx(expected * math.sqrt(7.0), abs=1e-6)


def test_kernel_clearance_matches_a_numpy_profile():
    r = synthesize(villages=60, seed=5)
    rng = np.random.default_rng(1)
    s = r.sites.geometry
    i, j = rng.integers(0, len(s), 50), rng.integers(0, len(s), 50)
    keep = i != j
    ax, ay = s.x.to_numpy()[i][keep], s.y.to_numpy()[i][keep]
    bx, by = s.x.to_numpy()[j][keep], s.y.to_numpy()[j][keep]
    got = hop_clearance_f1(r.dem, ax, ay, 30.0, bx, by, 40.0, k_factor=4 / 3, step_m=50.0)
    pr = profiles(r.dem, ax, ay, bx, by, step_m=50.0)
    lam = 299_792_458.0 / 1e9
    for k in range(len(pr)):
        d, z = pr.get(k)
        big = d[-1]
        d1, d2 = d[1:-1], big - d[1:-1]
        zz = z[1:-1] + d1 * d2 / (2 * 4 / 3 * 6_371_000.0)
        line = (z[0] + 30.0) + ((z[-1] + 40.0) - (z[0] + 30.0)) * d1 / big
        assert got[k] == pytest.approx(np.min((line - zz) / np.sqrt(lam * d1 * d2 / big)), abs=1e-9)


def test_hop_band_by_length_and_clearance():
    lengths = np.array([3000.0, 8000.0, 12_000.0, 18_000.0, 30_000.0, 60_000.0])
    got = hop_band(lengths, np.full(6, np.inf), BH)
    ghz = [BH.microwave[k].freq_ghz if k >= 0 else None for k in got]
    assert ghz == [80.0, 23.0, 18.0, 15.0, 7.0, None]  # E-band <= 4 km, 23 GHz <= 10 km ... 7 GHz <= 50 km
    # 0.2 F1 at 1 GHz is 0.53 at 7 GHz (not clear) and 0.77 at 15 GHz (clear): a 20 km hop takes 15 GHz, 30 km none
    got = hop_band(np.array([20_000.0, 30_000.0, 20_000.0]), np.array([0.2, 0.2, np.nan]), BH)
    assert [BH.microwave[got[0]].freq_ghz, got[1], got[2]] == [15.0, -1, -1]


def _ridge_dem() -> object:
    """40 x 30 km at 100 m, ground 200 m, a 400 m high ridge (600 m) at x = 20 km."""
    h = np.full((300, 400), 200.0, np.float32)
    h[:, 199:202] = 600.0
    return dem_from_array(h, Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)


def _sites() -> gpd.GeoDataFrame:
    # H1: the planner's (CMCC) site with fibre beyond the ridge; X1: China Telecom's fibre site next to the candidate;
    # M1: the planner's own site on microwave (no fibre: not a hub)
    return gpd.GeoDataFrame(
        {
            "site_id": ["H1", "X1", "M1"],
            "tech": ["4g"] * 3,
            "band_mhz": [1800.0] * 3,
            "height_m": [35.0] * 3,
            "operator": ["CMCC", "CTCC", "CMCC"],
            "backhaul": ["fibre", "fibre", "microwave"],
        },
        geometry=shapely.points([X0 + 30_000.0, X0 + 10_500.0, X0 + 9000.0], [Y0 - 15_000.0] * 3),
        crs=CRS,
    )


def _candidate() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "candidate_id": ["HP1"],
            "kind": ["new_site"],
            "given_cost_cny": [np.nan],
            "host_backhaul": [""],
            "height_m": [35.0],
        },
        geometry=[shapely.Point(X0 + 10_000.0, Y0 - 15_000.0)],
        crs=CRS,
    )


def test_ridge_blocks_the_hop_and_a_relay_on_the_ridge_carries_it():
    dem, sites, cand = _ridge_dem(), _sites(), _candidate()
    direct = hop_clearance_f1(
        dem,
        np.array([X0 + 10_000.0]),
        np.array([Y0 - 15_000.0]),
        35.0,
        np.array([X0 + 30_000.0]),
        np.array([Y0 - 15_000.0]),
        35.0,
        k_factor=4 / 3,
        step_m=50.0,
    )
    assert direct[0] < -5.0  # the ridge stands far into the line of sight
    # satellite backhaul priced for a cell (a 50 Mbps plan at 100,000 CNY a year): dearer than a relay here
    costs = replace(CostSettings(), satellite_fee_cny_per_year=100_000.0)
    radio = RadioSettings(backhaul=replace(BH, satellite_backhaul_mbps=50.0))
    out = site_costs(cand, np.array([np.inf]), sites, costs=costs, radio=radio, dem=dem, operator="CMCC").iloc[0]
    # not X1 (China Telecom's fibre), not M1 (no fibre): through a new mast on the ridge top to H1
    assert out["backhaul"] == "microwave"
    assert out["backhaul_hub"] == "H1"
    assert out["backhaul_hops"] == 2
    assert out["backhaul_relay"].startswith("R")
    relay_x = X0 + (int(out["backhaul_relay"].split("_")[1]) + 0.5) * 100.0
    assert X0 + 19_900.0 <= relay_x <= X0 + 20_200.0  # on the ridge
    assert out["backhaul_cny"] == pytest.approx(2 * costs.microwave_hop_cny + costs.relay_tower_cny)
    assert out["backhaul_clearance_f1"] >= 0.6
    assert 9_800.0 <= out["backhaul_length_m"] <= 10_300.0  # both hops about 10 km
    assert out["backhaul_band_ghz"] == (23.0 if out["backhaul_length_m"] <= 10_000.0 else 18.0)
    assert out["backhaul_mbps"] == 400.0
    assert "-> H1" in out["backhaul_path"]
    # a China Tower site that sells transmission ("any_fibre"): X1 is the hub, one clear 500 m E-band hop
    anyf = RadioSettings(backhaul=replace(BH, hubs="any_fibre"))  # (at the default satellite price)
    one = site_costs(cand, np.array([np.inf]), sites, costs=costs, radio=anyf, dem=dem, operator="CMCC").iloc[0]
    assert (one["backhaul_hub"], one["backhaul_hops"], one["backhaul_band_ghz"]) == ("X1", 1, 80.0)
    assert one["backhaul_length_m"] == pytest.approx(500.0)
    assert one["backhaul_cny"] == pytest.approx(costs.microwave_hop_cny)


def test_satellite_only_where_no_terrestrial_link_exists():
    """A site's backhaul is terrestrial where a clear path exists, even through a relay mast (a VSAT plan of about
    10 Mbps does not carry a cell); satellite only where there is none (here: no site of the planner's with fibre)."""
    costs = CostSettings()
    relay = site_costs(
        _candidate(),
        np.array([np.inf]),
        _sites(),
        costs=costs,
        radio=RadioSettings(),
        dem=_ridge_dem(),
        operator="CMCC",
    ).iloc[0]
    assert (relay["backhaul"], relay["backhaul_hops"]) == ("microwave", 2)
    no_hub = _sites().assign(backhaul="microwave")
    out = site_costs(
        _candidate(),
        np.array([np.inf]),
        no_hub,
        costs=costs,
        radio=RadioSettings(),
        dem=_ridge_dem(),
        operator="CMCC",
    )
    row = out.iloc[0]
    assert row["backhaul"] == "satellite"
    assert row["backhaul_cny"] == pytest.approx(30_000.0)  # the terminal: the yearly fee is opex
    assert row["backhaul_mbps"] == 10.0  # what that plan carries, not fibre capacity
    assert row["backhaul_hub"] == ""
    assert row["backhaul_hops"] == 0
