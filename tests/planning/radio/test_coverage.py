"""Link budget and coverage: hand-computed cases and invariants."""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from gis.settings import RadioSettings
from gis.synthetic import synthesize
from gis.terrain import dem_from_array, profiles
from planning.radio import p1812
from planning.radio.coverage import (
    antenna_gain_db,
    coverage,
    max_range_m,
    pair_loss_db,
    sectorised,
    site_table,
    throughput_mbps,
)
from planning.radio.linkbudget import LinkBudget, capped_sinr_db, location_probability, o2i_loss_db, shadow_margin_db
from planning.radio.pathloss import pair_loss
from planning.radio.propagation import free_space_loss_db, terrain_loss_db

CRS = "EPSG:32652"
X0, Y0 = 300_000.0, 4_650_000.0


def flat_dem(height_m: float = 200.0, size_km: float = 40.0):
    n = int(size_km * 10)
    return dem_from_array(np.full((n, n), height_m, np.float32), Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)


def sites_frame(xy, *, tech=("4g",), band=(1800.0,), height=(35.0,), azimuth=None):
    n = len(xy)
    data = {
        "site_id": [f"T{i}" for i in range(n)],
        "tech": list(tech) * (n // len(tech)),
        "band_mhz": list(band) * (n // len(band)),
        "height_m": list(height) * (n // len(height)),
    }
    if azimuth is not None:
        data["azimuth_deg"] = azimuth
    return gpd.GeoDataFrame(data, geometry=shapely.points(np.asarray(xy)), crs=CRS)


def points_frame(xy, index=None):
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(xy))]}, geometry=shapely.points(np.asarray(xy)), crs=CRS, index=index
    )


# these hand-computed budgets are of omni cells (a row without azimuth is three sectors by default: see the
# sector tests below)
RADIO = replace(RadioSettings(), model="free_space", missing_azimuth="omni")


def _vertical_db(dz_m: float, d_m: float, *, tilt: float = 3.0, bw: float = 10.0) -> float:
    """TR 36.814 vertical pattern by hand: -min(12 ((theta - tilt) / bw)^2, 20)."""
    theta = math.degrees(math.atan2(dz_m, d_m))
    return -min(12.0 * ((theta - tilt) / bw) ** 2, 20.0)


def _capped(sinr_db: float, cap_db: float = 30.0) -> float:
    return -10 * math.log10(10 ** (-sinr_db / 10) + 10 ** (-cap_db / 10))


def test_link_budget_hand_computed_single_site():
    site = (X0 + 5000.0, Y0 - 5000.0)
    pt = (X0 + 5000.0 + 3000.0, Y0 - 5000.0 - 4000.0)  # 5 km
    cov = coverage(points_frame([pt]), sites_frame([site]), radio=RADIO, dem=None)
    # LTE 4T4R macro: 43 dBm per port + 18 dBi - 0.5 dB jumper = 60.5 dBm over 1200 subcarriers (20 MHz, 100 RB);
    # omni, vertical pattern at 0.38 degrees below the horizon with 3 degrees of tilt; free space over the 3-D distance
    fs = float(free_space_loss_db(math.hypot(5000.0, 35.0 - 1.5), 1800.0))
    av = _vertical_db(35.0 - 1.5, 5000.0)
    assert av == pytest.approx(-0.8213, abs=1e-4)
    rsrp = 60.5 - 10 * math.log10(1200.0) + av - fs
    assert cov.loc[0, "4g_rsrp_dbm"] == pytest.approx(rsrp, abs=0.01)
    noise = -174.0 + 10 * math.log10(15e3) + 7.0  # per 15 kHz resource element, NF 7 dB
    sinr = _capped(rsrp - noise)  # EVM cap at 30 dB
    assert cov.loc[0, "4g_sinr_db"] == pytest.approx(sinr, abs=0.01)
    se = min(0.6 * math.log2(1 + 10 ** (sinr / 10)), 4.4)
    assert cov.loc[0, "4g_peak_mbps"] == pytest.approx(20.0 * se * 2, abs=0.01)  # 2x2 MIMO at high SINR
    assert cov.loc[0, "4g_throughput_mbps"] == pytest.approx(20.0 * se * 2, abs=0.01)  # no load without the stage
    # uplink: 23 dBm handheld - 3 dB body loss, the same path, 21 dBi receive gain - 0.5 dB jumper at the eNodeB
    ul_rx = rsrp + 10 * math.log10(1200.0) - 60.5 + 23.0 - 3.0 + 20.5
    n0 = -174.0 + 10 * math.log10(15e3) + 3.0 + 2.0  # NF 3 dB, 2 dB noise rise
    se_min = 0.4 * math.log2(1.0 + 0.1)  # TR 36.942 uplink at SINR_min = -10 dB
    sens = n0 - 10.0 + 10 * math.log10(0.5e6 / (15e3 * se_min))  # 0.5 Mbps edge, 50.5 RB at SINR_min
    assert sens == pytest.approx(-109.41, abs=0.01)
    assert cov.loc[0, "4g_ul_margin_db"] == pytest.approx(ul_rx - sens, abs=0.01)
    assert 10 ** ((ul_rx - n0 + 10.0) / 10.0) / 12.0 > 100  # strong enough to fill the carrier above SINR_min
    ul_sinr = ul_rx - 10 * math.log10(1200.0) - n0
    ul_se = min(0.4 * math.log2(1 + 10 ** (ul_sinr / 10)), 2.0)
    assert cov.loc[0, "4g_ul_mbps"] == pytest.approx(1200 * 15e3 * ul_se / 1e6, abs=0.001)
    # location probability: the weaker of the two links, lognormal 8 dB
    margin = min(rsrp + 110.0, ul_rx - sens)
    assert cov.loc[0, "4g_location_probability"] == pytest.approx(NormalDist().cdf(margin / 8.0), abs=1e-4)
    assert bool(cov.loc[0, "4g_covered"])
    assert cov.loc[0, "4g_site_id"] == "T0"
    assert cov.loc[0, "4g_cell_id"] == "T0/0"  # omni: one cell
    assert np.isnan(cov.loc[0, "5g_rsrp_dbm"])
    assert not bool(cov.loc[0, "5g_covered"])
    assert cov.loc[0, "5g_throughput_mbps"] == 0.0


def test_shadow_margin_decides_coverage_at_the_edge():
    """RSRP 3 dB above the threshold: covered by the median, not at a 75 % edge probability (margin 5.40 dB)."""
    assert shadow_margin_db(8.0, 0.75) == pytest.approx(8.0 * 0.674490, abs=1e-5)
    assert shadow_margin_db(8.0, 0.9) == pytest.approx(10.2524, abs=1e-4)
    assert location_probability(np.array([0.0, 5.396, np.nan]), 8.0) == pytest.approx([0.5, 0.75, 0.0], abs=1e-4)
    xy = (X0 + 5000.0, Y0 - 5000.0)
    pt = points_frame([(X0 + 10_000.0, Y0 - 5000.0)])
    # an EIRP (sites layer) that puts the free-space RSRP at 5 km at -107 dBm
    fs = float(free_space_loss_db(math.hypot(5000.0, 33.5), 1800.0))
    eirp = -107.0 + 10 * math.log10(1200.0) - _vertical_db(33.5, 5000.0) + fs
    site = sites_frame([xy]).assign(eirp_dbm=eirp)
    cov = coverage(pt, site, radio=RADIO)
    assert cov.loc[0, "4g_rsrp_dbm"] == pytest.approx(-107.0, abs=0.02)
    assert cov.loc[0, "4g_location_probability"] == pytest.approx(NormalDist().cdf(3.0 / 8.0), abs=0.002)
    assert not bool(cov.loc[0, "4g_covered"])
    assert cov.loc[0, "4g_peak_mbps"] == 0.0
    median = coverage(pt, site, radio=replace(RADIO, edge_probability=0.5))
    assert bool(median.loc[0, "4g_covered"])


def test_sinr_is_capped_by_evm():
    assert capped_sinr_db(np.array([30.0, 84.0, 0.0]), 30.0) == pytest.approx([26.9897, 30.0, -0.0043], abs=1e-4)
    # 100 m from the site, no other site: raw SINR ~ 80 dB, reported at the cap
    cov = coverage(points_frame([(X0 + 5100.0, Y0 - 5000.0)]), sites_frame([(X0 + 5000.0, Y0 - 5000.0)]), radio=RADIO)
    assert 29.9 < cov.loc[0, "4g_sinr_db"] <= 30.0


def test_uplink_limited_point_is_not_covered():
    """n78 AAU, handheld: the downlink closes with room to spare, the uplink for a 5 Mbps edge rate does not."""
    radio = replace(RADIO, nr_ul_edge_mbps=5.0)
    site = sites_frame([(X0 + 5000.0, Y0 - 5000.0)], tech=("5g",), band=(3500.0,))
    pt = points_frame([(X0 + 5000.0 + 45_000.0, Y0 - 5000.0)])
    cov = coverage(pt, site, radio=radio, budget=LinkBudget(max_range_m=100_000.0))
    rsrp = cov.loc[0, "5g_rsrp_dbm"]
    # AAU: 53 dBm + 24 dBi over 273 RB x 12 (100 MHz at 30 kHz); uplink gain 24 dBi, no feeder; TDD: 25 % uplink
    ul_rx = rsrp + 10 * math.log10(3276.0) - 77.0 + 23.0 - 3.0 + 24.0  # 3 dB body loss on the uplink
    n0 = -174.0 + 10 * math.log10(30e3) + 5.0
    se_min = 0.4 * math.log2(1.1)
    need_rb = 5e6 / (12 * 30e3 * se_min * 0.25)
    assert need_rb > 273  # 5 Mbps needs more than SINR_min over the whole carrier
    se_req = 5e6 / (12 * 273 * 30e3 * 0.25)
    sens = 10 * math.log10(2 ** (se_req / 0.4) - 1) + 10 * math.log10(12 * 273) + n0
    assert cov.loc[0, "5g_ul_margin_db"] == pytest.approx(ul_rx - sens, abs=0.01)
    assert rsrp + 105.0 > 8.0  # downlink margin well over the 5.4 dB shadow margin
    assert cov.loc[0, "5g_ul_margin_db"] < 5.4
    assert not bool(cov.loc[0, "5g_covered"])
    assert cov.loc[0, "5g_location_probability"] == pytest.approx(
        NormalDist().cdf(cov.loc[0, "5g_ul_margin_db"] / 8.0), abs=2e-4
    )
    ok = coverage(pt, site, radio=RADIO, budget=LinkBudget(max_range_m=100_000.0))  # 1 Mbps edge: closes
    assert bool(ok.loc[0, "5g_covered"])


def test_massive_mimo_equipment_and_layer_eirp():
    """Per-band equipment: the n78 AAU's SS-RSRP is 16.5 dB over a 4T4R n28 carrier's per RE before path loss;
    a sites-layer EIRP overrides the equipment."""
    pts = points_frame([(X0 + 6000.0, Y0 - 5000.0)])
    xy = [(X0 + 5000.0, Y0 - 5000.0)]
    n78 = coverage(pts, sites_frame(xy, tech=("5g",), band=(3500.0,)), radio=RADIO)
    n28 = coverage(pts, sites_frame(xy, tech=("5g",), band=(700.0,)), radio=RADIO)
    per_re_78 = 53.0 + 24.0 - 10 * math.log10(3276.0)
    per_re_28 = 46.0 + 15.0 - 0.5 - 10 * math.log10(1920.0)  # 30 MHz at 15 kHz: 160 RB
    fs = lambda f: float(free_space_loss_db(math.hypot(1000.0, 33.5), f))  # noqa: E731
    v10 = _vertical_db(33.5, 1000.0, bw=12.0)
    v14 = _vertical_db(33.5, 1000.0, bw=14.0)
    assert n78.loc[0, "5g_rsrp_dbm"] == pytest.approx(per_re_78 + v10 - fs(3500.0), abs=0.01)
    assert n28.loc[0, "5g_rsrp_dbm"] == pytest.approx(per_re_28 + v14 - fs(700.0), abs=0.01)
    assert n78.loc[0, "5g_peak_mbps"] == pytest.approx(100 * 4.4 * 4 * 0.75, abs=0.01)  # 4 layers, 75 % downlink
    layer = sites_frame(xy, tech=("5g",), band=(3500.0,)).assign(eirp_dbm=61.0)
    given = coverage(pts, layer, radio=RADIO)
    assert given.loc[0, "5g_rsrp_dbm"] == pytest.approx(n78.loc[0, "5g_rsrp_dbm"] - 16.0, abs=0.01)


def test_indoor_cpe_pays_building_entry_loss():
    site = sites_frame([(X0 + 5000.0, Y0 - 5000.0)])
    pts = points_frame([(X0 + 7000.0, Y0 - 5000.0)])
    out = coverage(pts, site, radio=RADIO, receiver="cpe")
    ins = coverage(pts, site, radio=RADIO, receiver="indoor_cpe")
    # TR 38.901 low-loss O2I at 1.8 GHz: L_glass = 2.36, L_concrete = 12.2 dB, + 0.5 x 10/3 m indoors
    o2i = 5 - 10 * math.log10(0.3 * 10 ** (-2.36 / 10) + 0.7 * 10 ** (-12.2 / 10)) + 5.0 / 3.0
    assert float(o2i_loss_db(np.array([1800.0]))[0]) == pytest.approx(o2i, abs=1e-9)
    assert 10.0 < o2i < 15.0
    # outdoor CPE at 6 m, indoor at 1.5 m (same 10 dBi): free space and the vertical pattern differ slightly too
    geo = float(free_space_loss_db(math.hypot(2000.0, 35.0 - 1.5), 1800.0)) - float(
        free_space_loss_db(math.hypot(2000.0, 35.0 - 6.0), 1800.0)
    )
    geo += _vertical_db(29.0, 2000.0) - _vertical_db(33.5, 2000.0)
    assert out.loc[0, "4g_rsrp_dbm"] - ins.loc[0, "4g_rsrp_dbm"] == pytest.approx(o2i + geo, abs=0.01)
    # the CPE transmits at 26 dBm (power class 2) with no hand on it: 3 dB + the handheld's 3 dB body loss more
    # uplink than a handheld at the same spot
    hand = coverage(pts, site, radio=RADIO)
    cpe_ul = out.loc[0, "4g_ul_margin_db"] - (out.loc[0, "4g_rsrp_dbm"] - hand.loc[0, "4g_rsrp_dbm"])
    assert cpe_ul - hand.loc[0, "4g_ul_margin_db"] == pytest.approx(6.0, abs=0.01)


def test_throughput_tr36942_mapping():
    b = LinkBudget()
    sinr = np.array([-15.0, -10.0, 0.0, 9.9, 10.0, 40.0])
    thr = throughput_mbps(sinr, np.full(6, 20.0), layers=np.full(6, 2), dl_fraction=np.ones(6), budget=b)
    assert thr[0] == 0.0  # below SINR_min
    assert thr[1] == pytest.approx(20 * 0.6 * np.log2(1.1), rel=1e-9)
    assert thr[2] == pytest.approx(20 * 0.6 * 1.0, rel=1e-9)
    assert thr[4] == pytest.approx(2 * 20 * 0.6 * np.log2(11.0), rel=1e-9)  # full rank from 10 dB
    assert thr[5] == pytest.approx(2 * 20 * 4.4, rel=1e-9)  # capped at 4.4 bit/s/Hz per layer
    assert np.all(np.diff(thr) >= 0)


def test_sector_pattern():
    assert antenna_gain_db(np.array([0.0]), np.array([0.0]))[0] == 0.0
    assert antenna_gain_db(np.array([60.0]), np.array([120.0]))[0] == pytest.approx(-12 * (60 / 65) ** 2)
    assert antenna_gain_db(np.array([60.0]), np.array([0.0]))[0] == pytest.approx(-12 * (60 / 65) ** 2)
    assert antenna_gain_db(np.array([123.0]), np.array([np.nan]))[0] == 0.0  # omni
    # three sectors: the worst direction is 60 degrees off every boresight
    worst = antenna_gain_db(np.arange(0.0, 360.0, 1.0), np.zeros(360))
    assert worst.min() == pytest.approx(-12 * (60 / 65) ** 2)


def test_rsrp_falls_with_distance_and_range_limits_pairs():
    site = (X0 + 1000.0, Y0 - 20000.0)
    pts = [(X0 + 1000.0 + d, Y0 - 20000.0) for d in (500.0, 2000.0, 8000.0, 30000.0)]
    cov = coverage(points_frame(pts), sites_frame([site]), radio=replace(RadioSettings(), model="hata"))
    r = cov["4g_rsrp_dbm"].to_numpy()
    assert np.all(np.diff(r[np.isfinite(r)]) < 0)
    far = coverage(points_frame([(X0 + 200_000.0, Y0)]), sites_frame([site]), radio=RADIO)
    assert far.loc[0, "sites_in_range"] == 0
    assert np.isnan(far.loc[0, "4g_rsrp_dbm"])


def test_cochannel_interference_lowers_sinr_and_other_band_does_not():
    s1 = (X0 + 10000.0, Y0 - 10000.0)
    pt = (X0 + 12000.0, Y0 - 10000.0)
    alone = coverage(points_frame([pt]), sites_frame([s1]), radio=RADIO)
    both = coverage(points_frame([pt]), sites_frame([s1, (X0 + 16000.0, Y0 - 10000.0)]), radio=RADIO)
    other = coverage(
        points_frame([pt]), sites_frame([s1, (X0 + 16000.0, Y0 - 10000.0)], band=(1800.0, 900.0)), radio=RADIO
    )
    assert both.loc[0, "4g_site_id"] == "T0"
    assert both.loc[0, "4g_sinr_db"] < alone.loc[0, "4g_sinr_db"] - 3.0
    # interferer at 4 km vs server at 2 km, free space: I = S - 20 log10(2) dB (and the vertical pattern at each
    # angle), half load; noise is 30 dB below, the EVM cap far above
    s_db = _vertical_db(33.5, 2000.0) - float(free_space_loss_db(math.hypot(2000.0, 33.5), 1800.0))
    i_db = _vertical_db(33.5, 4000.0) - float(free_space_loss_db(math.hypot(4000.0, 33.5), 1800.0))
    sir = s_db - i_db - 10 * math.log10(0.5)
    assert both.loc[0, "4g_sinr_db"] == pytest.approx(_capped(sir), abs=0.05)
    assert other.loc[0, "4g_sinr_db"] == pytest.approx(alone.loc[0, "4g_sinr_db"], abs=1e-6)


@pytest.fixture(scope="module")
def small_region():
    return synthesize(villages=120, seed=11)


def test_kernel_matches_numpy_reference(small_region):
    r = small_region
    rng = np.random.default_rng(0)
    v = r.villages.geometry
    s = r.sites.geometry
    i = rng.integers(0, len(v), 200)
    j = rng.integers(0, len(s), 200)
    sx, sy, px, py = s.x.to_numpy()[j], s.y.to_numpy()[j], v.x.to_numpy()[i], v.y.to_numpy()[i]
    f = r.sites["band_mhz"].to_numpy()[j]
    ht = r.sites["height_m"].to_numpy()[j]
    hr = np.full(200, 1.5)
    ends = np.column_stack([sx, sy, px, py])
    p1812, _ = pair_loss_db(r.dem, sx, sy, px, py, f, ht, hr, model="p1812", environment="rural", step_m=30.0)
    for model in ("hata", "rma", "free_space"):
        got, complete = pair_loss_db(r.dem, sx, sy, px, py, f, ht, hr, model=model, environment="rural", step_m=30.0)
        ref = terrain_loss_db(profiles(r.dem, sx, sy, px, py, step_m=30.0), f, ht, hr, model=model)
        out = pair_loss(r.dem, ends, f, np.column_stack([ht, hr]), model=model, environment="rural").fallback
        assert out.any() == (model != "free_space")  # some pairs leave Hata's 1-20 km and RMa's 10 km (5 km NLOS)
        np.testing.assert_allclose(got[~out], ref.loss_db[~out], atol=1e-6)
        np.testing.assert_allclose(got[out], p1812[out], atol=1e-9)  # computed with P.1812, never extrapolated
        assert complete.all()


def test_coverage_grows_with_tower_height(small_region):
    r = small_region
    radio = RadioSettings()
    shares = []
    rsrps = []
    for h in (15.0, 30.0, 50.0):
        sites = r.sites.assign(height_m=h)
        cov = coverage(r.villages, sites, radio=radio, dem=r.dem)
        shares.append(cov["4g_covered"].mean())
        rsrps.append(cov["4g_rsrp_dbm"].to_numpy())
    assert shares[0] <= shares[1] <= shares[2]
    assert shares[0] < shares[2]
    assert np.nanmean(rsrps[1] - rsrps[0]) > 0
    assert np.nanmean(rsrps[2] - rsrps[1]) > 0


def test_ridge_shadows_points_behind_it():
    h = np.full((200, 400), 200.0, np.float32)
    h[:, 200:203] = 420.0  # a 220 m ridge at x = 20 km
    dem = dem_from_array(h, Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    flat = flat_dem(size_km=40.0)
    site = sites_frame([(X0 + 15000.0, Y0 - 10000.0)])
    pts = points_frame([(X0 + 18000.0, Y0 - 10000.0), (X0 + 25000.0, Y0 - 10000.0)])  # before / behind the ridge
    radio = replace(RadioSettings(), environment="rural")  # Hata's open area: the point behind stays in range
    ridge = coverage(pts, site, radio=radio, dem=dem)
    plain = coverage(pts, site, radio=radio, dem=flat)
    assert ridge.loc[0, "4g_rsrp_dbm"] == pytest.approx(plain.loc[0, "4g_rsrp_dbm"], abs=0.01)
    assert ridge.loc[1, "4g_rsrp_dbm"] < plain.loc[1, "4g_rsrp_dbm"] - 20.0


def test_cpe_beats_handheld_and_index_is_kept(small_region):
    r = small_region
    schools = r.schools.set_index(r.schools.index + 1000)
    hand = coverage(schools, r.sites, radio=RadioSettings(), dem=r.dem)
    cpe = coverage(schools, r.sites, radio=RadioSettings(), dem=r.dem, receiver="cpe")
    assert cpe.index.equals(schools.index)
    # the CPE's 10 dB more gain; its height helps where terrain or clutter diffracts (under P.1812 a line-of-sight
    # path gains nothing from it, and the vertical pattern towards the higher antenna may cost a few tenths of a dB)
    gain = cpe["4g_rsrp_dbm"] - hand["4g_rsrp_dbm"]
    assert (gain >= 9.5).all()
    assert (gain > 10.5).any()


def test_points_off_the_dem_are_flagged_not_zeroed():
    dem = flat_dem(size_km=10.0)
    site = (X0 + 5000.0, Y0 - 5000.0)
    pts = points_frame([(X0 + 6000.0, Y0 - 5000.0), (X0 + 15000.0, Y0 - 5000.0)])
    cov = coverage(pts, sites_frame([site]), radio=RadioSettings(), dem=dem)
    assert cov["terrain"].tolist() == ["ok", "off_dem"]
    assert np.isfinite(cov.loc[0, "4g_rsrp_dbm"])
    assert np.isnan(cov.loc[1, "4g_rsrp_dbm"])
    assert not bool(cov.loc[1, "4g_covered"])


def test_mismatched_crs_is_refused():
    pts = points_frame([(X0, Y0)]).to_crs(4326)
    with pytest.raises(ValueError, match="must share one projected CRS"):
        coverage(pts, sites_frame([(X0, Y0)]), radio=RADIO)


def _at(bearing_deg: float, d_m: float, centre=(X0 + 5000.0, Y0 - 5000.0)):
    b = math.radians(bearing_deg)
    return (centre[0] + d_m * math.sin(b), centre[1] + d_m * math.cos(b))


def test_a_site_without_azimuth_is_three_sectors_each_serving_its_third():
    """One 4G row, no azimuth: sectors at 0/120/240 deg; a point 2 km away is served by the sector whose boresight
    is nearest, and pays the TR 38.901 pattern off that boresight (12 (delta / 65)^2 dB)."""
    radio = replace(RADIO, missing_azimuth="three_sectors")
    site = sites_frame([(X0 + 5000.0, Y0 - 5000.0)])
    bearings = [0.0, 10.0, 130.0, 250.0, 300.0, 50.0]
    cov = coverage(points_frame([_at(b, 2000.0) for b in bearings]), site, radio=radio)
    assert cov["4g_cell_id"].tolist() == ["T0/1", "T0/1", "T0/2", "T0/3", "T0/3", "T0/1"]
    assert cov["4g_site_id"].tolist() == ["T0"] * 6
    # same distance and height: RSRP differs by the horizontal pattern only
    rel = cov["4g_rsrp_dbm"] - cov.loc[0, "4g_rsrp_dbm"]
    off = [0.0, 10.0, 10.0, 10.0, 60.0, 50.0]  # degrees off the serving sector's boresight
    # 60 deg off (the sector border): -10.22 dB
    assert rel.tolist() == pytest.approx([-12 * (a / 65) ** 2 for a in off], abs=0.02)
    # the same row as an omni cell: one cell, 0 dB all round
    omni = coverage(points_frame([_at(b, 2000.0) for b in bearings]), site, radio=RADIO)
    assert set(omni["4g_cell_id"]) == {"T0/0"}
    assert omni["4g_rsrp_dbm"].tolist() == pytest.approx([omni.loc[0, "4g_rsrp_dbm"]] * 6, abs=0.01)


def test_sectorised_counts_the_rows_without_azimuth():
    site = sites_frame([(X0, Y0), (X0 + 1.0, Y0), (X0 + 2.0, Y0)], azimuth=[30.0, None, None])
    assert sectorised(site, RadioSettings()) == 2
    assert sectorised(site.drop(columns="azimuth_deg"), RadioSettings()) == 3
    assert sectorised(site, RADIO) == 0  # omni: nothing split


def test_uplink_fails_by_body_loss_where_the_downlink_closes():
    """n78 AAU (77 dBm EIRP), handheld along the boresight: somewhere the downlink closes and the uplink closes
    without a hand on the phone but not with the 3 dB body loss; there the body loss alone decides coverage."""
    radio = replace(RADIO, missing_azimuth="three_sectors")
    site = sites_frame([(X0 + 5000.0, Y0 - 5000.0)], tech=("5g",), band=(3500.0,))
    pts = points_frame([_at(0.0, d) for d in np.geomspace(20_000.0, 90_000.0, 200)])
    budget = LinkBudget(max_range_m=100_000.0)
    hand = coverage(pts, site, radio=radio, budget=budget)
    bare = coverage(pts, site, radio=replace(radio, ue_body_loss_db=0.0), budget=budget)
    # the body loss is on the uplink only: same RSRP, uplink margin 3 dB lower everywhere
    assert hand["5g_rsrp_dbm"].tolist() == pytest.approx(bare["5g_rsrp_dbm"].tolist(), abs=1e-9)
    assert (bare["5g_ul_margin_db"] - hand["5g_ul_margin_db"]).tolist() == pytest.approx([3.0] * 200, abs=0.011)
    edge = shadow_margin_db(8.0, 0.75)
    dl_ok = hand["5g_rsrp_dbm"] + 105.0 >= edge
    lost = dl_ok & (hand["5g_ul_margin_db"] < edge) & (bare["5g_ul_margin_db"] >= edge)
    assert lost.sum() > 0
    assert not hand.loc[lost, "5g_covered"].any()
    assert bare.loc[lost, "5g_covered"].all()
    # and the uplink is what limits there (its margin below the downlink's)
    assert (hand.loc[lost, "5g_ul_margin_db"] < hand.loc[lost, "5g_rsrp_dbm"] + 105.0).all()


def test_max_range_is_the_last_distance_whose_flat_bound_fits_the_budget():
    """max_range_m scans its 400 distances from the far end in chunks; the answer is the full scan's: the last of
    the distances where P.1812 on a smooth Earth (the site raised by its height bonus) is within the link budget
    down to the interference floor, whatever the band, height and EIRP."""
    xy = [(X0 + 1000.0 * k, Y0) for k in range(6)]
    sites = sites_frame(
        xy,
        tech=("4g", "4g", "5g", "5g", "4g", "5g"),
        band=(900.0, 1800.0, 3500.0, 700.0, 2100.0, 2600.0),
        height=(20.0, 35.0, 30.0, 45.0, 25.0, 40.0),
    )
    radio = replace(RadioSettings(), model="p1812")
    budget = LinkBudget()
    bonus = np.array([0.0, 150.0, 40.0, 0.0, 600.0, 10.0])
    st = site_table(sites, radio)
    got = max_range_m(
        st, radio, model="p1812", environment="rural", rx_height_m=1.5, rx_gain_dbi=0.0, budget=budget,
        height_bonus_m=bonus,
    )  # fmt: skip
    dists = np.geomspace(50.0, budget.max_range_m, 400)
    floor = np.where(st.tech == "4g", radio.lte_rsrp_threshold_dbm, radio.nr_rsrp_threshold_dbm) - 10.0
    allow = np.round(st.eirp_dbm - 10 * np.log10(st.subcarriers) - floor, 1)
    n = len(dists)
    for k in range(len(xy)):
        hb = round(float(np.clip(st.height_m[k] + bonus[k], 1.0, 300.0)), 1)
        loss, _ = p1812.pair_loss_db(
            np.zeros((1, 1), np.float32), (-1.0, 1.0, 2.0 + dists.max(), -2.0),
            np.column_stack([np.zeros(n), np.zeros(n), dists, np.zeros(n)]), np.column_stack([np.full(n, hb),
            np.full(n, 1.5)]), np.full(n, round(float(st.band_mhz[k]), 1) / 1000.0), np.full(n, 45.0), step_m=250.0,
        )  # fmt: skip
        ok = np.flatnonzero(loss <= allow[k])
        assert got[k] == (dists[ok[-1]] if len(ok) else 0.0)
    assert len(set(got.tolist())) > 3
    assert got.min() > 1000.0
