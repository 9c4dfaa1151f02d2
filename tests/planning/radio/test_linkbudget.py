"""Link-budget pieces: vertical pattern, uplink sensitivity and rate, equipment rows, settings (hand-computed)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from gis.errors import ProjectError
from gis.project import load_project
from gis.settings import BandEquipment, RadioSettings
from planning.radio.linkbudget import (
    antenna_pattern_db,
    elevation_deg,
    equipment_index,
    noise_dbm,
    o2i_loss_db,
    ul_rate_mbps,
    ul_required_dbm,
    vertical_gain_db,
)

UL = {"noise_figure_db": 3.0, "interference_margin_db": 2.0, "alpha": 0.4, "sinr_min_db": -10.0, "se_max_bps_hz": 2.0}


def test_vertical_pattern_and_combination():
    # a village 300 m below a high-point site 1 km away: 18.4 degrees down, 15.4 off a 3 degree tilt
    theta = elevation_deg(np.array([700.0 + 35.0]), np.array([401.5]), np.array([1000.0]))[0]
    assert theta == pytest.approx(math.degrees(math.atan(333.5 / 1000.0)), abs=1e-9)
    av = vertical_gain_db(np.array([theta, 3.0, 8.0, -2.0]), 3.0, 10.0)
    assert av[0] == -20.0  # beyond the side-lobe floor
    assert av[1] == 0.0
    assert av[2] == pytest.approx(-12 * 0.25, abs=1e-12)  # half a beamwidth below boresight: -3 dB
    assert av[3] == pytest.approx(-3.0, abs=1e-12)
    # combined with the horizontal pattern, at most 30 dB
    assert antenna_pattern_db(np.array([-12.0, -25.0]), np.array([-3.0, -20.0]), max_attenuation_db=30.0) == (
        pytest.approx([-15.0, -30.0])
    )


def test_building_entry_loss_at_3500_mhz():
    f = 3.5
    wall = 5 - 10 * math.log10(0.3 * 10 ** (-(2 + 0.2 * f) / 10) + 0.7 * 10 ** (-(5 + 4 * f) / 10))
    assert float(o2i_loss_db(np.array([3500.0]))[0]) == pytest.approx(wall + 5.0 / 3.0, abs=1e-9)
    assert float(o2i_loss_db(np.array([3500.0]))[0]) == pytest.approx(14.36, abs=0.01)


def test_uplink_sensitivity_and_rate_both_regimes():
    n0 = -174.0 + 10 * math.log10(15e3) + 5.0
    se_min = 0.4 * math.log2(1.1)
    # 0.5 Mbps on LTE 20 MHz FDD: 50.5 RB at SINR_min suffice; sensitivity = n0 - 10 + 10 log10(rate / (scs SE))
    sens = ul_required_dbm(np.array([0.5]), np.array([100.0]), np.array([15.0]), np.array([1.0]), **UL)[0]
    assert sens == pytest.approx(n0 - 10.0 + 10 * math.log10(0.5e6 / (15e3 * se_min)), abs=1e-9)
    # at the sensitivity the rate is the target; 3 dB less power halves it (fewer RBs at SINR_min)
    rate = ul_rate_mbps(np.array([sens, sens - 10 * math.log10(2.0)]), np.array([100.0] * 2), 15.0, 1.0, **UL)
    assert rate == pytest.approx([0.5, 0.25], rel=1e-9)
    # 30 Mbps cannot come from SINR_min: the whole carrier at the SINR that gives 30e6 / (1200 x 15e3) bit/s/Hz
    se = 30e6 / (1200 * 15e3)
    sens30 = ul_required_dbm(np.array([30.0]), np.array([100.0]), np.array([15.0]), np.array([1.0]), **UL)[0]
    assert sens30 == pytest.approx(10 * math.log10(2 ** (se / 0.4) - 1) + 10 * math.log10(1200) + n0, abs=1e-9)
    assert ul_rate_mbps(np.array([sens30]), np.array([100.0]), 15.0, 1.0, **UL)[0] == pytest.approx(30.0, rel=1e-6)
    # more than 2 bit/s/Hz over the carrier: no power is enough; the rate saturates at 36 Mbps
    assert np.isposinf(ul_required_dbm(np.array([40.0]), np.array([100.0]), 15.0, 1.0, **UL)[0])
    assert ul_rate_mbps(np.array([0.0]), np.array([100.0]), 15.0, 1.0, **UL)[0] == pytest.approx(36.0)


def test_equipment_rows_match_by_tech_and_band():
    eq = RadioSettings().equipment
    idx = equipment_index(
        np.array(["4g", "5g", "5g", "5g", "5g", "4g"]), np.array([900, 700, 2100, 2600, 3500, 2600]), eq
    )
    names = [eq[k].name for k in idx]
    assert names == [
        "LTE 4T4R macro",
        "NR <1 GHz 4T4R macro",
        "NR FDD 4T4R macro",
        "NR TDD 64T64R AAU",
        "NR TDD 64T64R AAU",
        "LTE 4T4R macro",
    ]
    assert eq[3].eirp_dbm == 77.0  # 200 W + 24 dBi
    only = (BandEquipment(name="x", tech="5g", band_low_mhz=3000.0, band_high_mhz=4000.0),)
    assert equipment_index(np.array(["5g", "4g"]), np.array([3500.0, 3500.0]), only).tolist() == [0, -1]


def _write(tmp_path, text):
    p = tmp_path / "project.toml"
    p.write_text('[layers]\nvillages = "v.gpkg"\nschools = "s.csv"\nsites = "t.gpkg"\nadmin = "a.gpkg"\n' + text)
    return p


def test_nested_radio_settings_are_read_and_checked(tmp_path):
    p = load_project(
        _write(
            tmp_path,
            "[radio]\nedge_probability = 0.9\nschool_cpe = 'indoor'\n"
            "[radio.capacity]\nmbps_per_student = 0.5\n"
            "[radio.backhaul]\nk_factor = 1.0\n"
            "[[radio.backhaul.microwave]]\nfreq_ghz = 18\nmax_hop_m = 12000\ntx_power_dbm = 22\n"
            "[[radio.operators]]\noperator = 'CUCC'\nnr_bands_mhz = [3500]\n"
            "[[radio.equipment]]\nname = 'any'\ntech = '5g'\nband_low_mhz = 300\nband_high_mhz = 6000\n",
        )
    )
    r = p.radio
    assert (r.edge_probability, r.school_cpe, r.capacity.mbps_per_student) == (0.9, "indoor", 0.5)
    assert r.backhaul.k_factor == 1.0
    assert [(m.freq_ghz, m.max_hop_m) for m in r.backhaul.microwave] == [(18.0, 12000.0)]
    assert [o.operator for o in r.operators] == ["CUCC"]
    assert r.capacity.subscribers_per_person == 0.66  # untouched defaults stay
    assert replace(r, operators=()).operators == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[radio.capacity]\nbusy_hour_share = 0\n", r"\[radio.capacity\] `busy_hour_share` = 0 is out of range"),
        ("[radio.capacity]\nbusy = 1\n", r"unknown key `busy` in \[radio.capacity\]"),
        ("[radio]\nschool_cpe = 'roof'\n", r"`school_cpe` = 'roof'; expected one of \['outdoor', 'indoor'\]"),
        ("[radio]\nedge_probability = nan\n", r"`edge_probability` = nan; expected a finite number"),
        ("[radio.backhaul]\nhubs = 'all'\n", r"`hubs` = 'all'; expected one of \['own_fibre', 'any_fibre'\]"),
        ("[[radio.equipment]]\ntech = '6g'\n", r"\[radio.equipment\[0\]\] `tech` = '6g'"),
        (
            "[[radio.equipment]]\nband_low_mhz = 3000\nband_high_mhz = 2000\n",
            r"`band_low_mhz` = 3000 is above `band_high_mhz` = 2000",
        ),
        (
            "[[radio.operators]]\noperator = 'CMCC'\n[[radio.operators]]\noperator = 'CMCC'\n",
            r"\[radio.operators\] `operator` \['CMCC'\] appears more than once",
        ),
        ("[radio]\nequipment = 3\n", r"`equipment` = 3; expected a non-empty array of tables"),
        ("[[radio.backhaul.microwave]]\nfreq_ghz = 300\n", r"`freq_ghz` = 300 is out of range"),
        (
            "[radio]\nclutter_path = 'landcover.tif'\n",
            r"`clutter_path` = 'landcover.tif': .*landcover.tif does not exist",
        ),
    ],
)
def test_nested_radio_settings_refuse_bad_values(tmp_path, text, message):
    with pytest.raises(ProjectError, match=message):
        load_project(_write(tmp_path, text))


def test_noise_per_subcarrier_is_thermal_noise_plus_the_noise_figure() -> None:
    # -174 dBm/Hz + 10 log10(15 kHz) = -132.24 dBm; + 7 dB NF. 30 kHz: -129.23 dBm; + 5 dB
    assert noise_dbm(np.array([15.0]), 7.0)[0] == pytest.approx(-125.239, abs=1e-3)
    assert noise_dbm(np.array([30.0]), 5.0)[0] == pytest.approx(-124.229, abs=1e-3)
    # doubling the subcarrier spacing doubles the noise power
    assert noise_dbm(np.array([60.0]), 7.0)[0] - noise_dbm(np.array([30.0]), 7.0)[0] == pytest.approx(3.0103, abs=1e-4)
