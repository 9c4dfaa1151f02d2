"""The plan held against the programme's rules (docs/programme.md): the subsidy by the pack's formula, each KPI's
target and deadline year, and every village or school need the plan leaves unserved with why.

* :func:`programme_funding`: central = ``rate`` x (capex + N x opex per year) of eligible items (N =
  ``opex_years``, ``border_opex_years`` in a key border area; ``rate`` the pack's regional rate for ``[programme]
  region`` where verified), local = ``local_share`` x capex, the operator the rest of the capex; an item is
  eligible when it serves a unit of a layer the pack funds (a pilot village), so a school-only line is left to the
  education programme. :func:`subsidy_cny` is the one formula; :func:`subsidy_objective` is what target mode
  minimises with ``[economics] objective = "subsidy"`` under a pack.
* :func:`deadline_rows` and :func:`compliance_table`: per KPI rule the value before and after, the batch and year
  the phasing reaches its target, met or missed (by how many years) and the yearly budget that would reach it by
  its deadline; the subsidy rule; the fallbacks.
* :func:`unserved_table`: each need left unserved: ``not coverable`` (no candidate serves it), ``excluded`` (the
  ledger's 核减 reason), or ``left out: target below 100 %`` / ``over budget`` with the cheapest candidate that
  would serve it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gis.admin import REGION
from gis.settings import Programme

__all__ = [
    "batch_funding",
    "cheapest_serving",
    "compliance_table",
    "deadline_rows",
    "programme_funding",
    "subsidy_cny",
    "subsidy_objective",
    "unserved_table",
]


#: Target mode's tie-break under the subsidy objective: this share of capex is added to each candidate's subsidy,
#: so an item the programme does not fund (subsidy 0) is not free to the optimiser and, of two plans with the same
#: subsidy, the one with less capex is chosen.
SUBSIDY_TIE_BREAK = 1e-3


def subsidy_cny(
    capex_cny: np.ndarray, opex_cny_per_year: np.ndarray, eligible: np.ndarray, programme: Programme
) -> np.ndarray:
    """The pack's central subsidy per item (CNY): ``rate`` x (capex + N years of opex) where ``eligible``, else 0
    (N: ``opex_years``, ``border_opex_years`` in a key border area; the rate the pack's regional rate for the
    project's region where verified, :meth:`gis.settings.programme.SubsidyRule.rate_for`). Zeros without a
    subsidy rule."""
    capex = np.asarray(capex_cny, dtype=float)
    rule = programme.subsidy
    if rule is None:
        return np.zeros(len(capex))
    rate, _ = rule.rate_for(programme.region)
    base = capex + rule.years(border=programme.border) * np.asarray(opex_cny_per_year, dtype=float)
    return np.where(np.asarray(eligible, dtype=bool), rate * base, 0.0)


def subsidy_objective(
    capex_cny: np.ndarray,
    opex_cny_per_year: np.ndarray,
    *,
    demand_layer: np.ndarray,
    coverage_csr: Any,
    programme: Programme,
) -> np.ndarray:
    """What target mode minimises per candidate with ``[economics] objective = "subsidy"`` under a pack: its
    :func:`subsidy_cny` (eligible when it serves a demand of a layer the pack funds: ``coverage_csr`` is demand x
    candidate, ``demand_layer`` each demand's layer) plus :data:`SUBSIDY_TIE_BREAK` x capex (CNY)."""
    rule = programme.subsidy
    funded = np.isin(np.asarray(demand_layer, dtype=object), list(rule.eligible if rule else ()))
    eligible = np.asarray(coverage_csr.astype(np.float64).T @ funded.astype(np.float64)).ravel() > 0
    capex = np.asarray(capex_cny, dtype=float)
    return subsidy_cny(capex, opex_cny_per_year, eligible, programme) + SUBSIDY_TIE_BREAK * capex


def programme_funding(chosen: pd.DataFrame, programme: Programme, *, local_share: float) -> pd.DataFrame:
    """``chosen`` with ``central_cny`` (:func:`subsidy_cny`), ``local_cny``, ``operator_cny``,
    ``subsidy_base_cny`` (capex + N years of opex) and ``subsidy_eligible`` by the programme's subsidy rule
    (unchanged without one)."""
    rule = programme.subsidy
    if rule is None:
        return chosen
    out = chosen.copy()
    years = rule.years(border=programme.border)
    capex = out["capex_cny"].to_numpy(dtype=float)
    opex = out["opex_cny_per_year"].to_numpy(dtype=float)
    layers = out["serves"].astype(str).str.split(";").map(lambda units: {u.split(":")[0] for u in units if u})
    ok = np.array([bool(s & set(rule.eligible)) for s in layers], dtype=bool)
    out["subsidy_base_cny"] = capex + years * opex
    out["subsidy_eligible"] = ok
    out["central_cny"] = subsidy_cny(capex, opex, ok, programme)
    out["local_cny"] = np.where(ok, local_share * capex, 0.0)
    out["operator_cny"] = capex - out["central_cny"].to_numpy() - out["local_cny"].to_numpy()
    return out


def batch_funding(batches: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """The batch table with central and local money as the sum of its items' (:func:`programme_funding`), the
    operator paying the rest of the year's spend."""
    out = batches.copy()
    by = chosen.groupby("batch")[["central_cny", "local_cny"]].sum()
    out["central_cny"] = out["batch"].map(by["central_cny"]).fillna(0.0).to_numpy(dtype=float)
    out["local_cny"] = out["batch"].map(by["local_cny"]).fillna(0.0).to_numpy(dtype=float)
    out["operator_cny"] = out["cost_cny"] - out["central_cny"] - out["local_cny"]
    return out


def _needed_share(before: pd.DataFrame | None, key: str, target: float) -> float:
    """The share the region must reach: ``(have + shortfall) / n`` of the KPI table before the plan (with
    ``[targets] slack = "exclusion_only"`` that is 100 % less the rows excluded with a reason), else ``target``."""
    if before is None or f"{key}_shortfall" not in before:
        return target
    r = before[before["county"] == REGION].iloc[0]
    n, short = int(r[f"{key}_n"]), int(r[f"{key}_shortfall"])
    return (int(r[f"{key}_have"]) + short) / n if n and short > 0 else target


def deadline_rows(
    programme: Programme, batches: pd.DataFrame, *, yearly_budget_cny: float, before: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Per KPI rule of the programme counted by coverplan: ``kpi``, ``target``, ``needed`` (the share the region
    must reach: the target, or 100 % less documented exclusions when only they may keep it short; ``before``: the
    KPI table before the plan), ``deadline_year``, ``before``, ``after`` (region shares), ``batch_met`` /
    ``year_met`` (the first batch whose share reaches ``needed``; None: never), ``met`` (reached by the deadline),
    ``years_late``, ``budget_to_meet_cny`` (the yearly budget that would build the same spend by the deadline;
    None when batch 1 starts after it or it is never reached)."""
    rows = []
    first_year = int(batches.loc[batches["batch"] == 1, "year"].iloc[0]) if (batches["batch"] == 1).any() else None
    for key, rule in programme.kpis.items():
        col = f"{key}_share"
        if col not in batches:
            continue
        shares = batches[col].to_numpy(dtype=float)
        needed = _needed_share(before, key, rule.target)
        reached = np.flatnonzero(np.nan_to_num(shares, nan=1.0) >= needed - 1e-9)
        b: int | None = None
        year: int | None = None
        if len(reached):
            b = int(batches["batch"].iloc[reached[0]])
            year = int(batches["year"].iloc[reached[0]]) if b else (first_year or 0) - 1  # batch 0: met already
        met = year is not None and year <= rule.deadline_year
        budget = None
        if b and not met and first_year is not None and rule.deadline_year >= first_year:
            spend = float(batches.loc[batches["batch"] <= b, "cost_cny"].sum())
            budget = spend / (rule.deadline_year - first_year + 1)
        rows.append(
            {
                "kpi": key,
                "target": rule.target,
                "needed": needed,
                "deadline_year": rule.deadline_year,
                "before": float(shares[0]),
                "after": float(shares[-1]),
                "batch_met": b,
                "year_met": year,
                "met": bool(met),
                "years_late": (year - rule.deadline_year) if year is not None and not met else None,
                "budget_to_meet_cny": budget,
                "citation": rule.citation.text(),
            }
        )
    return rows


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.1%}"


def compliance_table(
    programme: Programme,
    batches: pd.DataFrame,
    chosen: pd.DataFrame,
    *,
    yearly_budget_cny: float,
    notes: tuple[str, ...] = (),
    before: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per rule: ``rule``, ``value`` (text), ``met`` (bool or None: not a target), ``citation``
    (``before``: the KPI table before the plan, for the share each KPI must reach, :func:`deadline_rows`)."""
    rows: list[dict[str, Any]] = []
    for d in deadline_rows(programme, batches, yearly_budget_cny=yearly_budget_cny, before=before):
        when = f"reached {d['year_met']}" if d["year_met"] is not None else "not reached by the plan"
        late = f"; {d['years_late']} year(s) after the deadline" if d["years_late"] else ""
        money = ""
        if not d["met"]:
            money = (
                f"; {d['budget_to_meet_cny']:,.0f} CNY a year would build it by {d['deadline_year']}"
                if d["budget_to_meet_cny"] is not None
                else f"; no budget meets it: the deadline {d['deadline_year']} is before batch 1"
            )
        short_only = f" ({d['needed']:.1%}: short only by documented exclusions)" if d["needed"] > d["target"] else ""
        rows.append(
            {
                "rule": f"{d['kpi']} >= {d['target']:.0%} by end of {d['deadline_year']}{short_only}",
                "value": f"{_pct(d['before'])} -> {_pct(d['after'])}, {when}{late}{money}",
                "met": d["met"],
                "citation": d["citation"],
            }
        )
    g4 = programme.village_4g
    if g4.citation is not None:
        rows.append(
            {
                "rule": f"4G village: {g4.rule} ({g4.site_within_m / 1000:g} km)",
                "value": "applied to every administrative village",
                "met": None,
                "citation": g4.citation.text(),
            }
        )
    rows += _subsidy_rows(programme, chosen)
    for a in programme.applicants:
        rows.append(
            {
                "rule": "applicant",
                "value": f"{a.applicant}; {a.builders}",
                "met": None,
                "citation": a.citation.text(),
            }
        )
    rows += [{"rule": "fallback", "value": n, "met": None, "citation": ""} for n in notes]
    out = pd.DataFrame(rows, columns=["rule", "value", "met", "citation"])
    out["met"] = out["met"].astype("boolean")  # NA (blank) where the rule is no target
    return out


def _subsidy_rows(programme: Programme, chosen: pd.DataFrame) -> list[dict[str, Any]]:
    """The compliance rows of the subsidy rule: its formula and total, the regional rate (used, or why not), and
    the terms marked assumed where the pack says they are not verified."""
    rule = programme.subsidy
    if rule is None or "subsidy_base_cny" not in chosen:
        return []
    ok = chosen["subsidy_eligible"].to_numpy(dtype=bool)
    years = rule.years(border=programme.border)
    rate, regional = rule.rate_for(programme.region)
    assumed = " (assumed: terms not verified)" if rule.assumed else ""
    rows: list[dict[str, Any]] = [
        {
            "rule": f"central subsidy {rate:.0%} x (capex + {years} years of opex) of {', '.join(rule.eligible)}"
            + assumed,
            "value": (
                f"{chosen['central_cny'].sum():,.0f} CNY on {int(ok.sum())} eligible item(s); "
                f"{int((~ok).sum())} item(s) ({chosen.loc[~ok, 'capex_cny'].sum():,.0f} CNY capex) funded elsewhere"
            ),
            "met": None,
            "citation": rule.citation.text() if rule.citation else "",
        }
    ]
    if regional:
        cite = rule.regional_citation.text() if rule.regional_citation else ""
        rows.append(
            {"rule": f"central rate by region ({programme.region})", "value": regional, "met": None, "citation": cite}
        )
    if rule.assumed:
        rows.append(
            {
                "rule": "subsidy terms assumed",
                "value": rule.assumed,
                "met": None,
                "citation": rule.citation.text() if rule.citation else "",
            }
        )
    return rows


def unserved_table(
    demands: pd.DataFrame,
    status_excluded: pd.Series,
    cheapest_cny: np.ndarray,
    *,
    targeted: np.ndarray,
    budget_mode: bool,
) -> pd.DataFrame:
    """Each need the plan leaves unserved: ``unit``, ``name``, ``need``, ``is_poor``, ``why`` and
    ``cheapest_cny`` (the cheapest candidate that would serve it; NaN when none): first the needs a target counts
    and the plan kept out, costliest first, then the uncoverable, the excluded, and the needs no target counts.

    ``status_excluded``: the ledger's exclusion reason by ``layer:id`` (empty: none); ``targeted``: per demand row,
    counted by a KPI with a target (else its why is ``no target``)."""
    left = ~demands["served"].to_numpy(dtype=bool)
    part = demands.loc[left, ["unit", "name", "need", "is_poor", "county"]].copy()
    cost = np.asarray(cheapest_cny, dtype=float)[left]
    reason = part["unit"].map(status_excluded).fillna("").astype(str).to_numpy()
    coverable = np.isfinite(cost)
    kept_out = np.where(
        np.asarray(targeted, dtype=bool)[left],
        "over budget" if budget_mode else "left out: target below 100 %",
        "no target",
    )
    part["why"] = np.where(reason != "", "excluded: " + reason, np.where(coverable, kept_out, "not coverable"))
    part["cheapest_cny"] = np.where(coverable, cost, np.nan)
    # the needs a KPI target counts and the plan kept out come first (costliest first), then those no candidate
    # serves, those excluded with a reason, and last the needs no target counts
    order = np.select(
        [part["why"].isin(["over budget", "left out: target below 100 %"]), part["why"].eq("not coverable")],
        [0, 1],
        np.where(part["why"].eq("no target"), 3, 2),
    )
    part["_order"], part["_cost"] = order, -np.nan_to_num(cost, posinf=0.0)
    out = part.sort_values(["_order", "_cost"], kind="stable").drop(columns=["_order", "_cost"])
    return out.reset_index(drop=True)


def cheapest_serving(coverage_csr: Any, prices: np.ndarray) -> np.ndarray:
    """Per demand row: the price of the cheapest candidate that serves it (inf when none)."""
    p = np.asarray(prices, dtype=float)
    out = np.full(coverage_csr.shape[0], np.inf)
    for i in range(coverage_csr.shape[0]):
        cols = coverage_csr.indices[coverage_csr.indptr[i] : coverage_csr.indptr[i + 1]]
        if len(cols):
            out[i] = float(p[cols].min())
    return out


def region_row(table: pd.DataFrame) -> pd.Series:
    """The region row of a KPI table."""
    return table[table["county"] == REGION].iloc[0]
