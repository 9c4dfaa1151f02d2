"""Status: what each village and school has, from measured, reported and predicted evidence
(:mod:`planning.status.evidence`), the programmes' KPIs per county (:mod:`planning.status.kpi`), and the ledger
(台账) of what is still unconnected with its dated history (:mod:`planning.status.ledger`, field reports in
:mod:`planning.status.ledger_updates`, reconciliation with official counts in :mod:`planning.status.reconcile`,
re-planning that keeps commitments in :mod:`planning.status.ledger_replan`, the XLSX 台账 in
:mod:`planning.status.ledger_xlsx`)."""

from planning.status.kpi import KPI_NEED, KPIS, kpi_table, share, short_kpis
from planning.status.ledger import (
    LEDGER_COLUMNS,
    LedgerError,
    copy_ledger,
    create_ledger,
    diff,
    ledger_evidence,
    parse_date,
    read_history,
    read_ledger,
    record_plan,
    state_at,
)
from planning.status.ledger_base import STATUSES, status_name
from planning.status.ledger_pg import import_ledger, is_ledger_url, migrate, shown_url
from planning.status.ledger_replan import (
    COMMITTED,
    UNSPENT,
    Replan,
    budget_left,
    commitments,
    diff_totals,
    plan_diff,
    shares_before,
    unspent_by_year,
    with_commitments,
)
from planning.status.ledger_updates import apply_updates, read_updates
from planning.status.ledger_xlsx import export_xlsx, import_xlsx
from planning.status.reconcile import ledger_school_counts, read_official_counts, reconcile
from planning.status.stage import GapsResult, gaps_stage

__all__ = [
    "COMMITTED",
    "KPIS",
    "KPI_NEED",
    "LEDGER_COLUMNS",
    "STATUSES",
    "UNSPENT",
    "GapsResult",
    "LedgerError",
    "Replan",
    "apply_updates",
    "budget_left",
    "commitments",
    "copy_ledger",
    "create_ledger",
    "diff",
    "diff_totals",
    "export_xlsx",
    "gaps_stage",
    "import_ledger",
    "import_xlsx",
    "is_ledger_url",
    "kpi_table",
    "ledger_evidence",
    "ledger_school_counts",
    "migrate",
    "parse_date",
    "plan_diff",
    "read_history",
    "read_ledger",
    "read_official_counts",
    "read_updates",
    "reconcile",
    "record_plan",
    "share",
    "shares_before",
    "short_kpis",
    "shown_url",
    "state_at",
    "status_name",
    "unspent_by_year",
    "with_commitments",
]
