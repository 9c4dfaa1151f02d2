"""The ledger's (台账) names shared by its two backends: the lifecycle, the columns, the error
(:mod:`planning.status.ledger` for the GeoPackage, :mod:`planning.status.ledger_pg` for PostgreSQL + PostGIS)."""

from __future__ import annotations

from collections.abc import Iterable

from gis.errors import CoverplanError, Problem

#: The lifecycle in order; ``excluded`` stands outside it.
STATUSES: tuple[str, ...] = ("unconnected", "planned", "under_construction", "completed", "accepted")
EXCLUDED = "excluded"
#: Earlier status names still accepted in field reports.
STATUS_ALIASES = {"connected": "completed", "verified": "accepted"}
#: Why a row may be excluded (see the module docstring).
EXCLUSION_REASONS: tuple[str, ...] = ("relocated", "merged", "other_programme")
RANK = {s: i for i, s in enumerate(STATUSES)}
#: The feature table (one row per village or school) and the attribute table of its dated events.
LEDGER_TABLE = "ledger"
HISTORY_TABLE = "ledger_history"
#: Notes of the events a run writes (a row's creation, the plan's changes); any other event is a field report.
RUN_NOTES = ("created", "plan")
#: Fields that change over a row's life; each change is an event.
TRACKED = (
    "lacks",
    "remedy",
    "remedy_id",
    "remedy_cost_cny",
    "batch",
    "year",
    "funding",
    "plan_detail",
    "measured_mbps",
    "reason",
)
#: The plan's fields of a row (:func:`record_plan`).
PLAN_FIELDS = ("remedy", "remedy_id", "remedy_cost_cny", "batch", "year", "funding", "plan_detail")
NUMERIC_COLUMNS = ("remedy_cost_cny", "batch", "year", "measured_mbps")
LEDGER_COLUMNS = [
    "id",
    "layer",
    "name",
    "county",
    "kind",
    "lacks",
    "access",
    "evidence",
    "remedy",
    "remedy_id",
    "remedy_cost_cny",
    "batch",
    "year",
    "funding",
    "plan_detail",
    "status",
    "status_date",
    "note",
    "measured_mbps",
    "reason",
]
#: The columns of :data:`HISTORY_TABLE`, in order.
HISTORY_COLUMNS = ("event_id", "id", "event_date", "field", "old", "new", "note", "source", "recorded_at")

#: The MIIT 台账's fields: fixed per row (division code, poverty flags) and tracked as events per row (fibre and
#: 4G status per operator, access Mbps, universal-service inclusion and batch, 未通原因, building enterprise,
#: accepted by and on); held by the PostGIS ledger.
MIIT_FIXED = ("operator", "division_code", "designated_county", "contiguous_poverty_area", "deep_poverty")
OPERATORS = ("telecom", "unicom", "mobile")
MIIT_TRACKED = (
    *(f"fibre_status_{o}" for o in OPERATORS),
    *(f"lte_status_{o}" for o in OPERATORS),
    "access_mbps",
    "usf_included",
    "usf_batch",
    "unconnected_reason",
    "builder",
    "accepted_by",
    "accepted_on",
)


class LedgerError(CoverplanError, ValueError):
    """A ledger file or an update that cannot be used; ``problems`` lists every bad row."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = tuple(problems)
        text = message
        if self.problems:
            text += "\n" + "\n".join(str(p) for p in self.problems[:100])
            if len(self.problems) > 100:
                text += f"\n... and {len(self.problems) - 100} more"
        super().__init__(text)


#: How long a ledger command waits for another process's lock (s).
LOCK_TIMEOUT_S = 60.0
