"""Lifecycle economics and funding: what an intervention costs over its life, and who pays.

**Present value** (:func:`present_value`): capex at year 0 (civil works once; equipment again every
``equipment_life_years`` within the horizon), plus the yearly opex paid at the end of each year 1..H, all
discounted at ``discount_rate``:

    PV = civil + equipment x sum_{k >= 0, kL < H} (1 + r)^(-kL) + opex x (1 - (1 + r)^(-H)) / r

No residual value is credited at the horizon (the conservative reading: a plan must not rest on what is left
after it). With r = 0 the annuity is H. An intervention's lifecycle cost is a present value at the year it is
built; the plan's is ONE present value at its base year (:func:`plan_present_value`: each intervention's
discounted by the years between the base year and its own).

**Tower leases** (:func:`tower_lease_cny_per_year`): China Tower owns the towers; a tenant pays the lease less the
sharing discount of China Tower's pricing for the number of tenants (《商务定价协议》补充协议, 2018: 30 % each for
two tenants, 40 % for three). A share is the second tenant of an existing tower; a new site's tower is China
Tower's with one tenant (``[costs] tower_owner``), so its lease enters the opex and the lifecycle comparison
with a share.

**Funding** (:func:`funding_split`): the universal-service model "中央资金引导、地方协调支持、企业为主推进": central
finance subsidises a share of the eligible investment (capex; opex is the operator's), the province or county
may add a share, the operator funds the rest. Shares may differ by batch (early pilot batches had other rates).

Geometry-free: arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gis.settings import CostSettings, EconomicsSettings


def annuity_factor(discount_rate: float, years: int) -> float:
    """Present value of 1 CNY paid at the end of each of ``years`` years at ``discount_rate``."""
    if years <= 0:
        return 0.0
    if discount_rate == 0:
        return float(years)
    return (1.0 - (1.0 + discount_rate) ** (-years)) / discount_rate


def renewal_factor(discount_rate: float, horizon_years: int, life_years: int) -> float:
    """Present value of buying 1 CNY of equipment now and again every ``life_years`` within the horizon."""
    if life_years <= 0:
        msg = f"`life_years` = {life_years}; expected >= 1"
        raise ValueError(msg)
    starts = np.arange(0, max(horizon_years, 1), life_years)
    return float(np.sum((1.0 + discount_rate) ** (-starts.astype(float))))


def present_value(
    civil_cny: np.ndarray,
    equipment_cny: np.ndarray,
    opex_cny_per_year: np.ndarray,
    *,
    horizon_years: int,
    discount_rate: float,
    equipment_life_years: int,
) -> np.ndarray:
    """Lifecycle cost (CNY, present value) per intervention (module docstring).

    Parameters
    ----------
    civil_cny : array
        Capex built once: trenches, towers, civil works, grid connection (CNY).
    equipment_cny : array
        Capex renewed every ``equipment_life_years``: radio equipment, terminals, microwave radios (CNY).
    opex_cny_per_year : array
        Yearly running cost: leases, electricity, maintenance, fees, line rental (CNY per year).
    """
    civil = np.asarray(civil_cny, dtype=float)
    equip = np.asarray(equipment_cny, dtype=float)
    opex = np.asarray(opex_cny_per_year, dtype=float)
    return (
        civil
        + equip * renewal_factor(discount_rate, horizon_years, equipment_life_years)
        + opex * annuity_factor(discount_rate, horizon_years)
    )


def plan_present_value(
    lifecycle_cny: np.ndarray, year: np.ndarray, *, base_year: int, discount_rate: float
) -> np.ndarray:
    """Each intervention's lifecycle cost (a present value at ``year``, the year it is built) as a present value
    at ``base_year``: ``lifecycle x (1 + r)^-(year - base_year)``; the plan's one present value is their sum."""
    life = np.asarray(lifecycle_cny, dtype=float)
    years = np.asarray(year, dtype=float) - float(base_year)
    return life * (1.0 + discount_rate) ** (-years)


def tower_lease_cny_per_year(tenants: np.ndarray, costs: CostSettings) -> np.ndarray:
    """One tenant's yearly China Tower lease on a tower of ``tenants`` tenants (CNY/year): the single-tenant
    ``tower_lease_cny_per_year``, less ``tower_share_discount`` with two tenants and 40 % with three or more
    (China Tower's 2018 sharing discounts); 0 for no tenant."""
    n = np.asarray(tenants, dtype=np.int64)
    discount = np.select([n <= 1, n == 2], [0.0, costs.tower_share_discount], max(costs.tower_share_discount, 0.40))
    return np.where(n >= 1, costs.tower_lease_cny_per_year * (1.0 - discount), 0.0)


def central_rate(batch: np.ndarray, *, central_share: float, by_batch: Sequence[float] = ()) -> np.ndarray:
    """The central subsidy rate of each batch: ``by_batch[b - 1]`` where given, else ``central_share``."""
    b = np.asarray(batch, dtype=np.int64)
    table = np.asarray(list(by_batch), dtype=float)
    rate = np.full(len(b), float(central_share))
    known = (b >= 1) & (b <= len(table))
    rate[known] = table[b[known] - 1]
    return rate


def funding_split(
    capex_cny: np.ndarray,
    batch: np.ndarray,
    *,
    central_share: float,
    local_share: float,
    central_share_by_batch: Sequence[float] = (),
    eligible: np.ndarray | None = None,
) -> pd.DataFrame:
    """Who pays each intervention's capex: ``central_cny`` (the central subsidy: its batch's rate x the eligible
    capex), ``local_cny`` (``local_share`` x eligible capex), ``operator_cny`` (the rest); they add up to
    ``capex_cny``. ``eligible`` (bool per intervention, default all): capex the programme subsidises."""
    capex = np.asarray(capex_cny, dtype=float)
    ok = np.ones(len(capex), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    rate = central_rate(batch, central_share=central_share, by_batch=central_share_by_batch)
    if np.any(rate + local_share > 1.0 + 1e-12):
        msg = f"central ({rate.max():g}) and local ({local_share:g}) shares add up to more than 1"
        raise ValueError(msg)
    central = np.where(ok, rate * capex, 0.0)
    local = np.where(ok, local_share * capex, 0.0)
    return pd.DataFrame({"central_cny": central, "local_cny": local, "operator_cny": capex - central - local})


# ---------------------------------------------------------------- the interventions' costs


#: Hours in a year (a site draws its power around the clock).
HOURS_PER_YEAR = 8760.0


def site_power_cny_per_year(tech: np.ndarray, costs: CostSettings) -> np.ndarray:
    """A site's electricity per year: its average draw (``site_power_4g_kw`` / ``site_power_5g_kw``) around the
    clock at ``electricity_cny_per_kwh``."""
    kw = np.where(np.asarray(tech) == "5g", costs.site_power_5g_kw, costs.site_power_4g_kw)
    return kw * HOURS_PER_YEAR * costs.electricity_cny_per_kwh


def school_line_cny_per_year(mbps: float, costs: CostSettings) -> float:
    """A school's line at ``mbps`` per year: broadband or a leased line (``school_line``) at the province's tariff
    per Mbps and month."""
    per = (
        costs.broadband_cny_per_mbps_month if costs.school_line == "broadband" else costs.leased_line_cny_per_mbps_month
    )
    return float(mbps) * per * 12.0


def backhaul_lifecycle(
    fibre_cny: np.ndarray,
    microwave_cny: np.ndarray,
    microwave_hops: np.ndarray,
    *,
    costs: CostSettings,
    econ: EconomicsSettings,
    microwave_civil_cny: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Present value (CNY) of each backhaul option per site (columns fibre, microwave, satellite): fibre is civil
    work (kept up at ``fibre_maintenance_share_per_year``); microwave radios are renewed and pay a frequency fee
    per hop, the relay's mast or installation (``microwave_civil_cny``, part of ``microwave_cny``) is built once;
    a satellite terminal is renewed and pays its yearly fee. Infinite where an option does not exist."""
    a = annuity_factor(econ.discount_rate, econ.horizon_years)
    r = renewal_factor(econ.discount_rate, econ.horizon_years, econ.equipment_life_years)
    m = costs.maintenance_share_per_year
    fib = np.asarray(fibre_cny, dtype=float) * (1.0 + costs.fibre_maintenance_share_per_year * a)
    mw_c = np.asarray(microwave_cny, dtype=float)
    mw_civil = np.minimum(np.nan_to_num(np.asarray(microwave_civil_cny, dtype=float)), mw_c)
    hops = np.nan_to_num(np.asarray(microwave_hops, dtype=float), nan=0.0)
    mw = mw_civil + (mw_c - mw_civil) * r + mw_c * m * a + hops * costs.microwave_fee_cny_per_year * a
    sat_c = costs.satellite_terminal_cny
    sat = np.full(len(fib), sat_c * (r + m * a) + costs.satellite_fee_cny_per_year * a)
    return np.column_stack([fib, np.where(np.isfinite(mw_c), mw, np.inf), sat])


def intervention_costs(
    cands: pd.DataFrame, *, costs: CostSettings, econ: EconomicsSettings, school_outlet_mbps: float
) -> pd.DataFrame:
    """Capex split, opex and lifecycle of every candidate, as coefficients: lifecycle = ``lc_alpha`` x capex +
    ``lc_beta`` (a fibre extension's capex and a site's fibre backhaul are re-priced by the shared trenches; the
    others' capex is fixed, alpha 0).

    Parameters
    ----------
    cands : DataFrame
        Candidates with ``kind``, ``tech``, ``layer`` of the unit a one-point candidate serves (``source``:
        ``layer:id``), ``equipment_cny``, ``backhaul``, ``backhaul_cny``, ``backhaul_hops``, ``cost_cny``.

    Returns
    -------
    DataFrame
        Same index: ``civil_cny`` (built once), ``renewed_cny`` (equipment renewed every
        ``equipment_life_years``), ``opex_cny_per_year``, ``lc_alpha``, ``lc_beta``.
    """
    a = annuity_factor(econ.discount_rate, econ.horizon_years)
    r = renewal_factor(econ.discount_rate, econ.horizon_years, econ.equipment_life_years)
    m, fm = costs.maintenance_share_per_year, costs.fibre_maintenance_share_per_year
    kind = cands["kind"].astype(str).to_numpy()
    tech = cands["tech"].astype(str).to_numpy() if "tech" in cands else np.full(len(cands), "")
    capex = cands["cost_cny"].to_numpy(dtype=float)
    equip = cands["equipment_cny"].to_numpy(dtype=float) if "equipment_cny" in cands else np.zeros(len(cands))
    back = cands["backhaul"].astype(str).to_numpy() if "backhaul" in cands else np.full(len(cands), "")
    back_cny = np.nan_to_num(cands["backhaul_cny"].to_numpy(dtype=float)) if "backhaul_cny" in cands else 0.0
    hops = np.nan_to_num(pd.to_numeric(cands.get("backhaul_hops", 0), errors="coerce")) * np.ones(len(cands))
    relay = np.nan_to_num(pd.to_numeric(cands.get("backhaul_relay_cny", 0), errors="coerce")) * np.ones(len(cands))
    school = cands["source"].astype(str).str.startswith("schools:").to_numpy() if "source" in cands else False
    site = np.isin(kind, ["new_site", "upgrade_5g", "share", "share_5g"])
    shared = np.isin(kind, ["share", "share_5g"])
    line = school_line_cny_per_year(school_outlet_mbps, costs)
    # capex split: a new site's tower and civil works (and its power line) are built once, its radios renewed
    ran = np.where(kind == "new_site", np.minimum(costs.ran_equipment_cny, equip), equip)
    # fibre backhaul is a trench; a microwave relay's mast (or its installation on a leased tower) is built once
    back_civil = np.select([back == "fibre", back == "microwave"], [back_cny, np.minimum(relay, back_cny)], 0.0)
    civil = np.select([kind == "fibre", site], [capex, equip - ran + back_civil], 0.0)
    renewed = np.select([kind == "fibre", site], [0.0, ran + back_cny - back_civil], capex)
    opex = np.zeros(len(cands))
    opex += np.where(site, site_power_cny_per_year(tech, costs), 0.0)
    # China Tower's lease: a share is a tower's second tenant, a new site's China Tower tower has one
    tenants = np.where(shared, 2, np.where((kind == "new_site") & (costs.tower_owner == "china_tower"), 1, 0))
    opex += tower_lease_cny_per_year(tenants, costs)
    opex += np.where(back == "microwave", hops * costs.microwave_fee_cny_per_year, 0.0)
    opex += np.where(back == "satellite", costs.satellite_fee_cny_per_year, 0.0)
    opex += np.where(kind == "satellite", costs.satellite_school_fee_cny_per_year, 0.0)
    opex += np.where(np.isin(kind, ["fibre", "line_upgrade"]) & school, line, 0.0)
    opex_fixed = opex.copy()
    fibre = kind == "fibre"
    fibre_civil = np.where(fibre, civil, np.where(back == "fibre", back_civil, 0.0))
    opex += m * (civil - fibre_civil + renewed) + fm * fibre_civil
    # a fibre extension's price is all trench; a fibre-backhauled site's price moves with its trench share only
    site_trench = site & ~fibre & (back == "fibre")
    alpha = np.where(fibre | site_trench, 1.0 + fm * a, 0.0)
    beta = np.where(fibre, opex_fixed * a, civil + renewed * r + opex * a - np.where(site_trench, alpha * capex, 0.0))
    return pd.DataFrame(
        {
            "civil_cny": civil,
            "renewed_cny": renewed,
            "opex_cny_per_year": opex,
            "opex_fixed_cny_per_year": opex_fixed,
            "lc_alpha": alpha,
            "lc_beta": beta,
        },
        index=cands.index,
    )


def priced_money(frame: pd.DataFrame, prices: np.ndarray, *, costs: CostSettings) -> pd.DataFrame:
    """Capex, civil part, opex and lifecycle of interventions at ``prices`` (capex, CNY: a fibre extension at its
    share of the shared trenches, a fibre-backhauled site at its equipment plus its share), from their
    :func:`intervention_costs` columns."""
    p = np.asarray(prices, dtype=float)
    fibre = (frame["kind"] == "fibre").to_numpy()
    # a site whose fibre backhaul the trench plan re-priced: the change is all trench (civil, fibre upkeep)
    back = frame["backhaul"].astype(str).to_numpy() if "backhaul" in frame else np.full(len(frame), "")
    site_trench = ~fibre & (back == "fibre")
    equip = np.nan_to_num(frame["equipment_cny"].to_numpy(dtype=float)) if "equipment_cny" in frame else 0.0
    back_cny = np.nan_to_num(frame["backhaul_cny"].to_numpy(dtype=float)) if "backhaul_cny" in frame else 0.0
    delta = np.where(site_trench, p - equip - back_cny, 0.0)
    fm = costs.fibre_maintenance_share_per_year
    civil = np.where(fibre, p, frame["civil_cny"].to_numpy(dtype=float) + delta)
    opex = np.where(
        fibre,
        fm * p + frame["opex_fixed_cny_per_year"].to_numpy(dtype=float),
        frame["opex_cny_per_year"].to_numpy(dtype=float) + fm * delta,
    )
    life = frame["lc_alpha"].to_numpy(dtype=float) * p + frame["lc_beta"].to_numpy(dtype=float)
    return pd.DataFrame(
        {"capex_cny": p, "civil_cny": civil, "opex_cny_per_year": opex, "lifecycle_cny": life}, index=frame.index
    )


def objective_cost(
    prices: np.ndarray, coefficients: pd.DataFrame, *, objective: str, central_share: float
) -> np.ndarray:
    """What target mode minimises per candidate at ``prices`` (capex, CNY): the lifecycle cost, the capex, or the
    central subsidy (``central_share`` x capex)."""
    p = np.asarray(prices, dtype=float)
    if objective == "capex":
        return p
    if objective == "subsidy":
        return central_share * p
    return coefficients["lc_alpha"].to_numpy(dtype=float) * p + coefficients["lc_beta"].to_numpy(dtype=float)
