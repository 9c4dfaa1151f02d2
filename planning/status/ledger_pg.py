"""The ledger (台账) in PostgreSQL + PostGIS: a province's ledger kept by many county and operator editors at once.

A ledger URL (``postgresql://user@host/db``) is accepted wherever a ledger path is (:func:`is_ledger_url`). The
schema comes from versioned SQL files (package data, ``planning/status/sql/NNNN_name.sql``), applied in order by
:func:`migrate` and recorded in ``schema_version``:

* ``ledger_rows``: one row per village or school with its fixed attributes (the MIIT division code and poverty
  flags, the operator) and the values its tracked fields were entered with; never deleted;
* ``ledger_events``: every change as a dated event, appended and never changed or deleted (no UPDATE, DELETE or
  TRUNCATE privilege, and triggers that refuse them to the owner too); a trigger checks each event as a field
  report is checked (a known status, dates within the programme and in order, no step backwards nor a return from
  ``excluded`` unless the event says ``forced``, a reason to exclude, a measured outlet to accept a school), so an
  edit made in QGIS or psql meets the rules of ``coverplan ledger update``;
* ``ledger`` (view): the current state, each field's latest event over the value the row was entered with;
* row-level security: ``coverplan_editor`` members add events only to the rows ``ledger_editors`` grants them
  (by county and/or operator) and read only those; ``coverplan_province`` members read everything.

Writers through coverplan take one transaction each (:func:`transaction`), serialised by an advisory lock (a
writer's checks see the ledger as it will be changed); the trigger locks each row it checks, so edits from other
tools are serialised per row and checked against the committed state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from gis.project import LEDGER_URL_SCHEMES
from planning.status.ledger_base import (
    HISTORY_COLUMNS,
    LEDGER_COLUMNS,
    LOCK_TIMEOUT_S,
    MIIT_FIXED,
    MIIT_TRACKED,
    NUMERIC_COLUMNS,
    TRACKED,
    LedgerError,
)

logger = logging.getLogger(__name__)

#: How a ledger URL begins (libpq's URI schemes).
URL_SCHEMES = LEDGER_URL_SCHEMES
#: Columns of the ``ledger`` view read as the ledger table: the GeoPackage's, then the MIIT fields.
VIEW_COLUMNS = (*LEDGER_COLUMNS, *MIIT_FIXED, *MIIT_TRACKED)
_BASE_COLUMNS = ("id", "layer", "name", "county", "kind", "access", "evidence", *MIIT_FIXED, *TRACKED)
#: The key of the one advisory lock every coverplan writer of a PostgreSQL ledger takes (:func:`lock_writers`).
WRITERS_LOCK = "coverplan ledger writers"


def is_ledger_url(location: object) -> bool:
    """True when ``location`` names a PostgreSQL ledger (``postgresql://...``) rather than a GeoPackage file."""
    return isinstance(location, str) and location.strip().lower().startswith(URL_SCHEMES)


def shown_url(url: str) -> str:
    """``url`` with its password masked, for messages and logs."""
    return re.sub(r"(//[^:/@?]*):[^@/?]*@", r"\1:***@", url)


def _why(exc: psycopg.Error) -> str:
    """The database's message (first line) and its SQLSTATE."""
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc)).strip().splitlines()[0] if str(exc) else type(exc)
    state = getattr(exc, "sqlstate", None)
    return f"{text}{f' [SQLSTATE {state}]' if state else ''}"


def database_error(url: str, exc: psycopg.Error, *, writing: bool = False) -> LedgerError:
    """The LedgerError (URL named with its password masked, the database's reason) for a psycopg error."""
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        why = f"it stayed locked by another writer for {LOCK_TIMEOUT_S:g} s"
    elif isinstance(exc, psycopg.errors.InsufficientPrivilege):
        why = (
            f"refused by the database: {_why(exc)} (an editor adds events only to its own county's or operator's rows)"
        )
    elif isinstance(exc, psycopg.errors.IntegrityError):
        why = f"refused by the database: {_why(exc)}"
    elif isinstance(exc, psycopg.OperationalError):
        why = f"cannot reach the database ({_why(exc)}); expected a running PostgreSQL server and an existing database"
    else:
        why = f"database error ({_why(exc)})"
    tail = "; nothing was changed" if writing else ""
    return LedgerError(f"ledger `{shown_url(url)}`: {why}{tail}")


def connect(url: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> psycopg.Connection:
    """A connection to the ledger database that waits ``timeout_s`` for locks; LedgerError when it cannot connect."""
    try:
        con = psycopg.connect(url, connect_timeout=max(1, round(timeout_s)))
        con.execute(f"SET lock_timeout = '{max(1, round(timeout_s * 1000))}ms'")
        con.commit()
    except psycopg.Error as exc:
        raise database_error(url, exc) from exc
    return con


# ---------------------------------------------------------------- schema versions


def migrations() -> list[tuple[int, str, str]]:
    """The schema's migrations ``(version, name, sql)`` in order, from the package's ``sql/NNNN_name.sql`` files."""
    folder = resources.files("planning.status").joinpath("sql")
    out = []
    for item in folder.iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", item.name)
        if m:
            out.append((int(m.group(1)), m.group(2), item.read_text(encoding="utf-8")))
    return sorted(out)


def schema_version(con: psycopg.Connection) -> int:
    """The ledger schema's version in the database (0: no ledger there)."""
    (reg,) = con.execute("SELECT to_regclass('schema_version')").fetchone() or (None,)
    if reg is None:
        return 0
    (version,) = con.execute("SELECT COALESCE(max(version), 0) FROM schema_version").fetchone() or (0,)
    return int(version)


def migrate(url: str, *, init: bool) -> list[int]:
    """Bring the database at ``url`` to the newest ledger schema in one transaction; returns the versions applied.

    ``init``: the database holds no ledger yet (LedgerError when it does); else it must hold one (``ledger migrate``
    upgrades, LedgerError when there is none, or when it was written by a newer coverplan).
    """
    with contextlib.closing(connect(url)) as con:
        try:
            with con.transaction():
                return _migrate(con, url, init=init)
        except psycopg.Error as exc:
            raise database_error(url, exc, writing=True) from exc


def lock_writers(con: psycopg.Connection) -> None:
    """Take the writers' advisory lock (``pg_advisory_xact_lock`` on the one key :data:`WRITERS_LOCK`) for the
    rest of ``con``'s transaction: every coverplan writer (``ledger update``, ``init``, ``migrate``) takes it
    first, so two counties' updates queue, one after the other, rather than interleave; a writer waits up to
    the connection's ``lock_timeout`` (:func:`connect`) and is then refused whole."""
    con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (WRITERS_LOCK,))


def _migrate(con: psycopg.Connection, url: str, *, init: bool) -> list[int]:
    lock_writers(con)
    have = schema_version(con)
    steps = migrations()
    newest = steps[-1][0]
    if init and have:
        msg = f"ledger `{shown_url(url)}` exists already (schema version {have}); expected an empty database "
        msg += "(`coverplan ledger migrate` upgrades an existing ledger)"
        raise LedgerError(msg)
    if not init and not have:
        msg = f"`{shown_url(url)}` holds no coverplan ledger; expected one made by `coverplan ledger init`"
        raise LedgerError(msg)
    if have > newest:
        msg = f"ledger `{shown_url(url)}` has schema version {have}, newer than this coverplan's {newest}; "
        msg += "expected a coverplan at least as new as the ledger"
        raise LedgerError(msg)
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = []
    for version, name, sql in steps:
        if version <= have:
            continue
        con.execute(sql.encode())
        con.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, name))
        done.append(version)
    logger.info("ledger %s: schema version %d (applied %s)", shown_url(url), newest, done)
    return done


def _check_version(con: psycopg.Connection, url: str) -> None:
    have, newest = schema_version(con), migrations()[-1][0]
    if have == newest:
        return
    if not have:
        msg = f"`{shown_url(url)}` holds no coverplan ledger; expected one made by `coverplan ledger init`"
    elif have < newest:
        msg = f"ledger `{shown_url(url)}` has schema version {have}; expected {newest}: run `coverplan ledger migrate`"
    else:
        msg = f"ledger `{shown_url(url)}` has schema version {have}, newer than this coverplan's {newest}"
    raise LedgerError(msg)


# ---------------------------------------------------------------- reading


def _read_view(con: psycopg.Connection) -> gpd.GeoDataFrame:
    cols = ", ".join(
        "to_char(status_date, 'YYYY-MM-DD') AS status_date" if c == "status_date" else c for c in VIEW_COLUMNS
    )
    cur = con.execute(f"SELECT {cols}, ST_AsBinary(geom) AS wkb FROM ledger ORDER BY fid")
    frame = pd.DataFrame(cur.fetchall(), columns=[*VIEW_COLUMNS, "wkb"])
    for col in NUMERIC_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    geoms = [None if b is None else shapely.from_wkb(bytes(b)) for b in frame.pop("wkb")]
    row = con.execute("SELECT value FROM ledger_meta WHERE key = 'crs'").fetchone()
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=row[0] if row else None)


def _read_events(con: psycopg.Connection, columns: Iterable[str] = HISTORY_COLUMNS) -> pd.DataFrame:
    expr = {
        "event_date": "to_char(event_date, 'YYYY-MM-DD')",
        "recorded_at": "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')",
    }
    cols = [c for c in columns if c in HISTORY_COLUMNS]
    sel = ", ".join(f"{expr[c]} AS {c}" if c in expr else c for c in cols)
    cur = con.execute(f"SELECT {sel} FROM ledger_events ORDER BY event_id")
    return pd.DataFrame(cur.fetchall(), columns=cols)


@contextlib.contextmanager
def _reading(url: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[psycopg.Connection]:
    """A connection in one read-only snapshot (REPEATABLE READ) of a ledger at the current schema version."""
    with contextlib.closing(connect(url, timeout_s=timeout_s)) as con:
        try:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            _check_version(con, url)
            yield con
            con.rollback()
        except psycopg.Error as exc:
            raise database_error(url, exc) from exc


def read_table(url: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> gpd.GeoDataFrame:
    """The ``ledger`` view as it stands now (the rows this role may read)."""
    with _reading(url, timeout_s=timeout_s) as con:
        return _read_view(con)


def read_history(url: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> pd.DataFrame:
    """All events (that this role may read), in the order they were recorded."""
    with _reading(url, timeout_s=timeout_s) as con:
        return _read_events(con)


def snapshot(url: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ledger view and its events read in one snapshot (a consistent pair)."""
    with _reading(url) as con:
        return _read_view(con), _read_events(con)


# ---------------------------------------------------------------- writing


@dataclass
class PgLedgerWriter:
    """A write transaction on a PostgreSQL ledger (:func:`transaction`), the interface of
    :class:`planning.status.ledger.LedgerWriter`: the current state is the events' (the view), so
    :meth:`set_fields` only checks the columns and :meth:`add_event` writes."""

    con: psycopg.Connection
    path: str
    recorded_at: str

    def set_fields(self, rid: str, values: Mapping[str, object]) -> None:
        """Check that ``values`` names ledger columns (the view derives them from the events that go with them)."""
        for col in values:
            if col not in VIEW_COLUMNS:
                msg = f"`{col}` is not a ledger column; expected one of {list(VIEW_COLUMNS)}"
                raise ValueError(msg)

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
        """Append one dated event (checked by the database's trigger)."""
        self.con.execute(
            "INSERT INTO ledger_events (id, event_date, field, old, new, note, source, forced) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (rid, date, field, _db_text(old), _db_text(new), note, source, forced),
        )

    def current(self, columns: Iterable[str]) -> list[tuple[object, ...]]:
        """The ``columns`` of every row of the ledger as this transaction sees it."""
        cols = list(columns)
        bad = [c for c in cols if c not in VIEW_COLUMNS]
        if bad:
            msg = f"{bad} are not ledger columns; expected some of {list(VIEW_COLUMNS)}"
            raise ValueError(msg)
        sel = ", ".join("to_char(status_date, 'YYYY-MM-DD')" if c == "status_date" else c for c in cols)
        return [tuple(r) for r in self.con.execute(f"SELECT {sel} FROM ledger ORDER BY fid").fetchall()]

    def events(self, columns: Iterable[str] = HISTORY_COLUMNS) -> pd.DataFrame:
        """The events as this transaction sees them, in the order they were recorded."""
        return _read_events(self.con, columns)

    def insert_rows(self, rows: gpd.GeoDataFrame, *, date: str, source: str) -> None:
        """Enter new rows (``unconnected``) with a creation event each (the owner's right)."""
        insert_rows(self.con, rows)
        for rid in rows["id"]:
            self.add_event(
                str(rid), date=date, field="status", old=None, new="unconnected", note="created", source=source
            )


def _db_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _cell(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def insert_rows(con: psycopg.Connection, rows: gpd.GeoDataFrame) -> None:
    """Insert ``rows`` (the ledger's columns, those present) into ``ledger_rows`` with their geometry."""
    if not len(rows):
        return
    srid = 0
    if rows.crs is not None:
        srid = rows.crs.to_epsg() or 0
    cols = [c for c in _BASE_COLUMNS if c in rows.columns]
    sql = (
        f"INSERT INTO ledger_rows ({', '.join(cols)}, geom) VALUES ({', '.join(['%s'] * len(cols))}, "
        "ST_SetSRID(ST_GeomFromWKB(%s), %s))"
    )
    with con.cursor() as cur:
        cur.executemany(
            sql,
            [
                [*(_cell(r[c]) for c in cols), None if g is None else shapely.to_wkb(g), srid]
                for r, g in zip(rows[cols].to_dict("records"), rows.geometry, strict=True)
            ],
        )


@contextlib.contextmanager
def transaction(url: str, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[PgLedgerWriter]:
    """One all-or-nothing write transaction on a PostgreSQL ledger: the writers' advisory lock first (waiting up
    to ``timeout_s``), then the caller's changes and ``COMMIT``; any error rolls everything back (LedgerError naming
    the database's reason for a refusal)."""
    with contextlib.closing(connect(url, timeout_s=timeout_s)) as con:
        try:
            with con.transaction():
                _check_version(con, url)
                lock_writers(con)
                now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                yield PgLedgerWriter(con, shown_url(url), now)
        except psycopg.Error as exc:
            raise database_error(url, exc, writing=True) from exc


def import_ledger(url: str, table: gpd.GeoDataFrame, history: pd.DataFrame, *, source: str) -> int:
    """Create the ledger schema in the empty database ``url`` and copy a ledger's rows and its whole recorded
    history in (events keep their ids, dates and times), in one transaction; returns the events copied.

    Each row is entered with the values its tracked fields had before their first event (that event's ``old``),
    so the view replays to the ledger's current state.
    """
    with contextlib.closing(connect(url)) as con:
        try:
            with con.transaction():
                _migrate(con, url, init=True)
                _copy_in(con, table, history, source=source)
        except psycopg.Error as exc:
            raise database_error(url, exc, writing=True) from exc
    logger.info("ledger %s: %d rows, %d events copied from %s", shown_url(url), len(table), len(history), source)
    return len(history)


def _copy_in(con: psycopg.Connection, table: gpd.GeoDataFrame, history: pd.DataFrame, *, source: str) -> None:
    base = table.copy()
    for field in TRACKED:
        first = history[history["field"] == field].groupby("id")["old"].first()
        if not len(first) or field not in base:
            continue
        had = base["id"].isin(first.index)
        old = base["id"].map(first)
        if field in NUMERIC_COLUMNS:
            old = pd.to_numeric(old, errors="coerce")
        base[field] = base[field].where(~had, old)
    insert_rows(con, base)
    con.execute("SET LOCAL coverplan.replay = 'on'")
    with con.cursor() as cur:
        cur.executemany(
            "INSERT INTO ledger_events (event_id, id, event_date, field, old, new, note, source, recorded_at) "
            "OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [[_cell(v) for v in r] for r in history[list(HISTORY_COLUMNS)].itertuples(index=False)],
        )
    con.execute("SET LOCAL coverplan.replay = 'off'")
    con.execute(
        "SELECT setval(pg_get_serial_sequence('ledger_events', 'event_id'), "
        "(SELECT COALESCE(max(event_id), 0) + 1 FROM ledger_events), false)"
    )
    crs = table.crs.to_wkt() if table.crs is not None else None
    meta = [("imported_from", source), *([("crs", crs)] if crs else [])]
    con.cursor().executemany("INSERT INTO ledger_meta (key, value) VALUES (%s, %s)", meta)
