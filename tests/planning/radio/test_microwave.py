"""P.530 rain and multipath on one 15 GHz, 20 km hop against itur 0.4.0; the clearance rule's k_e; radio choice."""

from __future__ import annotations

import numpy as np
import pytest
from itur.models import itu530

from gis.settings import BackhaulSettings
from planning.radio.microwave import (
    availability_pct,
    choose_radio,
    dish_gain_dbi,
    k_low,
    multipath_occurrence_pct,
    rain_attenuation_db,
    rain_exceeded_pct,
    rain_rate_mm_h,
    worst_month_to_year,
)

BH = BackhaulSettings()
LAT, LON = np.array([41.8]), np.array([127.2])  # the demo's hops (临江, Jilin)
D_KM = np.array([20.0])


def test_rain_rate_and_attenuation_of_a_15_ghz_20_km_hop_match_itur():
    r001 = rain_rate_mm_h(LAT, LON)
    assert r001[0] == pytest.approx(36.95, abs=0.05)  # ITU-R P.837-7 at 41.8 N 127.2 E
    for tilt in (0.0, 90.0):
        for p in (0.001, 0.01, 0.1, 1.0):
            ours = rain_attenuation_db(D_KM, 15.0, r001, p, tilt_deg=tilt)[0]
            theirs = itu530.rain_attenuation(41.8, 127.2, 20.0, 15.0, 0.0, p, tau=tilt).value
            assert ours == pytest.approx(theirs, rel=1e-9)
    # vertical polarisation: 24.0 dB exceeded 0.01 % of the year (horizontal 26.8 dB)
    assert rain_attenuation_db(D_KM, 15.0, r001, 0.01, tilt_deg=90.0)[0] == pytest.approx(24.00, abs=0.01)
    for margin in (10.0, 24.0, 40.0):
        ours = rain_exceeded_pct(np.array([margin]), D_KM, 15.0, r001, tilt_deg=90.0)[0]
        theirs = itu530.inverse_rain_attenuation(41.8, 127.2, 20.0, 15.0, 0.0, margin, tau=90.0).value
        assert ours == pytest.approx(theirs, rel=1e-5)
    assert rain_exceeded_pct(np.array([0.0]), D_KM, 15.0, r001, tilt_deg=90.0)[0] == 100.0


def test_availability_of_a_15_ghz_20_km_hop_from_itur_parts():
    """Availability at a 35 dB fade margin = 100 - itur's rain exceedance - itur's worst-month multipath at 35 dB x
    the P.530 §2.3.4 year factor (Delta G at 41.8 N, 20 km, 100 m of height difference, hand-computed)."""
    r001 = rain_rate_mm_h(LAT, LON)
    ha, hb = np.array([600.0]), np.array([700.0])
    p0 = multipath_occurrence_pct(LAT, LON, D_KM, 15.0, ha, hb)
    worst = itu530.multipath_loss_for_A(41.8, 127.2, 600.0, 700.0, 20.0, 15.0, 35.0).value
    assert p0[0] * 10 ** (-3.5) == pytest.approx(worst, rel=1e-9)
    # Delta G = 10.5 - 5.6 log10(1.1 + |cos 83.6 deg|^0.7) - 2.7 log10 20 + 1.7 log10(1 + 5)
    dg = 10.5 - 5.6 * np.log10(1.1 + abs(np.cos(np.radians(83.6))) ** 0.7) - 2.7 * np.log10(20.0) + 1.7 * np.log10(6.0)
    year = worst_month_to_year(np.ones(1), LAT, D_KM, ha, hb)
    assert year[0] == pytest.approx(10 ** (-dg / 10), rel=1e-9)
    rain = itu530.inverse_rain_attenuation(41.8, 127.2, 20.0, 15.0, 0.0, 35.0, tau=90.0).value
    got = availability_pct(np.array([35.0]), D_KM, 15.0, r001, p0, year, tilt_deg=90.0)[0]
    assert got == pytest.approx(100.0 - rain - worst * 10 ** (-dg / 10), abs=1e-9)
    assert 99.99 < got < 99.9999


def test_k_low_follows_p530_figure_3_and_the_dish_gain_a_catalogue():
    np.testing.assert_allclose(k_low(np.array([1000.0, 10_000.0, 50_000.0, 500_000.0]), BH), [0.5, 0.7, 0.9, 1.0])
    assert 0.7 < k_low(np.array([15_000.0]), BH)[0] < 0.8
    # a 0.6 m dish at 15 GHz: 36.9 dBi at 55 % efficiency (CommScope VHLP2-15: 36.9-37.2 dBi)
    assert dish_gain_dbi(0.6, 15.0, 0.55) == pytest.approx(36.9, abs=0.1)


def test_the_cheapest_radio_that_meets_availability_and_capacity():
    """A 20 km hop at 41.8 N: 0.3 m dishes do not reach 99.99 % on any band the hop may use; the cheapest that does
    is chosen, and a larger capacity needs a wider channel or a denser modulation (less margin)."""
    n = 2
    ok = np.ones((n, len(BH.microwave)), dtype=bool)
    ok[:, [4, 5]] = False  # 23 GHz and E-band do not reach 20 km
    got = choose_radio(
        np.full(n, 20_000.0),
        ok,
        np.array([150.0, 300.0]),
        lat_deg=np.repeat(LAT, n),
        lon_deg=np.repeat(LON, n),
        h_a_asl_m=np.full(n, 600.0),
        h_b_asl_m=np.full(n, 700.0),
        settings=BH,
    ).frame()
    assert (got["availability_pct"] >= 99.99).all()
    assert (got["capacity_mbps"] >= [150.0, 300.0]).all()
    assert (got["dish_m"] >= 0.6).all()
    assert got.loc[1, "cost_cny"] >= got.loc[0, "cost_cny"]
    # nothing reaches 99.99 % with a 1 dB budget: no radio
    tiny = BackhaulSettings(branching_loss_db=30.0, dishes=BH.dishes[:1])
    none = choose_radio(
        np.full(1, 20_000.0),
        ok[:1],
        np.array([150.0]),
        lat_deg=LAT,
        lon_deg=LON,
        h_a_asl_m=np.full(1, 600.0),
        h_b_asl_m=np.full(1, 700.0),
        settings=tiny,
    )
    assert not np.isfinite(none.cost_cny[0])
