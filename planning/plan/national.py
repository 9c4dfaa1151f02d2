"""Provinces: the optimiser per province partition and the national summary.

A national project holds many provinces. Universal-service programmes are run and funded per province, and
one covering model over a whole nation is neither tractable nor what planners decide on, so
:func:`planning.plan.proposal.propose` solves each province on its own (on dask.distributed with ``coverplan run
--dask``, one task per province) and merges the plans into one national proposal, phased nationally into
yearly batches. This module holds the pieces that know about provinces:

* which province each area and point belongs to is :mod:`gis.admin`'s rule (the admin layer's ``province``
  column, else the GB/T 2260 code of ``area_id``, else one province for the region);
* :func:`merge_plans`: per-province candidate sets and optimiser results as one (block-diagonal) set and result,
  demands back in their original order;
* :func:`province_table`: the national summary: per province and for the nation, demands, interventions, cost,
  solver status and gap, and the target shares before and after the plan (from the per-county counts).

In budget mode a national budget is split across provinces in proportion to their demand weight (stated in the
run summary); in target mode each province is held to the KPI targets of its own counties, as the programmes
count them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from gis.admin import NATION, REGION
from planning.jobs import positions_in_order
from planning.plan.candidates import CandidateSet
from planning.plan.cover import CoverResult, CoverStage, Status
from planning.status import KPIS, share

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvincePlan:
    """One province's optimiser output (from :func:`planning.plan.proposal.province_plan`)."""

    province: str
    candidates: CandidateSet
    result: CoverResult
    prices_cny: np.ndarray
    routes: gpd.GeoDataFrame | None
    rounds: list[dict[str, Any]]


def merge_plans(plans: list[ProvincePlan], *, index: pd.Index, budget: float | None) -> ProvincePlan:
    """Per-province plans as one: the candidate set, result, prices, routes and rounds of the nation (province
    :data:`gis.admin.NATION`).

    The coverage matrix is block-diagonal (a province's candidates serve only its demands); demands come back
    in the order of ``index`` (that of the demand table all provinces were cut from; each demand in exactly one
    province, :func:`planning.jobs.positions_in_order`). Candidate and route segment ids that are not unique
    across provinces get the province as prefix. The bound is the sum of the provinces' bounds (a valid bound for
    the partitioned problem), the gap is recomputed from it; the status is ``infeasible`` when any province is,
    ``optimal`` when all are.
    """
    stacked = pd.concat([p.candidates.demands for p in plans])
    order = positions_in_order(stacked.index, index, what="demand rows of the province plans")
    demands = stacked.iloc[order]
    cands = []
    for p in plans:
        c = p.candidates.candidates.copy()
        c["province"] = p.province
        cands.append(c)
    cand = pd.concat(cands, ignore_index=True)
    dup = cand["candidate_id"].duplicated(keep=False).to_numpy()
    cand.loc[dup, "candidate_id"] = cand.loc[dup, "province"] + ":" + cand.loc[dup, "candidate_id"].astype(str)
    mat = sparse.block_diag([p.candidates.coverage for p in plans], format="csr", dtype=bool)[order]
    offsets = np.cumsum([0] + [p.candidates.coverage.shape[1] for p in plans])
    selected = np.concatenate([p.result.selected + off for p, off in zip(plans, offsets, strict=False)])
    covered = np.concatenate([p.result.covered for p in plans])[order]
    cost = float(sum(p.result.cost for p in plans))
    cw = float(sum(p.result.covered_weight for p in plans))
    bound = float(sum(p.result.bound for p in plans))
    statuses = {p.result.status for p in plans}
    status: Status = (
        "infeasible" if "infeasible" in statuses else ("optimal" if statuses == {"optimal"} else "feasible")
    )
    if status == "infeasible":
        gap = math.inf
    elif budget is not None:
        gap = 0.0 if bound <= 0 else max(0.0, (bound - cw) / bound)
    else:
        gap = 0.0 if cost <= 0 else max(0.0, (cost - bound) / cost)
    result = CoverResult(
        selected=np.sort(selected),
        covered=covered,
        cost=cost,
        covered_weight=cw,
        bound=bound,
        gap=gap,
        status=status,
        method="+".join(sorted({p.result.method for p in plans})),
        seconds=float(sum(p.result.seconds for p in plans)),
        reductions={"provinces": len(plans)},
        stages=_merged_stages(plans),
        bound_source="+".join(sorted({p.result.bound_source for p in plans} - {""})),
    )
    prices = np.concatenate([p.prices_cny for p in plans])
    routes = [r.assign(province=p.province) for p in plans if (r := p.routes) is not None and len(r)]
    merged_routes = None
    if routes:
        merged_routes = gpd.GeoDataFrame(pd.concat(routes, ignore_index=True), geometry="geometry", crs=routes[0].crs)
        sid = merged_routes["segment_id"].astype(str)
        dup = sid.duplicated(keep=False).to_numpy()
        merged_routes.loc[dup, "segment_id"] = merged_routes.loc[dup, "province"] + ":" + sid[dup]
    rounds = [{"province": p.province, **r} for p in plans for r in p.rounds]
    merged = CandidateSet(
        demands=demands,
        candidates=gpd.GeoDataFrame(cand, geometry="geometry", crs=plans[0].candidates.demands.crs),
        coverage=mat,
    )
    return ProvincePlan(
        province=NATION, candidates=merged, result=result, prices_cny=prices, routes=merged_routes, rounds=rounds
    )


def _merged_stages(plans: list[ProvincePlan]) -> list[CoverStage]:
    """Budget mode's stages of the nation: per class, the provinces' covered weights summed, the largest gap,
    ``optimal`` when every province's is."""
    by_class: dict[int, list[CoverStage]] = {}
    for p in plans:
        for st in p.result.stages:
            by_class.setdefault(int(st["class"]), []).append(st)
    return [
        {
            "class": k,
            "covered_weight": float(sum(float(s["covered_weight"]) for s in sts)),
            "bound": float(sum(float(s["bound"]) for s in sts)),
            "gap": max(float(s["gap"]) for s in sts),
            "status": "optimal" if all(s["status"] == "optimal" for s in sts) else "feasible",
        }
        for k, sts in sorted(by_class.items())
    ]


def split_budget(budget: float, weight_by_province: pd.Series) -> pd.Series:
    """A national budget split across provinces in proportion to their demand weight (CNY per province)."""
    total = float(weight_by_province.sum())
    if total <= 0:
        return pd.Series(budget / max(len(weight_by_province), 1), index=weight_by_province.index)
    return budget * weight_by_province / total


def province_table(
    before: pd.DataFrame,
    after: pd.DataFrame,
    province_of_county: pd.Series,
    interventions: pd.DataFrame,
    demands: pd.DataFrame,
    plans: list[ProvincePlan],
    nation: CoverResult,
) -> pd.DataFrame:
    """The national summary: one row per province and a last row for the nation (``province`` =
    :data:`gis.admin.NATION`, 全国).

    Parameters
    ----------
    before, after : DataFrame
        KPI tables per county (:func:`planning.status.kpi.kpi_table`) before and after the plan.
    province_of_county : Series
        Province by county name.
    interventions, demands : DataFrame
        The merged proposal's interventions (with ``province``) and demands (with ``province``, ``served``).
    plans : list of ProvincePlan
    nation : CoverResult
        The merged result (:func:`merge_plans`): status and gap of the nation row.

    Returns
    -------
    DataFrame
        ``province``, ``demands``, ``demands_served``, ``interventions``, ``cost_cny``, ``status``, ``gap``,
        ``poor_villages``, ``schools``, and per KPI ``{key}_before`` / ``{key}_after`` (shares from the summed
        per-county counts) and ``counties_short`` (counties with a KPI target still short after the plan).
    """
    count_cols = ["poor_villages", "schools", *(f"{k.key}_{x}" for k in KPIS for x in ("n", "have"))]

    def counts(table: pd.DataFrame) -> pd.DataFrame:
        t = table[table["county"] != REGION]
        prov = t["county"].map(province_of_county).fillna(REGION)
        out = t.groupby(prov.to_numpy())[count_cols].sum()
        out["counties_short"] = (~t["meets_all"]).groupby(prov.to_numpy()).sum()
        return out

    b, a = counts(before), counts(after)
    res = {p.province: p.result for p in plans}
    rows = []
    for prov in [*sorted(res), NATION]:
        is_nation = prov == NATION
        bb = b.sum() if is_nation else b.reindex([prov]).fillna(0).iloc[0]
        aa = a.sum() if is_nation else a.reindex([prov]).fillna(0).iloc[0]
        d = demands if is_nation else demands[demands["province"] == prov]
        i = interventions if is_nation else interventions[interventions["province"] == prov]
        r = nation if is_nation else res[prov]
        row: dict[str, Any] = {
            "province": prov,
            "demands": len(d),
            "demands_served": int(d["served"].sum()),
            "interventions": len(i),
            "cost_cny": round(float(i["cost_cny"].sum())),
            "status": r.status,
            "gap": r.gap,
            "poor_villages": int(bb["poor_villages"]),
            "schools": int(bb["schools"]),
        }
        for k in KPIS:
            row[f"{k.key}_before"] = share(bb[f"{k.key}_have"], bb[f"{k.key}_n"])
            row[f"{k.key}_after"] = share(aa[f"{k.key}_have"], aa[f"{k.key}_n"])
        row["counties_short"] = int(aa["counties_short"])
        rows.append(row)
    return pd.DataFrame(rows)
