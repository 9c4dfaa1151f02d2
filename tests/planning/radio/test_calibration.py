"""Drive-test calibration (planning.radio.calibration): offset and slope recovered, rows left out named, refusals."""

from __future__ import annotations

import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from gis.errors import LayerError
from gis.settings import RadioSettings
from gis.terrain import dem_from_array
from planning.radio.calibration import CalibrationRefusedError, calibrate
from planning.radio.coverage import coverage
from planning.radio.linkbudget import LinkBudget
from tests.planning.radio.test_coverage import CRS, X0, Y0, flat_dem, points_frame, sites_frame


def test_calibration_recovers_offset_and_slope():
    dem = flat_dem(size_km=40.0)
    rng = np.random.default_rng(4)
    sites = sites_frame([(X0 + 20000.0, Y0 - 20000.0)])
    ang = rng.uniform(0, 2 * np.pi, 400)
    dist = rng.uniform(500.0, 5000.0, 400)  # within a suburban 1800 MHz site's reach
    xy = np.column_stack([X0 + 20000.0 + dist * np.cos(ang), Y0 - 20000.0 + dist * np.sin(ang)])
    radio = RadioSettings()
    pred = coverage(points_frame(xy), sites, radio=radio, dem=dem, budget=LinkBudget(max_sites_per_point=0))
    true_offset, true_slope = 6.0, 8.0
    measured = (
        pred["4g_rsrp_dbm"].to_numpy() - true_offset - true_slope * np.log10(dist / 1000.0) + rng.normal(0, 3.0, 400)
    )
    meas = gpd.GeoDataFrame({"rsrp_dbm": measured, "site_id": "T0"}, geometry=shapely.points(xy), crs=CRS)
    cal = calibrate(meas, sites, radio=radio, dem=dem)
    assert (cal.n, cal.n_rows, len(cal.excluded)) == (400, 400, 0)
    assert cal.slope_fitted
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
        {"rsrp_dbm": [-80.0, -90.0, "x", -20.0], "site_id": ["T0", "T9", "T0", "T0"]},
        geometry=shapely.points([(X0 + 2000.0 + 100 * k, Y0 - 1000.0) for k in range(4)]),
        crs=CRS,
    )
    with pytest.raises(LayerError) as info:
        calibrate(meas, sites, radio=RadioSettings(), file="drive.csv")
    # a value that is no RSRP is a broken file (refused); a site not in the layer is a measurement left out
    assert {(p.row, p.column) for p in info.value.problems} == {(3, "rsrp_dbm"), (4, "rsrp_dbm")}
    assert "'x' is not an RSRP; expected a number between -156 and -31 dBm" in str(info.value)
    with pytest.raises(ValueError, match=r"`min_rows` = 2; expected at least 3"):
        calibrate(meas, sites, radio=RadioSettings(), min_rows=2)


def _drive(site_xy, dist_m, *, radio, dem, sites, site_id="T0", offset_db=0.0, slope_db=0.0, noise_db=None):
    """Measurements around a site at ``dist_m`` (bearings spread evenly per distance): the model's own RSRP (as
    coverage() predicts it) minus ``offset_db + slope_db * log10(d_km)`` plus ``noise_db`` (hand-chosen)."""
    dist_m = np.asarray(dist_m, dtype=float)
    n = len(dist_m)
    ang = np.arange(n) * 2.399963  # golden angle: no two points on one bearing
    xy = np.column_stack([site_xy[0] + dist_m * np.sin(ang), site_xy[1] + dist_m * np.cos(ang)])
    pred = coverage(points_frame(xy), sites, radio=radio, dem=dem, budget=LinkBudget(max_sites_per_point=0))
    rsrp = pred["4g_rsrp_dbm"].to_numpy() - offset_db - slope_db * np.log10(dist_m / 1000.0)
    if noise_db is not None:
        rsrp = rsrp + np.asarray(noise_db, dtype=float)
    return gpd.GeoDataFrame({"rsrp_dbm": rsrp, "site_id": site_id}, geometry=shapely.points(xy), crs=CRS)


def test_calibration_fits_offset_and_slope_by_hand():
    """Flat ground, 10 measurements each at 0.5, 1, 2 and 4 km, measured = model - 5 dB - 10 dB x log10(d_km)
    +- 2 dB (alternating at each distance, so the noise is orthogonal to offset and slope): the fit is exactly
    offset 5, slope 10, residual RMS 2 dB, and the slope's standard error is sqrt(160 / 38 / Sxx)."""
    dem = flat_dem(size_km=40.0)
    site = (X0 + 20000.0, Y0 - 20000.0)
    sites = sites_frame([site])
    d = np.repeat([500.0, 1000.0, 2000.0, 4000.0], 10)
    noise = np.tile([2.0, -2.0], 20)
    meas = _drive(site, d, radio=RadioSettings(), dem=dem, sites=sites, offset_db=5.0, slope_db=10.0, noise_db=noise)
    cal = calibrate(meas, sites, radio=RadioSettings(), dem=dem)
    assert (cal.n, cal.n_rows, len(cal.excluded)) == (40, 40, 0)
    assert cal.slope_fitted
    assert cal.offset_db == pytest.approx(5.0, abs=0.01)  # coverage() rounds its RSRP to 0.01 dB
    assert cal.slope_db_per_decade == pytest.approx(10.0, abs=0.02)
    assert cal.after_rms_db == pytest.approx(2.0, abs=0.01)
    assert cal.after_std_db == pytest.approx(2.0 * math.sqrt(40 / 39), abs=0.01)
    assert cal.after_mean_db == pytest.approx(0.0, abs=1e-9)
    # before: -5 - 10 log10(d_km) +- 2 at log10(d_km) = -0.301, 0, 0.301, 0.602
    x = np.log10([0.5, 1.0, 2.0, 4.0])
    before = -5.0 - 10.0 * x
    assert cal.before_mean_db == pytest.approx(before.mean(), abs=0.01)
    assert cal.before_rms_db == pytest.approx(math.sqrt(np.mean(before**2) + 4.0), abs=0.01)
    sxx = 10 * np.sum((x - x.mean()) ** 2)  # 4.531
    assert sxx == pytest.approx(4.5310, abs=1e-4)
    assert cal.slope_se_db == pytest.approx(math.sqrt(160.0 / 38.0 / sxx), abs=0.01)  # 0.964
    assert cal.spread_decades == pytest.approx(math.log10(8.0))  # 10th to 90th percentile: 0.5 to 4 km
    assert cal.distance_range_m == pytest.approx((500.0, 4000.0))


def test_calibration_at_one_distance_fits_the_offset_only():
    """40 measurements at one point (QA B11: a slope of -10.75 dB/decade came out of a rank-deficient fit): the
    offset alone, the mean of 4 and 8 dB below the model = 6 dB; residual RMS 2 dB. Distances of 1 and 1.9 km
    spread 0.28 decades: offset only at the default 0.3, a slope with a minimum of 0.25."""
    dem = flat_dem(size_km=40.0)
    site = (X0 + 20000.0, Y0 - 20000.0)
    sites = sites_frame([site])
    point = np.array([[site[0] + 1200.0, site[1] - 500.0]] * 40)  # 1.3 km away
    pred = coverage(points_frame(point[:1]), sites, radio=RadioSettings(), dem=dem)["4g_rsrp_dbm"].iloc[0]
    meas = gpd.GeoDataFrame(
        {"rsrp_dbm": pred - np.tile([4.0, 8.0], 20), "site_id": "T0"}, geometry=shapely.points(point), crs=CRS
    )
    cal = calibrate(meas, sites, radio=RadioSettings(), dem=dem)
    assert not cal.slope_fitted
    assert cal.spread_decades == 0.0
    assert cal.slope_db_per_decade == 0.0
    assert math.isnan(cal.slope_se_db)
    assert cal.offset_db == pytest.approx(6.0, abs=0.01)
    assert cal.before_rms_db == pytest.approx(math.sqrt((16 + 64) / 2), abs=0.01)
    assert cal.after_rms_db == pytest.approx(2.0, abs=0.01)
    # 1 and 1.9 km: log10(1.9) = 0.279 decades
    d = np.repeat([1000.0, 1900.0], 15)
    narrow = _drive(site, d, radio=RadioSettings(), dem=dem, sites=sites, offset_db=3.0, slope_db=20.0)
    cal = calibrate(narrow, sites, radio=RadioSettings(), dem=dem)
    assert cal.spread_decades == pytest.approx(math.log10(1.9))
    assert not cal.slope_fitted
    assert cal.offset_db == pytest.approx(3.0 + 20.0 * math.log10(1.9) / 2, abs=0.01)  # the mean shift
    cal = calibrate(narrow, sites, radio=RadioSettings(), dem=dem, min_spread_decades=0.25)
    assert cal.slope_fitted
    assert (cal.offset_db, cal.slope_db_per_decade) == (pytest.approx(3.0, abs=0.02), pytest.approx(20.0, abs=0.1))


def test_calibration_names_every_measurement_left_out():
    """On a 60 km flat DEM with a nodata strip, 25 good measurements 7 dB below the model (offset 7, by hand) and
    one of each exclusion: an unknown site, 5 m from the mast, 25 km (beyond Hata's 20 km, on the DEM), 200 km,
    off the DEM, from a site off the DEM, across the nodata strip. Each is named with its row, site and why."""
    heights = np.full((600, 600), 200.0, np.float32)
    heights[:, 100:103] = np.nan  # a nodata strip 10 km from the west edge
    dem = dem_from_array(heights, Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    centre = (X0 + 30000.0, Y0 - 30000.0)
    west = (X0 + 12000.0, Y0 - 30000.0)  # 2 km east of the strip
    edge = (X0 + 61000.0, Y0 - 30000.0)  # 1 km off the DEM's east edge
    sites = sites_frame([centre, west, edge])
    hata = RadioSettings(model="hata")  # the exclusions by Hata's 20 km range
    # T0's own RSRP (beyond Hata's 20 km, T1's path is P.1812's and would outshine T0 at the eastern points)
    t0 = sites.iloc[:1]
    good = _drive(centre, np.linspace(800.0, 4000.0, 25), radio=hata, dem=dem, sites=t0, offset_db=7.0)
    odd = gpd.GeoDataFrame(
        {
            "rsrp_dbm": -100.0,
            "site_id": ["T9", "T0", "T0", "T0", "T0", "T2", "T1"],
        },
        geometry=shapely.points(
            [
                (centre[0] + 1000.0, centre[1]),  # T9: no such site
                (centre[0] + 3.0, centre[1] + 4.0),  # 5 m from T0
                (centre[0], centre[1] + 25000.0),  # 25 km north of T0, on the DEM
                (centre[0] + 200000.0, centre[1]),  # 200 km
                (X0 + 61500.0, centre[1]),  # 31.5 km east, off the DEM... and beyond Hata's range first
                (X0 + 58000.0, centre[1]),  # from T2, which stands off the DEM
                (X0 + 9000.0, centre[1]),  # 3 km west of T1, across the nodata strip
            ]
        ),
        crs=CRS,
    )
    meas = pd.concat([good.iloc[:10], odd, good.iloc[10:]], ignore_index=True)
    cal = calibrate(meas, sites, radio=hata, dem=dem, file="drive.csv")
    assert (cal.n, cal.n_rows) == (25, 32)
    assert cal.offset_db == pytest.approx(7.0, abs=0.01)
    assert cal.after_rms_db == pytest.approx(0.0, abs=0.01)
    ex = cal.excluded
    assert ex.columns.tolist() == ["file", "row", "site_id", "distance_m", "reason", "why"]
    assert ex["file"].unique().tolist() == ["drive.csv"]
    assert ex["row"].tolist() == list(range(11, 18))
    assert ex["site_id"].tolist() == ["T9", "T0", "T0", "T0", "T0", "T2", "T1"]
    assert ex["reason"].tolist() == [
        "site_unknown",
        "too_close",
        "beyond_range",
        "beyond_range",
        "beyond_range",
        "site_off_dem",
        "path_off_dem",
    ]
    assert ex["distance_m"].iloc[1:].tolist() == [5.0, 25000.0, 200000.0, 31500.0, 3000.0, 3000.0]
    assert math.isnan(ex["distance_m"].iloc[0])
    assert ex["why"].iloc[0] == "site 'T9' is not in the sites layer"
    assert ex["why"].iloc[1] == "nearer its site than the 10 m the models resolve"
    assert ex["why"].iloc[2] == "beyond hata's range of 20 km"
    assert ex["why"].iloc[5] == "its site is off the DEM"
    assert ex["why"].iloc[6] == "the path from its site leaves the DEM or crosses nodata"
    # a point off the DEM within the range of a site on it: 2 km west of the DEM, 14 km from T1
    off = gpd.GeoDataFrame(
        {"rsrp_dbm": [-100.0], "site_id": ["T1"]}, geometry=[shapely.Point(X0 - 2000.0, Y0 - 30000.0)], crs=CRS
    )
    cal = calibrate(pd.concat([good, off], ignore_index=True), sites, radio=hata, dem=dem)
    assert cal.excluded[["row", "reason", "why"]].values.tolist() == [[26, "off_dem", "off the DEM"]]
    # 5G at 3500 MHz under Hata: P.1812 takes over above 2000 MHz, calibrated to 10 km
    nr = sites_frame([centre], tech=("5g",), band=(3500.0,))
    far = gpd.GeoDataFrame(
        {"rsrp_dbm": [-110.0] * 21, "site_id": "T0"},
        geometry=shapely.points(
            [(centre[0] + 1000.0 + 100 * k, centre[1]) for k in range(20)] + [(centre[0] + 15000.0, centre[1])]
        ),
        crs=CRS,
    )
    cal = calibrate(far, nr, radio=hata, dem=dem, min_rows=20)
    assert cal.excluded["why"].tolist() == ["beyond hata's range of 10 km above 2000 MHz (ITU-R P.1812)"]


def test_calibration_refuses_too_few_usable_measurements():
    """QA B11: 40 measurements of which 37 are off the DEM gave a fit on 3; now refused, every row named."""
    dem = flat_dem(size_km=40.0)
    site = (X0 + 2000.0, Y0 - 20000.0)  # 2 km from the DEM's west edge
    sites = sites_frame([site])
    d = np.linspace(1000.0, 1500.0, 40)
    meas = _drive(site, d, radio=RadioSettings(), dem=dem, sites=sites)
    xy = np.column_stack([meas.geometry.x, meas.geometry.y])
    xy[3:, 0] = X0 - 1000.0  # 37 points 1 km west of the DEM
    meas = meas.set_geometry(shapely.points(xy))
    with pytest.raises(CalibrationRefusedError) as info:
        calibrate(meas, sites, radio=RadioSettings(), dem=dem, file="drive.csv")
    err = info.value
    assert str(err) == (
        "drive.csv: 3 of 40 measurements usable, fewer than the 20 a calibration needs; nothing fitted "
        "(left out: 37 off the DEM)"
    )
    assert (err.n_rows, err.n_used) == (40, 3)
    assert err.excluded["row"].tolist() == list(range(4, 41))
    assert set(err.excluded["reason"]) == {"off_dem"}
    # the minimum is a choice: 3 usable rows fit when 3 are asked for
    assert calibrate(meas, sites, radio=RadioSettings(), dem=dem, min_rows=3).n == 3
    # every site unknown: a hint at what the ids may be
    with pytest.raises(CalibrationRefusedError, match=r"no site_id of the file is in the sites layer"):
        calibrate(meas.assign(site_id="12345"), sites, radio=RadioSettings(), dem=dem)
