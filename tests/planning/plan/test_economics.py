"""Lifecycle and funding arithmetic against hand-computed cases; a lease against a new site, flipping with the
horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from gis.settings import CostSettings, EconomicsSettings
from planning.plan.cover import solve_cover
from planning.plan.economics import (
    annuity_factor,
    funding_split,
    intervention_costs,
    objective_cost,
    plan_present_value,
    present_value,
    priced_money,
    renewal_factor,
    tower_lease_cny_per_year,
)


def test_annuity_and_renewal_by_hand() -> None:
    # 1 CNY a year for 3 years at 10 %: 1/1.1 + 1/1.21 + 1/1.331 = 2.486852...
    assert annuity_factor(0.10, 3) == pytest.approx(1 / 1.1 + 1 / 1.21 + 1 / 1.331)
    assert annuity_factor(0.0, 7) == 7.0
    assert annuity_factor(0.08, 0) == 0.0
    # equipment bought at 0, 8 and 16 within 20 years at 8 %: 1 + 1.08^-8 + 1.08^-16
    assert renewal_factor(0.08, 20, 8) == pytest.approx(1 + 1.08**-8 + 1.08**-16)
    assert renewal_factor(0.08, 8, 8) == 1.0  # renewed at year 8 = the horizon's end: not within it
    with pytest.raises(ValueError, match="life_years"):
        renewal_factor(0.08, 10, 0)


def test_present_value_by_hand() -> None:
    # civil 100, equipment 50 renewed every 5 years, opex 10 a year; 10 years at 5 %
    pv = present_value(
        np.array([100.0]),
        np.array([50.0]),
        np.array([10.0]),
        horizon_years=10,
        discount_rate=0.05,
        equipment_life_years=5,
    )
    expected = 100 + 50 * (1 + 1.05**-5) + 10 * sum(1.05**-t for t in range(1, 11))
    assert pv[0] == pytest.approx(expected)


def test_a_lease_beats_a_new_site_over_a_short_horizon_and_loses_over_a_long_one() -> None:
    # a new site: 350k tower and civil works + 150k radio, 8k a year; a share of another tower: the same radio,
    # a 40k yearly lease. At 8 %: the lease costs 32k a year more, against 350k up front.
    def pv(civil: float, opex: float, years: int) -> float:
        return float(
            present_value(
                np.array([civil]),
                np.array([150e3]),
                np.array([opex]),
                horizon_years=years,
                discount_rate=0.08,
                equipment_life_years=8,
            )[0]
        )

    assert pv(0.0, 40e3, 10) < pv(350e3, 8e3, 10)  # 10 years: the lease is cheaper
    assert pv(0.0, 40e3, 40) > pv(350e3, 8e3, 40)  # 40 years: 32k x 11.92 = 381k > 350k, the site is cheaper
    # the break-even: the annuity factor where 32k x A = 350k, A = 10.94 -> between 27 and 28 years at 8 %
    assert annuity_factor(0.08, 27) < 350 / 32 < annuity_factor(0.08, 28)


def test_funding_split_adds_up_by_batch_and_eligibility() -> None:
    capex = np.array([1_000_000.0, 200_000.0, 50_000.0])
    f = funding_split(
        capex,
        np.array([1, 2, 3]),
        central_share=0.30,
        local_share=0.10,
        central_share_by_batch=[0.35, 0.30],
        eligible=np.array([True, True, False]),
    )
    assert list(f["central_cny"]) == [350_000.0, 60_000.0, 0.0]
    assert list(f["local_cny"]) == [100_000.0, 20_000.0, 0.0]
    assert list(f["operator_cny"]) == [550_000.0, 120_000.0, 50_000.0]
    np.testing.assert_allclose(f.sum(axis=1), capex)
    with pytest.raises(ValueError, match="more than 1"):
        funding_split(capex, np.ones(3), central_share=0.95, local_share=0.10)


def _site_and_share() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["new_site", "share"],
            "tech": ["4g", "4g"],
            "source": ["", ""],
            "equipment_cny": [400_000.0, 200_000.0],
            "backhaul": ["existing", "existing"],
            "backhaul_cny": [0.0, 0.0],
            "cost_cny": [400_000.0, 200_000.0],
        }
    )


def test_china_towers_lease_by_tenants() -> None:
    # the single-tenant lease 30k; China Tower's 2018 sharing discounts: 30 % each for two tenants, 40 % for three
    costs = CostSettings()
    np.testing.assert_allclose(tower_lease_cny_per_year(np.array([0, 1, 2, 3]), costs), [0, 30_000, 21_000, 18_000])


def test_a_new_china_tower_tower_pays_its_lease_in_opex() -> None:
    cands = _site_and_share()
    econ = EconomicsSettings()
    leased = intervention_costs(cands, costs=CostSettings(), econ=econ, school_outlet_mbps=100.0)
    owned = intervention_costs(cands, costs=CostSettings(tower_owner="operator"), econ=econ, school_outlet_mbps=100.0)
    power = 1.2 * 8760 * 0.65
    # the new site: power + 3 % maintenance of 400k + the single tenant's 30k lease; the share: the 21k lease
    assert leased["opex_cny_per_year"].iloc[0] == pytest.approx(power + 12_000 + 30_000)
    assert leased["opex_cny_per_year"].iloc[0] - owned["opex_cny_per_year"].iloc[0] == pytest.approx(30_000)
    assert leased["opex_cny_per_year"].iloc[1] == owned["opex_cny_per_year"].iloc[1] == pytest.approx(power + 27_000)
    assert leased["opex_fixed_cny_per_year"].iloc[0] == pytest.approx(power + 30_000)


def test_shared_tower_against_new_tower_flips_on_the_lease() -> None:
    # one village served by either a new site or a share of an existing tower, 30 years at 8 %: on the operator's
    # own tower (no lease) the new site is cheaper over its life; on China Tower's tower (30k a year) the share is
    econ = EconomicsSettings(horizon_years=30)
    cands = _site_and_share()
    cover = sparse.csr_matrix(np.array([[True, True]]))
    chosen = {}
    for owner in ("operator", "china_tower"):
        m = intervention_costs(cands, costs=CostSettings(tower_owner=owner), econ=econ, school_outlet_mbps=100.0)
        life = objective_cost(cands["cost_cny"], m, objective="lifecycle", central_share=0.3)
        res = solve_cover(cover, life, np.ones(1), min_share=1.0, time_limit_s=5.0)
        chosen[owner] = cands["kind"].iloc[res.selected].tolist()
    assert chosen == {"operator": ["new_site"], "china_tower": ["share"]}


def test_the_plans_lifecycle_is_one_present_value_at_the_base_year() -> None:
    # three interventions of lifecycle 100k, 200k, 300k (each a PV at its own build year) built 2027, 2028, 2030;
    # at 8 % their PV at 2027: 100k + 200k / 1.08 + 300k / 1.08^3 = 100,000 + 185,185.19 + 238,149.67
    pv = plan_present_value(
        np.array([100_000.0, 200_000.0, 300_000.0]), np.array([2027, 2028, 2030]), base_year=2027, discount_rate=0.08
    )
    assert pv.sum() == pytest.approx(100_000 + 200_000 / 1.08 + 300_000 / 1.08**3)
    assert pv.sum() == pytest.approx(523_334.86, abs=0.01)
    assert pv.sum() < 600_000.0  # less than the sum of PVs taken at different years


def test_intervention_costs_lease_against_new_site_flips_with_the_horizon() -> None:
    # a new site on the operator's own tower (350k + 50k power line, of which 150k radios renewed every 8 years)
    # on fibre backhaul already there, against the same radios on China Tower's tower (200k of equipment, 30k
    # lease less 30 %); both draw 1.2 kW at 0.65 CNY/kWh and pay 3 % of their capex a year in maintenance
    cands = _site_and_share()
    costs = CostSettings(tower_owner="operator")
    power = 1.2 * 8760 * 0.65
    short = EconomicsSettings(horizon_years=10)
    m = intervention_costs(cands, costs=costs, econ=short, school_outlet_mbps=100.0)
    assert list(m["civil_cny"]) == [250_000.0, 0.0]
    assert list(m["renewed_cny"]) == [150_000.0, 200_000.0]
    np.testing.assert_allclose(m["opex_cny_per_year"], [power + 0.03 * 400_000, power + 21_000 + 0.03 * 200_000])
    a10 = annuity_factor(0.08, 10)
    r10 = 1 + 1.08**-8  # the radios bought again in year 8
    life = objective_cost(cands["cost_cny"], m, objective="lifecycle", central_share=0.3)
    np.testing.assert_allclose(
        life, [250_000 + 150_000 * r10 + (power + 12_000) * a10, 200_000 * r10 + (power + 27_000) * a10]
    )
    assert life[1] < life[0]  # 10 years: the lease is cheaper
    long = intervention_costs(cands, costs=costs, econ=EconomicsSettings(horizon_years=30), school_outlet_mbps=100.0)
    life30 = objective_cost(cands["cost_cny"], long, objective="lifecycle", central_share=0.3)
    assert life30[0] < life30[1]  # 30 years: the tower pays for itself
    assert list(objective_cost(cands["cost_cny"], m, objective="capex", central_share=0.3)) == [400_000.0, 200_000.0]
    assert list(objective_cost(cands["cost_cny"], m, objective="subsidy", central_share=0.3)) == [120_000.0, 60_000.0]


def test_a_fibre_extension_is_priced_at_its_share_and_a_school_pays_its_line() -> None:
    cands = pd.DataFrame(
        {
            "kind": ["fibre", "fibre"],
            "tech": ["fibre", "fibre"],
            "source": ["villages:V1", "schools:S1"],
            "cost_cny": [90_000.0, 60_000.0],
        }
    )
    costs = CostSettings()
    econ = EconomicsSettings()
    m = intervention_costs(cands, costs=costs, econ=econ, school_outlet_mbps=100.0)
    a = annuity_factor(0.08, 10)
    line = 100 * 5.75 * 12  # 100 Mbps of leased line at 5.75 CNY/Mbps/month (Anhui 2021): 6,900 a year
    # re-priced at the shared-trench shares 40k and 25k: lifecycle = capex x (1 + 1 % x A) + line x A
    money = priced_money(cands.join(m), np.array([40_000.0, 25_000.0]), costs=costs)
    np.testing.assert_allclose(money["lifecycle_cny"], [40_000 * (1 + 0.01 * a), 25_000 * (1 + 0.01 * a) + line * a])
    np.testing.assert_allclose(money["opex_cny_per_year"], [400.0, 250.0 + line])
    assert list(money["civil_cny"]) == [40_000.0, 25_000.0]
