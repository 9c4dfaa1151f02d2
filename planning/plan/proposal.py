"""The universal-service proposal: interventions chosen by the optimiser, fibre shared, phased by year.

:func:`propose` composes :mod:`planning.plan.candidates` (demands, candidates, coverage matrix),
:func:`planning.plan.cover.solve_cover` and :func:`planning.plan.phasing.phase`.

Fibre costs are not additive: routes to neighbouring villages share trenches. They are handled by re-pricing
rounds (at most ``[optimise] fibre_rounds``):

1. solve with the current prices (at first, each fibre extension priced on its own);
2. plan the chosen fibre extensions together as one Steiner tree from existing fibre
   (:func:`planning.fibre.plan_routes`): the true cost of the selection is its site costs plus the tree's cost;
3. re-price: a chosen extension costs its share of the tree (each segment split equally among the points it
   serves), an unchosen one the cheaper of its own route and the extension from the nearest node of the tree;
4. stop when the selection repeats; keep the round with the best true cost (within the budget, if any).

The reported cost is always the true cost of the kept selection (shared trenches counted once).

A region of several provinces is solved province by province (:func:`province_plan`, as dask tasks with
``coverplan run --dask``) and merged (:mod:`planning.plan.national`); the merged plan is phased nationally and the
proposal carries the national summary table (``provinces``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import ONE_PROVINCE, point_provinces
from gis.inputs import Inputs
from gis.project import Project
from gis.terrain import Dem
from planning.fibre import RoadNetwork, connect_points, extension_cost_from, fibre_reach, plan_routes
from planning.fibre.stage import FibreResult
from planning.jobs import Job, MapJobs, in_turn
from planning.plan.candidates import CandidateSet, build_candidates, demand_table
from planning.plan.cover import CoverResult, solve_cover
from planning.plan.national import ProvincePlan, merge_plans, province_table, split_budget
from planning.plan.phasing import phase
from planning.status.gaps import REGION, target_table
from planning.status.stage import GapsResult

logger = logging.getLogger(__name__)

#: A province's demands take candidate hosts (existing sites) within this distance of their bounding box.
PROVINCE_SITE_BUFFER_M = 80_000.0
#: Candidate technologies that bring 4G/5G coverage (fibre and satellite candidates do not).
RADIO_TECHS = ("4g", "5g")


@dataclass(frozen=True)
class Proposal:
    """A proposal: chosen interventions (with batch), demands (served or not), shared fibre routes, batches,
    targets after the plan, the optimiser result and the re-pricing rounds."""

    interventions: gpd.GeoDataFrame
    demands: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    batches: pd.DataFrame
    targets_after: pd.DataFrame
    result: CoverResult
    totals: dict[str, Any]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    candidates: CandidateSet | None = None
    prices_cny: np.ndarray | None = None
    provinces: pd.DataFrame | None = None


def propose(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame,
    fibre: FibreResult | None,
    gaps: GapsResult,
    budget_cny: float | None = None,
    target_share: float | None = None,
    map_jobs: MapJobs = in_turn,
) -> Proposal:
    """Choose and phase the interventions that close the gaps at the lowest cost.

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
        The gap stage output.
    budget_cny, target_share : float, optional
        Override ``[optimise] budget_cny`` / ``target_share`` (exactly one mode is used: a budget > 0 wins). A
        budget is split across provinces in proportion to their demand weight.
    map_jobs : MapJobs
        Runs the provinces' jobs (:func:`planning.jobs.in_turn` by default).
    """
    opt = project.optimise
    budget = opt.budget_cny if budget_cny is None else budget_cny
    share = opt.target_share if target_share is None else target_share
    use_budget = budget is not None and budget > 0
    layers = inputs.layers
    v, s = layers["villages"], layers["schools"]
    demands = demand_table(gaps.villages, gaps.schools, v.geometry, s.geometry, v["population"], settings=opt)
    goal = _Goal(budget=budget if use_budget else None, share=None if use_budget else share)
    cov_idx = coverage.assign(key=coverage["layer"] + ":" + coverage["point_id"].astype(str)).set_index("key")
    wanted = [c for c in ("4g_rsrp_dbm", "5g_rsrp_dbm", "demand_mbps") if c in cov_idx]  # busy-hour demand: radio_links
    existing = cov_idx.reindex(demands["demand_id"])[wanted].reset_index(drop=True)
    fibre_cost_of = None
    if fibre is not None:
        r = fibre.reach
        ext = r[r["reach"] == "extension"]
        fibre_cost_of = pd.Series(ext["fibre_cost_cny"].to_numpy(), index=ext["layer"] + ":" + ext["point_id"])
    province = point_provinces(demands, layers["admin"])
    names = sorted(province.unique())
    if len(names) > 1:
        return _propose_provinces(
            project, inputs, gaps, demands, existing, fibre, fibre_cost_of, province, goal, map_jobs=map_jobs
        )
    name = names[0] if names else ONE_PROVINCE
    plan = province_plan(
        project,
        demands,
        existing,
        sites=layers["sites"],
        given=layers.get("candidates"),
        fibre_cost_of=fibre_cost_of,
        net=_network_of(fibre, name),
        dem=inputs.dem,
        budget=goal.budget,
        share=goal.share,
        province=name,
    )
    return _assemble(
        project, gaps, plan.candidates, plan.result, plan.prices_cny, plan.routes, plan.rounds, budget=goal.budget
    )


@dataclass(frozen=True)
class _Goal:
    """The optimiser's goal: a budget (CNY) or a share of the coverable weight to serve; exactly one is set."""

    budget: float | None
    share: float | None


def _propose_provinces(
    project: Project,
    inputs: Inputs,
    gaps: GapsResult,
    demands: gpd.GeoDataFrame,
    existing: pd.DataFrame,
    fibre: FibreResult | None,
    fibre_cost_of: pd.Series | None,
    province: pd.Series,
    goal: _Goal,
    *,
    map_jobs: MapJobs,
) -> Proposal:
    """One plan per province (jobs on ``map_jobs``), merged into the national proposal with its summary table."""
    layers = inputs.layers
    sites, given = layers["sites"], layers.get("candidates")
    site_prov = point_provinces(sites, layers["admin"]).to_numpy()
    given_prov = point_provinces(given, layers["admin"]).to_numpy() if given is not None else None
    budgets = None
    if goal.budget is not None:
        budgets = split_budget(goal.budget, demands.groupby(province.to_numpy())["weight"].sum())
    sxy = shapely.get_coordinates(np.asarray(sites.geometry.values))
    jobs = []
    for name in sorted(province.unique()):
        mine = (province == name).to_numpy()
        d = demands[mine]
        xy = shapely.get_coordinates(np.asarray(d.geometry.values))
        (x0, y0), (x1, y1) = xy.min(axis=0) - PROVINCE_SITE_BUFFER_M, xy.max(axis=0) + PROVINCE_SITE_BUFFER_M
        near = (sxy[:, 0] >= x0) & (sxy[:, 0] <= x1) & (sxy[:, 1] >= y0) & (sxy[:, 1] <= y1)
        kwargs = {
            "demands": d,
            "existing": existing[mine],
            "sites": sites[near],
            "hosts": site_prov[near] == name,
            "net": _network_of(fibre, name),
            "given": given[given_prov == name] if given is not None else None,
            "budget": float(budgets[name]) if budgets is not None else None,
            "province": name,
            "share": goal.share,
        }
        jobs.append(Job(f"optimise-{name}", province_plan, (project,), kwargs))
    plans = map_jobs(jobs, shared={"fibre_cost_of": fibre_cost_of, "dem": inputs.dem})
    cset, result, prices, routes, rounds = merge_plans(plans, n_demands=len(demands), budget=goal.budget)
    prop = _assemble(project, gaps, cset, result, prices, routes, rounds, budget=goal.budget)
    inter = prop.interventions
    by_id = pd.Series(cset.candidates["province"].to_numpy(), index=cset.candidates["candidate_id"].to_numpy())
    inter["province"] = inter["candidate_id"].map(by_id).to_numpy()
    dem = prop.demands
    dem["province"] = province.reindex(dem.index).to_numpy()
    county_prov = _county_provinces(gaps, layers["admin"])
    table = province_table(gaps.targets, prop.targets_after, county_prov, inter, dem, plans, result)
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
    existing: pd.DataFrame,
    *,
    sites: gpd.GeoDataFrame,
    given: gpd.GeoDataFrame | None,
    fibre_cost_of: pd.Series | None,
    net: RoadNetwork | None,
    dem: Dem | None,
    budget: float | None,
    share: float | None,
    province: str = ONE_PROVINCE,
    hosts: np.ndarray | None = None,
) -> ProvincePlan:
    """Candidates and the optimiser (with fibre re-pricing rounds) for one province's demands.

    ``existing``: current 4G/5G RSRP per demand (aligned); ``net``: the fibre network with the points joined
    (None: no fibre); ``hosts``: per site, may host an upgrade or share (default all).
    """
    site_fibre_cost = None
    if net is not None:

        def site_fibre_cost(cs: gpd.GeoDataFrame) -> np.ndarray:
            nonlocal net
            keys = "candidates:" + cs["candidate_id"].astype(str)
            # the project's own candidates layer was joined to the network by the fibre stage: join only the rest
            new = ~keys.isin(net.point_node.index).to_numpy()
            net = connect_points(net, {"candidates": cs.loc[new, ["candidate_id", "geometry"]]})
            reach = fibre_reach(net, drop_m=project.fibre.drop_m)
            return reach.loc[keys, "fibre_cost_cny"].to_numpy()

    cset = build_candidates(
        demands,
        sites=sites,
        given=given,
        existing=existing.reset_index(drop=True),
        fibre_cost_of=fibre_cost_of,
        site_fibre_cost=site_fibre_cost,
        dem=dem,
        radio=project.radio,
        costs=project.costs,
        school_outlet_mbps=project.targets.school_outlet_mbps,
        operator=project.optimise.operator,
        satellite_school_mbps=project.optimise.satellite_school_mbps,
        hosts=hosts,
    )
    result, prices, routes, rounds = _solve_rounds(cset, net, project, budget=budget, share=share)
    return ProvincePlan(
        province=province, candidates=cset, result=result, prices_cny=prices, routes=routes, rounds=rounds
    )


def _solve_rounds(
    cset: CandidateSet, net: RoadNetwork | None, project: Project, *, budget: float | None, share: float | None
) -> tuple[CoverResult, np.ndarray, gpd.GeoDataFrame | None, list[dict[str, Any]]]:
    opt = project.optimise
    cands, demands = cset.candidates, cset.demands
    base = cands["cost_cny"].to_numpy(dtype=float)
    prices = base.copy()
    is_fib = (cands["kind"] == "fibre").to_numpy()
    weight = demands["weight"].to_numpy(dtype=float)
    must = demands["must"].to_numpy(dtype=bool)
    coverable = np.diff(cset.coverage.tocsr().indptr) > 0
    must = must & coverable  # a school no candidate serves is reported, not made infeasible
    best: tuple | None = None
    rounds: list[dict[str, Any]] = []
    seen: set[tuple[int, ...]] = set()
    for k in range(max(1, int(opt.fibre_rounds))):
        res = solve_cover(
            cset.coverage,
            prices,
            weight,
            budget=budget,
            min_share=share,
            must_cover=must,
            time_limit_s=opt.time_limit_s,
        )
        sel = res.selected
        fib_sel = sel[is_fib[sel]]
        routes = None
        true_fibre = 0.0
        alloc = pd.Series(dtype=float)
        plan = None
        if net is not None and len(fib_sel):
            labels = cands["source"].iloc[fib_sel].tolist()
            plan = plan_routes(net, labels, time_limit_s=opt.time_limit_s)
            true_fibre = plan.total_cost_cny
            alloc = plan.allocated_cost_cny()
            routes = plan.routes
        else:
            true_fibre = float(base[fib_sel].sum())
        true_cost = float(base[sel[~is_fib[sel]]].sum()) + true_fibre
        ok = budget is None or true_cost <= budget + 1e-6
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
        key = (res.covered_weight, -true_cost) if budget is not None else (-true_cost, res.covered_weight)
        if ok and (best is None or key > best[0]):
            p = base.copy()
            if len(alloc):
                p[fib_sel] = alloc.reindex(cands["source"].iloc[fib_sel]).to_numpy()
            best = (key, res, p, routes, true_cost)
        sig = tuple(sel.tolist())
        if sig in seen or net is None or not is_fib.any():
            break
        seen.add(sig)
        # re-price for the next round
        new = base.copy()
        if len(alloc):
            new[fib_sel] = alloc.reindex(cands["source"].iloc[fib_sel]).to_numpy()
        rest = np.flatnonzero(is_fib & ~np.isin(np.arange(len(cands)), fib_sel))
        if len(rest) and plan is not None:
            marginal = extension_cost_from(net, plan.tree_nodes, cands["source"].iloc[rest].tolist()).to_numpy()
            new[rest] = np.minimum(base[rest], marginal)
        prices = new
    if best is None:  # no round within the budget: keep the last (reported as over budget)
        best = (None, res, prices, routes, true_cost)
    _, res, p, routes, true_cost = best
    return res, p, routes, rounds


def _assemble(
    project: Project,
    gaps: GapsResult,
    cset: CandidateSet,
    res: CoverResult,
    prices: np.ndarray,
    routes: gpd.GeoDataFrame | None,
    rounds: list[dict[str, Any]],
    *,
    budget: float | None,
) -> Proposal:
    cands, demands, mat = cset.candidates, cset.demands, cset.coverage.tocsc()
    opt = project.optimise
    sel = res.selected
    weight = demands["weight"].to_numpy(dtype=float)
    ph = phase(cset.coverage, prices, weight, sel, yearly_budget=opt.yearly_budget_cny) if len(sel) else None
    chosen = cands.iloc[sel].copy()
    chosen["cost_cny"] = prices[sel]
    chosen["batch"] = ph.batch if ph is not None else []
    serves, n_served, w_served = [], [], []
    for j in sel:
        rows = mat.indices[mat.indptr[j] : mat.indptr[j + 1]]
        serves.append(";".join(demands["demand_id"].iloc[rows]))
        n_served.append(len(rows))
        w_served.append(float(weight[rows].sum()))
    chosen["serves"] = serves
    chosen["n_served"] = n_served
    chosen["weight_served"] = w_served
    chosen = chosen.sort_values(["batch", "cost_cny"]).reset_index(drop=True)
    # each demand: first batch that serves it, and by which intervention
    d_batch = np.full(len(demands), 0, dtype=np.int64)
    d_by = np.full(len(demands), "", dtype=object)
    position = {did: i for i, did in enumerate(demands["demand_id"])}
    for _, row in chosen.iterrows():
        for did in str(row["serves"]).split(";") if row["serves"] else []:
            i = position[did]
            if d_batch[i] == 0 or row["batch"] < d_batch[i]:
                d_batch[i] = row["batch"]
                d_by[i] = row["candidate_id"]
    dem = demands.copy()
    dem["served"] = d_batch > 0
    dem["batch"] = d_batch
    dem["by"] = d_by
    dem["coverable"] = np.diff(cset.coverage.tocsr().indptr) > 0
    # targets before/after each batch
    batches = []
    n_batches = int(d_batch.max()) if len(d_batch) else 0
    for b in range(n_batches + 1):
        served_ids = set(dem.loc[(dem["batch"] > 0) & (dem["batch"] <= b), "demand_id"])
        t = _targets_after(project, gaps, served_ids, radio_ids=_radio_served(chosen[chosen["batch"] <= b]))
        region = t[t["county"] == REGION].iloc[0]
        batches.append(
            {
                "batch": b,
                "cost_cny": float(chosen.loc[chosen["batch"] == b, "cost_cny"].sum()),
                "cumulative_cost_cny": float(chosen.loc[chosen["batch"] <= b, "cost_cny"].sum()),
                "interventions": int((chosen["batch"] == b).sum()),
                "poor_broadband_share": float(region["poor_broadband_share"]),
                "schools_outlet_share": float(region["schools_outlet_share"]),
                "villages_with_broadband": int(region["villages_with_broadband"]),
            }
        )
    batch_table = pd.DataFrame(batches)
    after = _targets_after(project, gaps, set(dem.loc[dem["served"], "demand_id"]), radio_ids=_radio_served(chosen))
    before = gaps.targets[gaps.targets["county"] == REGION].iloc[0]
    reg = after[after["county"] == REGION].iloc[0]
    totals = {
        "mode": "budget" if budget is not None else "target",
        "budget_cny": budget,
        "target_share": None if budget is not None else project.optimise.target_share,
        "status": res.status,
        "method": res.method,
        "gap": round(res.gap, 5),
        "cost_cny": round(float(chosen["cost_cny"].sum())),
        "interventions": {str(k): int(n) for k, n in chosen["kind"].value_counts().sort_index().items()},
        "demands": len(dem),
        "demands_served": int(dem["served"].sum()),
        "demands_not_coverable": int((~dem["coverable"]).sum()),
        "poor_broadband_share_before": round(float(before["poor_broadband_share"]), 4),
        "poor_broadband_share_after": round(float(reg["poor_broadband_share"]), 4),
        "schools_outlet_share_before": round(float(before["schools_outlet_share"]), 4),
        "schools_outlet_share_after": round(float(reg["schools_outlet_share"]), 4),
        "batches": n_batches,
        "seconds": round(res.seconds, 2),
        "fibre_rounds": len(rounds),
    }
    if routes is None:
        routes = gpd.GeoDataFrame({"segment_id": []}, geometry=[], crs=demands.crs)
    return Proposal(
        interventions=gpd.GeoDataFrame(chosen, geometry="geometry", crs=cands.crs),
        demands=dem,
        routes=routes,
        batches=batch_table,
        targets_after=after,
        result=res,
        totals=totals,
        rounds=rounds,
        candidates=cset,
        prices_cny=prices,
    )


def cost_curve(
    project: Project, gaps: GapsResult, proposal: Proposal, *, budgets_cny: np.ndarray | None = None, points: int = 8
) -> pd.DataFrame:
    """The optimiser run at several budgets: what each budget buys (cost vs coverage curve).

    Parameters
    ----------
    project, gaps : the project and the gap stage output
    proposal : Proposal
        A proposal from :func:`propose`; its candidates are re-solved in budget mode.
    budgets_cny : array, optional
        Budgets in CNY; default ``points`` budgets evenly from 1/``points`` of the proposal's cost up to it.

    Returns
    -------
    DataFrame
        One row per budget: ``budget_cny``, ``cost_cny`` (priced), ``weight_share`` (covered share of the coverable
        demand weight), ``poor_broadband_share``, ``schools_outlet_share`` (region, after the plan), ``gap`` and
        ``status`` of the solve. Fibre candidates keep the prices of the proposal's last re-pricing round (their
        share of the proposal's shared trenches), so the curve is an estimate between the solves, exact at the
        proposal's own cost. Each solve gets ``time_limit_s / points`` seconds (at least 2); its gap is
        reported. An empty frame when the proposal has nothing to choose from.
    """
    cset = proposal.candidates
    cols = ["budget_cny", "cost_cny", "weight_share", "poor_broadband_share", "schools_outlet_share", "gap", "status"]
    if cset is None or proposal.prices_cny is None or not cset.coverage.shape[1]:
        return pd.DataFrame(columns=cols)
    total = float(proposal.totals["cost_cny"])
    if budgets_cny is None:
        budgets_cny = total * np.arange(1, points + 1) / points if total > 0 else np.array([])
    weight = cset.demands["weight"].to_numpy(dtype=float)
    coverable = np.diff(cset.coverage.tocsr().indptr) > 0
    reach = float(weight[coverable].sum())
    by_candidate = cset.coverage.tocsc()
    radio_cand = cset.candidates["tech"].isin(RADIO_TECHS).to_numpy()
    rows = []
    for b in np.asarray(budgets_cny, dtype=float):
        res = solve_cover(
            cset.coverage,
            proposal.prices_cny,
            weight,
            budget=float(b),
            time_limit_s=max(2.0, project.optimise.time_limit_s / max(len(budgets_cny), 1)),
        )
        served = set(cset.demands["demand_id"].to_numpy()[res.covered])
        radio = by_candidate[:, res.selected[radio_cand[res.selected]]]
        radio_ids = set(cset.demands["demand_id"].to_numpy()[np.diff(radio.tocsr().indptr) > 0])
        region = _targets_after(project, gaps, served, radio_ids=radio_ids)
        region = region[region["county"] == REGION].iloc[0]
        rows.append(
            {
                "budget_cny": float(b),
                "cost_cny": res.cost,
                "weight_share": res.covered_weight / reach if reach else 1.0,
                "poor_broadband_share": float(region["poor_broadband_share"]),
                "schools_outlet_share": float(region["schools_outlet_share"]),
                "gap": res.gap,
                "status": res.status,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _radio_served(chosen: pd.DataFrame) -> set[str]:
    """Demands served by a chosen radio site (new, upgraded or shared: they gain 4G/5G, not only broadband)."""
    radio = chosen[chosen["tech"].isin(RADIO_TECHS)]
    return {x for s in radio["serves"] for x in str(s).split(";") if x}


def _targets_after(
    project: Project, gaps: GapsResult, served_ids: set[str], *, radio_ids: set[str] = frozenset()
) -> pd.DataFrame:
    """The target table once the demands in ``served_ids`` are served (``radio_ids`` by a 4G/5G site)."""
    v = gaps.villages.copy()
    s = gaps.schools.copy()
    vs = ("villages:" + v["village_id"]).isin(served_ids).to_numpy()
    v.loc[vs, "has_broadband"] = True
    v.loc[("villages:" + v["village_id"]).isin(radio_ids).to_numpy(), "has_4g"] = True
    ss = ("schools:" + s["school_id"]).isin(served_ids).to_numpy()
    s.loc[ss, "connected"] = True
    s.loc[ss, "meets_outlet"] = True
    return target_table(pd.DataFrame(v), pd.DataFrame(s), targets=project.targets)
