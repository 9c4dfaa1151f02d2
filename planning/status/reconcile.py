"""Reconciliation of the ledger with an official table of unconnected schools per county (e.g. the real 2019 Jilin
table in ``data/official``): counties matched by name without their 市/县/区 suffix, per county and in total."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import Problem
from planning.status.ledger import LedgerError, read_csv_file, read_ledger, state_at

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
    frame = read_csv_file(path, "counts")
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
    """Unconnected schools per county in the ledger, as reported: rows lacking a connection, before ``completed``,
    not excluded, except those whose status rests on the model alone (``evidence`` predicted or unknown: not a
    school the education department counts; rows of a ledger written before evidence was recorded count)."""
    frame = state_at(path, at) if at is not None else read_ledger(path)
    evidence = frame["evidence"].fillna("") if "evidence" in frame else pd.Series("", index=frame.index)
    s = frame[
        (frame["layer"] == "schools")
        & frame["lacks"].fillna("").str.contains("connection")
        & ~evidence.isin(["predicted", "unknown"])
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
