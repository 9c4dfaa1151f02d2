"""Re-planning that keeps commitments: what the ledger (台账) says is planned, under construction or completed stays
as it is, and the optimiser plans only the rest.

A run with a ledger (:func:`planning.run.run_pipeline`) keeps the ledger's **commitments** by default:

* :func:`commitments`: the rows whose status is a commitment (``planned``, ``under_construction``,
  ``completed``; ``replan="planned"`` frees the planned ones, ``replan="all"`` frees everything, the behaviour
  before commitments were kept), each with its remedy, remedy id, cost share (CNY), batch and year as the ledger
  holds them;
* :func:`with_commitments`: the ledger's evidence for the optimiser, with every commitment counted as delivering
  the needs its plan serves (``plan_detail``; all it lacked when the plan says nothing), so the optimiser's
  demands are only what no commitment closes; the KPIs before the plan are still counted from the real evidence;
* :func:`unspent_by_year` and :func:`budget_left`: what the commitments still spend (the planned and under
  construction rows' cost shares, per year; completed rows are paid) and the budget that leaves for the new plan:
  a run in budget mode spends on new work only the budget less that money, and each year's batch only what the
  yearly budget leaves after the commitments of that year (:func:`planning.plan.phasing.phase`);
* :func:`plan_diff`: the ledger before the run against the ledger the run wrote, per row: ``kept``, ``added``,
  ``dropped``, ``moved`` (another batch), ``replaced`` (another remedy) or ``done`` (accepted), each with its
  reason and the money (cost share, CNY) before and after; :func:`diff_totals` sums it.

The committed rows are never changed by the run's plan (:func:`planning.status.ledger.record_plan`, ``keep``):
their remedy, money, batch and year stay.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from gis.admin import REGION
from planning.status.kpi import KPIS
from planning.status.ledger_base import EXCLUDED, STATUS_ALIASES, LedgerError

logger = logging.getLogger(__name__)

__all__ = [
    "COMMITTED",
    "UNSPENT",
    "Replan",
    "budget_left",
    "commitments",
    "diff_totals",
    "plan_diff",
    "shares_before",
    "unspent_by_year",
    "with_commitments",
]

#: Statuses that commit money: the plan was adopted (纳入规划), building began (在建) or ended (竣工).
COMMITTED: tuple[str, ...] = ("planned", "under_construction", "completed")
#: Commitments whose money is still to be spent: planned (规划) and under construction (在建); completed (竣工) is paid.
UNSPENT: tuple[str, ...] = ("planned", "under_construction")
#: What a run may re-decide: nothing committed (``none``, the default), the ``planned`` rows too, or ``all``.
Replan = Literal["none", "planned", "all"]
_KEPT_BY = {"none": COMMITTED, "planned": ("under_construction", "completed"), "all": ()}
#: The plan-diff's columns, in order.
DIFF_COLUMNS = (
    "id",
    "name",
    "county",
    "change",
    "reason",
    "status_before",
    "status_after",
    "remedy_before",
    "remedy_after",
    "remedy_id_before",
    "remedy_id_after",
    "batch_before",
    "batch_after",
    "year_before",
    "year_after",
    "cost_before_cny",
    "cost_after_cny",
)
CHANGES = ("kept", "added", "dropped", "moved", "replaced", "done")


def _status(table: pd.DataFrame) -> pd.Series:
    return table["status"].fillna("").astype(str).replace(STATUS_ALIASES)


def _text(table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table:
        return pd.Series("", index=table.index, dtype=object)
    return table[col].fillna("").astype(str)


def _number(table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table:
        return pd.Series(np.nan, index=table.index, dtype=float)
    return pd.to_numeric(table[col], errors="coerce").astype(float)


def commitments(table: pd.DataFrame, *, replan: Replan = "none") -> pd.DataFrame:
    """The ledger's rows a run keeps as they are.

    Parameters
    ----------
    table : DataFrame
        A ledger table (:func:`planning.status.ledger.read_ledger`): ``id``, ``status``, ``lacks`` and the plan's
        fields.
    replan : {"none", "planned", "all"}
        What the run may re-decide: nothing committed (keep planned, under construction and completed rows), the
        planned rows (keep only those under construction or completed), or everything (keep nothing).

    Returns
    -------
    DataFrame
        Index ``id``; ``status``, ``lacks``, ``remedy``, ``remedy_id``, ``remedy_cost_cny`` (the row's cost share,
        CNY, 0 when the ledger has none), ``batch``, ``year``, ``plan_detail``.
    """
    if replan not in _KEPT_BY:
        msg = f"replan={replan!r}; expected one of {list(_KEPT_BY)}"
        raise ValueError(msg)
    keep = _status(table).isin(_KEPT_BY[replan]).to_numpy()
    rows = table[keep]
    out = pd.DataFrame(
        {
            "status": _status(rows).to_numpy(),
            "lacks": _text(rows, "lacks").to_numpy(),
            "remedy": _text(rows, "remedy").to_numpy(),
            "remedy_id": _text(rows, "remedy_id").to_numpy(),
            "remedy_cost_cny": _number(rows, "remedy_cost_cny").fillna(0.0).to_numpy(),
            "batch": _number(rows, "batch").to_numpy(),
            "year": _number(rows, "year").to_numpy(),
            "plan_detail": _text(rows, "plan_detail").to_numpy(),
        },
        index=pd.Index(rows["id"].astype(str).to_numpy(), name="id"),
    )
    logger.info("ledger commitments kept: %d row(s), %.0f CNY", len(out), out["remedy_cost_cny"].sum())
    return out


def unspent_by_year(kept: pd.DataFrame) -> dict[int, float]:
    """What the commitments still spend (CNY) per calendar year: the cost shares (``remedy_cost_cny``) of the
    planned and under construction rows (:data:`UNSPENT`) in their ``year``; 0 for rows with no year (entered by
    hand: counted in the new plan's first year, as late work is). Completed rows are paid and count nowhere.

    Parameters
    ----------
    kept : DataFrame
        The commitments (:func:`commitments`).

    Returns
    -------
    dict of int to float
        Year (0: unknown) -> CNY, years ascending; only years with money.
    """
    rows = kept[kept["status"].isin(UNSPENT).to_numpy()]
    money = pd.to_numeric(rows["remedy_cost_cny"], errors="coerce").fillna(0.0).astype(float)
    year = pd.to_numeric(rows["year"], errors="coerce").fillna(0).astype(int)
    by_year = money.groupby(year.to_numpy()).sum()
    pairs = zip(by_year.index.to_numpy(), by_year.to_numpy(), strict=True)
    return {int(y): round(float(v), 2) for y, v in pairs if v > 0}


def budget_left(budget_cny: float, unspent_cny: float, *, ledger: str = "the ledger") -> float:
    """The budget (CNY) a run in budget mode has for new work: ``budget_cny`` (the money available from this run
    on, ``[optimise] budget_cny`` or ``--budget-cny``) less ``unspent_cny``, what the commitments still spend
    (:func:`unspent_by_year`; what completed rows cost was spent before and is not in the budget).

    Raises
    ------
    LedgerError
        The commitments take the whole budget or more: a new plan would get nothing (a budget of 0 plans nothing;
        raise the budget, or re-decide the commitments with ``--replan``).
    """
    left = float(budget_cny) - float(unspent_cny)
    if left <= 0.005:
        msg = (
            f"{ledger}: the commitments still to be paid (planned and under construction rows' remedy_cost_cny) "
            f"come to {unspent_cny:,.0f} CNY, the budget ([optimise] budget_cny or --budget-cny) is "
            f"{budget_cny:,.0f} CNY: nothing is left for a new plan; expected a budget above the commitments, or "
            "`coverplan run --replan planned` (or `--replan`) to re-decide them"
        )
        raise LedgerError(msg)
    logger.info(
        "budget %.0f CNY less %.0f CNY still committed: %.0f CNY for the new plan", budget_cny, unspent_cny, left
    )
    return round(left, 2)


def served_needs(plan_detail: str, lacks: str) -> str:
    """The needs a row's plan serves (``;``-joined), from its ``plan_detail`` (``need: year (kind id); ...``);
    ``lacks`` when the plan names none (a commitment entered by hand)."""
    needs = [part.split(":", 1)[0].strip() for part in plan_detail.split(";") if ":" in part]
    needs = [n for n in dict.fromkeys(needs) if n]
    return ";".join(needs) if needs else lacks


def with_commitments(measured: pd.DataFrame | None, committed: pd.DataFrame, *, outlet_mbps: float) -> pd.DataFrame:
    """The ledger's evidence (:func:`planning.status.ledger.ledger_evidence`) with every commitment counted as
    delivered: the optimiser then plans only what no commitment closes.

    A committed row reads as ``accepted`` for the needs its plan serves (:func:`served_needs`); a school whose plan
    serves its outlet (``outlet``) is counted at ``outlet_mbps`` (Mbps, the target), one whose plan only connects it at
    0 Mbps (connected, outlet still lacking). Rows that are not commitments keep their evidence.
    """
    cols = ["status", "lacks", "measured_mbps", "reason", "access"]
    base = measured if measured is not None else pd.DataFrame(columns=cols)
    out = base.reindex(base.index.union(committed.index))[cols].astype(object)
    ids = committed.index
    serves = pd.Series(
        [served_needs(d, lk) for d, lk in zip(committed["plan_detail"], committed["lacks"], strict=True)],
        index=ids,
        dtype=object,
    )
    out.loc[ids, "status"] = "accepted"
    out.loc[ids, "lacks"] = serves
    mbps = np.where(serves.str.contains("outlet").to_numpy(dtype=bool), float(outlet_mbps), 0.0)
    out.loc[ids, "measured_mbps"] = mbps
    out["measured_mbps"] = pd.to_numeric(out["measured_mbps"], errors="coerce").astype(float)
    return out


def _in_plan(status: pd.Series, remedy_id: pd.Series) -> pd.Series:
    """Rows the plan serves: a remedy, and a status that is neither unconnected nor excluded."""
    return (remedy_id != "") & ~status.isin(["", "unconnected", EXCLUDED])


def plan_diff(before: pd.DataFrame, after: pd.DataFrame, *, kept: pd.Index | None = None) -> pd.DataFrame:
    """Per ledger row, how the plan changed between two ledger tables (before the run, after it).

    Parameters
    ----------
    before, after : DataFrame
        Ledger tables (``id``, ``name``, ``county``, ``status``, ``remedy``, ``remedy_id``, ``remedy_cost_cny``,
        ``batch``, ``year``, ``reason``): the project's ledger the run read, the ledger it wrote.
    kept : Index, optional
        The ids the run kept as commitments (:func:`commitments`).

    Returns
    -------
    DataFrame
        :data:`DIFF_COLUMNS`, one row per id in a plan before or after (or excluded from one): ``change`` one of
        ``kept``, ``added``, ``dropped``, ``moved``, ``replaced``, ``done``; ``reason`` in words; money in CNY
        (the row's cost share).
    """
    b = before.assign(id=before["id"].astype(str)).set_index("id")
    a = after.assign(id=after["id"].astype(str)).set_index("id")
    ids = a.index.union(b.index)
    b, a = b.reindex(ids), a.reindex(ids)
    sb, sa = _status(b), _status(a)
    rb, ra = _text(b, "remedy_id"), _text(a, "remedy_id")
    inb, ina = rb != "", _in_plan(sa, ra)  # before: a remedy (a field report may have excluded it since)
    kept_ids = set(kept.astype(str)) if kept is not None else set()
    bb, ba = _number(b, "batch"), _number(a, "batch")
    rows = []
    why = _text(a, "reason")
    for rid in ids[(inb | ina).to_numpy()]:
        change, reason = _change(
            sb[rid], sa[rid], rb[rid], ra[rid], bb[rid], ba[rid], committed=rid in kept_ids, reason=why[rid]
        )
        rows.append((rid, change, reason))
    frame = pd.DataFrame(rows, columns=["id", "change", "reason"]).set_index("id")
    sel = frame.index
    out = pd.DataFrame(
        {
            "id": sel,
            "name": _text(a, "name").reindex(sel).where(ina.reindex(sel), _text(b, "name").reindex(sel)).to_numpy(),
            "county": _text(a, "county").combine(_text(b, "county"), lambda x, y: x or y).reindex(sel).to_numpy(),
            "change": frame["change"].to_numpy(),
            "reason": frame["reason"].to_numpy(),
            "status_before": sb.reindex(sel).to_numpy(),
            "status_after": sa.reindex(sel).to_numpy(),
            "remedy_before": _text(b, "remedy").reindex(sel).to_numpy(),
            "remedy_after": _text(a, "remedy").reindex(sel).to_numpy(),
            "remedy_id_before": rb.reindex(sel).to_numpy(),
            "remedy_id_after": ra.reindex(sel).to_numpy(),
            "batch_before": bb.reindex(sel).to_numpy(),
            "batch_after": ba.reindex(sel).to_numpy(),
            "year_before": _number(b, "year").reindex(sel).to_numpy(),
            "year_after": _number(a, "year").reindex(sel).to_numpy(),
            "cost_before_cny": _number(b, "remedy_cost_cny").where(inb, np.nan).reindex(sel).to_numpy(),
            "cost_after_cny": _number(a, "remedy_cost_cny").where(ina, np.nan).reindex(sel).to_numpy(),
        }
    )
    order = {c: i for i, c in enumerate(CHANGES)}
    out = out.sort_values(["change", "batch_after", "id"], key=lambda s: s.map(order) if s.name == "change" else s)
    return out.reset_index(drop=True)[list(DIFF_COLUMNS)]


def _change(
    sb: str, sa: str, rb: str, ra: str, bb: float, ba: float, *, committed: bool, reason: str
) -> tuple[str, str]:
    """``(change, reason)`` of one row (see :func:`plan_diff`): statuses, remedy ids and batches before and after,
    whether the run kept it as a commitment, the exclusion reason after."""
    inb = rb != ""
    ina = ra != "" and sa not in ("", "unconnected", EXCLUDED)
    if sa == EXCLUDED:
        return "dropped", f"excluded (核减) by a field report{f': {reason}' if reason else ''}"
    if sa == "accepted":
        return "done", "accepted (验收): closed, nothing left to plan"
    if inb != ina:
        if inb:
            return "dropped", "no longer chosen: the optimiser serves its needs otherwise or not at all"
        return "added", "newly lacking: chosen by the optimiser" if sb == "" else "chosen by the optimiser"
    if committed:
        return "kept", f"committed ({sa}): remedy, money, batch and year kept"
    if rb != ra:
        return "replaced", f"re-optimised: {rb} -> {ra}"
    moved = not (np.isnan(bb) and np.isnan(ba)) and bb != ba
    return ("moved", f"re-phased: batch {bb:g} -> {ba:g}") if moved else ("kept", "chosen again")


def diff_totals(diff: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per change (:data:`CHANGES`): ``rows`` and money (CNY): ``before_cny`` and ``after_cny`` (cost shares)."""
    out = {}
    for change in CHANGES:
        part = diff[diff["change"] == change]
        out[change] = {
            "rows": len(part),
            "before_cny": round(float(part["cost_before_cny"].fillna(0).sum()), 2),
            "after_cny": round(float(part["cost_after_cny"].fillna(0).sum()), 2),
        }
    return out


def shares_before(targets: pd.DataFrame) -> dict[str, float]:
    """The region's KPI shares before any plan (``{key}_before``) from the real evidence's KPI table
    (:func:`planning.status.kpi.kpi_table`): a proposal planned with its commitments delivered reports these as
    its starting point, not the shares with the commitments counted as built."""
    row = targets[targets["county"] == REGION].iloc[0]
    return {f"{k.key}_before": round(float(row[f"{k.key}_share"]), 4) for k in KPIS}
