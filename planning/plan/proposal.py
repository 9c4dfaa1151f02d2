"""The universal-service proposal: interventions chosen by the optimiser, fibre shared, phased by year.

:func:`propose` composes :mod:`planning.plan.candidates` (demands, candidates, coverage matrix),
:mod:`planning.plan.goals` (what is asked: every KPI target in every county, or the programme's priorities within
a budget), :mod:`planning.plan.cover` (the optimiser) and :mod:`planning.plan.outcome` (batches, KPIs after the
plan, the ledger's plan rows).

Fibre costs are not additive: routes to neighbouring villages share trenches. They are handled by re-pricing
rounds (at most ``[optimise] fibre_rounds``):

1. solve with the current prices (at first, each fibre extension priced on its own);
2. plan the chosen fibre extensions together as one Steiner tree from existing fibre
   (:func:`planning.fibre.plan_routes`): the true cost of the selection is its site costs plus the tree's cost;
3. re-price: a chosen extension costs its share of the tree (each segment split equally among the points it
   serves), an unchosen one the cheaper of its own route and the extension from the nearest node of the tree;
4. stop when the selection repeats; keep the best round: in target mode the cheapest true cost, in budget mode
   the most served class by class (within the budget at its true cost).

The reported cost is always the true cost of the kept selection (shared trenches counted once). A new site's
fibre backhaul (:mod:`planning.plan.trenches`) joins the same tree: its trench is planned and shared with the
schools' and villages' extensions, and the site is re-priced at its equipment plus its share, so no trench is paid
twice and 光缆皮长 counts every segment.

A region of several provinces is solved province by province (:func:`province_plan`, as dask tasks with
``coverplan run --dask``) and merged (:mod:`planning.plan.national`); the merged plan is phased nationally and the
proposal carries the national summary table (``provinces``). :func:`cost_curve` re-runs the same model (the same
rounds, the same budget split) at other budgets: each of its points is a real budget run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import REGION, point_provinces
from gis.inputs import Inputs
from gis.project import Project
from gis.schema import unit_key
from gis.settings import MAX_CNY
from gis.terrain import Dem
from planning.fibre import FibreResult, RoadNetwork, connect_points, extension_cost_from, fibre_reach, plan_routes
from planning.jobs import Job, MapJobs, in_turn
from planning.plan.candidates import CandidateSet, build_candidates, demand_table, unit_table
from planning.plan.compliance import (
    batch_funding,
    cheapest_serving,
    compliance_table,
    programme_funding,
    subsidy_objective,
    unserved_table,
)
from planning.plan.cover import CoverResult, solve_cover, solve_priorities
from planning.plan.economics import objective_cost, plan_present_value, priced_money
from planning.plan.goals import CLASS_NAMES, Goal, class_weights, kpi_members, target_goal
from planning.plan.lots import work_lots
from planning.plan.national import ProvincePlan, merge_plans, province_table, split_budget
from planning.plan.operators import operator_money, with_builders
from planning.plan.outcome import (
    Proposal,
    batch_table,
    chosen_table,
    committed_per_batch,
    demands_served,
    first_year_of,
    kpis_after,
    ledger_plan,
    phase_plan,
    region_shares,
    short_after,
    totals_of,
    with_lots,
)
from planning.plan.trenches import trench_base_cny, trench_labels, trench_of_site
from planning.progress import log_progress
from planning.status import KPIS, GapsResult

logger = logging.getLogger(__name__)

__all__ = ["Proposal", "asked_budget", "cost_curve", "propose", "province_plan"]

#: A province's demands take candidate hosts (existing sites) within this distance of their bounding box.
PROVINCE_SITE_BUFFER_M = 80_000.0


def propose(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame,
    fibre: FibreResult | None,
    gaps: GapsResult,
    goal: Literal["targets"] | None = None,
    budget_cny: float | None = None,
    map_jobs: MapJobs = in_turn,
    committed_by_year: Mapping[int, float] | None = None,
) -> Proposal:
    """Choose and phase the interventions that close the gaps: every KPI target in every county at the least cost,
    or the programme's priorities within a budget (:mod:`planning.plan.goals`).

    A region of several provinces (see :func:`gis.admin.province_of_areas`) is solved per province and merged
    (one job per province, run by ``map_jobs``: in turn, or as dask tasks; the result is the same); the
    merged proposal is phased nationally and carries the national summary in ``provinces``.

    Parameters
    ----------
    project, inputs : the project and its loaded layers
    coverage : DataFrame
        The coverage stage output (``layer``, ``point_id``, ``4g_rsrp_dbm``, ``5g_rsrp_dbm`` ...).
    fibre : FibreResult or None
        The fibre stage output (reach and the network with points joined).
    gaps : GapsResult
        The gap stage output (status frames and the KPI table).
    goal : {"targets"}, optional
        Target mode: the least cost that meets every KPI target in every county (see :func:`asked_budget`).
    budget_cny : float, optional
        Budget mode at this amount (CNY, finite and > 0), split across provinces in proportion to their demand
        weight. With neither ``goal`` nor ``budget_cny`` the project's ``[optimise]`` decides.
    map_jobs : MapJobs
        Runs the provinces' jobs (:func:`planning.jobs.in_turn` by default).
    committed_by_year : mapping of int to float, optional
        What the ledger's commitments still spend per calendar year (CNY,
        :func:`planning.status.ledger_replan.unspent_by_year`): each year's batch gets only what its yearly budget
        leaves after them (:func:`planning.plan.outcome.committed_per_batch`). ``budget_cny`` is then the budget of
        the new plan alone (:func:`planning.status.ledger_replan.budget_left`).
    """
    budget = asked_budget(project, goal=goal, budget_cny=budget_cny)
    demands = _demands(project, inputs, gaps)
    rsrp = _rsrp_by_unit(coverage)
    fibre_cost_of = _fibre_cost_of(fibre)
    province = point_provinces(demands, inputs.layers["admin"])
    names = sorted(province.unique())
    use_budget = budget is not None
    if len(names) > 1:
        plans, budgets = _province_plans(
            project,
            inputs,
            gaps,
            demands,
            rsrp,
            fibre,
            fibre_cost_of,
            province,
            budget=budget if use_budget else None,
            map_jobs=map_jobs,
        )
        prop = _national(
            project,
            inputs,
            gaps,
            demands,
            province,
            plans,
            budgets,
            budget=budget if use_budget else None,
            committed_by_year=committed_by_year,
        )
        return with_operators(project, prop, inputs)
    name = names[0] if names else REGION
    plan_goal = Goal(budget_cny=float(budget)) if budget is not None else target_goal(demands, gaps.targets)
    plan = province_plan(
        project,
        demands,
        rsrp,
        sites=inputs.layers["sites"],
        given=inputs.layers.get("candidates"),
        fibre_cost_of=fibre_cost_of,
        net=_network_of(fibre, name),
        dem=inputs.dem,
        goal=plan_goal,
        province=name,
    )
    prop = assemble(project, gaps, plan, goal=plan_goal, plans=(plan,), committed_by_year=committed_by_year)
    return with_operators(project, prop, inputs)


def with_operators(project: Project, prop: Proposal, inputs: Inputs) -> Proposal:
    """``prop`` with every intervention's building operator and tower owner (:mod:`planning.plan.operators`),
    and the operators' and China Tower's totals (``totals["operators"]``)."""
    inter = with_builders(
        prop.interventions,
        inputs.layers["sites"],
        operators=project.radio.operators,
        settings=project.application,
        costs=project.costs,
    )
    table = operator_money(inter)
    xy = shapely.get_coordinates(np.asarray(inter.geometry.centroid.values)) if len(inter) else np.zeros((0, 2))
    app = project.application
    lots, member = work_lots(
        inter,
        xy[:, 0],
        xy[:, 1],
        ran_equipment_cny=project.costs.ran_equipment_cny,
        lot_max_cny=app.lot_max_cny,
        lot_min_cny=app.lot_min_cny,
    )
    inter["work_lots"] = member
    totals = {
        **prop.totals,
        "operators": table.round(4).to_dict(orient="records"),
        "work_lots": {
            str(wt): {"lots": len(part), "amount_cny": round(float(part["amount_cny"].sum()))}
            for wt, part in lots.groupby("work_type", sort=False)
        },
    }
    return replace(prop, interventions=inter, totals=totals, operators=table, work_lots=lots)


def asked_budget(
    project: Project, *, goal: Literal["targets"] | None = None, budget_cny: float | None = None
) -> float | None:
    """The budget a proposal is asked to spend (CNY), or None for target mode.

    Parameters
    ----------
    project : Project
        Its ``[optimise] budget_cny`` decides when neither of the others is given: an amount (> 0, the loader
        refuses 0) is budget mode; the key left out (None) is target mode.
    goal : {"targets"}, optional
        Target mode, whatever the project says.
    budget_cny : float, optional
        Budget mode at this amount (CNY): finite and > 0. A budget of 0 is refused (it would plan nothing; target
        mode is ``goal="targets"``).

    Raises
    ------
    ValueError
        Both ``goal`` and ``budget_cny`` given, an unknown ``goal``, or a budget that is not finite and > 0.
    """
    if goal is not None and goal != "targets":
        msg = f"goal={goal!r}; expected 'targets' or None (a budget is given as budget_cny)"
        raise ValueError(msg)
    if goal is not None and budget_cny is not None:
        msg = f"goal={goal!r} and budget_cny={budget_cny!r}; expected one of them (target mode or a budget)"
        raise ValueError(msg)
    if budget_cny is not None:
        if not (math.isfinite(budget_cny) and 0 < budget_cny <= MAX_CNY):
            msg = (
                f"budget_cny={budget_cny!r}; expected a finite amount > 0 and <= {MAX_CNY:g} CNY (target mode is "
                "goal='targets')"
            )
            raise ValueError(msg)
        return float(budget_cny)
    if goal == "targets":
        return None
    budget = project.optimise.budget_cny
    return None if budget is None else float(budget)


def _demands(project: Project, inputs: Inputs, gaps: GapsResult) -> gpd.GeoDataFrame:
    v, s = inputs.layers["villages"], inputs.layers["schools"]
    return demand_table(
        gaps.villages,
        gaps.schools,
        v.geometry,
        s.geometry,
        v["population"],
        settings=project.optimise,
        priority=v.get("priority", None),
    )


def _rsrp_by_unit(coverage: pd.DataFrame) -> pd.DataFrame:
    """Current best 4G/5G RSRP (dBm), busy-hour ``demand_mbps`` and schools' ``ul_demand_mbps`` (when the coverage
    stage gives them) by ``layer:id``: what a candidate's radio links are judged against
    (:func:`planning.radio.links.radio_links`)."""
    key = unit_key(coverage["layer"], coverage["point_id"])
    wanted = [c for c in ("4g_rsrp_dbm", "5g_rsrp_dbm", "demand_mbps", "ul_demand_mbps") if c in coverage]
    return coverage[wanted].set_axis(key.to_numpy())


def _fibre_cost_of(fibre: FibreResult | None) -> pd.Series | None:
    """Fibre extension cost (CNY) by ``layer:id`` of the points the fibre stage can extend to."""
    if fibre is None:
        return None
    r = fibre.reach
    ext = r[r["reach"] == "extension"]
    return pd.Series(ext["fibre_cost_cny"].to_numpy(), index=unit_key(ext["layer"], ext["point_id"]))


def _province_plans(
    project: Project,
    inputs: Inputs,
    gaps: GapsResult,
    demands: gpd.GeoDataFrame,
    rsrp: pd.DataFrame,
    fibre: FibreResult | None,
    fibre_cost_of: pd.Series | None,
    province: pd.Series,
    *,
    budget: float | None,
    map_jobs: MapJobs,
) -> tuple[list[ProvincePlan], pd.Series | None]:
    """One plan per province (jobs on ``map_jobs``): its demands, the sites near them, its budget share or its
    counties' count rows."""
    layers = inputs.layers
    sites, given = layers["sites"], layers.get("candidates")
    site_prov = point_provinces(sites, layers["admin"]).to_numpy()
    given_prov = point_provinces(given, layers["admin"]).to_numpy() if given is not None else None
    budgets = split_budget(budget, demands.groupby(province.to_numpy())["weight"].sum()) if budget else None
    sxy = shapely.get_coordinates(np.asarray(sites.geometry.values))
    jobs = []
    for name in sorted(province.unique()):
        d = demands[(province == name).to_numpy()]
        xy = shapely.get_coordinates(np.asarray(d.geometry.values))
        (x0, y0), (x1, y1) = xy.min(axis=0) - PROVINCE_SITE_BUFFER_M, xy.max(axis=0) + PROVINCE_SITE_BUFFER_M
        near = (sxy[:, 0] >= x0) & (sxy[:, 0] <= x1) & (sxy[:, 1] >= y0) & (sxy[:, 1] <= y1)
        goal = Goal(budget_cny=float(budgets[name])) if budgets is not None else target_goal(d, gaps.targets)
        kwargs = {
            "demands": d,
            "rsrp": rsrp,
            "sites": sites[near],
            "hosts": site_prov[near] == name,
            "net": _network_of(fibre, name),
            "given": given[given_prov == name] if given is not None else None,
            "goal": goal,
            "province": name,
        }
        jobs.append(Job(f"optimise-{name}", _plan_job, (project,), kwargs))
    plans = map_jobs(jobs, shared={"fibre_cost_of": fibre_cost_of, "dem": inputs.dem})
    return plans, budgets


def _plan_job(project: Project, *, demands: gpd.GeoDataFrame, rsrp: pd.DataFrame, **kwargs: Any) -> ProvincePlan:
    return province_plan(project, demands, rsrp, **kwargs)


def _national(
    project: Project,
    inputs: Inputs,
    gaps: GapsResult,
    demands: gpd.GeoDataFrame,
    province: pd.Series,
    plans: list[ProvincePlan],
    budgets: pd.Series | None,
    *,
    budget: float | None,
    committed_by_year: Mapping[int, float] | None = None,
) -> Proposal:
    """The provinces' plans merged into the national proposal, with its summary table."""
    nation = merge_plans(plans, index=demands.index, budget=budget)
    goal = Goal(budget_cny=float(budget)) if budget is not None else target_goal(demands, gaps.targets)
    prop = assemble(project, gaps, nation, goal=goal, plans=tuple(plans), committed_by_year=committed_by_year)
    inter = prop.interventions
    cands = nation.candidates.candidates
    by_id = pd.Series(cands["province"].to_numpy(), index=cands["candidate_id"].to_numpy())
    inter["province"] = inter["candidate_id"].map(by_id).to_numpy()
    dem = prop.demands
    dem["province"] = province.reindex(dem.index).to_numpy()
    county_prov = _county_provinces(gaps, inputs.layers["admin"])
    table = province_table(gaps.targets, prop.targets_after, county_prov, inter, dem, plans, nation.result)
    prop.totals["provinces"] = len(plans)
    if budgets is not None:
        prop.totals["budget_split_cny"] = {k: round(float(x)) for k, x in budgets.items()}
    return replace(prop, provinces=table)


def _network_of(fibre: FibreResult | None, province: str) -> RoadNetwork | None:
    """The fibre network of a province (the region's one when it is not split by province), or None."""
    return None if fibre is None else fibre.network_of(province)


def _county_provinces(gaps: GapsResult, admin: gpd.GeoDataFrame) -> pd.Series:
    """Province by county name, for every village and school (also those not in the gap)."""
    pts = pd.concat([gaps.villages[["county", "geometry"]], gaps.schools[["county", "geometry"]]], ignore_index=True)
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=gaps.villages.crs)
    out = pd.Series(point_provinces(pts, admin).to_numpy(), index=pts["county"].to_numpy())
    return out[~out.index.duplicated()]


def province_plan(
    project: Project,
    demands: gpd.GeoDataFrame,
    rsrp: pd.DataFrame,
    *,
    sites: gpd.GeoDataFrame,
    given: gpd.GeoDataFrame | None,
    fibre_cost_of: pd.Series | None,
    net: RoadNetwork | None,
    dem: Dem | None,
    goal: Goal,
    province: str = REGION,
    hosts: np.ndarray | None = None,
) -> ProvincePlan:
    """Candidates and the optimiser (with fibre re-pricing rounds) for one province's demands.

    ``rsrp``: current best 4G/5G RSRP by ``layer:id``; ``net``: the fibre network with the points joined (None:
    no fibre); ``goal``: this province's budget or count rows (:mod:`planning.plan.goals`); ``hosts``: per site,
    may host an upgrade or share (default all).
    """
    site_fibre_cost = None
    if net is not None:

        def site_fibre_cost(cs: gpd.GeoDataFrame) -> np.ndarray:
            nonlocal net
            assert net is not None  # narrowed outside this closure; it is only ever replaced by a joined network
            keys = "candidates:" + cs["candidate_id"].astype(str)
            # the project's own candidates layer was joined to the network by the fibre stage: join only the rest
            new = ~keys.isin(net.point_node.index).to_numpy()
            net = connect_points(net, {"candidates": cs.loc[new, ["candidate_id", "geometry"]]})
            reach = fibre_reach(net, drop_m=project.fibre.drop_m)
            return reach.loc[keys, "fibre_cost_cny"].to_numpy()

    units = unit_table(demands)
    existing = rsrp.reindex(units["demand_id"].to_numpy()).reset_index(drop=True)
    opt = project.optimise
    cset = build_candidates(
        demands,
        sites=sites,
        given=given,
        existing=existing,
        fibre_cost_of=fibre_cost_of,
        site_fibre_cost=site_fibre_cost,
        dem=dem,
        radio=project.radio,
        costs=project.costs,
        targets=project.targets,
        operator=opt.operator,
        satellite_school_mbps=opt.satellite_school_mbps,
        hosts=hosts,
        econ=project.economics,
    )
    return solve_rounds(cset, net, project, goal=goal, time_limit_s=opt.time_limit_s, province=province)


def _solve(
    cset: CandidateSet,
    prices: np.ndarray,
    goal: Goal,
    *,
    objective: np.ndarray,
    time_limit_s: float,
    start: np.ndarray | None = None,
) -> CoverResult:
    """One optimiser run at these prices (capex, CNY): the priorities within the budget (a capex budget; from
    ``start`` where it fits, see :func:`planning.plan.cover.solve_priorities`), or the plan meeting the count rows
    at the least ``objective`` (per candidate: lifecycle cost, capex or central subsidy at these prices; none:
    nothing to do)."""
    if goal.budget_cny is not None:  # goal.is_budget
        return solve_priorities(
            cset.coverage,
            prices,
            class_weights(cset.demands),
            budget=float(goal.budget_cny),
            time_limit_s=time_limit_s,
            start=start,
        )
    weight = cset.demands["weight"].to_numpy(dtype=float)
    if goal.member is None or not goal.member.shape[1]:
        return solve_cover(cset.coverage, objective, weight, budget=0.0, time_limit_s=1.0)
    assert goal.need is not None  # target mode: ``need`` comes with ``member``
    return solve_cover(cset.coverage, objective, weight, groups=(goal.member, goal.need), time_limit_s=time_limit_s)


def _objective(project: Project, cset: CandidateSet, prices: np.ndarray) -> np.ndarray:
    """Per candidate, what target mode minimises at ``prices`` (``[economics] objective``; ``subsidy`` under a
    programme pack: the pack's formula, :func:`planning.plan.compliance.subsidy_objective`)."""
    if project.economics.objective == "subsidy" and project.programme.subsidy is not None:
        money = priced_money(cset.candidates, prices, costs=project.costs)
        return subsidy_objective(
            money["capex_cny"].to_numpy(),
            money["opex_cny_per_year"].to_numpy(),
            demand_layer=cset.demands["layer"].to_numpy(),
            coverage_csr=cset.coverage,
            programme=project.programme,
        )
    return objective_cost(
        prices, cset.candidates, objective=project.economics.objective, central_share=project.funding.central_share
    )


def _rank(goal: Goal, res: CoverResult, true_cost: float, true_objective: float) -> tuple[float, ...]:
    """Order of rounds (larger is better): budget mode by the classes' served weights in order, then cheaper;
    target mode by the objective (at the true shares of the trenches), then served weight."""
    if goal.is_budget:
        return (*(round(float(s["covered_weight"]), 9) for s in res.stages), -true_cost)
    return (-true_objective, res.covered_weight)


def solve_rounds(
    cset: CandidateSet,
    net: RoadNetwork | None,
    project: Project,
    *,
    goal: Goal,
    time_limit_s: float,
    province: str = REGION,
    previous: ProvincePlan | None = None,
    route_plans: dict[tuple[str, ...], Any] | None = None,
) -> ProvincePlan:
    """The optimiser with fibre re-pricing rounds (module docstring) on ``province``'s candidates ``cset``: the
    plan of the best round (its result, prices in CNY and routes) and every round's figures.

    ``previous``: the plan of the same candidates at a smaller budget (a cost curve's previous point): the first
    round starts from its choice (where that fits the budget at the first round's prices), and it is kept where
    no round serves the classes better in order (it is within this budget at its true cost), so a larger budget
    never serves less of a higher class (the round table says so: ``kept_previous``). ``route_plans``: trench
    plans by the sorted labels they connect, shared between calls (a plan for the same points is the same plan).
    """
    cands = cset.candidates
    base = cands["cost_cny"].to_numpy(dtype=float)
    nested = previous is not None and goal.is_budget and len(previous.prices_cny) == len(base)
    prices = base.copy()  # not the previous plan's trench shares: at them a changed choice can cost more than priced
    is_fib = (cands["kind"] == "fibre").to_numpy()
    # one trench plan: fibre extensions and the fibre backhaul of sites (their trench part re-priced together)
    label = trench_labels(cands, None if net is None else net.point_node.index)
    trench = trench_base_cny(cands, label)
    has_trench = label != ""
    best: tuple | None = None
    rounds: list[dict[str, Any]] = []
    seen: set[tuple[int, ...]] = set()
    n_rounds = max(1, int(project.optimise.fibre_rounds))
    plans = route_plans if route_plans is not None else {}
    for k in range(n_rounds):
        res = _solve(
            cset,
            prices,
            goal,
            objective=_objective(project, cset, prices),
            time_limit_s=time_limit_s / (1 if k == 0 else 2),
            start=previous.result.selected if nested and previous is not None and k == 0 else None,
        )
        sel = res.selected
        fib_sel = sel[is_fib[sel]]
        t_sel = sel[has_trench[sel]]
        plan, routes, alloc = None, None, pd.Series(dtype=float)
        true_fibre = float(trench[t_sel].sum())
        if net is not None and len(t_sel):
            key = tuple(sorted(label[t_sel].tolist()))
            if key not in plans:
                plans[key] = plan_routes(net, list(key), time_limit_s=project.optimise.time_limit_s)
            plan = plans[key]
            true_fibre, alloc, routes = plan.total_cost_cny, plan.allocated_cost_cny(), plan.routes
        true_cost = float((base[sel] - trench[sel]).sum()) + true_fibre
        ok = goal.budget_cny is None or true_cost <= float(goal.budget_cny) + 1e-6
        rounds.append(
            {
                "round": k + 1,
                "selected": len(sel),
                "fibre": len(fib_sel),
                "priced_cost_cny": res.cost,
                "true_cost_cny": true_cost,
                "covered_weight": res.covered_weight,
                "within_budget": ok,
            }
        )
        logger.info(
            "optimiser round %d: %d chosen (%d fibre), priced %.0f, true %.0f CNY",
            k + 1,
            len(sel),
            len(fib_sel),
            res.cost,
            true_cost,
        )
        priced = base.copy()
        if len(alloc):
            priced[t_sel] = base[t_sel] - trench[t_sel] + alloc.reindex(label[t_sel]).to_numpy()
        true_objective = float(_objective(project, cset, priced)[sel].sum())
        rounds[-1]["true_objective_cny"] = true_objective
        key_r = _rank(goal, res, true_cost, true_objective)
        log_progress(logger, "optimiser rounds", k + 1, n_rounds)
        if ok and (best is None or key_r > best[0]):
            best = (key_r, res, priced.copy(), routes)  # priced changes below (the next round's marginal prices)
        sig = tuple(sel.tolist())
        if sig in seen or net is None or not has_trench.any():
            break
        seen.add(sig)
        rest = np.flatnonzero(has_trench & ~np.isin(np.arange(len(cands)), t_sel))
        if len(rest) and plan is not None:
            marginal = extension_cost_from(net, plan.tree_nodes, label[rest].tolist()).to_numpy()
            priced[rest] = base[rest] - trench[rest] + np.minimum(trench[rest], marginal)
        prices = priced
    if nested and previous is not None:
        best = _keep_previous(goal, best, previous, rounds)
    if best is None:  # no round within the budget at its true cost: keep the last (reported as over budget)
        best = (None, res, prices, routes)
    _, res, p, routes = best
    return ProvincePlan(province=province, candidates=cset, result=res, prices_cny=p, routes=routes, rounds=rounds)


def _keep_previous(
    goal: Goal, best: tuple | None, previous: ProvincePlan, rounds: list[dict[str, Any]]
) -> tuple | None:
    """``best`` (rank, result, prices, routes), or the plan of the previous, smaller budget where that is within
    this budget at its true cost and ranks higher (serves a higher class more, or the same for less): the rounds
    at this budget found no plan as good, so the larger budget keeps it (``kept_previous`` in the last round)."""
    prev_res = previous.result
    prev_cost = float(previous.prices_cny[prev_res.selected].sum())
    if goal.budget_cny is None or prev_cost > float(goal.budget_cny) + 1e-6 or not prev_res.stages:
        return best
    prev_key = _rank(goal, prev_res, prev_cost, prev_cost)
    if best is not None and not prev_key > best[0]:
        return best
    logger.info("cost curve: the previous budget's plan serves the classes better; kept at %.0f CNY", prev_cost)
    if rounds:
        rounds[-1]["kept_previous"] = True
    return (prev_key, prev_res, previous.prices_cny.copy(), previous.routes)


def assemble(
    project: Project,
    gaps: GapsResult,
    plan: ProvincePlan,
    *,
    goal: Goal,
    plans: tuple[ProvincePlan, ...] = (),
    committed_by_year: Mapping[int, float] | None = None,
) -> Proposal:
    """The :class:`~planning.plan.outcome.Proposal` of a chosen plan (a province's, or the provinces' merged by
    :func:`planning.plan.national.merge_plans`) for ``goal``; ``plans``: the provinces' own plans, kept for
    :func:`cost_curve` (:mod:`planning.plan.outcome`); ``committed_by_year``: the ledger's commitments' spend per
    year, held first in each year's budget (see :func:`propose`)."""
    cset, res, prices, routes, rounds = plan.candidates, plan.result, plan.prices_cny, plan.routes, plan.rounds
    opt = project.optimise
    first_year = first_year_of(opt.first_year)
    held = None if committed_by_year is None else committed_per_batch(committed_by_year, first_year=first_year)
    ph = phase_plan(cset, res, prices, routes, yearly_budget=opt.yearly_budget_cny, committed=held)
    chosen = chosen_table(cset, res, prices, ph, first_year=first_year, costs=project.costs, funding=project.funding)
    chosen = programme_funding(chosen, project.programme, local_share=project.funding.local_share)
    dem = demands_served(cset.demands, chosen, cset.coverage.tocsr())
    chosen, lots = with_lots(chosen, dem, n_lots=opt.tender_lots)
    batches = batch_table(
        project.targets,
        gaps,
        dem,
        chosen,
        ph,
        first_year=first_year,
        yearly_budget=opt.yearly_budget_cny,
        funding=project.funding,
    )
    if project.programme.subsidy is not None:
        batches = batch_funding(batches, chosen)
    after = kpis_after(
        project.targets, gaps, dem, dem["served"].to_numpy(), by_fibre=(dem["by_kind"] == "fibre").to_numpy()
    )
    short = short_after(after, dem)
    totals = totals_of(
        goal,
        res,
        chosen,
        dem,
        gaps.targets,
        after,
        short,
        n_batches=int(dem["batch"].to_numpy().max(initial=0)),
        first_year=first_year,
        rounds=len(rounds),
    )
    if len(chosen):
        chosen["lifecycle_base_pv_cny"] = plan_present_value(
            chosen["lifecycle_cny"].to_numpy(dtype=float),
            chosen["year"].to_numpy(dtype=float),
            base_year=first_year,
            discount_rate=project.economics.discount_rate,
        )
    else:
        chosen["lifecycle_base_pv_cny"] = pd.Series(dtype=float)
    totals["lifecycle_base_year"] = first_year
    totals["lifecycle_base_pv_cny"] = round(float(chosen["lifecycle_base_pv_cny"].sum()))
    if routes is None:
        routes = gpd.GeoDataFrame({"segment_id": []}, geometry=[], crs=cset.demands.crs)
    routes = routes.assign(batch=ph.segment_batch if ph is not None and len(routes) else 0)
    if len(routes):
        routes["year"] = first_year + routes["batch"] - 1
    return Proposal(
        interventions=chosen,
        demands=dem,
        routes=routes,
        batches=batches,
        targets_after=after,
        short=short,
        ledger_plan=ledger_plan(dem, chosen),
        result=res,
        totals=totals,
        rounds=rounds,
        candidates=cset,
        prices_cny=prices,
        plans=plans,
        lots=lots,
        compliance=compliance_table(
            project.programme,
            batches,
            chosen,
            yearly_budget_cny=opt.yearly_budget_cny,
            notes=gaps.notes,
            before=gaps.targets,
        ),
        unserved=unserved_table(
            dem,
            _excluded_by_unit(gaps),
            cheapest_serving(cset.coverage.tocsr(), prices),
            targeted=_targeted(project, dem),
            budget_mode=goal.is_budget,
        ),
    )


def _targeted(project: Project, dem: pd.DataFrame) -> np.ndarray:
    """Per demand row: counted by a KPI with a target (> 0)."""
    out = np.zeros(len(dem), dtype=bool)
    for kpi in KPIS:
        if kpi.target(project.targets) > 0:
            out |= kpi_members(dem, kpi.key)
    return out


def _excluded_by_unit(gaps: GapsResult) -> pd.Series:
    """The ledger's exclusion reason (核减: relocated, merged, ...) of each village and school by ``layer:id``."""
    parts = []
    for layer, frame, col in (("villages", gaps.villages, "village_id"), ("schools", gaps.schools, "school_id")):
        if "excluded" in frame:
            parts.append(
                pd.Series(frame["excluded"].astype(str).to_numpy(), index=layer + ":" + frame[col].astype(str))
            )
    return pd.concat(parts) if parts else pd.Series(dtype=object)


def budget_run(
    project: Project,
    gaps: GapsResult,
    proposal: Proposal,
    budget_cny: float,
    *,
    fibre: FibreResult | None,
    time_limit_s: float | None = None,
) -> tuple[CandidateSet, CoverResult, pd.DataFrame, float]:
    """The proposal's model run in budget mode at ``budget_cny``: every province with its share of the budget
    (split as :func:`propose` splits it), its own fibre re-pricing rounds on its network (``fibre``: the fibre
    stage output the proposal was made with). Returns the (merged) candidate set and result, the KPI table after
    it and its true cost (CNY)."""
    cset, res, after, cost, _ = _budget_runs(
        project, gaps, proposal, budget_cny, fibre=fibre, time_limit_s=time_limit_s
    )
    return cset, res, after, cost


def _budget_runs(
    project: Project,
    gaps: GapsResult,
    proposal: Proposal,
    budget_cny: float,
    *,
    fibre: FibreResult | None,
    time_limit_s: float | None = None,
    previous: list[ProvincePlan] | None = None,
    cache: dict[tuple[str, str], Any] | None = None,
) -> tuple[CandidateSet, CoverResult, pd.DataFrame, float, list[ProvincePlan]]:
    """:func:`budget_run`, also returning each province's plan; ``previous``: the provinces' plans at a smaller
    budget (nested, :func:`solve_rounds`); ``cache``: the networks with the site points joined and the trench
    plans, kept between the calls of one cost curve."""
    plans = proposal.plans
    if not plans:
        msg = "the proposal carries no province plans to re-run (made by `propose`?)"
        raise ValueError(msg)
    limit = project.optimise.time_limit_s if time_limit_s is None else time_limit_s
    if len(plans) == 1:
        budgets = pd.Series([budget_cny], index=[plans[0].province])
    else:
        w = pd.Series({p.province: float(p.candidates.demands["weight"].sum()) for p in plans})
        budgets = split_budget(budget_cny, w)
    cache = cache if cache is not None else {}
    runs = []
    for i, p in enumerate(plans):
        goal = Goal(budget_cny=float(budgets[p.province]))
        if ("net", p.province) not in cache:
            cache[("net", p.province)] = _with_site_points(_network_of(fibre, p.province), p.candidates.candidates)
        runs.append(
            solve_rounds(
                p.candidates,
                cache[("net", p.province)],
                project,
                goal=goal,
                time_limit_s=limit,
                province=p.province,
                previous=previous[i] if previous is not None else None,
                route_plans=cache.setdefault(("routes", p.province), {}),
            )
        )
    if len(runs) == 1:
        run = runs[0]
    else:
        index = pd.Index(np.sort(np.concatenate([p.candidates.demands.index.to_numpy() for p in runs])))
        run = merge_plans(runs, index=index, budget=budget_cny)
    cset, res, prices = run.candidates, run.result, run.prices_cny
    after = kpis_after(
        project.targets, gaps, cset.demands, np.asarray(res.covered, dtype=bool), by_fibre=_by_fibre(cset, res)
    )
    return cset, res, after, float(prices[res.selected].sum()), runs


def _with_site_points(net: RoadNetwork | None, cands: pd.DataFrame) -> RoadNetwork | None:
    """``net`` with the fibre-backhauled site candidates joined (``candidates:<id>``), as :func:`province_plan`
    joined them when it priced their backhaul, so that a re-run plans their trenches with the others."""
    if net is None or not isinstance(cands, gpd.GeoDataFrame):
        return net
    site = cands[trench_of_site(cands)]
    new = ~("candidates:" + site["candidate_id"].astype(str)).isin(net.point_node.index).to_numpy()
    if not new.any():
        return net
    return connect_points(net, {"candidates": site.loc[new, ["candidate_id", "geometry"]]})


def _by_fibre(cset: CandidateSet, res: CoverResult) -> np.ndarray:
    """Per demand row: served by a chosen fibre extension."""
    fib = res.selected[(cset.candidates["kind"].to_numpy()[res.selected] == "fibre")]
    return np.asarray(cset.coverage.tocsc()[:, fib].sum(axis=1)).ravel() > 0


def cost_curve(
    project: Project,
    gaps: GapsResult,
    proposal: Proposal,
    *,
    fibre: FibreResult | None,
    budgets_cny: np.ndarray | None = None,
    points: int = 6,
) -> pd.DataFrame:
    """What each budget buys: the proposal's model re-run in budget mode at several budgets, nested
    (:func:`budget_run`: each point is a real budget run, fibre re-pricing included).

    The budgets are run from the smallest up, each started from the previous point's plan (its choice and its
    fibre prices, :func:`solve_rounds`), which it keeps where its own rounds find nothing that serves the priority
    classes better in order: a larger budget never serves fewer of a higher class (tested). The networks and the
    trench plans are built once and shared by the points. The smallest point is exactly :func:`budget_run` at its
    budget.

    Parameters
    ----------
    project, gaps : the project and the gap stage output
    proposal : Proposal
        A proposal from :func:`propose`.
    fibre : FibreResult or None
        The fibre stage output the proposal was made with.
    budgets_cny : array, optional
        Budgets in CNY; default ``points`` budgets evenly from 1/``points`` of the proposal's cost up to it.

    Returns
    -------
    DataFrame
        One row per budget: ``budget_cny``, ``cost_cny`` (true cost), per class the share of its weight served
        (``{class}_share``: unconnected_schools, poor_villages, rest; NaN for a class without demand), every KPI's
        region share after it (``{kpi}_share``), ``gap`` and ``status``. Each run gets ``time_limit_s / points``
        seconds (at least 5). An empty frame when the proposal has nothing to choose from.
    """
    cols = ["budget_cny", "cost_cny", *(f"{c}_share" for c in CLASS_NAMES)]
    if not proposal.plans or not sum(p.candidates.coverage.shape[1] for p in proposal.plans):
        return pd.DataFrame(columns=[*cols, "gap", "status"])
    total = float(proposal.totals["cost_cny"])
    if budgets_cny is None:
        budgets_cny = total * np.arange(1, points + 1) / points if total > 0 else np.array([])
    budgets = np.asarray(budgets_cny, dtype=float)
    limit = max(5.0, project.optimise.time_limit_s / max(len(budgets), 1))
    rows: dict[int, dict[str, Any]] = {}
    previous: list[ProvincePlan] | None = None
    cache: dict[tuple[str, str], Any] = {}
    for n, i in enumerate(np.argsort(budgets, kind="stable")):  # smallest first: each point nests the previous
        b = float(budgets[i])
        cset, res, after, cost, previous = _budget_runs(
            project, gaps, proposal, b, fibre=fibre, time_limit_s=limit, previous=previous, cache=cache
        )
        weights = class_weights(cset.demands)
        served = np.asarray(res.covered, dtype=bool)
        total_w = weights.sum(axis=0)
        shares = {
            f"{c}_share": float(weights[served, k].sum() / total_w[k]) if total_w[k] > 0 else float("nan")
            for k, c in enumerate(CLASS_NAMES)
        }
        rows[int(i)] = {
            "budget_cny": b,
            "cost_cny": cost,
            **shares,
            **region_shares(after),
            "gap": res.gap,
            "status": res.status,
        }
        log_progress(logger, "cost curve budgets", n + 1, len(budgets))
    return pd.DataFrame([rows[i] for i in range(len(budgets))])
