"""Field reports applied to the ledger (台账): all or nothing, in date order, as the pilots' lifecycle allows.

A report file (CSV, UTF-8 or GBK) has ``id``, ``status``, ``date`` (``YYYY-MM-DD``) and optional ``note``,
``measured_mbps`` and ``reason``:

* the status follows the lifecycle ``unconnected < planned < under_construction < completed < accepted``;
  going back needs ``force``; ``connected``/``verified`` are read as ``completed``/``accepted``;
* ``accepted`` (验收) of a school needs the acceptance test's ``measured_mbps`` (a finite number, 0-100,000);
  a village's is optional;
* ``excluded`` needs a ``reason``: ``relocated`` (易地扶贫搬迁), ``merged`` (撤并) or ``other_programme``; an
  excluded row comes back only with ``force``;
* a date may not be in the future, nor before the programme's first year (:data:`FIRST_REPORT_DATE`: the
  universal telecom service pilot began with MoF and MIIT's 2015 notice 关于开展电信普遍服务试点工作的通知),
  nor before the row's last recorded change, except for a **back-fill**: the
  row's first field report may be dated before the row was entered in the ledger (a school connected in 2025-06,
  reported against a ledger created in 2026-01). It is recorded as a dated event with an empty ``old`` (the row
  exists from that date) that supersedes the run's status events before it, so the ledger says ``completed`` since
  2025-06 now and at every date since (:func:`planning.status.ledger.state_at`), and its status is what the next
  run's evidence reads. The lifecycle checks apply as for any report (from the row's current status), and later
  reports follow the back-fill in date order.

Every report runs in one SQLite transaction opened with ``BEGIN IMMEDIATE``: each row is checked against the
ledger as it stands inside that transaction; one bad row rejects the whole file with the list of bad rows, and the
ledger is unchanged. A crash mid-update leaves the previous state (SQLite's rollback journal); concurrent updates
wait for the write lock (``timeout_s``) and apply one after the other.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import Problem
from gis.files import not_a_regular_file
from gis.text import text_problem
from planning.status import ledger_pg
from planning.status.ledger import (
    LedgerWriter,
    check_statuses,
    creation_dates,
    ledger_transaction,
    parse_date,
    read_csv_file,
    superseded_events,
)
from planning.status.ledger_base import (
    EXCLUDED,
    EXCLUSION_REASONS,
    LOCK_TIMEOUT_S,
    MIIT_TRACKED,
    RANK,
    RUN_NOTES,
    STATUS_ALIASES,
    STATUSES,
    LedgerError,
    reason_name,
    status_name,
)
from planning.status.ledger_miit import HEADERS_ZH, miit_value

logger = logging.getLogger(__name__)

UPDATE_COLUMNS = ("id", "status", "date", "note", "measured_mbps", "reason")
#: The first day a field report may be dated: the year the programme began. The universal telecom service pilot
#: (电信普遍服务试点) began with 财政部、工业和信息化部《关于开展电信普遍服务试点工作的通知》 (MoF and MIIT, 2015);
#: a link that existed before then is the layers' reported access, not a report on this ledger.
FIRST_REPORT_DATE = dt.date(2015, 1, 1)
#: Largest measured outlet an acceptance may record (Mbps): 100 Gbit/s.
MAX_MEASURED_MBPS = 100_000.0


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: rows applied, rows that changed nothing, events written."""

    applied: int
    unchanged: int
    events: int


def read_updates(path: str | Path) -> pd.DataFrame:
    """A field-report CSV (``id``, ``status``, ``date``; optional ``note``, ``measured_mbps``, ``reason``), all
    columns as text."""
    path = Path(path)
    why = not_a_regular_file(path)
    if why:
        msg = f"update file `{path}` {why}"
        raise LedgerError(msg)
    frame = read_csv_file(path, "ledger_update")
    frame = frame.rename(columns={c: HEADERS_ZH[c.strip()] for c in frame.columns if c.strip() in HEADERS_ZH})
    missing = [c for c in ("id", "status", "date") if c not in frame.columns]
    if missing:
        msg = f"{path}: missing column(s) {missing}; expected columns {list(UPDATE_COLUMNS)} (the last three optional)"
        raise LedgerError(msg)
    for col in ("note", "measured_mbps", "reason"):
        if col not in frame:
            frame[col] = ""
    return frame


def apply_updates(
    ledger: str | Path,
    updates: pd.DataFrame,
    *,
    force: bool = False,
    source: str = "",
    timeout_s: float = LOCK_TIMEOUT_S,
    today: dt.date | None = None,
) -> UpdateResult:
    """Apply field reports to the ledger in one transaction, or reject them all (see the module docstring).

    Parameters
    ----------
    ledger : path
        The ledger GeoPackage.
    updates : DataFrame
        Columns ``id`` (``layer:id``, or the plain id when it is unique in the ledger), ``status``, ``date``,
        optional ``note``, ``measured_mbps``, ``reason``; rows apply in order.
    force : bool
        Allow a status to go backwards, or an excluded row to come back.
    source : str
        Recorded with each event (the update file's name).
    timeout_s : float
        How long to wait for another writer's lock.
    today : date, optional
        Reports dated after it are refused (a typo such as 2099 would lock the row forever); default today.

    Raises
    ------
    LedgerError
        Listing every bad row (file row number, id, column, what was expected); nothing is written then.
    """
    path = ledger if ledger_pg.is_ledger_url(ledger) else Path(ledger)
    updates = updates.copy()
    for col in ("note", "measured_mbps", "reason"):
        if col not in updates:
            updates[col] = ""
    # the write lock first: checks see the ledger as it will be changed
    with ledger_transaction(path, timeout_s=timeout_s) as tx:
        result = _apply(tx, updates, force=force, source=source or "update", today=today or dt.date.today(), path=path)
    logger.info("ledger %s: %d rows updated, %d unchanged", path, result.applied, result.unchanged)
    return result


@dataclass
class _Checker:
    """The ledger as an update changes it, row by row, and the problems found."""

    state: dict[str, dict[str, str]]
    last: dict[str, str]
    created: dict[str, str]
    reported: set[str]
    plain: dict[str, list[str]]
    force: bool
    today: dt.date
    source: str
    problems: list[Problem]
    #: The MIIT fields the report carries (:mod:`planning.status.ledger_miit`).
    miit: tuple[str, ...] = ()

    def bad(self, row: int, rid: str, column: str, message: str) -> None:
        self.problems.append(
            Problem("ledger_update", message, file=self.source, row=row, row_id=rid or None, column=column)
        )

    def resolve(self, i: int, raw_id: str) -> str | None:
        if raw_id in self.state:
            return raw_id
        hits = self.plain.get(raw_id, [])
        if len(hits) == 1:
            return hits[0]
        if hits:
            self.bad(i, raw_id, "id", f"`{raw_id}` matches {hits}; expected a `layer:id` that names one row")
        else:
            self.bad(i, raw_id, "id", f"unknown id `{raw_id}`; expected an id in the ledger")
        return None


def _apply(
    tx: LedgerWriter | ledger_pg.PgLedgerWriter,
    updates: pd.DataFrame,
    *,
    force: bool,
    source: str,
    today: dt.date,
    path: str | Path,
) -> UpdateResult:
    miit = tuple(c for c in MIIT_TRACKED if c in updates.columns)
    rows = tx.current(("id", "status", "status_date", "note", "measured_mbps", "reason", "layer", *miit))
    check_statuses([r[0] for r in rows], [r[1] for r in rows], path)
    state: dict[str, dict[str, str]] = {
        str(r[0]): {
            "status": STATUS_ALIASES.get(str(r[1]), str(r[1])),
            "date": str(r[2]),
            "note": str(r[3] or ""),
            "measured_mbps": "" if r[4] is None else str(r[4]),
            "reason": str(r[5] or ""),
            "layer": str(r[6]),
            **{f: _stored(v) for f, v in zip(miit, r[7:], strict=True)},
        }
        for r in rows
    }
    plain: dict[str, list[str]] = {}
    for full in state:
        plain.setdefault(full.split(":", 1)[-1], []).append(full)
    hist = tx.events(("event_id", "id", "event_date", "field", "note"))
    live = hist[~superseded_events(hist)]
    status_events = hist[hist["field"] == "status"]
    chk = _Checker(
        state=state,
        last=live.groupby("id")["event_date"].max().to_dict(),
        created=creation_dates(hist).to_dict(),
        reported=set(status_events.loc[~status_events["note"].isin(RUN_NOTES), "id"]),
        plain=plain,
        force=force,
        today=today,
        source=source,
        problems=[],
        miit=miit,
    )
    old = {k: dict(v) for k, v in state.items()}
    plan: list[tuple[str, dict[str, str], bool]] = []
    unchanged = 0
    for i, rec in enumerate(updates.itertuples(index=False), start=1):
        change = _check_row(chk, i, rec)
        if change is None:
            continue
        rid, new, backfill = change
        same = all(new[k] == (chk.state[rid].get(k) or "") for k in new if k != "date")
        if same and not backfill:  # a back-fill always says something new: since when
            unchanged += 1
            continue
        plan.append((rid, new, backfill))
        chk.state[rid] = {**chk.state[rid], **new}
        chk.last[rid] = new["date"]
        chk.reported.add(rid)
    if chk.problems:
        msg = f"{len(chk.problems)} bad row(s) in the update; nothing was applied"
        raise LedgerError(msg, chk.problems)
    events = 0
    for rid, new, backfill in plan:
        events += _write(tx, rid, old[rid], new, source=source, backfill=backfill, forced=force)
        old[rid] = {**old[rid], **new}
    return UpdateResult(applied=len(plan), unchanged=unchanged, events=events)


def _cell(value: object) -> str:
    """A report cell as text: '' for an empty one (a missing field reads as NaN or None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _text_cells(chk: _Checker, i: int, raw_id: str, rec: object) -> bool:
    """Record a problem per cell holding a control character, noncharacter or surrogate (GDAL truncates text at a
    NUL; an escape sequence would reach the terminal); True when every cell is printable text."""
    ok = True
    for col in (*UPDATE_COLUMNS, *chk.miit):
        why = text_problem(_cell(getattr(rec, col, "")))
        if why:
            chk.bad(i, raw_id, col, why)
            ok = False
    return ok


def _check_row(chk: _Checker, i: int, rec: Any) -> tuple[str, dict[str, str], bool] | None:
    """The checked change of one report row (a row of ``DataFrame.itertuples``) and whether it is a back-fill, or
    None (a problem recorded)."""
    raw_id = _cell(rec.id).strip()
    if not _text_cells(chk, i, raw_id if not text_problem(raw_id) else "", rec):
        return None
    if not raw_id:
        chk.bad(i, "", "id", "is empty; expected the `layer:id` (or the plain id) of a ledger row")
        return None
    rid = chk.resolve(i, raw_id)
    if rid is None:
        return None
    raw_status, raw_date = _cell(rec.status).strip(), _cell(rec.date).strip()
    status = status_name(raw_status)
    date = parse_date(raw_date)
    n_before = len(chk.problems)
    backfill = False
    if status not in RANK and status != EXCLUDED:
        what = f"`{raw_status}` is not a status" if raw_status else "is empty"
        chk.bad(i, raw_id, "status", f"{what}; expected one of {[*STATUSES, EXCLUDED]}")
    if date is None:
        what = f"`{raw_date}` is not a date" if raw_date else "is empty"
        chk.bad(i, raw_id, "date", f"{what}; expected YYYY-MM-DD (or YYYY/M/D, YYYY年M月D日)")
    elif date < FIRST_REPORT_DATE:
        chk.bad(
            i,
            raw_id,
            "date",
            f"{date.isoformat()} is before the programme began ({FIRST_REPORT_DATE.isoformat()}: the universal "
            "telecom service pilot, MoF/MIIT 2015); expected the date the change happened (a link older than that "
            "belongs in the layer's reported access)",
        )
    elif date > chk.today:
        chk.bad(
            i,
            raw_id,
            "date",
            f"{date.isoformat()} is in the future (today is {chk.today.isoformat()}); "
            "expected the date the change happened",
        )
    elif chk.last.get(rid) and date.isoformat() < chk.last[rid]:
        backfill = _backfill(chk, i, raw_id, rid, date.isoformat())
    mbps, reason = _measured(chk, i, raw_id, rec, status, chk.state[rid]["layer"]), _reason(chk, i, raw_id, rec, status)
    extra = _miit_cells(chk, i, raw_id, rec)
    if len(chk.problems) == n_before:
        _order(chk, i, raw_id, chk.state[rid]["status"], status)
    if len(chk.problems) > n_before or date is None:
        return None
    note = _cell(rec.note)
    assert date is not None  # a missing or bad date is a problem recorded above
    new = {"status": status, "date": date.isoformat(), "note": note, "measured_mbps": mbps, "reason": reason}
    return rid, {**new, **extra}, backfill


def _stored(value: object) -> str:
    """A MIIT field's stored value as a report writes it ('' for empty; a number without a trailing ``.0``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _miit_cells(chk: _Checker, i: int, raw_id: str, rec: Any) -> dict[str, str]:
    """The report's non-empty MIIT cells, each as the ledger writes it (a problem recorded per bad cell)."""
    out = {}
    for field in chk.miit:
        text = _cell(getattr(rec, field, "")).strip()
        if not text:
            continue
        value, why = miit_value(field, text, parse_date=parse_date, today=chk.today)
        if why:
            chk.bad(i, raw_id, field, f"`{text}`: {why}")
        else:
            out[field] = value
    return out


def _backfill(chk: _Checker, i: int, raw_id: str, rid: str, day: str) -> bool:
    """A report dated before the row's last change: a back-fill (True) when the row has no field report yet and the
    date is before the row was entered in the ledger; else a problem."""
    created = chk.created.get(rid, "")
    if rid not in chk.reported and day < created:
        return True
    why = (
        f"this row has field reports already: a report dated before the row was entered ({created}) is accepted "
        "only as its first"
        if rid in chk.reported and day < created
        else "expected events in date order"
    )
    chk.bad(i, raw_id, "date", f"{day} is before this row's last recorded change ({chk.last[rid]}); {why}")
    return False


def _order(chk: _Checker, i: int, raw_id: str, old: str, new: str) -> None:
    """Backwards moves and returns from ``excluded`` need ``force``."""
    if chk.force or new in (EXCLUDED, old):
        return
    if old == EXCLUDED:
        chk.bad(i, raw_id, "status", f"`{old}` -> `{new}`: the row was excluded; expected --force to bring it back")
    elif RANK[new] < RANK[old]:
        chk.bad(
            i,
            raw_id,
            "status",
            f"`{old}` -> `{new}` goes backwards; expected a later status (order {' < '.join(STATUSES)}) or --force",
        )


def _measured(chk: _Checker, i: int, raw_id: str, rec: object, status: str, layer: str) -> str:
    """The measured outlet (text): required for an accepted school, a finite number within range when given."""
    text = _cell(getattr(rec, "measured_mbps", "")).strip()
    if not text:
        if status == "accepted" and layer == "schools":
            chk.bad(
                i,
                raw_id,
                "measured_mbps",
                "is empty; expected the acceptance test's outlet (Mbps) of an accepted school",
            )
        return ""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0.0 <= value <= MAX_MEASURED_MBPS:
        chk.bad(
            i,
            raw_id,
            "measured_mbps",
            f"`{text}` is not a speed; expected a number from 0 to {MAX_MEASURED_MBPS:,.0f} Mbps",
        )
        return ""
    return f"{value:g}"


def _reason(chk: _Checker, i: int, raw_id: str, rec: object, status: str) -> str:
    """An exclusion's reason: required with ``excluded``, one of :data:`EXCLUSION_REASONS`."""
    text = reason_name(_cell(getattr(rec, "reason", "")))
    if status == EXCLUDED and text not in EXCLUSION_REASONS:
        chk.bad(
            i,
            raw_id,
            "reason",
            f"`{text}` is not a reason; expected one of {list(EXCLUSION_REASONS)} with status excluded",
        )
        return ""
    return text if status == EXCLUDED else ""


def _write(
    tx: LedgerWriter | ledger_pg.PgLedgerWriter,
    rid: str,
    old: dict[str, str],
    new: dict[str, str],
    *,
    source: str,
    backfill: bool = False,
    forced: bool = False,
) -> int:
    """One row's change: the ledger row and an event per changed field (status last; a back-fill's status event has
    an empty ``old``: the row exists from its date)."""
    measured = float(new["measured_mbps"]) if new["measured_mbps"] else None
    values: dict[str, object] = {"status": new["status"], "status_date": new["date"], "note": new["note"]}
    if measured is not None:  # an empty report keeps the measurement recorded before
        values["measured_mbps"] = measured
    miit = [f for f in MIIT_TRACKED if f in new and new[f] != (old.get(f) or "")]
    tx.set_fields(rid, {**values, "reason": new["reason"], **{f: new[f] for f in miit}})
    events = 0
    for field in (*miit, "measured_mbps", "reason", "status"):
        if field in ("measured_mbps", "reason") and (
            new[field] == (old[field] or "") or (field == "measured_mbps" and not new[field])
        ):
            continue
        before = None if backfill and field == "status" else old.get(field) or None
        tx.add_event(
            rid,
            date=new["date"],
            field=field,
            old=before,
            new=new[field],
            note=new["note"],
            source=source,
            forced=forced and field == "status",
        )
        events += 1
    return events
