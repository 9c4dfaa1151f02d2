"""Money settings: unit costs (``[costs]``), lifecycle economics (``[economics]``) and who pays (``[funding]``).

README "Lifecycle cost and funding" gives every default's source; :mod:`planning.plan.economics` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis.settings.fields import num

__all__ = [
    "MAX_CNY",
    "OBJECTIVES",
    "SCHOOL_LINES",
    "TOWER_OWNERS",
    "CostSettings",
    "EconomicsSettings",
    "FundingSettings",
    "Objective",
    "SchoolLine",
    "TowerOwner",
]

#: Largest money amount a project may state (CNY): ten trillion, beyond any national programme.
MAX_CNY = 1e13
#: What the optimiser minimises in target mode (``[economics] objective``).
Objective = Literal["lifecycle", "capex", "subsidy"]
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)
#: How a school's line is rented (``[costs] school_line``).
SchoolLine = Literal["broadband", "leased_line"]
SCHOOL_LINES: tuple[SchoolLine, ...] = get_args(SchoolLine)
#: Who owns a new site's tower (``[costs] tower_owner``): China Tower (the operators lease it) or the operator.
TowerOwner = Literal["china_tower", "operator"]
TOWER_OWNERS: tuple[TowerOwner, ...] = get_args(TowerOwner)


@dataclass(frozen=True)
class CostSettings:
    """Unit costs in CNY (DESIGN.md).

    ``share_site_cny`` is the planner's radio equipment on another operator's existing tower (no civil works;
    the tower's fibre is shared, other backhaul priced as for a new site): an assumption, override it with the
    local China Tower co-location price. ``satellite_school_fee_cny_per_year`` is the yearly fee of a school's
    satellite plan at ``[optimise] satellite_school_mbps`` (dearer than a site's backhaul link).
    A microwave hop is priced by its radios and dishes (``[radio.backhaul]``); a relay's new mast by
    ``[[radio.backhaul.relay_masts]]``, its dishes on an existing tower by ``relay_lease_cny`` (installation and
    lease; an assumption to replace with the local China Tower price).
    ``fibre_line_upgrade_cny`` is the one-off cost of a faster tier on a school's existing fibre line: no
    construction (the GPON/XG-PON port and the ONT already carry 100 Mbps and more), so 0 by default; the dearer
    tariff is a yearly cost.

    Running costs and the split of capex (:mod:`planning.plan.economics`; README, "Lifecycle cost and funding",
    gives every default's source): ``ran_equipment_cny`` is the radio equipment within ``new_site_cny`` (renewed
    every ``[economics] equipment_life_years``; the rest is the tower and civil works), ``grid_connection_cny`` a
    new site's power line (市电引入); a share of another operator's tower pays China Tower's lease
    ``tower_lease_cny_per_year`` less ``tower_share_discount`` (the second tenant's); a new site's tower
    (``tower_owner = "china_tower"``) is China Tower's and its one tenant pays the whole lease (``"operator"``:
    the operator's own tower, no lease); every site pays electricity (``site_power_*_kw``
    around the clock at ``electricity_cny_per_kwh``) and maintenance (``maintenance_share_per_year`` of its capex,
    fibre ``fibre_maintenance_share_per_year``); a microwave hop its frequency fee; a school its line at the
    outlet target (``school_line``: ``leased_line`` at ``leased_line_cny_per_mbps_month``, the contracted
    outlet a school's 出口带宽 normally is, or ``broadband`` at ``broadband_cny_per_mbps_month``).
    """

    fibre_aerial_cny_per_km: float = num(15_000.0, 0.0, MAX_CNY, unit="CNY/km")
    fibre_buried_cny_per_km: float = num(60_000.0, 0.0, MAX_CNY, unit="CNY/km")
    new_site_cny: float = num(350_000.0, 0.0, MAX_CNY, unit="CNY")
    upgrade_5g_cny: float = num(150_000.0, 0.0, MAX_CNY, unit="CNY")
    satellite_terminal_cny: float = num(30_000.0, 0.0, MAX_CNY, unit="CNY")
    satellite_fee_cny_per_year: float = num(12_000.0, 0.0, MAX_CNY, unit="CNY/year")
    satellite_school_fee_cny_per_year: float = num(36_000.0, 0.0, MAX_CNY, unit="CNY/year")
    share_site_cny: float = num(200_000.0, 0.0, MAX_CNY, unit="CNY")
    fibre_line_upgrade_cny: float = num(0.0, 0.0, MAX_CNY, unit="CNY")
    relay_lease_cny: float = num(30_000.0, 0.0, MAX_CNY, unit="CNY")
    # running costs (README, "Lifecycle cost and funding")
    ran_equipment_cny: float = num(150_000.0, 0.0, MAX_CNY, unit="CNY")
    grid_connection_cny: float = num(50_000.0, 0.0, MAX_CNY, unit="CNY")
    tower_lease_cny_per_year: float = num(30_000.0, 0.0, MAX_CNY, unit="CNY/year")
    tower_share_discount: float = num(0.30, 0.0, 1.0)
    tower_owner: TowerOwner = "china_tower"
    electricity_cny_per_kwh: float = num(0.65, 0.0, 100.0, unit="CNY/kWh")
    site_power_4g_kw: float = num(1.2, 0.0, 100.0, unit="kW")
    site_power_5g_kw: float = num(3.5, 0.0, 100.0, unit="kW")
    maintenance_share_per_year: float = num(0.03, 0.0, 1.0)
    fibre_maintenance_share_per_year: float = num(0.01, 0.0, 1.0)
    microwave_fee_cny_per_year: float = num(3_000.0, 0.0, MAX_CNY, unit="CNY/year")
    school_line: SchoolLine = "leased_line"
    broadband_cny_per_mbps_month: float = num(0.24, 0.0, 1e6, unit="CNY/Mbps/month")
    leased_line_cny_per_mbps_month: float = num(5.75, 0.0, 1e6, unit="CNY/Mbps/month")


@dataclass(frozen=True)
class EconomicsSettings:
    """Lifecycle cost (:mod:`planning.plan.economics`).

    Attributes
    ----------
    horizon_years : int
        Years of opex counted (and of equipment renewal), 10.
    discount_rate : float
        Yearly discount rate, 0.08 (the social discount rate of 国家发展改革委、建设部《建设项目经济评价方法与参数》
        第三版, 2006).
    equipment_life_years : int
        Life of radio equipment, terminals and microwave radios before renewal, 8 (Chinese operators depreciate
        network equipment over 5-10 years).
    objective : {"lifecycle", "capex", "subsidy"}
        What target mode minimises: the present value of capex and opex over the horizon (default), capex alone,
        or the central subsidy (the eligible capex x ``[funding] central_share``).
    """

    horizon_years: int = num(10, 1, 100, integer=True, unit="years")
    discount_rate: float = num(0.08, 0.0, 1.0)
    equipment_life_years: int = num(8, 1, 100, integer=True, unit="years")
    objective: Objective = "lifecycle"


@dataclass(frozen=True)
class FundingSettings:
    """Who pays the capex (:func:`planning.plan.economics.funding_split`): "中央资金引导、地方协调支持、企业为主推进".

    Attributes
    ----------
    central_share : float
        Central finance's share of the eligible investment, 0.30 (unified at 30 % from the 2018 4G pilots; earlier
        batches had 15/20/30/35 % for east/central/west/autonomous regions; domain review §3.5).
    central_share_by_batch : list of float
        Per batch (1, 2, ...) a rate that replaces ``central_share`` (empty: none).
    local_share : float
        The province's or county's share of the eligible investment, 0.
    """

    central_share: float = num(0.30, 0.0, 1.0)
    central_share_by_batch: tuple[float, ...] = num((), 0.0, 1.0)
    local_share: float = num(0.0, 0.0, 1.0)
