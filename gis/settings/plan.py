"""Planning settings: fibre reach (``[fibre]``), the optimiser (``[optimise]``) and the KPI targets (``[targets]``).

:mod:`planning.fibre`, :mod:`planning.plan` and :mod:`planning.status` use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis.settings.fields import num
from gis.settings.money import MAX_CNY, CostSettings

__all__ = [
    "BROADBAND_DEFINITIONS",
    "FWA_OUTLET",
    "KPI_TARGET_SETTING",
    "BroadbandDefinition",
    "FibreSettings",
    "FwaOutlet",
    "OptimiseSettings",
    "Slack",
    "TargetSettings",
]

#: What counts as a village with broadband (``[targets] broadband``).
BroadbandDefinition = Literal["fibre_or_4g", "fibre"]
BROADBAND_DEFINITIONS: tuple[BroadbandDefinition, ...] = get_args(BroadbandDefinition)
#: How a target below 100 % may be met short (``[targets] slack``).
Slack = Literal["share", "exclusion_only"]
SLACKS: tuple[Slack, ...] = get_args(Slack)
#: Where 4G/5G fixed wireless counts for the outlet target (``[targets] fwa_outlet``).
FwaOutlet = Literal["teaching_points", "all", "none"]
FWA_OUTLET: tuple[FwaOutlet, ...] = get_args(FwaOutlet)


@dataclass(frozen=True)
class FibreSettings:
    """Road/fibre network and fibre reach (planning.fibre).

    Attributes
    ----------
    snap_tolerance_m : float
        Line ends and vertices closer than this are one node; dangling ends this close to a line are joined to it.
    drop_m : float
        A point whose cheapest extension to existing fibre is at most this long counts as connected by fibre.
    buried_share : float
        Share of new fibre built buried (the rest aerial on poles); sets the cost per km.
    """

    snap_tolerance_m: float = num(5.0, 0.0, 1000.0, unit="m", low_open=True)
    drop_m: float = num(300.0, 0.0, 50_000.0, unit="m")
    buried_share: float = num(0.0, 0.0, 1.0)

    def cny_per_m(self, costs: CostSettings) -> float:
        """Cost of one metre of new fibre (CNY), from the aerial and buried prices per km."""
        per_km = (1.0 - self.buried_share) * costs.fibre_aerial_cny_per_km + self.buried_share * (
            costs.fibre_buried_cny_per_km
        )
        return per_km / 1000.0


@dataclass(frozen=True)
class OptimiseSettings:
    """The optimiser (planning.plan.cover, planning.plan.proposal).

    Attributes
    ----------
    budget_cny : float or None
        Total budget (CNY, > 0): serves the programme's priorities within it (unconnected schools first, then
        registered poor villages, then the rest). Not set (None, the default): target mode, the least cost that
        reaches every KPI target of ``[targets]`` in every county. A budget of 0 is refused: target mode is asked
        for by leaving the key out (or ``coverplan optimise --targets``), never by a 0.
    yearly_budget_cny : float
        Budget of one yearly batch when phasing the plan.
    poor_village_weight, teaching_point_weight, school_weight : float
        Demand weights: a village weighs 1 + population/1000, times ``poor_village_weight`` when registered
        poor; a school weighs ``school_weight``, times ``teaching_point_weight`` for a teaching point.
    time_limit_s : float
        Wall-clock limit of each exact solve.
    fibre_rounds : int
        Rounds of re-pricing fibre candidates with the shared-trench plan of the chosen ones.
    operator : str
        The operator the plan is for (a value of the sites layer's ``operator`` column). When set, 5G upgrades
        are offered for its own 4G sites only and every other operator's tower is offered for sharing (the
        planner's 4G or 5G equipment on it at ``share_site_cny``). Empty: every existing site is the planner's
        and nothing is shared.
    satellite_school_mbps : float
        Downlink of a school satellite terminal (Mbps): 20 Mbps by default, a shared GEO high-throughput plan
        (ChinaSat-16 class, ~600 ms round trip). Each unconnected school is offered a direct satellite connection
        (terminal + 5 years of fees); it serves the school's outlet only where ``[targets] satellite_outlet`` lets
        satellite count and this downlink reaches the target.
    first_year : int
        Calendar year of batch 1 (the ledger records each planned row's year); 0: the year after the run date.
    tender_lots : int
        Tender lots (标段) the plan is cut into: that many geographically compact lots of similar cost; 0 (default):
        one lot per county (:mod:`planning.plan.lots`).
    """

    budget_cny: float | None = num(None, 0.0, MAX_CNY, unit="CNY", low_open=True)
    yearly_budget_cny: float = num(20_000_000.0, 0.0, MAX_CNY, unit="CNY", low_open=True)
    poor_village_weight: float = num(3.0, 0.0, 1e6)
    teaching_point_weight: float = num(1.5, 0.0, 1e6)
    school_weight: float = num(5.0, 0.0, 1e6)
    time_limit_s: float = num(60.0, 0.0, 86_400.0, unit="s", low_open=True)
    fibre_rounds: int = num(4, 1, 100, integer=True)
    operator: str = ""
    satellite_school_mbps: float = num(20.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    first_year: int = num(0, 0, 2100, integer=True)
    tender_lots: int = num(0, 0, 1000, integer=True)


@dataclass(frozen=True)
class TargetSettings:
    """Targets of the universal-service and network poverty-alleviation programmes, one per KPI, counted per
    county (README, "KPIs"). A target of 0 means the KPI is reported but not targeted.

    Attributes
    ----------
    broadband : {"fibre_or_4g", "fibre"}
        What counts as a village with broadband: fibre or 4G/5G coverage (the 2018-2020 network poverty
        alleviation plan counted 通光纤 and 4G; default), or fibre only.
    poor_village_broadband_share, poor_village_4g_share : float
        Registered poor villages with broadband and with 4G: 0.98 each (工信部《关于推进网络扶贫的实施方案
        (2018-2020年)》, 工信部通信〔2018〕83号: 贫困村宽带网络覆盖率和4G网络覆盖率均超过98%).
    poor_village_fibre_share, village_fibre_share, village_4g_share : float
        Registered poor villages with fibre, administrative villages with fibre and with 4G: 0 (no target) unless a
        programme rule pack sets one (docs/programme.md: the 2018 plan's 台账 counts 通光纤 and 4G separately).
    village_5g_share : float
        Administrative villages with 5G: 0 (no target). The 14th Five-Year Plan for information and communication
        (工信部规〔2021〕164号) sets 行政村5G通达率 80 % by 2025: set 0.8 to plan for it.
    school_connected_share, school_outlet_share, teaching_point_connected_share : float
        Schools (teaching points included) connected, at >= ``school_outlet_mbps``, and teaching points
        connected: 0.98 each (教育部 2019-2020 学校联网攻坚行动: 中小学(含教学点)宽带接入率达到98%以上、出口带宽
        达到100Mbps以上).
    school_outlet_mbps : float
        The outlet target, 100 Mbps (the same campaign).
    fibre_tier_mbps : float
        Outlet of a new fibre line to a school (what a planned fibre connection provides), 1000 Mbps.
    fwa_outlet : {"teaching_points", "all", "none"}
        Where 4G/5G fixed-wireless (a CPE on a cell) counts towards the outlet target: teaching points only
        (default: provinces accept FWA as the interim remedy of teaching points, domain review §3.2), every
        school, or none. FWA always counts as connected.
    slack : {"share", "exclusion_only"}
        How a target below 100 % may be met short: by any rows (``share``, default), or only by rows the ledger
        excludes with a documented reason (``exclusion_only``: 核减, e.g. ``other_programme``; rows relocated or
        merged leave the counts anyway). A programme rule pack sets ``exclusion_only`` (docs/programme.md).
    satellite_outlet : bool
        Whether a satellite link counts towards the outlet target (default no: a shared GEO plan of tens of Mbps at
        ~600 ms is connected, not at target; domain review §3.12).
    """

    broadband: BroadbandDefinition = "fibre_or_4g"
    poor_village_broadband_share: float = num(0.98, 0.0, 1.0)
    poor_village_4g_share: float = num(0.98, 0.0, 1.0)
    village_5g_share: float = num(0.0, 0.0, 1.0)
    poor_village_fibre_share: float = num(0.0, 0.0, 1.0)
    village_fibre_share: float = num(0.0, 0.0, 1.0)
    village_4g_share: float = num(0.0, 0.0, 1.0)
    school_connected_share: float = num(0.98, 0.0, 1.0)
    school_outlet_share: float = num(0.98, 0.0, 1.0)
    teaching_point_connected_share: float = num(0.98, 0.0, 1.0)
    school_outlet_mbps: float = num(100.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    fibre_tier_mbps: float = num(1000.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    fwa_outlet: FwaOutlet = "teaching_points"
    satellite_outlet: bool = False
    slack: Slack = "share"


#: The ``[targets]`` setting that holds each KPI's target (a programme rule pack sets it: docs/programme.md).
KPI_TARGET_SETTING: dict[str, str] = {
    "poor_broadband": "poor_village_broadband_share",
    "poor_4g": "poor_village_4g_share",
    "poor_fibre": "poor_village_fibre_share",
    "village_4g": "village_4g_share",
    "village_fibre": "village_fibre_share",
    "village_5g": "village_5g_share",
    "school_connected": "school_connected_share",
    "school_outlet": "school_outlet_share",
    "tp_connected": "teaching_point_connected_share",
}
