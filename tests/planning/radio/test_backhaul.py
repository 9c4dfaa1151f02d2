"""Microwave backhaul: Fresnel clearance on the DEM, hop length per band, far-end rules, relays and satellite."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer

from gis.settings import BackhaulSettings, CostSettings, RadioSettings
from gis.synthetic import synthesize
from gis.terrain import dem_from_array, profiles
from planning.plan.candidates import site_costs
from planning.radio.backhaul import Endpoints, Terrain, hop_clearance_f1, plan_backhaul, relay_points
from planning.radio.microwave import clear_by_rule

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


def test_an_obstruction_that_passes_at_0_6_f1_fails_p530s_1_0_f1():
    """A 20 km hop over flat ground at 200 m with a 20 m high ridge mid-path, 35 m masts: at 15 GHz and k = 4/3
    the line clears the ridge top by 35 - 20 - 5.89 (earth bulge) = 9.11 m, 9.11 / F1(15 GHz, 10 km / 10 km) =
    9.11 / 10.00 = 0.91 F1: clear by the old 0.6 rule, not by P.530's 1.0 at the median k."""
    h = np.full((30, 250), 200.0, np.float32)
    h[:, 109:111] = 220.0  # cells 109-110: x 10.9-11.1 km from X0, the hop runs from x = 1 to 21 km
    dem = dem_from_array(h, Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    ax, ay, bx, by = (np.array([v]) for v in (X0 + 1000.0, Y0 - 1500.0, X0 + 21_000.0, Y0 - 1500.0))
    med = hop_clearance_f1(dem, ax, ay, 35.0, bx, by, 35.0, k_factor=4 / 3, step_m=10.0)
    low = hop_clearance_f1(dem, ax, ay, 35.0, bx, by, 35.0, k_factor=0.8, step_m=10.0)
    f1_15 = math.sqrt(299_792_458.0 / 15e9 * 10_000.0 * 10_000.0 / 20_000.0)
    assert f1_15 == pytest.approx(9.997, abs=1e-3)
    assert med[0] * math.sqrt(15.0) == pytest.approx((15.0 - 10_000.0**2 / (2 * 4 / 3 * 6_371_000.0)) / f1_15, abs=0.01)
    old = replace(BH, clearance_f1=0.6, clearance_low_f1=-10.0)
    assert clear_by_rule(med, low, 15.0, old)[0]
    assert not clear_by_rule(med, low, 15.0, BH)[0]  # 1.0 F1 at k = 4/3 (P.530-18 §2.2.2.1)


def test_a_canopy_blocks_a_hop_clear_over_bare_earth():
    """A 20 km hop between 35 m masts over flat ground clears P.530's rule on bare earth; under a 20 m forest
    (P.452's coniferous trees) the 18 GHz zone (9.13 m at mid-path) is cleared by 35 - 20 - 5.89 (bulge) = 9.11 m,
    0.998 F1 < 1.0, the lower bands' wider zones by less, and 23 GHz and E-band do not reach: blocked."""
    dem = dem_from_array(np.full((40, 250), 300.0, np.float32), Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    ids = np.array(["H"], dtype=object), np.array(["C"], dtype=object)
    hub = Endpoints(ids[0], np.array([X0 + 21_000.0]), np.array([Y0 - 2000.0]), np.array([35.0]), np.zeros(1))
    cand = Endpoints(ids[1], np.array([X0 + 1000.0]), np.array([Y0 - 2000.0]), np.array([35.0]), np.zeros(1))
    none = relay_points(_sites().iloc[:0], None, bounds=(0, 0, 1, 1), radio=RadioSettings(), costs=CostSettings())
    bare = plan_backhaul(cand, hub, none, Terrain(dem, crs=CRS), settings=BH, needed_mbps=np.array([150.0]))
    assert bare.loc[0, "hops"] == 1
    assert bare.loc[0, "clearance_f1"] >= 1.0
    assert bare.loc[0, "availability_pct"] >= 99.99
    forest = replace(dem, height_m=np.full(dem.shape, 20.0, np.float32))
    wooded = plan_backhaul(cand, hub, none, Terrain(dem, forest, crs=CRS), settings=BH, needed_mbps=np.array([150.0]))
    assert wooded.loc[0, "hops"] == 0
    assert not np.isfinite(wooded.loc[0, "cost_cny"])


def test_relay_points_are_each_squares_highest_cell_ties_west_then_south():
    """Relay masts: per 300 m square (aligned on the CRS origin, not on the DEM) the highest cell whose centre
    lies inside the bounds, nodata skipped, ties to the west-most, then the south-most cell; ordered by square.
    Held against a loop over every cell on a DEM of heights 0-2 (ties everywhere) offset from the squares."""
    rng = np.random.default_rng(7)
    z = rng.integers(0, 3, (23, 29)).astype(np.float32)
    z[rng.random(z.shape) < 0.15] = np.nan
    z[:4, :4] = np.nan  # a whole square without data: no relay there
    x0, y0 = 300_050.0, 4_650_020.0
    dem = dem_from_array(z, Affine(100.0, 0, x0, 0, -100.0, y0), CRS)
    bounds = (x0 + 420.0, y0 - 2150.0, x0 + 2700.0, y0 - 130.0)
    radio = replace(RadioSettings(), backhaul=replace(BH, relays_on_towers=False, relay_spacing_m=300.0))
    got = relay_points(_sites(), dem, bounds=bounds, radio=radio, costs=CostSettings())
    best: dict[tuple[int, int], tuple[float, float, float]] = {}
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            x, y = x0 + (c + 0.5) * 100.0, y0 - (r + 0.5) * 100.0
            inside = bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]
            if not inside or np.isnan(z[r, c]):
                continue
            key = (math.floor(x / 300.0), math.floor(y / 300.0))
            if key not in best or (-z[r, c], x, y) < (-best[key][0], best[key][1], best[key][2]):
                best[key] = (float(z[r, c]), x, y)
    expected = [best[k][1:] for k in sorted(best)]
    assert len(expected) > 40
    assert list(zip(got.x.tolist(), got.y.tolist(), strict=True)) == expected
    assert got.ids.tolist() == [f"R{round(x):d}_{round(y):d}" for x, y in expected]
    assert got.new_mast.all()


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
    # the relay's id is its projected position in metres (not a cell of a DEM window), also given in WGS84
    relay_x, relay_y = (int(v) for v in out["backhaul_relay"][1:].split("_"))
    assert X0 + 19_900.0 <= relay_x <= X0 + 20_200.0  # on the ridge
    assert relay_y == pytest.approx(Y0 - 15_000.0, abs=1600.0)
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(relay_x, relay_y)
    assert (out["backhaul_relay_lon"], out["backhaul_relay_lat"]) == (
        pytest.approx(lon, abs=1e-5),
        pytest.approx(lat, abs=1e-5),
    )
    # the cheapest mast that clears the 400 m ridge's top: the lowest of the list (20 m)
    assert out["backhaul_relay_height_m"] == 20.0
    assert out["backhaul_relay_cny"] == 150_000.0
    hops = json.loads(out["backhaul_hops_json"])
    assert len(hops) == 2
    assert out["backhaul_cny"] == pytest.approx(150_000.0 + sum(h["cost_cny"] for h in hops))
    assert all(h["clearance_f1"] >= 1.0 and h["clearance_low_f1"] >= 0.3 for h in hops)
    assert all(h["availability_pct"] >= 99.99 and h["capacity_mbps"] >= 150.0 for h in hops)
    assert out["backhaul_clearance_f1"] >= 1.0
    assert 9_800.0 <= out["backhaul_length_m"] <= 10_300.0  # both hops about 10 km
    assert out["backhaul_mbps"] == min(h["capacity_mbps"] for h in hops)
    assert "-> H1" in out["backhaul_path"]
    # a China Tower site that sells transmission ("any_fibre"): X1 is the hub, one clear 500 m E-band hop
    anyf = RadioSettings(backhaul=replace(BH, hubs="any_fibre"))  # (at the default satellite price)
    one = site_costs(cand, np.array([np.inf]), sites, costs=costs, radio=anyf, dem=dem, operator="CMCC").iloc[0]
    assert (one["backhaul_hub"], one["backhaul_hops"]) == ("X1", 1)
    assert one["backhaul_length_m"] == pytest.approx(500.0)
    # 500 m: the smallest dish and the cheapest band (a tie in price keeps the highest band below E-band's dearer radio)
    assert (one["backhaul_dish_m"], one["backhaul_band_ghz"]) == (0.3, 23.0)
    assert one["backhaul_cny"] == pytest.approx(2 * (15_000.0 + 3_000.0) + 20_000.0)


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
