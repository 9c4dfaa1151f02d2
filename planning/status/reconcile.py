"""Reconciliation of the ledger with an official table of unconnected schools per county (e.g. the real 2019 Jilin
table in ``data/official``): counties matched by name without their 市/县/区 suffix, per county and in total."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import Problem
from gis.files import not_a_regular_file
from gis.text import text_problem
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


#: Largest count of unconnected schools one row may state: a million, beyond any province (China has some 210,000
#: primary and secondary schools in all); a larger number is a typo or an overflow, never a count.
MAX_COUNT = 1_000_000


def _count(text: str) -> int | None:
    """A count cell as an integer 0..:data:`MAX_COUNT` (``12`` or ``12.0``), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not value.is_integer() or not 0 <= value <= MAX_COUNT:
        return None
    return int(value)


def _count_problems(frame: pd.DataFrame, file: str) -> tuple[list[int | None], list[Problem]]:
    """Each row's count and a problem per row whose count or unit (county, else city) is missing or wrong."""
    counts, problems = [], []
    for i, (city, county, raw) in enumerate(
        zip(frame["city"], frame["county"], frame["unconnected_schools"], strict=True), start=1
    ):
        unit = str(county).strip() or str(city).strip()
        n = _count(str(raw).strip())
        counts.append(n)
        if n is None:
            shown = f"`{raw}` is not a count" if str(raw).strip() else "is empty"
            problems.append(
                Problem(
                    "counts",
                    f"{shown}; expected a whole number from 0 to {MAX_COUNT:,} (more would exceed any province)",
                    file=file,
                    row=i,
                    row_id=unit or None,
                    column="unconnected_schools",
                )
            )
        if not unit:
            msg = "has neither `county` nor `city`; expected the county (or the city of a unit under the province)"
            problems.append(Problem("counts", msg, file=file, row=i, column="county"))
        for col, v in (("city", city), ("county", county)):
            why = text_problem(v)
            if why:
                problems.append(Problem("counts", why, file=file, row=i, row_id=unit or None, column=col))
    return counts, problems


def read_official_counts(path: str | Path) -> pd.DataFrame:
    """An official table of unconnected schools per county (``city``, ``county``, ``unconnected_schools``).

    A row with an empty ``county`` is a unit directly under the province (e.g. 梅河口, 公主岭): its ``city``
    names it. Counts are whole numbers 0..:data:`MAX_COUNT`. Raises LedgerError naming each bad row.
    """
    path = Path(path)
    why = not_a_regular_file(path)
    if why:
        msg = f"counts file `{path}` {why}"
        raise LedgerError(msg)
    frame = read_csv_file(path, "counts")
    need = ["city", "county", "unconnected_schools"]
    missing = [c for c in need if c not in frame]
    if missing:
        msg = f"{path}: missing column(s) {missing}; expected {need}"
        raise LedgerError(msg)
    counts, problems = _count_problems(frame, str(path))
    if problems:
        msg = f"{path}: {len(problems)} bad row(s)"
        raise LedgerError(msg, problems)
    out = frame[need].copy()
    out["unconnected_schools"] = np.array(counts, dtype=np.int64)
    out["unit"] = np.where(out["county"].str.strip() == "", out["city"].str.strip(), out["county"].str.strip())
    out["key"] = out["unit"].map(county_key)
    rows_of: dict[str, list[int]] = {}
    for row, key in enumerate(out["key"], start=1):
        rows_of.setdefault(key, []).append(row)
    twice = {k: r for k, r in rows_of.items() if len(r) > 1}
    if twice:
        listed = "; ".join(f"`{k}` in rows {', '.join(map(str, r))}" for k, r in sorted(twice.items()))
        msg = f"{path}: counties appear twice ({listed}); expected one row per county"
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
