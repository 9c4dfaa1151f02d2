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
#: Field reports' statuses in Chinese, as county offices and operators write them in their 台账 (the 2018 MIIT
#: network poverty-alleviation ledger's words: 规划 planned, 在建 under construction, 竣工 completed, 验收
#: accepted, 核减 taken off the list).
STATUS_WORDS_ZH = {
    "未通": "unconnected",
    "未开通": "unconnected",
    "未建": "unconnected",
    "规划": "planned",
    "已规划": "planned",
    "纳入规划": "planned",
    "计划": "planned",
    "在建": "under_construction",
    "建设中": "under_construction",
    "施工中": "under_construction",
    "已开工": "under_construction",
    "竣工": "completed",
    "已竣工": "completed",
    "完工": "completed",
    "已完工": "completed",
    "建成": "completed",
    "已建成": "completed",
    "验收": "accepted",
    "已验收": "accepted",
    "通过验收": "accepted",
    "核减": "excluded",
    "已核减": "excluded",
    "剔除": "excluded",
}
#: Exclusion reasons in Chinese: 易地扶贫搬迁 relocated, 撤并 merged, another programme serves it.
REASON_WORDS_ZH = {
    "易地扶贫搬迁": "relocated",
    "易地搬迁": "relocated",
    "搬迁": "relocated",
    "撤并": "merged",
    "合并": "merged",
    "撤销": "merged",
    "其他项目": "other_programme",
    "其他渠道": "other_programme",
}


def status_name(text: str) -> str:
    """The lifecycle's name of a report's status: English (any case), an earlier name, or Chinese
    (:data:`STATUS_WORDS_ZH`); an unknown word comes back lower-cased (the caller refuses it)."""
    word = text.strip()
    word = STATUS_WORDS_ZH.get(word, word.lower())
    return STATUS_ALIASES.get(word, word)


def reason_name(text: str) -> str:
    """An exclusion reason's name from English or Chinese (:data:`REASON_WORDS_ZH`)."""
    word = text.strip()
    return REASON_WORDS_ZH.get(word, word.lower())


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
