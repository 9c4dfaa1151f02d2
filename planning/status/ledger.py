"""The ledger (台账) of unconnected and under-served villages and schools, with its full history.

Storage: one GeoPackage (SQLite) file, the embedded default; a province's ledger lives in PostgreSQL + PostGIS
(:mod:`planning.status.ledger_pg`), and every function here taking a ledger ``path`` takes its URL
(``postgresql://...``) too. Only the GeoPackage's own plumbing (:func:`open_ledger`, :func:`read_events` on an
SQLite connection) is file-only.

* ``ledger`` (feature table): one row per village/school that lacks something (or did: rows are never deleted),
  with ``id`` (``layer:id``), ``layer``, ``name``, ``county``, ``kind``, ``lacks``, ``access`` (as reported),
  ``evidence`` (what its status rests on: measured, reported, predicted, unknown), the plan's ``remedy`` (kind of
  the chosen intervention), ``remedy_id``, ``remedy_cost_cny``, ``batch``, ``year``, ``funding``, the ``status``
  and its ``status_date``, ``note``, the acceptance test's ``measured_mbps`` and an exclusion's ``reason``, and
  the point geometry.
* ``ledger_history`` (attribute table): every change as a dated event (``event_id``, ``id``, ``event_date``,
  ``field``, ``old``, ``new``, ``note``, ``source``, ``recorded_at``). Creation is an event too, so the ledger at
  any past date is rebuilt by replaying the events up to that date (:func:`state_at`) and two dates compared
  (:func:`diff`).
* A **back-fill**: a row's first field report may be dated before the row was entered (a school connected in
  2025-06, reported against a ledger created in 2026-01). Its status event is dated when the change happened,
  with an empty ``old`` (the row exists from that date), and it supersedes the status events the runs recorded
  before it (creation, planned and back: written while the field state was unknown), so a replay gives the
  reported status from its date on (:func:`superseded_events`). A status event dated before its row's creation
  event is a back-fill; only :mod:`planning.status.ledger_updates` writes one.

The lifecycle, as pilots run it: ``unconnected`` < ``planned`` (纳入第N批试点: batch, year, remedy, funding) <
``under_construction`` < ``completed`` (竣工) < ``accepted`` (验收, with the measured Mbps and the date); and
``excluded`` with a reason: ``relocated`` (易地扶贫搬迁: the village or school moved; it leaves the KPIs),
``merged`` (撤并: it leaves the KPIs), ``other_programme`` (served by another programme: out of this plan, still
counted). ``connected`` and ``verified`` (earlier names) are read as ``completed`` and ``accepted``.

A run writes its plan into the ledger as dated events (:func:`record_plan`): rows newly lacking something are
added; rows the plan serves get their remedy, cost, batch and year and move from ``unconnected`` to
``planned``; a planned row the plan no longer serves goes back to ``unconnected``; every change is an event.
Field reports go through :mod:`planning.status.ledger_updates`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
import stat
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.errors import LayerError, Problem
from gis.files import not_a_regular_file
from gis.gpkg_sql import register_gpkg_functions
from gis.readers import read_csv_text
from planning.status import ledger_pg
from planning.status.ledger_base import (
    EXCLUDED,
    HISTORY_COLUMNS,
    HISTORY_TABLE,
    LEDGER_COLUMNS,
    LEDGER_TABLE,
    LOCK_TIMEOUT_S,
    MIIT_FIXED,
    MIIT_TRACKED,
    NUMERIC_COLUMNS,
    PLAN_FIELDS,
    STATUS_ALIASES,
    STATUSES,
    TRACKED,
    LedgerError,
)

logger = logging.getLogger(__name__)

#: The link technology a remedy kind gives (for an accepted row's status).
REMEDY_ACCESS = {
    "fibre": "fibre",
    "line_upgrade": "fibre",
    "satellite": "satellite",
    "new_site": "4g",
    "share": "4g",
    "upgrade_5g": "5g",
    "share_5g": "5g",
}


#: The ledger's own bookkeeping (attribute table): the events and rows it holds as of its last commit, written by
#: every coverplan transaction; a file whose tables disagree with it was copied or changed in mid-update.
META_TABLE = "ledger_meta"
_COPIED_MIDWAY = (
    "the file was copied or changed in the middle of an update (a copy taken without its `-journal` file after a "
    "crash holds half of that update), or rows or events were added or deleted outside coverplan; nothing was read. "
    "Expected the original ledger with its `-journal` file next to it (SQLite then rolls the unfinished update "
    "back), or an earlier backup"
)


def _connect(path: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> sqlite3.Connection:
    """A read-write connection that waits ``timeout_s`` for other processes' locks, with the SQL functions GDAL's
    GeoPackage triggers call (a ledger saved or indexed by ogr2ogr or QGIS: :mod:`gis.gpkg_sql`).

    Read-write, also for reading: SQLite then rolls back the journal a killed update left behind (a "hot
    journal") on first access, so the ledger is back at its state before that update; GDAL opens a GeoPackage
    read-only and would fail on it ("readonly database") until something else opened it read-write.
    """
    con = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None)
    register_gpkg_functions(con)
    con.execute("PRAGMA foreign_keys = ON")
    return con


def ledger_error(path: str | Path, exc: sqlite3.Error, *, writing: bool = False) -> LedgerError:
    """The LedgerError (file named, reason given) for an SQLite error met reading or (``writing``) changing it."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        why = f"it stayed locked by another process for {LOCK_TIMEOUT_S:g} s"
    elif "readonly" in text and writing:
        why = f"it cannot be written ({text}: a read-only file, folder or file system); nothing was changed"
    elif "readonly" in text:
        why = "it is read-only and a killed update left a journal to roll back; expected a writable file"
    else:
        why = f"not a readable GeoPackage ({text})"
    return LedgerError(f"ledger `{path}`: {why}")


def _read_only(path: Path) -> str:
    """Why ``path`` cannot take a write transaction ('' when it can): the file or its folder (where SQLite writes
    its journal) is read-only, by its mode (refused even for root: someone marked it so) or for this user."""
    for what, p in (("the file", path), ("its folder", path.parent)):
        mode = stat.S_IMODE(p.stat().st_mode)
        if not mode & 0o222 or not os.access(p, os.W_OK):
            return f"{what} `{p}` is read-only (mode {mode:04o})"
    return ""


def event_key(con: sqlite3.Connection) -> str:
    """The quoted column that numbers the events: ``event_id``, or in a ledger GDAL saved anew (``ogr2ogr``, QGIS
    "Save As": the history's key became GDAL's own ``fid``) the table's integer primary key."""
    info = con.execute(f"PRAGMA table_info({HISTORY_TABLE})").fetchall()
    if "event_id" in {r[1] for r in info}:
        return '"event_id"'
    pk = [str(r[1]) for r in info if r[5] == 1 and str(r[2]).upper() == "INTEGER"]
    name = pk[0] if len(pk) == 1 else "rowid"
    return '"' + name.replace('"', '""') + '"'


def read_events(con: sqlite3.Connection, columns: Iterable[str] = HISTORY_COLUMNS) -> pd.DataFrame:
    """The events (``columns`` of :data:`HISTORY_COLUMNS`) in the order they were recorded, read through ``con``."""
    key = event_key(con)
    cols = [c for c in columns if c in HISTORY_COLUMNS]
    sel = ", ".join(f"{key} AS event_id" if c == "event_id" else c for c in cols)
    return pd.read_sql_query(f"SELECT {sel} FROM {HISTORY_TABLE} ORDER BY {key}", con)


def _bookkeeping(con: sqlite3.Connection) -> tuple[int, int, int]:
    """(events, last event_id, rows) the tables hold now."""
    key = event_key(con)  # counted on the tables themselves (NOT INDEXED): an index may hold the other half
    events, last = con.execute(f"SELECT COUNT(*), COALESCE(MAX({key}), 0) FROM {HISTORY_TABLE} NOT INDEXED").fetchone()
    (rows,) = con.execute(f"SELECT COUNT(*) FROM {LEDGER_TABLE} NOT INDEXED").fetchone()
    return int(events), int(last), int(rows)


def _check_consistent(con: sqlite3.Connection, path: Path, tables: set[str]) -> None:
    """LedgerError when SQLite finds the file damaged, or its tables disagree with the bookkeeping of its last
    commit (:data:`META_TABLE`; a ledger without it, written by an earlier coverplan, is not checked so)."""
    check = [r[0] for r in con.execute("PRAGMA integrity_check(5)")]  # indexes against their tables too
    if check != ["ok"]:
        msg = f"ledger `{path}` is damaged (SQLite: {'; '.join(map(str, check))}): {_COPIED_MIDWAY}"
        raise LedgerError(msg)
    if META_TABLE not in tables:
        return
    meta = dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    have = _bookkeeping(con)
    try:
        said = tuple(int(meta[k]) for k in ("events", "last_event_id", "rows"))
    except (KeyError, TypeError, ValueError):
        said = None
    if said != have:
        msg = (
            f"ledger `{path}`: its last commit recorded {_counts(said)}, the file holds {_counts(have)}: "
            + _COPIED_MIDWAY
        )
        raise LedgerError(msg)


def _counts(counts: tuple[int, ...] | None) -> str:
    if counts is None:
        return "no readable bookkeeping"
    return f"{counts[0]} event(s) (last event_id {counts[1]}) and {counts[2]} row(s)"


def _stamp(con: sqlite3.Connection) -> None:
    """Record the bookkeeping of the transaction about to commit (the table created and registered when absent)."""
    if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (META_TABLE,)).fetchone():
        con.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
            (META_TABLE, META_TABLE, "the ledger's counts as of its last commit"),
        )
    events, last, rows = _bookkeeping(con)
    con.execute(f"DELETE FROM {META_TABLE}")  # no ON CONFLICT: a GIS tool's copy may have lost the primary key
    con.executemany(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
        [("events", str(events)), ("last_event_id", str(last)), ("rows", str(rows))],
    )


@contextlib.contextmanager
def open_ledger(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    """A connection to an existing coverplan ledger, checked (not damaged, consistent with its last commit);
    LedgerError (file named, reason given) for anything else. Tables: :data:`LEDGER_TABLE`, :data:`HISTORY_TABLE`.
    """
    path = Path(path)
    why = not_a_regular_file(path)
    if why:
        msg = f"ledger `{path}` {why.replace('expected a regular file', 'expected a ledger .gpkg file')}"
        raise LedgerError(msg)
    try:
        con = _connect(path, timeout_s=timeout_s)
    except sqlite3.Error as exc:
        raise ledger_error(path, exc) from exc
    try:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if {LEDGER_TABLE, HISTORY_TABLE} <= tables:
                con.execute("BEGIN")  # one read snapshot: a writer committing meanwhile waits
                try:
                    _check_consistent(con, path, tables)
                finally:
                    con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ledger_error(path, exc) from exc
        if not {LEDGER_TABLE, HISTORY_TABLE, "gpkg_contents", "gpkg_geometry_columns"} <= tables:
            msg = (
                f"`{path}` is not a coverplan ledger: expected the GeoPackage tables `{LEDGER_TABLE}` and "
                f"`{HISTORY_TABLE}`, found {sorted(tables)}"
            )
            raise LedgerError(msg)
        yield con
    finally:
        con.close()


@dataclass
class LedgerWriter:
    """A write transaction on a ledger (:func:`ledger_transaction`): ``con`` reads the ledger as it will be changed;
    every change goes through :meth:`set_fields` and :meth:`add_event`."""

    con: sqlite3.Connection
    path: Path
    #: When the transaction's events were recorded (UTC, ISO seconds).
    recorded_at: str
    _next_event_id: int
    _event_key: str = '"event_id"'

    def set_fields(self, rid: str, values: Mapping[str, object]) -> None:
        """Set the columns ``values`` of the row ``rid`` (None: empty)."""
        cols = list(values)
        for col in cols:
            if col not in LEDGER_COLUMNS and col not in MIIT_TRACKED:
                msg = f"`{col}` is not a ledger column; expected one of {[*LEDGER_COLUMNS, *MIIT_TRACKED]}"
                raise ValueError(msg)
        have = {r[1] for r in self.con.execute(f"PRAGMA table_info({LEDGER_TABLE})")}
        for col in (c for c in cols if c not in have):  # a MIIT field's first report adds its column
            kind = "REAL" if col == "access_mbps" else "TEXT"
            self.con.execute(f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN {col} {kind}")
        self.con.execute(
            f"UPDATE {LEDGER_TABLE} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            [*(values[c] for c in cols), rid],
        )

    def add_event(
        self,
        rid: str,
        *,
        date: str,
        field: str,
        old: object,
        new: object,
        note: str,
        source: str,
        forced: bool = False,
    ) -> None:
        """Record one dated event (``event_id`` numbered here: a GIS tool's copy may have lost its autoincrement);
        ``forced`` (a step backwards allowed) is the PostgreSQL ledger's, the GeoPackage records none."""
        self.con.execute(
            f"INSERT INTO {HISTORY_TABLE} ({self._event_key}, id, event_date, field, old, new, note, source, "
            "recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._next_event_id, rid, date, field, old, new, note, source, self.recorded_at),
        )
        self._next_event_id += 1

    def current(self, columns: Iterable[str]) -> list[tuple[object, ...]]:
        """The ``columns`` of every row of the ledger table as this transaction sees it."""
        cols = list(columns)
        bad = [c for c in cols if c not in LEDGER_COLUMNS and c not in MIIT_TRACKED]
        if bad:
            msg = f"{bad} are not ledger columns; expected some of {[*LEDGER_COLUMNS, *MIIT_TRACKED]}"
            raise ValueError(msg)
        have = {r[1] for r in self.con.execute(f"PRAGMA table_info({LEDGER_TABLE})")}
        sel = ", ".join(c if c in have else "NULL" for c in cols)  # a MIIT field never reported: empty
        return [tuple(r) for r in self.con.execute(f"SELECT {sel} FROM {LEDGER_TABLE}").fetchall()]

    def events(self, columns: Iterable[str] = HISTORY_COLUMNS) -> pd.DataFrame:
        """The events as this transaction sees them, in the order they were recorded."""
        return read_events(self.con, columns)

    def insert_rows(self, rows: gpd.GeoDataFrame, *, date: str, source: str) -> None:
        """Enter new rows (``unconnected``) with a creation event each."""
        _insert_rows(self, rows, date=date, source=source)


@contextlib.contextmanager
def ledger_transaction(
    path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S
) -> Iterator[LedgerWriter | ledger_pg.PgLedgerWriter]:
    """One all-or-nothing write transaction on an existing ledger: refused (LedgerError, nothing changed) when the
    file or its folder is read-only; ``BEGIN IMMEDIATE`` (the write lock first, waiting ``timeout_s``), the
    columns an earlier coverplan lacked added, then the caller's changes, the bookkeeping and ``COMMIT`` (or
    ``ROLLBACK`` on any error). A PostgreSQL ledger's URL: :func:`planning.status.ledger_pg.transaction`."""
    if ledger_pg.is_ledger_url(path):
        with ledger_pg.transaction(str(path), timeout_s=timeout_s) as pg:
            yield pg
        return
    path = Path(path)
    if not not_a_regular_file(path):
        why = _read_only(path)
        if why:
            msg = f"ledger `{path}` cannot be changed: {why}; nothing was changed. Expected a writable ledger"
            raise LedgerError(msg)
    with open_ledger(path, timeout_s=timeout_s) as con:
        try:
            con.execute("BEGIN IMMEDIATE")
            add_missing_columns(con)
            key = event_key(con)
            (last,) = con.execute(f"SELECT COALESCE(MAX({key}), 0) FROM {HISTORY_TABLE}").fetchone()
        except sqlite3.Error as exc:
            raise ledger_error(path, exc, writing=True) from exc
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            yield LedgerWriter(con, path, now, int(last) + 1, key)
            _stamp(con)
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise ledger_error(path, exc, writing=True) from exc
            raise


def add_missing_columns(con: sqlite3.Connection) -> list[str]:
    """Add the lifecycle columns a ledger written by an earlier coverplan lacks (empty), inside the caller's
    write transaction; returns their names."""
    have = {r[1] for r in con.execute(f"PRAGMA table_info({LEDGER_TABLE})")}
    added = [c for c in LEDGER_COLUMNS if c not in have]
    for col in added:
        con.execute(f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN {col} {'REAL' if col in NUMERIC_COLUMNS else 'TEXT'}")
    if added:
        logger.info("ledger: added the columns %s (written by an earlier coverplan)", added)
    return added


def _gpkg_geometry(blob: bytes | None) -> shapely.Geometry | None:
    """A GeoPackage geometry blob (GPKG header, then WKB; GeoPackage 1.3 §2.1.3) as a shapely geometry."""
    if blob is None:
        return None
    if blob[:2] != b"GP":
        msg = "geometry blob has no GeoPackage header"
        raise ValueError(msg)
    envelope = (blob[3] >> 1) & 0b111
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[envelope]
    return shapely.from_wkb(bytes(blob[8 + size :]))


def _read_table(con: sqlite3.Connection, path: Path) -> gpd.GeoDataFrame:
    """The ``ledger`` feature table with its geometry and CRS, read through ``con``."""
    try:
        geom_col, srs_id = con.execute(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (LEDGER_TABLE,)
        ).fetchone()
        wkt = con.execute("SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)).fetchone()
        frame = pd.read_sql_query(f"SELECT * FROM {LEDGER_TABLE} ORDER BY fid", con)
        geoms = [_gpkg_geometry(b) for b in frame.pop(geom_col)]
    except (sqlite3.Error, TypeError, ValueError, KeyError, shapely.errors.GEOSException) as exc:
        raise ledger_error(path, sqlite3.DatabaseError(str(exc))) from exc
    frame = frame.drop(columns=["fid"], errors="ignore")
    crs = wkt[0] if wkt and wkt[0] and wkt[0] != "undefined" else None
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


#: Every status a ledger row may hold: the lifecycle, ``excluded`` and the earlier names.
KNOWN_STATUSES = (*STATUSES, EXCLUDED, *STATUS_ALIASES)


def check_statuses(
    ids: Iterable[object], statuses: Iterable[object], path: str | Path, *, rows: Iterable[int] | None = None
) -> None:
    """Raise LedgerError naming the file, each row (``rows``, default the position from 1, and its id) and its value
    when a status is not one of :data:`KNOWN_STATUSES` (NULL included): such a row can be neither counted nor
    updated."""
    ids, statuses = list(ids), list(statuses)
    problems = [
        Problem(
            "ledger",
            f"{f'status {status!r} is not a ledger status' if isinstance(status, str) else 'status is empty (NULL)'}"
            f"; expected one of {list(KNOWN_STATUSES)}",
            file=str(path),
            row=int(row),
            row_id=str(rid),
            column="status",
        )
        for row, rid, status in zip(rows if rows is not None else range(1, len(ids) + 1), ids, statuses, strict=True)
        if not isinstance(status, str) or status not in KNOWN_STATUSES
    ]
    if problems:
        msg = f"ledger `{path}`: {len(problems)} row(s) with an unknown status; nothing was read"
        raise LedgerError(msg, problems)


#: A date as field reports write it: ISO ``2026-12-05``, Chinese Excel's default ``2026/12/5`` (also with dots or
#: unpadded dashes) and ``2026年12月5日``; a time after it (``2026/12/5 0:00``, a spreadsheet's date cell) is ignored.
_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日)(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")


def parse_date(value: object) -> dt.date | None:
    """A date from ``YYYY-MM-DD``, ``YYYY/M/D`` (Chinese Excel's default), ``YYYY.M.D`` or ``YYYY年M月D日`` (a
    time after it ignored), or None when ``value`` is not one (or names no day of the calendar)."""
    if not isinstance(value, str):
        return None
    m = _DATE.fullmatch(value.strip())
    if m is None:
        return None
    year, month, day = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def create_ledger(rows: gpd.GeoDataFrame, path: str | Path, *, date: dt.date, source: str = "coverplan run") -> Path:
    """Write a new ledger file from :func:`ledger_rows` (refuses to replace an existing file).

    Each row's creation is recorded as a ``status`` event (``old`` empty, ``new`` its status) dated ``date``.
    """
    path = Path(path)
    if path.exists():
        msg = f"ledger `{path}` already exists; expected a new file (updates go through apply_updates)"
        raise LedgerError(msg)
    dup = rows["id"][rows["id"].duplicated()]
    if len(dup):
        msg = f"ledger rows have duplicate `id` values {list(dup[:10])}; expected unique ids"
        raise LedgerError(msg)
    bad = sorted(set(rows["status"]) - {*STATUSES, EXCLUDED})
    if bad:
        msg = f"ledger rows have `status` {bad}; expected one of {[*STATUSES, EXCLUDED]}"
        raise LedgerError(msg)
    frame = rows.copy()
    frame["status_date"] = date.isoformat()
    for col in LEDGER_COLUMNS:
        if col not in frame:
            frame[col] = np.nan if col in NUMERIC_COLUMNS else ""
    miit = [c for c in MIIT_FIXED if c in frame]  # the MIIT 台账's fixed fields, when the rows carry them
    frame = gpd.GeoDataFrame(frame[[*LEDGER_COLUMNS, *miit, "geometry"]], geometry="geometry", crs=rows.crs)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    history = pd.DataFrame(
        {"id": frame["id"], "event_date": date.isoformat(), "field": "status", "old": None, "new": frame["status"]}
    ).assign(note="created", source=source, recorded_at=now)
    _write_whole(frame, history, path)
    logger.info("ledger %s: %d rows", path, len(frame))
    return path


def table_history(table: gpd.GeoDataFrame, *, source: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """A ledger table as it is (statuses and status dates, plan fields, MIIT fields) and the history that enters it:
    each row's status (noted with the row's note, ``created`` when it has none) and every filled tracked field
    (noted ``imported``) as an event dated the row's ``status_date``, numbered from 1."""
    frame = table.copy()
    for col in LEDGER_COLUMNS:
        if col not in frame:
            frame[col] = np.nan if col in NUMERIC_COLUMNS else ""
    extra = [c for c in (*MIIT_FIXED, *MIIT_TRACKED) if c in frame]
    frame = gpd.GeoDataFrame(frame[[*LEDGER_COLUMNS, *extra, "geometry"]], geometry="geometry", crs=table.crs)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    events = []
    for rec in frame.drop(columns="geometry").to_dict("records"):
        for field in ("status", *TRACKED, *(c for c in MIIT_TRACKED if c in frame)):
            value = _text(rec.get(field))
            if field == "status":  # its note is the row's (the view's note is the last status event's)
                note = _text(rec.get("note")) or "created"
                events.append((rec["id"], rec["status_date"], field, None, value, note, source, now))
            elif value:
                events.append((rec["id"], rec["status_date"], field, None, value, "imported", source, now))
    history = pd.DataFrame(events, columns=list(HISTORY_COLUMNS[1:]))
    history.insert(0, "event_id", np.arange(1, len(history) + 1))
    return frame, history


def write_ledger_table(table: gpd.GeoDataFrame, path: str | Path, *, source: str) -> Path:
    """A new ledger file ``path`` holding ``table`` as it is, entered by :func:`table_history`'s events; refused
    when ``path`` exists, written whole or not at all."""
    path = Path(path)
    if path.exists():
        msg = f"ledger `{path}` already exists; expected a new file"
        raise LedgerError(msg)
    frame, history = table_history(table, source=source)
    _write_whole(frame, history, path)
    logger.info("ledger %s: %d rows, %d events", path, len(frame), len(history))
    return path


def _write_whole(frame: gpd.GeoDataFrame, history: pd.DataFrame, path: Path) -> None:
    """A new ledger file ``path`` written whole (in a private folder, then linked into place: never replacing a
    file that appeared meanwhile) from its table and history."""
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))  # ours alone: removed at the end
    try:
        tmp = folder / path.name
        _write_new(frame, tmp, history)
        os.link(tmp, path)  # never replaces a file that appeared meanwhile (FileExistsError)
    except FileExistsError as exc:
        msg = f"ledger `{path}` already exists; expected a new file (updates go through apply_updates)"
        raise LedgerError(msg) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_from_database(url: str, path: Path) -> Path:
    """A GeoPackage copy of a PostgreSQL ledger (its view's columns, the MIIT fields included, and every event with
    its id), read in one snapshot: what a run writes its plan into."""
    table, hist = ledger_pg.snapshot(url)
    frame = gpd.GeoDataFrame(table.drop(columns="geometry"), geometry=table.geometry.array, crs=table.crs)
    for col in frame.columns:
        if frame[col].dtype == object and col != "geometry":
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    _write_whole(frame, hist, path)
    return path


def copy_ledger(source: str | Path, path: str | Path) -> Path:
    """A consistent copy of the ledger ``source`` at the new file ``path`` (SQLite's online backup: a copy taken
    while another process writes is the state before or after that write, never half of it)."""
    path = Path(path)
    if path.exists():
        msg = f"ledger `{path}` already exists; expected a new file for the copy"
        raise LedgerError(msg)
    if ledger_pg.is_ledger_url(source):
        return _copy_from_database(str(source), path)
    with open_ledger(source) as con:
        dst = sqlite3.connect(str(path))
        try:
            con.backup(dst)
        except sqlite3.Error as exc:
            raise ledger_error(Path(source), exc) from exc
        finally:
            dst.close()
    return path


def _write_new(frame: gpd.GeoDataFrame, tmp: Path, history: pd.DataFrame) -> None:
    """The ledger table and its ``history`` (:data:`HISTORY_COLUMNS`, ``event_id`` optional) in a new GeoPackage
    ``tmp``."""
    pyogrio.write_dataframe(frame, tmp, layer=LEDGER_TABLE, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"})
    con = _connect(tmp)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"CREATE UNIQUE INDEX ledger_id ON {LEDGER_TABLE}(id)")
        con.execute(
            f"CREATE TABLE {HISTORY_TABLE} (event_id INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL "
            f"REFERENCES {LEDGER_TABLE}(id), event_date TEXT NOT NULL, field TEXT NOT NULL, old TEXT, new TEXT, "
            "note TEXT, source TEXT, recorded_at TEXT NOT NULL)"
        )
        con.execute(f"CREATE INDEX ledger_history_id ON {HISTORY_TABLE}(id, event_date)")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
            (HISTORY_TABLE, HISTORY_TABLE, "dated events of the ledger"),
        )
        cols = [c for c in HISTORY_COLUMNS if c in history.columns]
        con.executemany(
            f"INSERT INTO {HISTORY_TABLE} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [
                [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in r]
                for r in history[cols].itertuples(index=False)
            ],
        )
        _stamp(con)
        con.execute("COMMIT")
    finally:
        con.close()


def read_ledger(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> gpd.GeoDataFrame:
    """The ledger as it stands now (waiting up to ``timeout_s`` for a writer's lock); a ledger written before the
    lifecycle fields existed gets them empty, and its earlier status names read as today's."""
    if ledger_pg.is_ledger_url(path):
        table = ledger_pg.read_table(str(path), timeout_s=timeout_s)
    else:
        with open_ledger(path, timeout_s=timeout_s) as con:
            table = _read_table(con, Path(path))
    check_statuses(table["id"], table["status"], path)
    for col in LEDGER_COLUMNS:
        if col not in table:
            table[col] = np.nan if col in NUMERIC_COLUMNS else ""
    table["status"] = table["status"].replace(STATUS_ALIASES)
    return table


def read_history(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> pd.DataFrame:
    """All events, in the order they were recorded."""
    if ledger_pg.is_ledger_url(path):
        return ledger_pg.read_history(str(path), timeout_s=timeout_s)
    with open_ledger(path, timeout_s=timeout_s) as con:
        try:
            return read_events(con)
        except sqlite3.Error as exc:
            raise ledger_error(Path(path), exc) from exc


def _snapshot(path: str | Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ledger table and its history read in one transaction (a consistent pair)."""
    if ledger_pg.is_ledger_url(path):
        table, hist = ledger_pg.snapshot(str(path))
    else:
        with open_ledger(path) as con:
            try:
                con.execute("BEGIN")
                table = _read_table(con, Path(path))
                hist = read_events(con)
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                raise ledger_error(Path(path), exc) from exc
    check_statuses(table["id"], table["status"], path)
    events = hist[hist["field"] == "status"]
    check_statuses(
        events["id"], events["new"], f"{path} (table {HISTORY_TABLE}, row = event_id)", rows=events["event_id"]
    )
    return table, hist


def creation_dates(hist: pd.DataFrame) -> pd.Series:
    """The date each row was entered in the ledger (its first recorded status event), by ``id``."""
    status = hist[hist["field"] == "status"].sort_values("event_id", kind="stable")
    return status.groupby("id")["event_date"].first()


def superseded_events(hist: pd.DataFrame) -> pd.Series:
    """Per event of ``hist`` (aligned on its index): True when its row was back-filled later (a status event dated
    before the row's creation date, see the module docstring) and the event was recorded before that back-fill.

    Such events were all written by runs (a back-fill is always the row's first field report); their status is
    superseded by the back-fill, and their dates do not order later reports.
    """
    if not len(hist):
        return pd.Series(False, index=hist.index)
    created = hist["id"].map(creation_dates(hist))
    backfill = (hist["field"] == "status") & (hist["event_date"] < created)
    first = hist[backfill].groupby("id")["event_id"].min()
    cut = hist["id"].map(first)
    return (cut.notna() & (hist["event_id"] < cut)).astype(bool)


def state_at(path: str | Path, date: dt.date) -> pd.DataFrame:
    """The ledger as it stood at the end of ``date``: rows created by then, with their status, note and every
    tracked field (remedy, batch ...) as it was then. A back-filled row exists from its back-fill's date, with the
    reported status from then on (the run's status events it supersedes are not replayed; module docstring).

    Returns
    -------
    DataFrame
        Index ``id``; ``status``, ``status_date``, ``note``, the tracked fields and the row's fixed attributes.
    """
    table, hist = _snapshot(path)
    day = date.isoformat()
    fixed = table.drop(columns=["status", "status_date", "note", "geometry"]).set_index("id")
    hist = hist[~(superseded_events(hist) & (hist["field"] == "status"))]
    hist = hist.sort_values(["event_date", "event_id"], kind="stable")
    upto = hist[hist["event_date"] <= day]
    status = upto[upto["field"] == "status"].groupby("id").last()
    out = fixed.loc[fixed.index.intersection(status.index)].copy()
    out["status"] = status["new"].reindex(out.index).replace(STATUS_ALIASES)
    out["status_date"] = status["event_date"].reindex(out.index)
    out["note"] = status["note"].reindex(out.index)
    for field in TRACKED:
        if field not in out:
            continue
        events = hist[hist["field"] == field]
        before = events[events["event_date"] <= day].groupby("id")["new"].last()
        after = events[events["event_date"] > day].groupby("id")["old"].first()
        value = before.reindex(out.index).where(before.reindex(out.index).notna(), after.reindex(out.index))
        changed = out.index.isin(before.index) | out.index.isin(after.index)
        restored = pd.to_numeric(value, errors="coerce") if field in NUMERIC_COLUMNS else value.fillna("")
        out[field] = np.where(changed, restored, out[field])
    return out


def diff(path: str | Path, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """Rows whose status differs between two dates (``status_from`` empty: the row did not exist yet)."""
    a = state_at(path, date_from)
    b = state_at(path, date_to)
    out = b[["layer", "name", "county", "status"]].rename(columns={"status": "status_to"})
    out.insert(3, "status_from", a["status"].reindex(out.index))
    changed = out["status_from"].isna() | (out["status_from"] != out["status_to"])
    gone = a.index.difference(b.index)
    rest = a.loc[gone, ["layer", "name", "county", "status"]].rename(columns={"status": "status_from"})
    rest["status_to"] = None
    return pd.concat([out[changed], rest]).sort_index()


# ---------------------------------------------------------------- rows, evidence, the plan as events


def read_csv_file(path: Path, layer: str) -> pd.DataFrame:
    """A CSV of text cells (UTF-8 or GBK, see :func:`gis.readers.read_csv_text`); LedgerError naming the file."""
    try:
        return read_csv_text(path, layer=layer)
    except LayerError as exc:
        raise LedgerError(f"{path}: cannot be used", exc.problems) from exc


def ledger_rows(
    villages: pd.DataFrame, schools: pd.DataFrame, *, geometry_villages: gpd.GeoSeries, geometry_schools: gpd.GeoSeries
) -> gpd.GeoDataFrame:
    """Rows for the ledger (台账): every village or school that lacks something (status frames of
    :mod:`planning.status.evidence`), ``unconnected``, no remedy yet (the plan fills it, :func:`record_plan`).

    ``evidence`` is ``reported`` (or ``measured``) when every lacking attribute rests on a report, ``predicted``
    when one rests on the model alone, ``unknown`` without evidence.
    """
    parts = []
    for layer, frame, geom, id_col in (
        ("villages", villages, geometry_villages, "village_id"),
        ("schools", schools, geometry_schools, "school_id"),
    ):
        need = frame[frame["lacks"] != ""]
        part = pd.DataFrame(
            {
                "id": (layer + ":" + need[id_col]).to_numpy(),
                "layer": layer,
                "name": need["name"].to_numpy(),
                "county": need["county"].to_numpy(),
                "kind": need["kind"].to_numpy()
                if "kind" in need
                else np.where(need["is_poor"], "poor_village", "village"),
                "lacks": need["lacks"].to_numpy(),
                "access": (
                    need["reported_access"].fillna("").to_numpy()
                    if "reported_access" in need
                    else need["broadband"].to_numpy()
                ),
                "evidence": _row_evidence(need, layer),
            }
        )
        part["geometry"] = geom.loc[need.index].to_numpy()
        parts.append(part)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=geometry_villages.crs)
    for col in ("remedy", "remedy_id", "funding", "plan_detail", "note", "reason"):
        out[col] = ""
    for col in NUMERIC_COLUMNS:
        out[col] = np.nan
    out["status"] = "unconnected"
    return out


def _row_evidence(frame: pd.DataFrame, layer: str) -> np.ndarray:
    if layer == "schools":
        return frame["evidence"].to_numpy()
    out = []
    for _, r in frame.iterrows():
        attrs = [{"broadband": "fibre", "4g": "4g", "5g": "5g"}[x] for x in r["lacks"].split(";") if x]
        ev = {r[f"evidence_{a}"] for a in attrs}
        out.append(
            "unknown"
            if "unknown" in ev
            else "predicted"
            if "predicted" in ev
            else "measured"
            if ev == {"measured"}
            else "reported"
        )
    return np.array(out, dtype=object)


def ledger_evidence(path: str | Path) -> pd.DataFrame:
    """What the ledger proves, by ``layer:id``: ``status``, ``lacks``, ``measured_mbps``, ``reason``, ``access``
    (the link of an accepted row, from its remedy; NA when unknown). Rows ``accepted`` close what they lacked;
    rows ``excluded`` leave the plan (and, relocated or merged, the KPIs)."""
    table = read_ledger(path)
    out = pd.DataFrame(
        {
            "status": table["status"].replace(STATUS_ALIASES).to_numpy(),
            "lacks": table["lacks"].fillna("").to_numpy(),
            "measured_mbps": pd.to_numeric(table.get("measured_mbps"), errors="coerce").to_numpy()
            if "measured_mbps" in table
            else np.nan,
            "reason": table["reason"].fillna("").to_numpy() if "reason" in table else "",
            "access": table["remedy"].map(remedy_access).to_numpy() if "remedy" in table else pd.NA,
        },
        index=table["id"].to_numpy(),
    )
    return out


def remedy_access(remedy: object) -> object:
    """The best link a remedy gives (``;``-joined kinds: fibre before 5G, 4G, satellite); NA when unknown."""
    kinds = {REMEDY_ACCESS.get(k.strip()) for k in str(remedy or "").split(";")} - {None}
    return next((a for a in ("fibre", "5g", "4g", "satellite") if a in kinds), pd.NA)


def record_plan(
    path: str | Path,
    rows: gpd.GeoDataFrame,
    plan: pd.DataFrame,
    *,
    date: dt.date,
    source: str = "coverplan run",
    keep: Iterable[str] = (),
) -> pd.DataFrame:
    """The run's gaps and plan written into an existing ledger as dated events, in one transaction.

    Parameters
    ----------
    path : path
        The ledger (a copy of the project's, or a new one) to change.
    rows : GeoDataFrame
        The rows lacking something now (:func:`ledger_rows`): new ids are added, the ``lacks`` of known ids kept
        current.
    plan : DataFrame
        Index ``layer:id``; ``remedy``, ``remedy_id``, ``remedy_cost_cny``, ``batch``, ``year``, ``funding`` of
        every row the plan serves.
    date : date
        The events' date.
    keep : iterable of str
        Ids of the commitments the run kept (:func:`planning.status.ledger_replan.commitments`): their status and
        plan fields stay as they are (only ``lacks`` is kept current).

    Returns
    -------
    DataFrame
        One row per event written: ``id``, ``field``, ``old``, ``new`` (the planner sees every change).
    """
    with ledger_transaction(path) as tx:
        events = _plan_events(tx, rows, plan, date=date.isoformat(), source=source, keep=frozenset(map(str, keep)))
    logger.info("ledger %s: %d event(s) from the plan", path, len(events))
    return pd.DataFrame(events, columns=["id", "field", "old", "new"])


def _plan_events(
    tx: LedgerWriter | ledger_pg.PgLedgerWriter,
    rows: gpd.GeoDataFrame,
    plan: pd.DataFrame,
    *,
    date: str,
    source: str,
    keep: frozenset[str] = frozenset(),
) -> list[tuple[str, str, str, str]]:
    cols = ["id", "status", *TRACKED]
    current = {str(r[0]): dict(zip(cols, r, strict=True)) for r in tx.current(cols)}
    events: list[tuple[str, str, str, str]] = []
    new = rows[~rows["id"].isin(current)]
    tx.insert_rows(new, date=date, source=source)
    events += [(i, "status", "", "unconnected") for i in new["id"]]
    lacks_of = dict(zip(rows["id"], rows["lacks"], strict=True))
    for rid, row in current.items():
        if row["status"] == EXCLUDED:
            continue
        want: dict[str, object] = {"lacks": lacks_of.get(rid, "")}
        if rid in keep:  # a commitment: its plan stays as the ledger holds it
            if rid in plan.index:
                logger.warning(
                    "ledger %s: the new plan also serves %s (a need its commitment does not close); "
                    "the commitment is kept in the ledger, the new plan's share is in the proposal",
                    tx.path,
                    rid,
                )
        elif rid in plan.index:
            want.update({k: plan.at[rid, k] for k in PLAN_FIELDS if k in plan})
            if row["status"] == "unconnected":
                want["status"] = "planned"
        elif row["status"] == "planned":  # dropped from the plan: back to unconnected, remedy cleared
            want.update(
                {
                    "status": "unconnected",
                    "remedy": "",
                    "remedy_id": "",
                    "remedy_cost_cny": None,
                    "batch": None,
                    "year": None,
                    "funding": "",
                    "plan_detail": "",
                }
            )
        events += _set_fields(tx, rid, row, want, date=date, source=source)
    for rid in plan.index[plan.index.isin(new["id"])]:  # new rows the plan serves
        row = {"status": "unconnected", **dict.fromkeys(TRACKED)}
        row["lacks"] = new.loc[new["id"] == rid, "lacks"].iloc[0]
        want = {k: plan.at[rid, k] for k in PLAN_FIELDS if k in plan}
        events += _set_fields(tx, rid, row, {**want, "status": "planned"}, date=date, source=source)
    return events


def _same(old: object, new: object) -> bool:
    def norm(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v == "":
            return None
        return round(float(v), 6) if isinstance(v, int | float | np.integer | np.floating) else str(v)

    return norm(old) == norm(new)


def _set_fields(
    tx: LedgerWriter | ledger_pg.PgLedgerWriter,
    rid: str,
    row: Mapping[str, object],
    want: Mapping[str, object],
    *,
    date: str,
    source: str,
) -> list[tuple[str, str, str, str]]:
    """Change a row's fields to ``want`` (status last), an event per changed field."""
    events = []
    for field in [*(f for f in want if f != "status"), *(["status"] if "status" in want else [])]:
        old, new = row.get(field), want[field]
        if _same(old, new):
            continue
        value = None if new is None or (isinstance(new, float) and np.isnan(new)) else new
        if isinstance(value, np.generic):
            value = value.item()
        tx.set_fields(rid, {"status": value, "status_date": date} if field == "status" else {field: value})
        tx.add_event(rid, date=date, field=field, old=_text(old), new=_text(value), note="plan", source=source)
        events.append((rid, field, _text(old), _text(value)))
    return events


def _text(v: object) -> str:
    """An event's value as text ('' for empty)."""
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _gpkg_blob(geom: shapely.Geometry, srs_id: int) -> bytes:
    """A GeoPackage geometry blob: header (little endian, no envelope) and WKB (GeoPackage 1.3 §2.1.3)."""
    return b"GP" + bytes([0, 1]) + struct.pack("<i", srs_id) + shapely.to_wkb(geom, byte_order=1)


def _insert_rows(tx: LedgerWriter, rows: gpd.GeoDataFrame, *, date: str, source: str) -> None:
    if not len(rows):
        return
    con = tx.con
    geom_col, srs_id = con.execute(
        "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (LEDGER_TABLE,)
    ).fetchone()
    have = {r[1] for r in con.execute(f"PRAGMA table_info({LEDGER_TABLE})")}
    cols = [c for c in LEDGER_COLUMNS if c in have]
    for _, r in rows.iterrows():
        values = {c: r.get(c) for c in cols}
        values.update(status="unconnected", status_date=date, note="")
        vals = [
            None if (isinstance(v, float) and np.isnan(v)) else (v.item() if isinstance(v, np.generic) else v)
            for v in (values[c] for c in cols)
        ]
        con.execute(
            f"INSERT INTO {LEDGER_TABLE} ({', '.join(cols)}, {geom_col}) VALUES ({', '.join('?' * len(cols))}, ?)",
            [*vals, _gpkg_blob(r.geometry, srs_id)],
        )
        tx.add_event(r["id"], date=date, field="status", old=None, new="unconnected", note="created", source=source)
