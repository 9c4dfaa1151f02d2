"""A planner's village register (a poor-village list, 建档立卡贫困村名单, or any list of village attributes) joined to
the villages layer.

No public source carries ``is_poor``: it comes from the county's register, a spreadsheet. Each register row is
matched to one village:

1. by its 12-digit administrative division code (GB/T 2260 + the statistics bureau's village code) equal to the
   village's ``admin_code``;
2. else by its name within its township or county: names compared after NFKC and without spaces and a trailing
   村民委员会/村委会 (``东岭村委会`` = ``东岭村``); the scope is the register row's 9-digit township or 6-digit county
   code (a prefix of ``admin_code``), else its township name (a villages ``township`` column), else its county
   name (``county``), else the whole layer.

A row whose code or name fits several villages, or whose village another row already took, is *ambiguous*; a row
fitting none is *unmatched*. Neither is joined: each is listed in the outcome table with the village(s) it could
be, for the planner to fix the register.

The register's columns are read by the villages layer's headings (:data:`gis.schema.COLUMN_ALIASES`: 是否贫困村
``is_poor``, 人口 ``population`` ...); other columns are carried as they are. A list without an ``is_poor`` column
is read as a list of poor villages (a row is the fact): its matched villages get ``is_poor`` true and every other
village false. With an ``is_poor`` column, villages not on the list get false. Both are stated in the report.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import LayerError, Problem
from gis.importers.common import ImportReport
from gis.readers import read_csv_text, read_xlsx_text
from gis.schema import COLUMN_ALIASES, header_key
from gis.validation import validate_frame

logger = logging.getLogger(__name__)

__all__ = ["REGISTER_KEYS", "RegisterJoin", "join_register", "read_register"]

Outcome = Literal["matched by code", "matched by name", "ambiguous", "unmatched"]

_VILLAGE = COLUMN_ALIASES["villages"]
#: Register headings that say how a row is matched (besides the villages layer's own column names).
REGISTER_KEYS: dict[str, tuple[str, ...]] = {
    "code": ("admin_code", *_VILLAGE["admin_code"], "行政村代码", "行政村编码", "代码", "编码"),
    "name": ("name", *_VILLAGE["name"], "村委会", "村委会名称", "村民委员会"),
    "township": ("township", "乡镇", "乡镇名称", "乡(镇)", "乡镇(街道)", "乡(镇、街道)", "所属乡镇", "乡镇街道", "镇"),
    "county": ("county", *_VILLAGE["county"]),
}
_SUFFIX = re.compile(r"(村民委员会|村委会)$")


@dataclass(frozen=True)
class RegisterJoin:
    """The villages with the register joined, the import report and one outcome row per register row.

    Attributes
    ----------
    villages : GeoDataFrame
        The villages layer, register columns joined (a register column replaces the village's column of the same
        name on matched villages).
    report : ImportReport
        Counts of matched (by code, by name), ambiguous and unmatched rows and the columns filled.
    outcomes : DataFrame
        Per register row: ``row`` (data row, from 1), ``code``, ``name``, ``outcome``, ``village_id`` (the match,
        or the candidates of an ambiguous row, ``;``-separated), ``why``.
    """

    villages: gpd.GeoDataFrame
    report: ImportReport
    outcomes: pd.DataFrame


def read_register(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """A register (.xlsx workbook or CSV in UTF-8/GBK) as a table of text cells (:mod:`gis.readers`).

    Raises
    ------
    LayerError
        Unreadable, empty, or not .xlsx/.csv (naming the file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_text(path, layer="register", sheet=sheet)
    if suffix == ".csv":
        return read_csv_text(path, layer="register")
    msg = f"is a {suffix or 'suffix-less'} file; expected a register as .xlsx or .csv"
    raise LayerError([Problem("register", msg, file=str(path))])


def _name_key(value: object) -> str:
    s = "".join(unicodedata.normalize("NFKC", str(value)).split())
    return _SUFFIX.sub("村", s)


def _key_columns(headings: list[str], given: Mapping[str, str], file: str) -> dict[str, str]:
    """Register key (code, name, township, county) -> its heading."""
    out: dict[str, str] = {}
    for key, aliases in REGISTER_KEYS.items():
        if key in given:
            if given[key] not in headings:
                msg = f"`{key}` column {given[key]!r} is not a heading of the register; headings: {headings}"
                raise LayerError([Problem("register", msg, file=file, column=key)])
            out[key] = given[key]
            continue
        keys = [header_key(a) for a in aliases]
        hits = [h for k in keys for h in headings if header_key(h) == k and h not in out.values()]
        if hits:
            out[key] = hits[0]
    if "code" not in out and "name" not in out:
        msg = (
            f"has no village code or name column (headings: {headings}); expected a 12-digit code (村编码, "
            "行政区划代码) or a village name (行政村名称, 村名)"
        )
        raise LayerError([Problem("register", msg, file=file)])
    return out


def _attributes(register: pd.DataFrame, keys: dict[str, str], file: str) -> pd.DataFrame:
    """The register's attribute columns, renamed to the villages layer's names where a heading means one."""
    rest = [h for h in register.columns if h not in keys.values()]
    rename = {}
    for h in rest:
        for column, aliases in _VILLAGE.items():
            if column in ("village_id", "name", "admin_code", "county"):
                continue
            if header_key(h) in {header_key(a) for a in (column, *aliases)}:
                rename[h] = column
    attrs = register[rest].rename(columns=rename)
    attrs.attrs["headings"] = {column: h for h, column in rename.items()}
    dup = sorted({c for c in attrs.columns if list(attrs.columns).count(c) > 1})
    if dup:
        msg = f"has several headings meaning {dup}; expected one each"
        raise LayerError([Problem("register", msg, file=file)])
    return attrs


def _scope(villages: pd.DataFrame, row: Mapping[str, str], keys: dict[str, str]) -> np.ndarray:
    """Villages a name may be looked for among: the row's township/county code prefix, else names."""
    code = "".join(str(row.get(keys.get("code", ""), "")).split())
    admin = villages["admin_code"].astype(str) if "admin_code" in villages else None
    if admin is not None and code.isdigit() and len(code) in (6, 9):
        return admin.str.startswith(code).to_numpy()
    for key, column in (("township", "township"), ("county", "county")):
        want = _name_key(row.get(keys.get(key, ""), "")) if key in keys else ""
        if want and column in villages:
            return (villages[column].map(_name_key) == want).to_numpy()
    return np.ones(len(villages), dtype=bool)


def _match_row(
    villages: pd.DataFrame, names: np.ndarray, row: Mapping[str, str], keys: dict[str, str]
) -> tuple[Outcome, list[int], str]:
    """(outcome, candidate positions, why) of one register row."""
    code = "".join(str(row.get(keys.get("code", ""), "")).split())
    if code and len(code) == 12 and code.isdigit() and "admin_code" in villages:
        hits = np.flatnonzero(villages["admin_code"].astype(str).to_numpy() == code)
        if len(hits) == 1:
            return "matched by code", [int(hits[0])], ""
        if len(hits) > 1:
            return "ambiguous", hits.tolist(), f"{len(hits)} villages have admin_code {code}"
    name = _name_key(row.get(keys.get("name", ""), "")) if "name" in keys else ""
    if not name:
        why = f"code {code!r} fits no village's admin_code and the row has no name" if code else "no code and no name"
        return "unmatched", [], why
    hits = np.flatnonzero(_scope(villages, row, keys) & (names == name))
    if len(hits) == 1:
        return "matched by name", [int(hits[0])], ""
    if len(hits) > 1:
        return "ambiguous", hits.tolist(), f"{len(hits)} villages are named {name} (give the 12-digit code)"
    where = f" (code {code} fits no admin_code)" if code else ""
    return "unmatched", [], f"no village named {name} in its township/county{where}"


def join_register(
    villages: gpd.GeoDataFrame,
    register: pd.DataFrame,
    *,
    file: str,
    columns: Mapping[str, str] | None = None,
) -> RegisterJoin:
    """Join a register (text cells, :func:`read_register`) to a validated villages layer (see the module docstring).

    Parameters
    ----------
    villages : GeoDataFrame
        The villages layer, validated (``village_id``, ``name``, optionally ``admin_code``, ``county``, ``township``).
    register : DataFrame
        The register's rows.
    file : str
        The register's file, named in the report and in problems.
    columns : mapping, optional
        Register key (``code``, ``name``, ``township``, ``county``) -> heading, for headings not recognised.

    Raises
    ------
    LayerError
        No code or name column, or the joined villages fail validation (e.g. a register value that is not a
        boolean in 是否贫困村): every problem names the register's file, its row (the data row under the heading,
        as ``row`` in the outcome table) and column, and the village (id and name) the row was joined to.
    """
    keys = _key_columns([str(c) for c in register.columns], columns or {}, file)
    attrs = _attributes(register, keys, file)
    report = ImportReport(source=file, unit="register rows", read=len(register))
    names = villages["name"].map(_name_key).to_numpy()
    taken: dict[int, int] = {}
    rows = []
    for i, row in enumerate(register.to_dict("records")):
        outcome, hits, why = _match_row(villages, names, row, keys)
        if outcome.startswith("matched") and hits[0] in taken:
            other = taken[hits[0]]
            outcome, why = "ambiguous", f"village {villages['village_id'].iloc[hits[0]]} is also row {other + 1}'s"
        if outcome.startswith("matched"):
            taken[hits[0]] = i
        rows.append(
            {
                "row": i + 1,
                "code": row.get(keys.get("code", ""), ""),
                "name": row.get(keys.get("name", ""), ""),
                "outcome": outcome,
                "village_id": ";".join(str(villages["village_id"].iloc[h]) for h in hits),
                "why": why,
            }
        )
    outcomes = pd.DataFrame(rows, columns=["row", "code", "name", "outcome", "village_id", "why"])
    joined = _joined(villages, attrs, taken, report, file=file)
    for outcome in ("matched by code", "matched by name", "ambiguous", "unmatched"):
        n = int((outcomes["outcome"] == outcome).sum())
        report.notes.append(f"{n} row(s) {outcome}")
    report.kept["villages"] = len(joined)
    return RegisterJoin(villages=joined, report=report, outcomes=outcomes)


def _joined(
    villages: gpd.GeoDataFrame, attrs: pd.DataFrame, taken: dict[int, int], report: ImportReport, *, file: str
) -> gpd.GeoDataFrame:
    """The villages with the matched rows' attributes; ``is_poor`` filled as the module docstring says."""
    out = villages.copy()
    pos = np.array(sorted(taken), dtype=np.int64)
    src = np.array([taken[p] for p in pos], dtype=np.int64)
    for column in attrs.columns:
        values = pd.Series([None] * len(out), index=out.index, dtype=object)
        if column in out.columns:
            values = out[column].astype(object).where(out[column].notna(), None)
        values.iloc[pos] = attrs[column].iloc[src].to_numpy()
        out[column] = values
    if "is_poor" not in attrs.columns:
        flag = np.zeros(len(out), dtype=bool)
        flag[pos] = True
        out["is_poor"] = flag
        report.fill("is_poor", "true on the register (a list of poor villages), false elsewhere", len(out))
    else:
        unlisted = np.ones(len(out), dtype=bool)
        unlisted[pos] = False
        blank = unlisted & out["is_poor"].isna().to_numpy()
        out.loc[blank, "is_poor"] = False
        report.fill("is_poor", "false: not on the register", int(blank.sum()))
    checked, problems = validate_frame(out, "villages", file=file)
    headings = attrs.attrs.get("headings", {})
    errors = [_register_problem(p, out, taken, headings, file=file) for p in problems if p.severity == "error"]
    if errors:
        raise LayerError(errors)
    return checked


def _register_problem(
    problem: Problem, villages: pd.DataFrame, taken: dict[int, int], headings: Mapping[str, str], *, file: str
) -> Problem:
    """A problem of the joined villages told as the register's: the register row (data row under the heading, as
    ``row`` in the outcome table) and heading whose value it is, and the village (id and name) it was joined to."""
    pos = None if problem.row is None else problem.row - 1
    if pos is None or pos not in taken:
        return problem
    vid, name = villages["village_id"].iloc[pos], villages["name"].iloc[pos]
    column = problem.column
    if column is not None and column in headings and headings[column] != column:
        column = f"{headings[column]} ({column})"
    return Problem(
        "register", problem.message, file=file, row=taken[pos] + 1, row_id=f"village {vid} {name}", column=column
    )
