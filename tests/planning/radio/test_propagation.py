"""Path-loss models against published reference numbers (data/reference/, see data/README.md)."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
from affine import Affine

from gis.terrain import dem_from_array, profiles
from planning.radio.propagation import (
    ItmParams,
    base_loss_db,
    free_space_loss_db,
    hata_loss_db,
    itm_p2p_db,
    knife_edge_loss_db,
    rma_loss_db,
    terrain_loss_db,
    uma_loss_db,
)
from tests.conftest import ROOT

REF = ROOT / "data" / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    with open(REF / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", _rows("free_space_refs.csv"), ids=lambda r: f"{r['f_mhz']}MHz-{r['d_m']}m")
def test_free_space_matches_references(row):
    got = free_space_loss_db(float(row["d_m"]), float(row["f_mhz"]))
    assert got == pytest.approx(float(row["exact_20log_4pi_d_over_lambda_db"]), abs=1e-3)
    assert got == pytest.approx(float(row["p525_32p45_db"]), abs=5e-3)  # P.525 with the rounded 32.45


@pytest.mark.parametrize(
    "row",
    _rows("tr38901_ns3_testvectors.csv"),
    ids=lambda r: f"{r['scenario']}-{r['d2d_m']}m-{'LOS' if r['los'] == 'True' else 'NLOS'}",
)
def test_tr38901_matches_ns3_vectors(row):
    fn = rma_loss_db if row["scenario"] == "RMa" else uma_loss_db
    got = fn(
        float(row["d2d_m"]),
        float(row["fc_ghz"]) * 1000.0,
        base_height_m=float(row["h_bs_m"]),
        ue_height_m=float(row["h_ut_m"]),
        los=row["los"] == "True",
    )
    assert got == pytest.approx(float(row["ns3_pathloss_db"]), abs=float(row["ns3_tolerance_db"]))


def test_hata_textbook_urban_900():
    # urban (small/medium city), 900 MHz, hb 30 m, hm 1.5 m, 1 km: 126.40 dB
    assert hata_loss_db(1000, 900, 30, mobile_height_m=1.5, environment="urban") == pytest.approx(126.40, abs=0.01)


def test_hata_environment_order_and_cost231():
    d = np.array([2000.0, 5000.0, 10000.0])
    for f in (900.0, 1800.0):
        large = hata_loss_db(d, f, 35, environment="urban_large")
        urban = hata_loss_db(d, f, 35, environment="urban")
        sub = hata_loss_db(d, f, 35, environment="suburban")
        rural = hata_loss_db(d, f, 35, environment="rural")
        assert np.all(large >= urban)
        assert np.all(urban > sub)
        assert np.all(sub > rural)
    # COST-231 at 1800 MHz, hb 30 m, hm 1.5 m, 1 km, medium city: 46.3 + 33.9 log f - 13.82 log 30 - a(hm)
    lf = np.log10(1800.0)
    a_hm = (1.1 * lf - 0.7) * 1.5 - (1.56 * lf - 0.8)
    expected = 46.3 + 33.9 * lf - 13.82 * np.log10(30.0) - a_hm
    assert hata_loss_db(1000, 1800, 30, environment="urban") == pytest.approx(expected, abs=1e-9)
    assert hata_loss_db(1000, 1800, 30, environment="urban_large") - expected == pytest.approx(
        3.0 + a_hm - (3.2 * np.log10(11.75 * 1.5) ** 2 - 4.97), abs=1e-9
    )


def test_loss_grows_with_distance_and_falls_with_height():
    d = np.geomspace(1000, 20000, 30)
    loss = hata_loss_db(d, 900, 35)
    assert np.all(np.diff(loss) > 0)
    assert np.all(hata_loss_db(d, 900, 60) < loss)
    rma = rma_loss_db(d[d <= 10000], 1800, los=True)
    assert np.all(np.diff(rma) > 0)
    assert np.all(rma_loss_db(d[d <= 5000], 1800, los=False) >= rma_loss_db(d[d <= 5000], 1800, los=True))


def test_knife_edge_reference_points():
    assert knife_edge_loss_db(-1.0) == 0.0
    assert knife_edge_loss_db(-0.78) == 0.0
    assert knife_edge_loss_db(0.0) == pytest.approx(6.03, abs=0.01)  # P.526: ~6 dB at grazing incidence
    assert knife_edge_loss_db(1.0) == pytest.approx(13.93, abs=0.01)
    # P.526: for large v, J(v) -> 13 + 20 log10(v)
    assert knife_edge_loss_db(10.0) == pytest.approx(13.0 + 20.0, abs=0.2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: hata_loss_db(5000, 2400, 35),
            r"`freq_mhz` = 2400 MHz is outside the Hata validity range \[150, 2000\]",
        ),
        (lambda: hata_loss_db(500, 900, 35), r"`distance_m` = 500 m is outside the Hata validity range"),
        (lambda: hata_loss_db(5000, 900, -5), r"`base_height_m` = -5 must be > 0"),
        (lambda: hata_loss_db(np.nan, 900, 35), r"`distance_m` contains NaN"),
        (lambda: rma_loss_db(1000, 300), r"`freq_mhz` = 300 MHz is outside the RMa validity range"),
        (lambda: rma_loss_db(7000, 1800, los=False), r"`distance_m` = .* outside the RMa validity range"),
        (lambda: free_space_loss_db(-1, 900), r"`distance_m` = -1 must be > 0"),
        (lambda: hata_loss_db(5000, 900, 35, environment="city"), r"`environment` = 'city'"),
    ],
)
def test_bad_input_names_parameter_and_range(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_extrapolation_warns():
    with pytest.warns(UserWarning, match="extrapolating"):
        got = hata_loss_db(500, 900, 35, extrapolate=True)
    assert np.isfinite(got)


def _ntia_cases():
    rows = _rows("ntia_p2p.csv")
    with open(REF / "ntia_pfls.csv", encoding="utf-8") as fh:
        pfls = [[float(x) for x in line.strip().strip(",").split(",") if x.strip()] for line in fh if line.strip()]
    return list(zip(rows, pfls, strict=True))


@pytest.mark.parametrize(("row", "pfl"), _ntia_cases(), ids=lambda x: x.get("f__mhz") if isinstance(x, dict) else "")
def test_itm_point_to_point_matches_ntia(row, pfl):
    params = ItmParams(
        epsilon=float(row["epsilon"]),
        sigma=float(row["sigma"]),
        n0=float(row["N_0"]),
        polarization=int(row["pol"]),
        climate=int(row["climate"]),
        mdvar=int(row["mdvar"]),
        time_pct=float(row["time"]),
        location_pct=float(row["location"]),
        situation_pct=float(row["situation"]),
    )
    got = itm_p2p_db(
        np.array(pfl),
        tx_height_m=float(row["h_tx__meter"]),
        rx_height_m=float(row["h_rx__meter"]),
        freq_mhz=float(row["f__mhz"]),
        params=params,
    )
    assert got == pytest.approx(float(row["A__db"]), abs=0.05)


def _ridge_dem(ridge_height_m: float):
    """Flat 200 m plain, 30 m cells, with a north-south ridge of the given height at x = 3000 m."""
    h = np.full((20, 220), 200.0, dtype=np.float32)
    h[:, 99:102] = 200.0 + ridge_height_m
    return dem_from_array(h, Affine(30.0, 0, 0.0, 0, -30.0, 600.0), "EPSG:32652")


def test_terrain_ridge_deygout_hand_computed():
    """Flat-topped ridge (cells 99-101 at 260 m; 260 m between x = 2985 and 3045), path x = 15 -> 6015 m.

    Samples every 10 m (d = x - 15). Tx at 200 + 30 m, Rx at 200 + 1.5 m, no earth bulge (k huge).
    Main edge: the plateau sample with the largest v, d = 3030 (h above the Tx-Rx line 44.39 m).
    Left sub-path Tx -> main edge: largest v at the plateau's first sample d = 2970. Right: none (v < -0.78).
    """
    dem = _ridge_dem(60.0)
    pr = profiles(dem, [15.0], [300.0], [6015.0], [300.0], step_m=10.0)
    res = terrain_loss_db(pr, 900.0, 30.0, 1.5, model="free_space", k_factor=1e9)
    lam = 299_792_458.0 / 900e6
    big_d = 6000.0
    z_tx, z_rx = 230.0, 201.5
    h_main = 260.0 - (z_tx + (z_rx - z_tx) * 3030.0 / big_d)
    v_main = h_main * np.sqrt(2 * big_d / (lam * 3030.0 * 2970.0))
    h_left = 260.0 - (z_tx + (260.0 - z_tx) * 2970.0 / 3030.0)
    v_left = h_left * np.sqrt(2 * 3030.0 / (lam * 2970.0 * 60.0))
    expected = knife_edge_loss_db(v_main) + knife_edge_loss_db(v_left)
    assert v_main == pytest.approx(2.809, abs=1e-3)
    assert res.diffraction_db[0] == pytest.approx(float(expected), abs=1e-6)
    assert not res.los[0]
    fs = float(free_space_loss_db(np.hypot(6000.0, 28.5), 900.0))
    assert res.loss_db[0] == pytest.approx(fs + float(expected), abs=1e-6)
    # the same path without the ridge, both antennas 30 m up: line of sight, no diffraction, free space
    flat = profiles(_ridge_dem(0.0), [15.0], [300.0], [6015.0], [300.0], step_m=10.0)
    res2 = terrain_loss_db(flat, 900.0, 30.0, 30.0, model="free_space", k_factor=1e9)
    assert res2.los[0]
    assert res2.diffraction_db[0] == 0.0
    assert res2.loss_db[0] == pytest.approx(float(free_space_loss_db(6000.0, 900.0)), abs=1e-6)


def test_fresnel_clearance_decides_line_of_sight():
    # 6 km at 900 MHz: first Fresnel radius at mid-path = sqrt(lam * 3000 * 3000 / 6000) = 22.4 m
    lam = 299_792_458.0 / 900e6
    r1 = np.sqrt(lam * 3000.0 * 3000.0 / 6000.0)
    flat = profiles(_ridge_dem(0.0), [15.0], [300.0], [6015.0], [300.0], step_m=10.0)
    # antennas at equal heights above the 200 m plain: clearance of the path = antenna height (no bulge)
    clear = terrain_loss_db(flat, 900.0, 0.6 * r1 + 1.0, 0.6 * r1 + 1.0, model="free_space", k_factor=1e9)
    grazing = terrain_loss_db(flat, 900.0, 0.6 * r1 - 1.0, 0.6 * r1 - 1.0, model="free_space", k_factor=1e9)
    assert clear.los[0]
    assert not grazing.los[0]
    # with earth curvature (k = 4/3) the bulge at mid-path is 3000 * 3000 / (2 * 4/3 * 6371 km) = 0.53 m
    bulge = terrain_loss_db(flat, 900.0, 0.6 * r1 + 0.3, 0.6 * r1 + 0.3, model="free_space")
    assert not bulge.los[0]


def test_terrain_higher_ridge_more_loss_higher_tower_less():
    losses = []
    for ridge in (20.0, 60.0, 120.0):
        pr = profiles(_ridge_dem(ridge), [15.0], [300.0], [6015.0], [300.0], step_m=10.0)
        losses.append(terrain_loss_db(pr, 900.0, 30.0, 1.5, model="hata").loss_db[0])
    assert losses[0] < losses[1] < losses[2]
    pr = profiles(_ridge_dem(60.0), [15.0], [300.0], [6015.0], [300.0], step_m=10.0)
    by_height = [terrain_loss_db(pr, 900.0, h, 1.5, model="hata").loss_db[0] for h in (20.0, 35.0, 60.0, 100.0)]
    assert all(a > b for a, b in itertools.pairwise(by_height))


def test_terrain_off_dem_is_nan_not_zero():
    pr = profiles(_ridge_dem(60.0), [15.0], [300.0], [9000.0], [300.0], step_m=10.0)
    res = terrain_loss_db(pr, 900.0, 30.0, 1.5)
    assert not res.complete[0]
    assert np.isnan(res.loss_db[0])


def test_hata_sweeps_hand_n78_to_rma_instead_of_extrapolating():

    d = np.array([500.0, 2000.0, 4000.0])
    got = base_loss_db("hata", d, np.full(3, 3500.0), np.full(3, 35.0), np.full(3, 1.5), los=False)
    np.testing.assert_allclose(got, rma_loss_db(d, 3500.0, base_height_m=35.0, ue_height_m=1.5, los=False))
    low = base_loss_db("hata", d[1:], np.full(2, 1800.0), np.full(2, 35.0), np.full(2, 1.5))
    np.testing.assert_allclose(low, hata_loss_db(d[1:], 1800.0, 35.0))
