"""The ledger (台账) as an XLSX workbook with Chinese headers, the form provinces exchange it in.

* :func:`export_xlsx`: a ledger (GeoPackage or PostgreSQL) as sheet ``台账`` (one row per village or school, the
  current state, Chinese headers, the point's metric coordinates ``横坐标X（米）``/``纵坐标Y（米）``) and sheet
  ``说明`` (the coordinates' CRS). Every text cell is a string, never a formula: a text starting with ``=``,
  ``+``, ``-`` or ``@`` is written as text (:func:`gis.writers.write_xlsx`).
* :func:`import_xlsx`: such a workbook read (openpyxl parses it through defusedxml: no entity expansion, no
  external entities), every row checked (a bad cell names the file, the sheet, the row number, the column, the
  value and what was expected; all are listed and nothing is written), then a new GeoPackage ledger written whole
  whose rows are the sheet's, each row's values entered as events dated its status date.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import shapely

from gis.errors import Problem
from gis.readers import check_xlsx, xlsx_sheet_values
from gis.settings import MAX_CNY
from gis.writers import write_xlsx
from planning.status import ledger_pg
from planning.status.ledger import parse_date, read_ledger, table_history, write_ledger_table
from planning.status.ledger_base import (
    EXCLUDED,
    EXCLUSION_REASONS,
    LEDGER_COLUMNS,
    MIIT_FIXED,
    MIIT_TRACKED,
    STATUSES,
    LedgerError,
    reason_name,
    status_name,
)
from planning.status.ledger_miit import HEADERS_ZH

logger = logging.getLogger(__name__)

__all__ = ["HEADERS", "export_xlsx", "import_xlsx"]

SHEET = "台账"
ABOUT_SHEET = "说明"
#: The workbook's Chinese header of each ledger column (the MIIT fields' as field reports name them).
HEADERS: dict[str, str] = {
    "id": "编号",
    "layer": "图层",
    "name": "名称",
    "county": "县（市、区）",
    "kind": "类别",
    "lacks": "缺项",
    "access": "现有接入",
    "evidence": "依据",
    "remedy": "建设方式",
    "remedy_id": "方案编号",
    "remedy_cost_cny": "投资（元）",
    "batch": "批次",
    "year": "年度",
    "funding": "资金来源",
    "plan_detail": "规划明细",
    "status": "状态",
    "status_date": "状态日期",
    "note": "备注",
    "measured_mbps": "实测带宽",
    "reason": "核减原因",
    "operator": "运营商",
    "division_code": "统计用区划代码",
    "designated_county": "重点县",
    "contiguous_poverty_area": "连片特困地区",
    "deep_poverty": "深度贫困",
    **{col: zh for zh, col in HEADERS_ZH.items() if col in MIIT_TRACKED and zh not in ("接入带宽", "验收单位")},
    "x_m": "横坐标X（米）",
    "y_m": "纵坐标Y（米）",
}
_COLUMN_OF = {zh: col for col, zh in HEADERS.items()}
#: Numeric columns: (lowest, highest, whole number).
_RANGES = {
    "remedy_cost_cny": (0.0, float(MAX_CNY), False),
    "batch": (1.0, 99.0, True),
    "year": (2015.0, 2100.0, True),
    "measured_mbps": (0.0, 100_000.0, False),
}


def export_xlsx(ledger: str | Path, path: str | Path) -> Path:
    """Write the ledger's current state as an XLSX 台账 at the new file ``path`` (refused when it exists; written
    whole: a temporary file linked into place). Returns the path."""
    path = Path(path)
    if path.exists():
        msg = f"`{path}` already exists; expected a new file for the exported ledger"
        raise LedgerError(msg)
    table = read_ledger(ledger)
    cols = [c for c in (*LEDGER_COLUMNS, *MIIT_FIXED, *MIIT_TRACKED) if c in table]
    frame = pd.DataFrame(table[cols]).copy()
    xy = shapely.get_coordinates(np.asarray(table.geometry.values))
    frame["x_m"], frame["y_m"] = xy[:, 0], xy[:, 1]
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: "" if v is None or v is pd.NA else str(v))
    crs = table.crs.to_string() if table.crs is not None else ""
    about = pd.DataFrame({"键": ["crs", "exported_from", "rows"], "值": [crs, str(ledger), str(len(frame))]})
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = write_xlsx({SHEET: frame, ABOUT_SHEET: about}, folder / path.name, headers={SHEET: HEADERS})
        os.link(tmp, path)  # never replaces a file that appeared meanwhile
    except FileExistsError as exc:
        msg = f"`{path}` already exists; expected a new file for the exported ledger"
        raise LedgerError(msg) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("ledger %s: %d rows exported to %s", ledger, len(frame), path)
    return path


def _read_sheets(path: Path) -> tuple[list[tuple[object, ...]], str]:
    """The ``台账`` sheet's rows (header first) and the CRS the ``说明`` sheet names."""
    if not openpyxl.DEFUSEDXML:  # openpyxl parses through defusedxml when it is installed
        msg = "reading an XLSX ledger needs defusedxml installed (safe XML parsing); expected `pip install defusedxml`"
        raise LedgerError(msg)
    check_xlsx(path, layer=SHEET)  # size, zip and DTD checks before openpyxl parses it
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or non-XLSX file: zip, XML and openpyxl errors alike
        msg = f"`{path}` cannot be read as an XLSX workbook ({type(exc).__name__}: {exc}); expected an .xlsx file"
        raise LedgerError(msg) from exc
    try:
        if SHEET not in wb.sheetnames:
            msg = f"`{path}` has no sheet `{SHEET}` (sheets {wb.sheetnames}); expected the 台账 as `{SHEET}`"
            raise LedgerError(msg)
        # saved values; a formula without one is refused (never read as an empty cell)
        rows = xlsx_sheet_values(path, SHEET, layer=SHEET)
        crs = ""
        if ABOUT_SHEET in wb.sheetnames:
            for key, value, *_ in (r for r in wb[ABOUT_SHEET].iter_rows(values_only=True) if len(r) >= 2):
                if key == "crs" and value:
                    crs = str(value)
    finally:
        wb.close()
    return rows, crs


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v).strip()


def _number(col: str, v: object) -> tuple[float, str]:
    """(value, what was expected when it is no good)."""
    lo, hi, whole = _RANGES.get(col, (-math.inf, math.inf, False))
    want = f"a number in [{lo:g}, {hi:g}]{' (whole)' if whole else ''}" if col in _RANGES else "a finite number"
    if v is None or (isinstance(v, str) and not v.strip()):
        return math.nan, ("" if col in _RANGES else want)
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return math.nan, want
    try:
        x = float(v)
    except ValueError:
        return math.nan, want
    if not (math.isfinite(x) and lo <= x <= hi) or (whole and not x.is_integer()):
        return math.nan, want
    return x, ""


def _check_status(v: str) -> tuple[str, str]:
    name = status_name(v)
    if name in (*STATUSES, EXCLUDED):
        return name, ""
    return "", f"one of {[*STATUSES, EXCLUDED]} (or 未通, 规划, 在建, 竣工, 验收, 核减)"


def _check_date(v: str) -> tuple[str, str]:
    day = parse_date(v)
    return (day.isoformat(), "") if day else ("", "a date (2026-12-05, 2026/12/5, 2026年12月5日)")


_TEXT_CHECKS: dict[str, Callable[[str], tuple[str, str]]] = {
    "status": _check_status,
    "status_date": _check_date,
    "layer": lambda v: (v, "") if v in ("villages", "schools") else ("", "villages or schools"),
    "reason": lambda v: (
        (reason_name(v), "")
        if not v or reason_name(v) in EXCLUSION_REASONS
        else ("", f"one of {list(EXCLUSION_REASONS)}")
    ),
}


def _check_row(values: dict[str, object], bad: Callable[[str, object, str], None]) -> dict[str, object]:
    """One sheet row's values checked and converted (``bad(column, value, expected)`` for each bad cell)."""
    out: dict[str, object] = {}
    for col, v in values.items():
        if col in _RANGES or col in ("x_m", "y_m"):
            out[col], want = _number(col, v)
        else:
            text = _text(v)
            out[col], want = _TEXT_CHECKS[col](text) if col in _TEXT_CHECKS else (text, "")
        if want:
            bad(col, v, want)
    if not out.get("id"):
        bad("id", values.get("id"), "an id such as villages:V000029")
    elif out.get("layer") and not str(out["id"]).startswith(f"{out['layer']}:"):
        bad("id", values.get("id"), f"an id beginning with its layer `{out['layer']}:`")
    if out.get("status") == EXCLUDED and not out.get("reason"):
        bad("reason", values.get("reason"), f"a reason to exclude: one of {list(EXCLUSION_REASONS)}")
    return out


def read_xlsx(path: str | Path) -> gpd.GeoDataFrame:
    """The ``台账`` sheet of an XLSX ledger as a ledger table, every row checked; LedgerError listing every bad cell
    (file, sheet, row number, column, value, what was expected)."""
    path = Path(path)
    rows, crs = _read_sheets(path)
    if not rows:
        msg = f"`{path}` sheet `{SHEET}` is empty; expected a header row ({', '.join(HEADERS.values())})"
        raise LedgerError(msg)
    header = [_text(h) for h in rows[0]]
    cols = [_COLUMN_OF.get(h, HEADERS_ZH.get(h, h)) for h in header]
    missing = [HEADERS[c] for c in ("id", "layer", "status", "status_date", "x_m", "y_m") if c not in cols]
    unknown = [h for h, c in zip(header, cols, strict=True) if c not in HEADERS]
    if missing or unknown:
        msg = f"`{path}` sheet `{SHEET}`: header row lacks {missing} / has unknown {unknown}; expected {HEADERS}"
        raise LedgerError(msg)
    problems: list[Problem] = []
    records = []
    for n, row in enumerate(rows[1:], start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        values = dict(zip(cols, list(row) + [None] * (len(cols) - len(row)), strict=False))

        def bad(col: str, value: object, want: str, n: int = n, values: dict = values) -> None:
            problems.append(
                Problem(
                    SHEET,
                    f"{HEADERS.get(col, col)} = {value!r}; expected {want}",
                    file=str(path),
                    row=n,
                    row_id=_text(values.get("id")) or None,
                    column=HEADERS.get(col, col),
                )
            )

        records.append(_check_row(values, bad))
    ids = pd.Series([r.get("id") for r in records])
    for rid in ids[ids.duplicated() & (ids != "")].unique():
        problems.append(Problem(SHEET, f"编号 {rid!r} appears twice; expected unique ids", file=str(path), row_id=rid))
    if problems:
        msg = f"`{path}`: {len(problems)} bad cell(s) in sheet `{SHEET}`; nothing was written"
        raise LedgerError(msg, problems)
    frame = pd.DataFrame.from_records(records, columns=cols)
    geometry = shapely.points(frame.pop("x_m").to_numpy(float), frame.pop("y_m").to_numpy(float))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs or None)


def import_xlsx(path: str | Path, ledger: str | Path, *, source: str = "coverplan ledger import") -> str | Path:
    """A new ledger from the XLSX 台账 ``path``: a GeoPackage file (refused when it exists; written whole, so a
    failed import leaves nothing) or a PostgreSQL ledger in an empty database (``postgresql://...``; one
    transaction, as ``ledger init``). Each row is entered with its values as events dated its status date."""
    table = read_xlsx(path)
    what = f"{source} {Path(path).name}"
    if ledger_pg.is_ledger_url(ledger):
        frame, history = table_history(table, source=what)
        ledger_pg.import_ledger(str(ledger), frame, history, source=what)
        out: str | Path = str(ledger)
    else:
        out = write_ledger_table(table, ledger, source=what)
    logger.info("ledger %s: %d rows imported from %s", ledger, len(table), path)
    return out
