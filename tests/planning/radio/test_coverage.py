"""Link budget and coverage: hand-computed cases and invariants."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from gis.errors import LayerError
from gis.project import RadioSettings
from gis.synthetic import synthesize
from gis.terrain import dem_from_array, profiles
from planning.radio.coverage import (
    LinkBudget,
    antenna_gain_db,
    calibrate,
    coverage,
    coverage_raster,
    pair_loss_db,
    throughput_mbps,
)
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


RADIO = replace(RadioSettings(), model="free_space")


def test_link_budget_hand_computed_single_site():
    site = (X0 + 5000.0, Y0 - 5000.0)
    pt = (X0 + 5000.0 + 3000.0, Y0 - 5000.0 - 4000.0)  # 5 km
    cov = coverage(points_frame([pt]), sites_frame([site]), radio=RADIO, dem=None)
    # free space over the 3-D distance, 61 dBm EIRP over 1200 subcarriers (20 MHz LTE = 100 RB)
    fs = float(free_space_loss_db(np.hypot(5000.0, 35.0 - 1.5), 1800.0))
    rsrp = 61.0 - 10 * np.log10(1200.0) - fs
    assert cov.loc[0, "4g_rsrp_dbm"] == pytest.approx(rsrp, abs=0.01)
    noise = -174.0 + 10 * np.log10(15e3) + 7.0  # per 15 kHz resource element, NF 7 dB
    sinr = rsrp - noise
    assert cov.loc[0, "4g_sinr_db"] == pytest.approx(sinr, abs=0.01)
    se = min(0.6 * np.log2(1 + 10 ** (sinr / 10)), 4.4)
    assert cov.loc[0, "4g_throughput_mbps"] == pytest.approx(20.0 * se * 2, abs=0.01)  # 2x2 MIMO at high SINR
    assert bool(cov.loc[0, "4g_covered"])
    assert cov.loc[0, "4g_site_id"] == "T0"
    assert np.isnan(cov.loc[0, "5g_rsrp_dbm"])
    assert not bool(cov.loc[0, "5g_covered"])
    assert cov.loc[0, "5g_throughput_mbps"] == 0.0


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
    # interferer at 4 km vs server at 2 km, free space: I = S - 20 log10(2) dB, half load
    i_rel = 10 ** (-20 * np.log10(4000 / 2000) / 10) * 0.5
    assert both.loc[0, "4g_sinr_db"] == pytest.approx(-10 * np.log10(i_rel), abs=0.1)
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
    for model in ("hata", "rma", "free_space"):
        got, complete = pair_loss_db(r.dem, sx, sy, px, py, f, ht, hr, model=model, environment="rural", step_m=30.0)
        ref = terrain_loss_db(profiles(r.dem, sx, sy, px, py, step_m=30.0), f, ht, hr, model=model)
        np.testing.assert_allclose(got, ref.loss_db, atol=1e-6)
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
    ridge = coverage(pts, site, radio=RadioSettings(), dem=dem)
    plain = coverage(pts, site, radio=RadioSettings(), dem=flat)
    assert ridge.loc[0, "4g_rsrp_dbm"] == pytest.approx(plain.loc[0, "4g_rsrp_dbm"], abs=0.01)
    assert ridge.loc[1, "4g_rsrp_dbm"] < plain.loc[1, "4g_rsrp_dbm"] - 20.0


def test_cpe_beats_handheld_and_index_is_kept(small_region):
    r = small_region
    schools = r.schools.set_index(r.schools.index + 1000)
    hand = coverage(schools, r.sites, radio=RadioSettings(), dem=r.dem)
    cpe = coverage(schools, r.sites, radio=RadioSettings(), dem=r.dem, receiver="cpe")
    assert cpe.index.equals(schools.index)
    assert (cpe["4g_rsrp_dbm"] >= hand["4g_rsrp_dbm"] + 9.99).all()


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


def test_raster_matches_point_coverage():
    dem = flat_dem(size_km=20.0)
    sites = sites_frame([(X0 + 10000.0, Y0 - 10000.0)])
    area = shapely.box(X0 + 2000.0, Y0 - 18000.0, X0 + 18000.0, Y0 - 2000.0)
    bands, transform = coverage_raster(sites, area, crs=CRS, radio=RadioSettings(), dem=dem, resolution_m=1000.0)
    assert bands.shape == (2, 16, 16)
    assert np.isnan(bands[1]).all()  # no 5G site
    cx, cy = transform.c + 3.5 * transform.a, transform.f + 7.5 * transform.e
    pt = coverage(points_frame([(cx, cy)]), sites, radio=RadioSettings(), dem=dem)
    assert bands[0, 7, 3] == pytest.approx(pt.loc[0, "4g_rsrp_dbm"], abs=0.01)
    # the brightest cells surround the site
    r, c = np.unravel_index(np.nanargmax(bands[0]), bands[0].shape)
    assert abs(r - 7.5) <= 1
    assert abs(c - 7.5) <= 1


def test_calibration_recovers_offset_and_slope():
    dem = flat_dem(size_km=40.0)
    rng = np.random.default_rng(4)
    sites = sites_frame([(X0 + 20000.0, Y0 - 20000.0)])
    ang = rng.uniform(0, 2 * np.pi, 400)
    dist = rng.uniform(500.0, 12000.0, 400)
    xy = np.column_stack([X0 + 20000.0 + dist * np.cos(ang), Y0 - 20000.0 + dist * np.sin(ang)])
    radio = RadioSettings()
    pred = coverage(points_frame(xy), sites, radio=radio, dem=dem, budget=LinkBudget(max_sites_per_point=0))
    true_offset, true_slope = 6.0, 8.0
    measured = (
        pred["4g_rsrp_dbm"].to_numpy() - true_offset - true_slope * np.log10(dist / 1000.0) + rng.normal(0, 3.0, 400)
    )
    meas = gpd.GeoDataFrame({"rsrp_dbm": measured, "site_id": "T0"}, geometry=shapely.points(xy), crs=CRS)
    cal = calibrate(meas, sites, radio=radio, dem=dem)
    assert cal.n == 400
    assert cal.offset_db == pytest.approx(true_offset, abs=1.0)
    assert cal.slope_db_per_decade == pytest.approx(true_slope, abs=1.5)
    assert cal.before_std_db > cal.after_std_db
    assert cal.after_std_db == pytest.approx(3.0, abs=0.4)
    assert abs(cal.after_mean_db) < 1e-6
    # applying the calibration brings the model onto the measurements
    fixed = replace(radio, calibration_offset_db=cal.offset_db, calibration_slope_db_per_decade=cal.slope_db_per_decade)
    again = coverage(points_frame(xy), sites, radio=fixed, dem=dem)
    assert np.mean(measured - again["4g_rsrp_dbm"].to_numpy()) == pytest.approx(0.0, abs=0.3)


def test_calibration_bad_rows_are_named():
    sites = sites_frame([(X0 + 1000.0, Y0 - 1000.0)])
    meas = gpd.GeoDataFrame(
        {"rsrp_dbm": [-80.0, -90.0, "x", -70.0], "site_id": ["T0", "T9", "T0", "T0"]},
        geometry=shapely.points([(X0 + 2000.0 + 100 * k, Y0 - 1000.0) for k in range(4)]),
        crs=CRS,
    )
    with pytest.raises(LayerError) as info:
        calibrate(meas, sites, radio=RadioSettings(), file="drive.csv")
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {(2, "site_id"), (3, "rsrp_dbm")}
    assert "site 'T9' is not in the sites layer" in str(info.value)
