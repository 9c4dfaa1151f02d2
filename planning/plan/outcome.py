"""What a chosen plan gives: interventions with their batch and year, the demands each serves, the KPIs after each
batch, the KPIs still short, and the ledger's plan rows (remedy, cost share, batch and year per village or
school).

The KPIs after the plan are counted from the status frames of the gap stage with the served needs set: a
served ``broadband`` need gives broadband (and fibre when a fibre extension serves it), ``4g`` gives 4G, ``5g``
gives 5G (a 5G site does not give 4G), ``connection`` connects a school and ``outlet`` brings it to the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from gis.admin import REGION
from gis.settings import CostSettings, FundingSettings
from planning.plan.candidates import CandidateSet
from planning.plan.cover import CoverResult
from planning.plan.economics import central_rate, funding_split, priced_money
from planning.plan.goals import CLASS_NAMES, Goal, kpi_members, phasing_priority
from planning.plan.lots import lot_table, tender_lots
from planning.plan.national import ProvincePlan
from planning.plan.phasing import Phase, phase
from planning.plan.trenches import trench_of_site
from planning.status import KPIS, GapsResult, kpi_table, short_kpis

#: Money columns of the interventions summed in the totals (CNY; opex per year). An intervention's
#: ``lifecycle_cny`` is a present value at its own year and is not summed: the plan's lifecycle cost is one present
#: value at the base year (``lifecycle_base_pv_cny``, :func:`planning.plan.economics.plan_present_value`).
MONEY_TOTALS = ("capex_cny", "opex_cny_per_year", "central_cny", "local_cny", "operator_cny")
#: Status columns a served need sets (villages, schools).
NEED_SETS = {
    "broadband": ("has_broadband",),
    "4g": ("has_4g",),
    "5g": ("has_5g",),
    "connection": ("connected",),
    "outlet": ("meets_outlet",),
}


@dataclass(frozen=True)
class Proposal:
    """A proposal: the chosen interventions (with batch and year), the demand rows (served or not, by which
    intervention), shared fibre routes, the batches, the KPI table after the plan, the KPIs still short, the
    ledger's plan rows, the optimiser result and the fibre re-pricing rounds.

    ``plans`` keeps each province's candidates and result, so that :func:`planning.plan.proposal.cost_curve` can
    re-run the same model at other budgets.
    """

    interventions: gpd.GeoDataFrame
    demands: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    batches: pd.DataFrame
    targets_after: pd.DataFrame
    short: pd.DataFrame
    ledger_plan: pd.DataFrame
    result: CoverResult
    totals: dict[str, Any]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    candidates: CandidateSet | None = None
    prices_cny: np.ndarray | None = None
    provinces: pd.DataFrame | None = None
    plans: tuple[ProvincePlan, ...] = ()
    lots: pd.DataFrame | None = None
    compliance: pd.DataFrame | None = None
    unserved: pd.DataFrame | None = None
    operators: pd.DataFrame | None = None
    work_lots: pd.DataFrame | None = None


def first_year_of(setting: int, *, today: dt.date | None = None) -> int:
    """Calendar year of batch 1: ``[optimise] first_year``, or the year after ``today`` when it is 0."""
    return int(setting) if setting else (today or dt.date.today()).year + 1


def status_after(
    gaps: GapsResult, demands: pd.DataFrame, served: np.ndarray, *, by_fibre: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The village and school status frames once the demand rows ``served`` (bool per row) are served
    (``by_fibre``: per row, served by a fibre extension: the village then has fibre)."""
    v = pd.DataFrame(gaps.villages.drop(columns="geometry"))
    s = pd.DataFrame(gaps.schools.drop(columns="geometry"))
    keys = {"villages": "villages:" + v["village_id"].astype(str), "schools": "schools:" + s["school_id"].astype(str)}
    frames = {"villages": v, "schools": s}
    for need, columns in NEED_SETS.items():
        rows = served & (demands["need"] == need).to_numpy()
        for layer, frame in frames.items():
            units = set(demands["unit"].to_numpy()[rows & (demands["layer"] == layer).to_numpy()])
            hit = keys[layer].isin(units).to_numpy()
            for col in columns:
                if col in frame:
                    frame.loc[hit, col] = True
    if by_fibre is not None:
        rows = served & by_fibre & (demands["layer"] == "villages").to_numpy()
        v.loc[keys["villages"].isin(set(demands["unit"].to_numpy()[rows])).to_numpy(), "has_fibre"] = True
    return v, s


def kpis_after(
    project_targets: Any,
    gaps: GapsResult,
    demands: pd.DataFrame,
    served: np.ndarray,
    *,
    by_fibre: np.ndarray | None = None,
) -> pd.DataFrame:
    """The KPI table (:func:`planning.status.kpi.kpi_table`) once the demand rows ``served`` are served."""
    v, s = status_after(gaps, demands, served, by_fibre=by_fibre)
    return kpi_table(v, s, targets=project_targets)


def region_shares(table: pd.DataFrame) -> dict[str, float]:
    """Every KPI's share for the region (``{key}_share``) and the villages with broadband."""
    r = table[table["county"] == REGION].iloc[0]
    out = {f"{k.key}_share": float(r[f"{k.key}_share"]) for k in KPIS}
    out["villages_with_broadband"] = int(r["villages_with_broadband"])
    return out


def short_after(after: pd.DataFrame, demands: pd.DataFrame) -> pd.DataFrame:
    """The KPIs with a target still short after the plan (:func:`planning.status.kpi.short_kpis`), with
    ``not_coverable``: how many of the demands the KPI counts there no candidate can serve (why it is short)."""
    short = short_kpis(after)
    if not len(short):
        return short.assign(not_coverable=pd.Series(dtype=int))
    dead = ~demands["coverable"].to_numpy(dtype=bool)
    county = demands["county"].to_numpy()
    counts = []
    for row in short.itertuples():
        members = kpi_members(demands, row.kpi) & dead
        counts.append(int(members.sum() if row.county == REGION else (members & (county == row.county)).sum()))
    return short.assign(not_coverable=counts)


def segment_matrix(cset: CandidateSet, routes: gpd.GeoDataFrame | None) -> sparse.csr_matrix:
    """Segment x candidate: the trench segments of ``routes`` each fibre extension or fibre-backhauled site needs
    (those whose ``serves`` holds its village, school or ``candidates:<id>``: its path from existing fibre)."""
    n_c = len(cset.candidates)
    if routes is None or not len(routes):
        return sparse.csr_matrix((0, n_c), dtype=bool)
    cands = cset.candidates
    fib = cands["kind"].to_numpy() == "fibre"
    site = trench_of_site(cands)
    keys = np.r_[cands["source"].to_numpy()[fib], "candidates:" + cands["candidate_id"].astype(str).to_numpy()[site]]
    col = pd.Series(np.r_[np.flatnonzero(fib), np.flatnonzero(site)], index=keys)
    col = col[~col.index.duplicated()]
    r, c = [], []
    for i, serves in enumerate(routes["serves"].astype(str)):
        js = col.reindex(serves.split(";")).dropna().to_numpy(dtype=np.int64)
        r += [i] * len(js)
        c += js.tolist()
    return sparse.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(len(routes), n_c))


def committed_per_batch(by_year: Mapping[int, float], *, first_year: int) -> np.ndarray:
    """What commitments spend per batch (CNY, batch 1 = ``first_year`` first), from their spend by calendar year
    (:func:`planning.status.ledger_replan.unspent_by_year`): a year before ``first_year`` (late work) or 0 (no
    year known) counts in batch 1."""
    if not by_year:
        return np.zeros(0)
    last = max(int(y) for y in by_year)
    out = np.zeros(max(last - first_year + 1, 1))
    for year, cny in by_year.items():
        out[max(int(year) - first_year, 0)] += float(cny)
    return out


def phase_plan(
    cset: CandidateSet,
    res: CoverResult,
    prices: np.ndarray,
    routes: gpd.GeoDataFrame | None,
    *,
    yearly_budget: float,
    committed: np.ndarray | None = None,
) -> Phase | None:
    """The yearly batches of the chosen candidates (:func:`planning.plan.phasing.phase`): fibre extensions at
    the true spend of their segments, fibre-backhauled sites at their equipment plus theirs, priority classes
    first, each year within what its budget leaves after the ``committed`` spend (CNY per batch,
    :func:`committed_per_batch`) (None when nothing is chosen)."""
    if not len(res.selected):
        return None
    seg = segment_matrix(cset, routes)
    own = np.asarray(prices, dtype=float).copy()
    needs = np.asarray(seg.sum(axis=0)).ravel() > 0
    cands = cset.candidates
    equip = cands["equipment_cny"].to_numpy(dtype=float) if "equipment_cny" in cands else np.zeros(len(own))
    own[needs] = np.where(trench_of_site(cands)[needs], np.nan_to_num(equip[needs]), 0.0)  # + their segments
    d = cset.demands
    return phase(
        cset.coverage,
        own,
        d["weight"].to_numpy(dtype=float),
        res.selected,
        yearly_budget=yearly_budget,
        priority=phasing_priority(d),
        priority_class=d["priority_class"].to_numpy(),
        segments=seg,
        segment_cost=routes["cost_cny"].to_numpy(dtype=float) if routes is not None and seg.shape[0] else None,
        committed=committed,
    )


def chosen_table(
    cset: CandidateSet,
    res: CoverResult,
    prices: np.ndarray,
    ph: Phase | None,
    *,
    first_year: int,
    costs: CostSettings,
    funding: FundingSettings,
) -> gpd.GeoDataFrame:
    """The chosen candidates with their price (``cost_cny`` = ``capex_cny``: a fibre extension at its share of the
    shared trenches), batch, year, money (``civil_cny``, ``opex_cny_per_year``, ``lifecycle_cny``; who pays:
    ``central_cny``, ``local_cny``, ``operator_cny``, :mod:`planning.plan.economics`) and what each serves:
    ``serves`` (villages and schools, ``layer:id``), ``serves_needs`` (demand ids), ``n_served`` (units),
    ``weight_served``."""
    cands, demands, mat = cset.candidates, cset.demands, cset.coverage.tocsc()
    sel = res.selected
    weight = demands["weight"].to_numpy(dtype=float)
    chosen = cands.iloc[sel].copy()
    chosen["cost_cny"] = prices[sel]
    chosen["batch"] = ph.batch if ph is not None else np.zeros(0, dtype=np.int64)
    chosen["year"] = first_year + chosen["batch"] - 1
    serves, needs, n_served, w_served = [], [], [], []
    unit = demands["unit"].to_numpy()
    for j in sel:
        rows = mat.indices[mat.indptr[j] : mat.indptr[j + 1]]
        units = list(dict.fromkeys(unit[rows]))
        serves.append(";".join(units))
        needs.append(";".join(demands["demand_id"].iloc[rows]))
        n_served.append(len(units))
        w_served.append(float(weight[rows].sum()))
    money = priced_money(chosen, prices[sel], costs=costs)
    chosen[money.columns] = money
    fund = funding_split(
        money["capex_cny"].to_numpy(),
        chosen["batch"].to_numpy(),
        central_share=funding.central_share,
        local_share=funding.local_share,
        central_share_by_batch=funding.central_share_by_batch,
    )
    chosen[fund.columns] = fund.set_axis(chosen.index)
    chosen["serves"] = serves
    chosen["serves_needs"] = needs
    chosen["n_served"] = n_served
    chosen["weight_served"] = w_served
    chosen = chosen.sort_values(["batch", "cost_cny"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(chosen, geometry="geometry", crs=cands.crs)


def demands_served(demands: gpd.GeoDataFrame, chosen: pd.DataFrame, coverage_csr: Any) -> gpd.GeoDataFrame:
    """Each demand row: ``served``, ``batch`` (the first that serves it; 0 not served), ``by`` (that
    intervention), ``by_kind``, ``coverable`` (some candidate could serve it)."""
    d_batch = np.zeros(len(demands), dtype=np.int64)
    d_by = np.full(len(demands), "", dtype=object)
    d_kind = np.full(len(demands), "", dtype=object)
    position = {did: i for i, did in enumerate(demands["demand_id"])}
    for row in chosen.itertuples():
        for did in str(row.serves_needs).split(";") if row.serves_needs else []:
            i = position[did]
            if d_batch[i] == 0 or row.batch < d_batch[i]:
                d_batch[i], d_by[i], d_kind[i] = row.batch, row.candidate_id, row.kind
    dem = demands.copy()
    dem["served"] = d_batch > 0
    dem["batch"] = d_batch
    dem["by"] = d_by
    dem["by_kind"] = d_kind
    dem["coverable"] = np.diff(coverage_csr.indptr) > 0
    return dem


def batch_table(
    project_targets: Any,
    gaps: GapsResult,
    dem: pd.DataFrame,
    chosen: pd.DataFrame,
    ph: Phase | None,
    *,
    first_year: int,
    yearly_budget: float,
    funding: FundingSettings,
) -> pd.DataFrame:
    """Per batch (0: before the plan): ``year``; ``cost_cny``, the true spend (non-fibre interventions and the
    trench segments first built in it); ``cumulative_cost_cny``; ``allocated_cost_cny`` (the interventions' prices:
    fibre at its share of trenches it may share with later batches); who pays the year's spend (``central_cny``
    at the batch's rate, ``local_cny``, ``operator_cny``); ``opex_cny_per_year`` (the running cost of everything
    built by then); ``over_budget``; ``interventions``; every KPI's region share after it. With commitments kept
    from the ledger (``ph.committed_cost``): ``committed_cny``, what they spend in the batch's year besides
    ``cost_cny``."""
    rows = []
    n_batches = len(ph.batch_cost) if ph is not None else 0
    by_fibre = (dem["by_kind"] == "fibre").to_numpy()
    spend = np.r_[0.0, ph.batch_cost] if ph is not None else np.zeros(1)
    rate = central_rate(
        np.arange(n_batches + 1), central_share=funding.central_share, by_batch=funding.central_share_by_batch
    )
    for b in range(n_batches + 1):
        served = (dem["batch"].to_numpy() > 0) & (dem["batch"].to_numpy() <= b)
        t = kpis_after(project_targets, gaps, dem, served, by_fibre=by_fibre)
        central, local = rate[b] * spend[b], funding.local_share * spend[b]
        rows.append(
            {
                "batch": b,
                "year": first_year + b - 1 if b else None,
                "cost_cny": float(spend[b]),
                "cumulative_cost_cny": float(spend[: b + 1].sum()),
                "allocated_cost_cny": float(chosen.loc[chosen["batch"] == b, "cost_cny"].sum()),
                "central_cny": float(central),
                "local_cny": float(local),
                "operator_cny": float(spend[b] - central - local),
                "opex_cny_per_year": float(chosen.loc[chosen["batch"].between(1, b), "opex_cny_per_year"].sum()),
                "budget_cny": yearly_budget if b else None,
                "over_budget": bool(ph.over_budget[b - 1]) if b and ph is not None else False,
                "interventions": int((chosen["batch"] == b).sum()),
                **region_shares(t),
            }
        )
        if ph is not None and ph.committed_cost is not None:
            rows[-1]["committed_cny"] = float(ph.committed_cost[b - 1]) if b else None
    return pd.DataFrame(rows)


def with_lots(chosen: gpd.GeoDataFrame, dem: pd.DataFrame, *, n_lots: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The interventions with their tender lot (``lot``) and ``county`` (of the first village or school each
    serves), and the lot table (:func:`planning.plan.lots.lot_table`)."""
    county_of = dem.drop_duplicates("unit").set_index("unit")["county"]
    first = chosen["serves"].astype(str).str.split(";").str[0]
    out = chosen.copy()
    out["county"] = first.map(county_of).fillna("").to_numpy()
    xy = shapely.get_coordinates(np.asarray(out.geometry.values))
    out["lot"] = tender_lots(
        xy[:, 0], xy[:, 1], out["cost_cny"].to_numpy(dtype=float), n_lots=n_lots, county=out["county"].to_numpy()
    )
    frame = pd.DataFrame(
        {"lot": out["lot"], "x_m": xy[:, 0], "y_m": xy[:, 1], "cost_cny": out["cost_cny"], "county": out["county"]}
    )
    return out, lot_table(frame)


def ledger_plan(dem: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """The ledger's plan rows, by ``layer:id``: every village or school the plan serves (a need or more), with
    ``remedy`` (the kinds of the interventions that serve it, ``;``-joined), ``remedy_id``, ``remedy_cost_cny``
    (its share of each: an intervention's cost split equally among the villages and schools it serves),
    ``batch`` and ``year`` (the last batch it waits for), ``funding`` (who pays its share: central, local,
    operator, CNY) and ``plan_detail`` (each need's year and intervention: a school may be connected by a site in
    the first year and reach the outlet target when fibre arrives)."""
    cols = ["remedy", "remedy_id", "remedy_cost_cny", "batch", "year", "funding", "plan_detail", "serves"]
    served = dem[dem["served"]]
    if not len(served):
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    info = chosen.set_index("candidate_id")
    if not info.index.is_unique:
        dup = info.index[info.index.duplicated()][:5].tolist()
        msg = f"`chosen` repeats candidate ids {dup}; expected one row per chosen intervention"
        raise ValueError(msg)
    # plain dicts, not .loc per unit (1,796 units of a 10,000-village plan took 10.9 s through pandas indexing);
    # the same sums in the same order, NaN skipped (numpy's nansum, as a Series sum gives them)
    per_unit = info["n_served"].clip(lower=1).to_dict()
    kind = info["kind"].astype(str).to_dict()
    money = {k: info[f"{k}_cny"].to_dict() for k in ("central", "local", "operator") if f"{k}_cny" in info}
    money["cost"] = info["cost_cny"].to_dict()  # required
    batch, year = info["batch"].to_dict(), info["year"].to_dict()

    def share(k: str, ids: list[str]) -> float:
        return float(np.nansum(np.array([money[k][i] / per_unit[i] for i in ids], dtype=float))) if k in money else 0.0

    def latest(col: dict[str, Any], ids: list[str]) -> int:  # the largest value, NaN skipped (as Series.max)
        return int(max(v for i in ids if (v := col[i]) == v))

    rows = {}
    for unit, part in served.groupby("unit", sort=True):
        by, needs = part["by"].tolist(), part["need"].tolist()
        ids = list(dict.fromkeys(by))
        pays = {k: share(k, ids) for k in ("central", "local", "operator")}
        rows[unit] = {
            "remedy": ";".join(kind[i] for i in ids),
            "remedy_id": ";".join(ids),
            "remedy_cost_cny": round(share("cost", ids), 2),
            "batch": latest(batch, ids),
            "year": latest(year, ids),
            "funding": "; ".join(f"{k} {v:,.0f}" for k, v in pays.items()),
            "plan_detail": "; ".join(f"{n}: {int(year[b])} ({kind[b]} {b})" for n, b in zip(needs, by, strict=True)),
            "serves": ";".join(needs),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "id"
    return out


def class_left(dem: pd.DataFrame) -> dict[str, int]:
    """Per priority class: how many demand rows the plan leaves unserved (and of them, how many no candidate can
    serve)."""
    out = {}
    for k, name in enumerate(CLASS_NAMES, start=1):
        part = dem[dem["priority_class"] == k]
        out[f"{name}_left"] = int((~part["served"]).sum())
        out[f"{name}_not_coverable"] = int((~part["coverable"]).sum())
    return out


def totals_of(
    goal: Goal,
    res: CoverResult,
    chosen: pd.DataFrame,
    dem: pd.DataFrame,
    before: pd.DataFrame,
    after: pd.DataFrame,
    short: pd.DataFrame,
    *,
    n_batches: int,
    first_year: int,
    rounds: int,
) -> dict[str, Any]:
    """The proposal's headline numbers (see README, "Proposal")."""
    b, a = region_shares(before), region_shares(after)
    totals: dict[str, Any] = {
        "mode": "budget" if goal.is_budget else "target",
        "budget_cny": goal.budget_cny,
        "status": res.status,
        "method": res.method,
        "gap": round(res.gap, 5),
        "bound_source": res.bound_source,
        "cost_cny": round(float(chosen["cost_cny"].sum())),
        **{k: round(float(chosen[k].sum())) for k in MONEY_TOTALS if k in chosen},
        "interventions": {str(k): int(n) for k, n in chosen["kind"].value_counts().sort_index().items()},
        "demands": len(dem),
        # no village or school lacks anything: an empty plan is the answer, not a failure
        "nothing_to_plan": len(dem) == 0,
        "demands_served": int(dem["served"].sum()),
        "demands_not_coverable": int((~dem["coverable"]).sum()),
        **{f"{k.key}_before": round(b[f"{k.key}_share"], 4) for k in KPIS},
        **{f"{k.key}_after": round(a[f"{k.key}_share"], 4) for k in KPIS},
        "kpis_short": len(short[short["county"] != REGION]),
        "counties_short": int(short.loc[short["county"] != REGION, "county"].nunique()),
        "batches": n_batches,
        "first_year": first_year,
        "seconds": round(res.seconds, 2),
        "fibre_rounds": rounds,
    }
    if goal.is_budget:
        totals["budget_left_cny"] = round(float(goal.budget_cny - chosen["cost_cny"].sum()))
        totals.update(class_left(dem))
        totals["stages"] = [
            {
                "class": CLASS_NAMES[int(s["class"])],
                "covered_weight": round(float(s["covered_weight"]), 3),
                "gap": round(float(s["gap"]), 5),
                "status": s["status"],
                "bound_source": s.get("bound_source", ""),
            }
            for s in res.stages
        ]
    else:
        totals["count_rows"] = len(goal.labels)
    return totals
