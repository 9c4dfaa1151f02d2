"""The ledger (台账) of unconnected and under-served villages and schools, with its full history.

Storage: one GeoPackage (SQLite) file.

* ``ledger`` (feature table): one row per village/school that lacks something, with ``id`` (``layer:id``),
  ``layer``, ``name``, ``county``, ``kind``, ``lacks``, ``access``, ``remedy``, ``remedy_cost_cny``, ``status``,
  ``status_date``, ``note`` and the point geometry.
* ``ledger_history`` (attribute table): every change as a dated event (``event_id``, ``id``, ``event_date``,
  ``field``, ``old``, ``new``, ``note``, ``source``, ``recorded_at``). Creation is an event too, so the ledger at
  any past date is rebuilt by replaying the events up to that date (:func:`state_at`) and two dates compared
  (:func:`diff`).

Updates (:func:`apply_updates`) take field reports (``id``, ``status``, ``date``, ``note``) and run in one
SQLite transaction opened with ``BEGIN IMMEDIATE``: every row is checked against the ledger as it stands inside
that transaction; one bad row (unknown id, status going backwards without ``force``, malformed date, a date
before the row's last event) rejects the whole file with the list of bad rows and the ledger is unchanged. A
crash mid-update leaves the previous state (SQLite's rollback journal); concurrent updates wait for the write
lock (``timeout_s``) and apply one after the other.

Status order: unconnected < planned < under_construction < connected < verified.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.errors import CoverplanError, LayerError, Problem
from gis.readers import read_csv_text

logger = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = ("unconnected", "planned", "under_construction", "connected", "verified")
_RANK = {s: i for i, s in enumerate(STATUSES)}
UPDATE_COLUMNS = ("id", "status", "date", "note")
_TABLE = "ledger"
_HISTORY = "ledger_history"
_LEDGER_COLUMNS = [
    "id",
    "layer",
    "name",
    "county",
    "kind",
    "lacks",
    "access",
    "remedy",
    "remedy_cost_cny",
    "status",
    "status_date",
    "note",
]


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


def _connect(path: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> sqlite3.Connection:
    """A read-write connection that waits ``timeout_s`` for other processes' locks.

    Read-write, also for reading: SQLite then rolls back the journal a killed update left behind (a "hot
    journal") on first access, so the ledger is back at its state before that update; GDAL opens a GeoPackage
    read-only and would fail on it ("readonly database") until something else opened it read-write.
    """
    con = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    return con


def _db_error(path: Path, exc: sqlite3.Error) -> LedgerError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        why = f"it stayed locked by another process for {LOCK_TIMEOUT_S:g} s"
    elif "readonly" in text:
        why = "it is read-only and a killed update left a journal to roll back; expected a writable file"
    else:
        why = f"not a readable GeoPackage ({text})"
    return LedgerError(f"ledger `{path}`: {why}")


@contextlib.contextmanager
def _open(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    """A connection to an existing coverplan ledger; LedgerError (file named) for anything else."""
    path = Path(path)
    if not path.is_file():
        msg = f"ledger `{path}` does not exist"
        raise LedgerError(msg)
    try:
        con = _connect(path, timeout_s=timeout_s)
    except sqlite3.Error as exc:
        raise _db_error(path, exc) from exc
    try:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            raise _db_error(path, exc) from exc
        if not {_TABLE, _HISTORY, "gpkg_contents", "gpkg_geometry_columns"} <= tables:
            msg = (
                f"`{path}` is not a coverplan ledger: expected the GeoPackage tables `{_TABLE}` and `{_HISTORY}`, "
                f"found {sorted(tables)}"
            )
            raise LedgerError(msg)
        yield con
    finally:
        con.close()


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
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (_TABLE,)
        ).fetchone()
        wkt = con.execute("SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)).fetchone()
        frame = pd.read_sql_query(f"SELECT * FROM {_TABLE} ORDER BY fid", con)
        geoms = [_gpkg_geometry(b) for b in frame.pop(geom_col)]
    except (sqlite3.Error, TypeError, ValueError, KeyError, shapely.errors.GEOSException) as exc:
        raise _db_error(path, sqlite3.DatabaseError(str(exc))) from exc
    frame = frame.drop(columns=["fid"], errors="ignore")
    crs = wkt[0] if wkt and wkt[0] and wkt[0] != "undefined" else None
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


def parse_date(value: object) -> dt.date | None:
    """An ISO ``YYYY-MM-DD`` date, or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def create_ledger(rows: gpd.GeoDataFrame, path: str | Path, *, date: dt.date, source: str = "coverplan run") -> Path:
    """Write a new ledger file from :func:`planning.status.gaps.ledger_rows` (refuses to replace an existing file).

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
    bad = sorted(set(rows["status"]) - set(STATUSES))
    if bad:
        msg = f"ledger rows have `status` {bad}; expected one of {list(STATUSES)}"
        raise LedgerError(msg)
    frame = rows.copy()
    frame["status_date"] = date.isoformat()
    frame["note"] = frame.get("note", "")
    frame = frame[[*_LEDGER_COLUMNS, "geometry"]]
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))  # ours alone: removed at the end
    try:
        tmp = folder / path.name
        _write_new(frame, tmp, date=date, source=source)
        os.link(tmp, path)  # never replaces a file that appeared meanwhile (FileExistsError)
    except FileExistsError as exc:
        msg = f"ledger `{path}` already exists; expected a new file (updates go through apply_updates)"
        raise LedgerError(msg) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("ledger %s: %d rows", path, len(frame))
    return path


def _write_new(frame: gpd.GeoDataFrame, tmp: Path, *, date: dt.date, source: str) -> None:
    """The ledger table and its history (the creation events) in a new GeoPackage ``tmp``."""
    pyogrio.write_dataframe(frame, tmp, layer=_TABLE, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"})
    con = _connect(tmp)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"CREATE UNIQUE INDEX ledger_id ON {_TABLE}(id)")
        con.execute(
            f"CREATE TABLE {_HISTORY} (event_id INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL "
            f"REFERENCES {_TABLE}(id), event_date TEXT NOT NULL, field TEXT NOT NULL, old TEXT, new TEXT, note TEXT, "
            "source TEXT, recorded_at TEXT NOT NULL)"
        )
        con.execute(f"CREATE INDEX ledger_history_id ON {_HISTORY}(id, event_date)")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
            (_HISTORY, _HISTORY, "dated events of the ledger"),
        )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        con.executemany(
            f"INSERT INTO {_HISTORY} (id, event_date, field, old, new, note, source, recorded_at) "
            "VALUES (?, ?, 'status', NULL, ?, 'created', ?, ?)",
            [(i, date.isoformat(), s, source, now) for i, s in zip(frame["id"], frame["status"], strict=True)],
        )
        con.execute("COMMIT")
    finally:
        con.close()


def read_ledger(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> gpd.GeoDataFrame:
    """The ledger as it stands now (waiting up to ``timeout_s`` for a writer's lock)."""
    with _open(path, timeout_s=timeout_s) as con:
        return _read_table(con, Path(path))


def read_history(path: str | Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> pd.DataFrame:
    """All events, in the order they were recorded."""
    with _open(path, timeout_s=timeout_s) as con:
        try:
            return pd.read_sql_query(f"SELECT * FROM {_HISTORY} ORDER BY event_id", con)
        except sqlite3.Error as exc:
            raise _db_error(Path(path), exc) from exc


def _snapshot(path: str | Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ledger table and its history read in one transaction (a consistent pair)."""
    with _open(path) as con:
        try:
            con.execute("BEGIN")
            table = _read_table(con, Path(path))
            hist = pd.read_sql_query(f"SELECT * FROM {_HISTORY} ORDER BY event_id", con)
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _db_error(Path(path), exc) from exc
    return table, hist


def state_at(path: str | Path, date: dt.date) -> pd.DataFrame:
    """The ledger as it stood at the end of ``date``: rows created by then, with their status and note.

    Returns
    -------
    DataFrame
        Index ``id``; ``status``, ``status_date``, ``note`` and the row's fixed attributes.
    """
    table, hist = _snapshot(path)
    fixed = table.drop(columns=["status", "status_date", "note", "geometry"]).set_index("id")
    hist = hist[hist["event_date"] <= date.isoformat()].sort_values(["event_date", "event_id"])
    status = hist[hist["field"] == "status"].groupby("id").last()
    out = fixed.loc[fixed.index.intersection(status.index)].copy()
    out["status"] = status["new"].reindex(out.index)
    out["status_date"] = status["event_date"].reindex(out.index)
    out["note"] = status["note"].reindex(out.index)
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


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: rows applied, rows that changed nothing, events written."""

    applied: int
    unchanged: int
    events: int


def _read_csv(path: Path, layer: str) -> pd.DataFrame:
    """A CSV of text cells (UTF-8 or GBK, see :func:`gis.readers.read_csv_text`); LedgerError naming the file."""
    try:
        return read_csv_text(path, layer=layer)
    except LayerError as exc:
        raise LedgerError(f"{path}: cannot be used", exc.problems) from exc


def read_updates(path: str | Path) -> pd.DataFrame:
    """A field-report CSV (``id``, ``status``, ``date``, optional ``note``), all columns as text."""
    path = Path(path)
    if not path.is_file():
        msg = f"update file `{path}` does not exist"
        raise LedgerError(msg)
    frame = _read_csv(path, "ledger_update")
    missing = [c for c in ("id", "status", "date") if c not in frame.columns]
    if missing:
        msg = f"{path}: missing column(s) {missing}; expected columns {list(UPDATE_COLUMNS)} (note optional)"
        raise LedgerError(msg)
    if "note" not in frame:
        frame["note"] = ""
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
    """Apply field reports to the ledger in one transaction, or reject them all.

    Parameters
    ----------
    ledger : path
        The ledger GeoPackage.
    updates : DataFrame
        Columns ``id`` (``layer:id``, or the plain id when it is unique in the ledger), ``status``, ``date``
        (``YYYY-MM-DD``), ``note``; rows apply in order.
    force : bool
        Allow a status to go backwards (e.g. ``connected`` back to ``planned``).
    source : str
        Recorded with each event (the update file's name).
    timeout_s : float
        How long to wait for another writer's lock.
    today : date, optional
        Reports dated after it are refused (a typo such as 2099 would lock the row forever); default today.

    Returns
    -------
    UpdateResult

    Raises
    ------
    LedgerError
        Listing every bad row (file row number, id, column, what was expected); nothing is written then.
    """
    path = Path(ledger)
    with _open(path, timeout_s=timeout_s) as con:
        try:
            con.execute("BEGIN IMMEDIATE")  # the write lock first: checks see the ledger as it will be changed
        except sqlite3.Error as exc:
            raise _db_error(path, exc) from exc
        try:
            result = _apply(con, updates, force=force, source=source or "update", today=today or dt.date.today())
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    logger.info("ledger %s: %d rows updated, %d unchanged", path, result.applied, result.unchanged)
    return result


def _apply(con: sqlite3.Connection, updates: pd.DataFrame, *, force: bool, source: str, today: dt.date) -> UpdateResult:
    current = {r[0]: [r[1], r[2], r[3]] for r in con.execute(f"SELECT id, status, status_date, note FROM {_TABLE}")}
    last_event = dict(con.execute(f"SELECT id, MAX(event_date) FROM {_HISTORY} GROUP BY id").fetchall())
    plain: dict[str, list[str]] = {}
    for full in current:
        plain.setdefault(full.split(":", 1)[-1], []).append(full)
    problems: list[Problem] = []
    plan: list[tuple[str, str, str, str]] = []
    unchanged = 0
    state = {k: list(v) for k, v in current.items()}
    last = dict(last_event)

    def bad(row: int, rid: str, column: str, message: str) -> None:
        problems.append(Problem("ledger_update", message, file=source, row=row, row_id=rid or None, column=column))

    for i, rec in enumerate(updates.itertuples(index=False), start=1):
        raw_id = str(rec.id).strip()
        status = str(rec.status).strip().lower()
        date = parse_date(rec.date)
        note = str(rec.note) if rec.note is not None else ""
        rid = raw_id if raw_id in state else None
        if rid is None:
            hits = plain.get(raw_id, [])
            if len(hits) == 1:
                rid = hits[0]
            elif len(hits) > 1:
                bad(i, raw_id, "id", f"`{raw_id}` matches {hits}; expected a `layer:id` that names one row")
                continue
            else:
                bad(i, raw_id, "id", f"unknown id `{raw_id}`; expected an id in the ledger")
                continue
        ok = True
        if status not in _RANK:
            bad(i, raw_id, "status", f"`{rec.status}` is not a status; expected one of {list(STATUSES)}")
            ok = False
        if date is None:
            bad(i, raw_id, "date", f"`{rec.date}` is not a date; expected YYYY-MM-DD")
            ok = False
        if date is not None and date > today:
            bad(
                i,
                raw_id,
                "date",
                f"{date.isoformat()} is in the future (today is {today.isoformat()}); expected the "
                "date the change happened",
            )
            ok = False
        if not ok:
            continue
        old_status = state[rid][0]
        if last.get(rid) and date.isoformat() < last[rid]:
            bad(
                i,
                raw_id,
                "date",
                f"{date.isoformat()} is before this row's last recorded change ({last[rid]}); "
                "expected events in date order",
            )
            continue
        if _RANK[status] < _RANK[old_status] and not force:
            bad(
                i,
                raw_id,
                "status",
                f"`{old_status}` -> `{status}` goes backwards; expected a later status "
                f"(order {' < '.join(STATUSES)}) or --force",
            )
            continue
        if status == old_status and note == (state[rid][2] or ""):
            unchanged += 1
            continue
        plan.append((rid, status, date.isoformat(), note))
        state[rid] = [status, date.isoformat(), note]
        last[rid] = date.isoformat()
    if problems:
        msg = f"{len(problems)} bad row(s) in the update; nothing was applied"
        raise LedgerError(msg, problems)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    old_of = {k: v[0] for k, v in current.items()}
    events = 0
    for rid, status, date_s, note in plan:
        _write_event(con, rid, status, date_s, note, old_of[rid], source, now)
        old_of[rid] = status
        events += 1
    return UpdateResult(applied=len(plan), unchanged=unchanged, events=events)


def _write_event(
    con: sqlite3.Connection, rid: str, status: str, date_s: str, note: str, old: str, source: str, now: str
) -> None:
    """One row's change: the ledger row and its history event (inside the caller's transaction)."""
    con.execute(f"UPDATE {_TABLE} SET status = ?, status_date = ?, note = ? WHERE id = ?", (status, date_s, note, rid))
    con.execute(
        f"INSERT INTO {_HISTORY} (id, event_date, field, old, new, note, source, recorded_at) "
        "VALUES (?, ?, 'status', ?, ?, ?, ?, ?)",
        (rid, date_s, old, status, note, source, now),
    )


# ---------------------------------------------------------------- reconciliation with official counts

_SUFFIXES = ("自治县", "市", "县", "区")


def county_key(name: str) -> str:
    """Name key for matching counties across tables: trimmed, without a 市/县/区/自治县 suffix (when at least
    two characters remain), so 临江市 matches 临江 and 龙潭区 matches 龙潭."""
    name = str(name).strip()
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


def read_official_counts(path: str | Path) -> pd.DataFrame:
    """An official table of unconnected schools per county (``city``, ``county``, ``unconnected_schools``).

    A row with an empty ``county`` is a unit directly under the province (e.g. 梅河口, 公主岭): its ``city``
    names it. Raises LedgerError naming each bad row.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"counts file `{path}` does not exist"
        raise LedgerError(msg)
    frame = _read_csv(path, "counts")
    need = ["city", "county", "unconnected_schools"]
    missing = [c for c in need if c not in frame]
    if missing:
        msg = f"{path}: missing column(s) {missing}; expected {need}"
        raise LedgerError(msg)
    problems = []
    counts = pd.to_numeric(frame["unconnected_schools"], errors="coerce")
    for i in np.flatnonzero(counts.isna() | (counts < 0) | (counts % 1 != 0)):
        problems.append(
            Problem(
                "counts",
                f"`{frame['unconnected_schools'].iloc[i]}` is not a count; expected an integer >= 0",
                file=str(path),
                row=int(i) + 1,
                row_id=frame["county"].iloc[i] or frame["city"].iloc[i],
                column="unconnected_schools",
            )
        )
    if problems:
        msg = f"{path}: {len(problems)} bad row(s)"
        raise LedgerError(msg, problems)
    out = frame[need].copy()
    out["unconnected_schools"] = counts.astype(int)
    out["unit"] = np.where(out["county"].str.strip() == "", out["city"], out["county"])
    out["key"] = out["unit"].map(county_key)
    dup = out["key"][out["key"].duplicated()]
    if len(dup):
        msg = f"{path}: counties {sorted(set(dup))} appear twice; expected one row per county"
        raise LedgerError(msg)
    return out


def ledger_school_counts(path: str | Path, *, at: dt.date | None = None) -> pd.Series:
    """Unconnected schools per county in the ledger (lacking a connection, status before ``connected``)."""
    frame = state_at(path, at) if at is not None else read_ledger(path)
    s = frame[
        (frame["layer"] == "schools")
        & frame["lacks"].str.contains("connection")
        & frame["status"].isin(["unconnected", "planned", "under_construction"])
    ]
    return s.groupby("county").size()


def reconcile(ledger_counts: pd.Series, official: pd.DataFrame) -> pd.DataFrame:
    """Per-county comparison of the ledger's counts with an official table.

    Returns
    -------
    DataFrame
        ``city``, ``county`` (official name, or the ledger's for counties the table lacks), ``official``,
        ``ledger``, ``difference`` (ledger - official); counties in only one of the two have the other empty.
    """
    led = pd.DataFrame({"ledger_name": ledger_counts.index.astype(str), "ledger": ledger_counts.to_numpy()})
    led["key"] = led["ledger_name"].map(county_key)
    led = led.groupby("key", as_index=False).agg(ledger_name=("ledger_name", "first"), ledger=("ledger", "sum"))
    merged = official.merge(led, on="key", how="outer")
    merged["county"] = merged["unit"].fillna(merged["ledger_name"])
    merged["official"] = merged["unconnected_schools"].astype("Int64")
    merged["ledger"] = merged["ledger"].astype("Int64")
    merged["difference"] = merged["ledger"].fillna(0) - merged["official"].fillna(0)
    return merged[["city", "county", "official", "ledger", "difference"]].reset_index(drop=True)
