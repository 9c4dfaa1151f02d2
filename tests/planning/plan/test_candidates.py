"""Candidate interventions: demand weights, backhaul choice and costs, radio links (hand-checked)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.errors import LayerError
from gis.settings import CostSettings, OptimiseSettings, RadioSettings, TargetSettings
from planning.plan.candidates import (
    build_candidates,
    candidate_sites,
    demand_table,
    site_costs,
    unit_table,
)
from tests.conftest import CRS_M

COSTS = CostSettings()


def _status() -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoSeries, gpd.GeoSeries]:
    v = pd.DataFrame(
        {
            "village_id": ["V1", "V2", "V3"],
            "name": ["a", "b", "c"],
            "county": ["X"] * 3,
            "is_poor": [True, False, False],
            "lacks": ["broadband;4g", "", "broadband"],
        },
        index=[5, 6, 7],
    )
    s = pd.DataFrame(
        {
            "school_id": ["S1", "S2", "S3"],
            "name": ["d", "e", "f"],
            "kind": ["teaching_point", "primary", "primary"],
            "county": ["X", "X", "X"],
            "lacks": ["outlet_target", "", "connection;outlet_target"],
            "reported_access": ["4g", "fibre", "none"],
        },
        index=[0, 1, 2],
    )
    gv = gpd.GeoSeries(shapely.points([0.0, 5000.0, 40_000.0], [0.0, 0.0, 0.0]), index=v.index, crs=CRS_M)
    gs = gpd.GeoSeries(shapely.points([300.0, 9000.0, 80_000.0], [0.0, 0.0, 0.0]), index=s.index, crs=CRS_M)
    return v, s, gv, gs


def test_demand_rows_one_per_need_with_weights_and_classes() -> None:
    v, s, gv, gs = _status()
    pop = pd.Series([2000, 500, 1000], index=v.index)
    d = demand_table(v, s, gv, gs, pop, settings=OptimiseSettings(), priority=pd.Series([1.0, 1.0, 2.0], index=v.index))
    assert list(d["demand_id"]) == [
        "schools:S1/outlet",
        "schools:S3/connection",
        "schools:S3/outlet",
        "villages:V1/broadband",
        "villages:V1/4g",  # "4G first": a need of its own
        "villages:V3/broadband",
    ]
    # S1: 5 x 1.5 (teaching point); S3: 5; V1: (1 + 2000/1000) x 3 (poor); V3: (1 + 1) x 2 (its priority)
    np.testing.assert_allclose(d["weight"], [7.5, 5.0, 5.0, 9.0, 9.0, 4.0])
    # 1 unconnected schools, 2 poor villages, 3 the rest
    assert list(d["priority_class"]) == [3, 1, 3, 2, 2, 3]
    assert list(unit_table(d)["demand_id"]) == ["schools:S1", "schools:S3", "villages:V1", "villages:V3"]


def test_backhaul_is_the_cheapest_option() -> None:
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": ["A", "B", "C", "U"],
            "kind": ["new_site"] * 3 + ["upgrade_5g"],
            "given_cost_cny": [np.nan, np.nan, 500_000.0, np.nan],
        },
        geometry=shapely.points([0.0, 0.0, 100_000.0, 0.0], [0.0, 0.0, 0.0, 0.0]),
        crs=CRS_M,
    )
    # T1: a site with fibre 10 km away (every site is the planner's without an operator); no DEM: smooth earth
    sites = gpd.GeoDataFrame(
        {"site_id": ["T1"], "height_m": [35.0], "backhaul": ["fibre"]},
        geometry=[shapely.Point(10_000.0, 0.0)],
        crs=CRS_M,
    )
    out = site_costs(cands, np.array([50_000.0, np.inf, np.inf, np.inf]), sites, costs=COSTS)
    assert list(out["backhaul"]) == ["fibre", "microwave", "satellite", "existing"]
    # capex: a satellite terminal (its fee is opex); a new site with its 50k power line; a given cost as given
    # the hop: two 15,000 radios, two 0.6 m dishes (6,000) and 20,000 installation
    np.testing.assert_allclose(out["backhaul_cny"], [50_000.0, 62_000.0, 30_000.0, 0.0])
    np.testing.assert_allclose(out["cost_cny"], [450_000.0, 462_000.0, 530_000.0, 150_000.0])
    # the hop: 10 km to T1 on 15 GHz (with 0.6 m dishes 23 and 18 GHz miss 99.99 % in this rain; the same price
    # keeps the highest band that does), clear of the earth bulge
    assert (out.loc[1, "backhaul_hub"], out.loc[1, "backhaul_hops"], out.loc[1, "backhaul_band_ghz"]) == ("T1", 1, 15.0)
    assert out.loc[1, "backhaul_availability_pct"] >= 99.99
    assert out.loc[1, "backhaul_length_m"] == pytest.approx(10_000.0)
    bulge = 5000.0**2 / (2 * 4 / 3 * 6_371_000.0)
    assert out.loc[1, "backhaul_clearance_f1"] == pytest.approx(
        (35.0 - bulge) / np.sqrt(299_792_458.0 / 15e9 * 5000.0 * 5000.0 / 10_000.0), rel=1e-3
    )
    assert out.loc[0, "backhaul_hub"] == ""
    assert np.isnan(out.loc[0, "backhaul_mbps"])  # fibre: not limiting
    assert out.loc[2, "backhaul_mbps"] == 10.0  # satellite VSAT plan


def test_build_candidates_serve_needs_not_points() -> None:
    v, s, gv, gs = _status()
    d = demand_table(v, s, gv, gs, pd.Series([100, 100, 100], index=v.index), settings=OptimiseSettings())
    fibre_cost = pd.Series({"villages:V1": 20_000.0, "villages:V3": np.inf, "schools:S1": 4_500.0})
    existing = pd.DataFrame({"4g_rsrp_dbm": [np.nan] * 4, "5g_rsrp_dbm": [np.nan] * 4})
    cs = build_candidates(
        d,
        sites=gpd.GeoDataFrame({"site_id": [], "tech": [], "band_mhz": [], "height_m": []}, geometry=[], crs=CRS_M),
        given=None,
        existing=existing,
        fibre_cost_of=fibre_cost,
        site_fibre_cost=None,
        dem=None,
        radio=RadioSettings(),
        costs=COSTS,
        targets=TargetSettings(),
        satellite_school_mbps=100.0,
    )
    cands = cs.candidates.set_index("candidate_id")
    assert cands.loc["FX-villages:V1", "cost_cny"] == pytest.approx(20_000.0)
    assert "FX-villages:V3" not in cands.index  # no fibre route: no fibre candidate
    mat = pd.DataFrame(cs.coverage.toarray(), index=d["demand_id"], columns=cs.candidates["candidate_id"])
    # fibre to a poor village gives broadband, not 4G
    assert list(mat.index[mat["FX-villages:V1"]]) == ["villages:V1/broadband"]
    # V3's own site (satellite backhaul, no fibre) gives broadband; V1's site gives broadband and 4G
    assert cands.loc["NS-villages:V3", "backhaul"] == "satellite"
    assert bool(mat.loc["villages:V3/broadband", "NS-villages:V3"])
    assert mat.loc[["villages:V1/broadband", "villages:V1/4g"], "NS-villages:V1"].all()
    # fibre to the teaching point S1 (reports 4G below the target) brings its outlet to the fibre tier
    assert list(mat.index[mat["FX-schools:S1"]]) == ["schools:S1/outlet"]
    # a satellite link connects S3 but does not count for the outlet (not by default policy)
    assert list(mat.index[mat["SAT-schools:S3"]]) == ["schools:S3/connection"]
    assert cands.loc["SAT-schools:S3", "cost_cny"] == pytest.approx(30_000.0)  # the terminal: its fee is opex
    assert cands.loc["SAT-schools:S3", "opex_cny_per_year"] == pytest.approx(36_000.0 + 0.03 * 30_000.0)


def test_satellite_outlet_policy_and_line_upgrades() -> None:
    v, s, gv, gs = _status()
    s.loc[1, ["lacks", "reported_access"]] = ["outlet_target", "fibre"]  # S2: fibre at 50 Mbps
    d = demand_table(v, s, gv, gs, pd.Series([100, 100, 100], index=v.index), settings=OptimiseSettings())
    sites = gpd.GeoDataFrame({"site_id": [], "tech": [], "band_mhz": [], "height_m": []}, geometry=[], crs=CRS_M)
    cs = build_candidates(
        d,
        sites=sites,
        given=None,
        existing=pd.DataFrame({"4g_rsrp_dbm": [np.nan] * 5, "5g_rsrp_dbm": [np.nan] * 5}),
        fibre_cost_of=pd.Series({"schools:S2": 9_000.0}),
        site_fibre_cost=None,
        dem=None,
        radio=RadioSettings(),
        costs=COSTS,
        targets=TargetSettings(satellite_outlet=True),
        satellite_school_mbps=100.0,
    )
    mat = pd.DataFrame(cs.coverage.toarray(), index=d["demand_id"], columns=cs.candidates["candidate_id"])
    assert list(mat.index[mat["SAT-schools:S3"]]) == ["schools:S3/connection", "schools:S3/outlet"]
    # a school on fibre below the target: a faster tier on its line, not a second fibre route
    assert list(mat.index[mat["LU-schools:S2"]]) == ["schools:S2/outlet"]
    assert "FX-schools:S2" not in set(cs.candidates["candidate_id"])


def _two_operator_sites() -> gpd.GeoDataFrame:
    # T1/T1N: the planner's 4G+5G tower; T2: the planner's 4G only; T3 + T3N: another operator's 4G and 5G on one
    # tower (fibre); T4: another operator's 4G (microwave), 30 m from the planner's T2 (one tower: not offered);
    # T5: a third operator's tower far from fibre (backhaul unknown)
    return gpd.GeoDataFrame(
        {
            "site_id": ["T1", "T1N", "T2", "T3", "T3N", "T4", "T5"],
            "tech": ["4g", "5g", "4g", "4g", "5g", "4g", "4g"],
            "band_mhz": [1800.0, 3500.0, 1800.0, 1800.0, 3500.0, 900.0, 900.0],
            "height_m": [35.0, 35.0, 30.0, 40.0, 45.0, 30.0, 50.0],
            "operator": ["CMCC", "CMCC", "CMCC", "CTCC", "CTCC", "CUCC", None],
            "backhaul": ["fibre", "fibre", "microwave", "fibre", "fibre", "microwave", None],
        },
        geometry=shapely.points([0.0, 0.0, 10_000.0, 20_000.0, 20_010.0, 10_030.0, 300_000.0], [0.0] * 7),
        crs=CRS_M,
    )


def test_tower_sharing_candidates_and_costs() -> None:
    radio = RadioSettings()
    demands = gpd.GeoDataFrame(
        {"demand_id": ["villages:V1"], "layer": ["villages"]}, geometry=[shapely.Point(15_000.0, 0.0)], crs=CRS_M
    )
    sites = _two_operator_sites()
    cs = candidate_sites(demands, sites, None, dem=None, radio=radio, operator="CMCC")
    by_id = cs.set_index("candidate_id")
    # own 4G gets one upgrade per China Mobile NR band its tower lacks (T1's tower carries 3.5 GHz, not a CMCC band);
    # other operators' 4G does not
    ups = cs[cs["kind"] == "upgrade_5g"].set_index("candidate_id")["band_mhz"].to_dict()
    assert ups == {"UP-T1": 700.0, "UP-T1-2600": 2600.0, "UP-T2": 700.0, "UP-T2-2600": 2600.0}
    # one 4G and one 5G share per other-operator tower, at the tallest site's height; none beside own T2
    shared = cs[cs["kind"].isin(["share", "share_5g"])]
    assert sorted(shared["candidate_id"]) == ["SH4-T3N", "SH4-T5", "SH5-T3N", "SH5-T5"]
    assert by_id.loc["SH4-T3N", "height_m"] == 45.0
    assert by_id.loc["SH5-T5", "band_mhz"] == radio.nr_bands_mhz[0]
    assert by_id.loc["SH4-T5", "band_mhz"] == radio.lte_band_mhz
    out = site_costs(cs, np.full(len(cs), np.inf), sites, costs=COSTS).set_index(cs["candidate_id"])
    # T3 has fibre: equipment only; T5 is 290 km from any site and has no fibre: satellite backhaul
    assert out.loc["SH4-T3N", "backhaul"] == "existing"
    assert out.loc["SH4-T3N", "cost_cny"] == pytest.approx(200_000.0)
    assert out.loc["SH5-T5", "backhaul"] == "satellite"
    assert out.loc["SH5-T5", "cost_cny"] == pytest.approx(200_000.0 + 30_000.0)  # the terminal: its fee is opex
    assert out.loc["UP-T2", "cost_cny"] == pytest.approx(150_000.0)
    # without an operator every site is the planner's: upgrades for all 4G sites lacking 5G, nothing shared
    plain = candidate_sites(demands, sites, None, dem=None, radio=radio)
    assert not plain["kind"].isin(["share", "share_5g"]).any()
    # each site on its own operator's bands it lacks: CMCC n28 + n41, CTCC/CUCC n78 + NR 2.1 GHz (T3's tower has
    # n78 already), unknown operator (T5) n78
    ups = plain[plain["kind"] == "upgrade_5g"].set_index("candidate_id")["band_mhz"].to_dict()
    assert ups == {
        "UP-T1": 700.0,
        "UP-T1-2600": 2600.0,
        "UP-T2": 700.0,
        "UP-T2-2600": 2600.0,
        "UP-T3": 2100.0,
        "UP-T4": 3500.0,
        "UP-T4-2100": 2100.0,
        "UP-T5": 3500.0,
    }


def test_operator_needs_the_operator_column() -> None:
    demands = gpd.GeoDataFrame(
        {"demand_id": ["villages:V1"], "layer": ["villages"]}, geometry=[shapely.Point(15_000.0, 0.0)], crs=CRS_M
    )
    sites = _two_operator_sites().drop(columns="operator")
    with pytest.raises(LayerError, match=r"layer `sites`.*`operator` column"):
        candidate_sites(demands, sites, None, dem=None, radio=RadioSettings(), operator="CMCC")


def test_satellite_serves_the_outlet_only_at_the_target_and_by_policy() -> None:
    v, s, gv, gs = _status()
    d = demand_table(v, s, gv, gs, pd.Series([100, 100, 100], index=v.index), settings=OptimiseSettings())
    existing = pd.DataFrame({"4g_rsrp_dbm": [np.nan] * 4, "5g_rsrp_dbm": [np.nan] * 4})
    no_sites = gpd.GeoDataFrame({"site_id": [], "tech": [], "band_mhz": [], "height_m": []}, geometry=[], crs=CRS_M)

    def build(mbps: float):
        cs = build_candidates(
            d,
            sites=no_sites,
            given=None,
            existing=existing,
            fibre_cost_of=None,
            site_fibre_cost=None,
            dem=None,
            radio=RadioSettings(),
            costs=COSTS,
            targets=TargetSettings(satellite_outlet=True),
            satellite_school_mbps=mbps,
        )
        mat = pd.DataFrame(cs.coverage.toarray(), index=d["demand_id"], columns=cs.candidates["candidate_id"])
        return cs, mat

    cs, mat = build(100.0)
    sat = cs.candidates[cs.candidates["kind"] == "satellite"]
    assert list(sat["candidate_id"]) == ["SAT-schools:S3"]  # the one unconnected school, no village
    assert list(mat.index[mat["SAT-schools:S3"]]) == ["schools:S3/connection", "schools:S3/outlet"]
    # a 50 Mbps terminal connects the school but does not bring it to the 100 Mbps target
    _, mat = build(50.0)
    assert list(mat.index[mat["SAT-schools:S3"]]) == ["schools:S3/connection"]


def test_operator_band_rules_no_n28_for_telecom_and_unicom() -> None:
    radio = RadioSettings()
    demands = gpd.GeoDataFrame(
        {"demand_id": ["villages:V1"], "layer": ["villages"]}, geometry=[shapely.Point(15_000.0, 0.0)], crs=CRS_M
    )
    sites = _two_operator_sites()
    for planner in ("CTCC", "CUCC"):
        cs = candidate_sites(demands, sites, None, dem=None, radio=radio, operator=planner).set_index("candidate_id")
        assert 700.0 not in set(cs.loc[cs["tech"] == "5g", "band_mhz"])
        # RAN sharing: China Unicom's T4 and China Telecom's T3 are one network's sites: both upgradable, no share
        ups = cs[cs["kind"] == "upgrade_5g"]["band_mhz"].to_dict()
        assert ups == {"UP-T3": 2100.0, "UP-T4": 3500.0, "UP-T4-2100": 2100.0}
        shared = sorted(cs.index[cs["kind"].isin(["share", "share_5g"])])
        assert shared == ["SH4-T1", "SH4-T5", "SH5-T1", "SH5-T5"]  # China Mobile's tower (T1, 35 m) and the unknown one
        assert cs.loc["SH5-T5", "band_mhz"] == 3500.0
        assert (cs["operator"] == planner).all()
    cmcc = candidate_sites(demands, sites, None, dem=None, radio=radio, operator="CMCC").set_index("candidate_id")
    assert cmcc.loc["SH5-T5", "band_mhz"] == 700.0  # China Mobile builds 700 MHz with China Broadcasting Network
    assert cmcc.loc["NS-villages:V1", "band_mhz"] == 1800.0
