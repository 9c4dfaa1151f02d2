"""Tables written for spreadsheets: CSV and XLSX where text from the data can never become a formula.

A village called ``=HYPERLINK("http://x","点击")`` or ``@SUM(A1)`` would run as a formula when a planner opens a
CSV or XLSX in Excel or WPS. Here:

* XLSX (:func:`write_xlsx`): every text cell is written as a string cell (``t="inlineStr"``), never as a
  formula, with Excel's quote prefix so that editing the cell keeps it text; numbers stay numbers.
* CSV (:func:`write_csv`): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a leading ``'`` (the OWASP "CSV injection" recommendation); numeric columns are left alone. UTF-8 with a
  BOM, which Excel opens correctly in Chinese.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised for CSV (numbers, booleans and NaN untouched)."""
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v).astype(object)
    return out


#: Columns of whole numbers that are float only because some rows are empty (no batch yet) or because they are
#: sums (people counts): ``batch``, ``year``, ``lot``, ``counties_short``, ``backhaul_hops``, names ending
#: ``_batch``, ``_year`` (not money per year: no ``_cny``), ``_people_n``, ``_people_have``.
WHOLE_NAMES = ("batch", "year", "lot", "counties_short", "backhaul_hops")
WHOLE_SUFFIXES = ("_batch", "_year", "_people_n", "_people_have")


def whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` where a float column of :data:`WHOLE_NAMES` / :data:`WHOLE_SUFFIXES` whose values are
    all whole is written as whole numbers (2027, not 2027.0; empty stays empty)."""
    out = frame.copy()
    for col in out.columns:
        name = str(col)
        if "_cny" in name or not (name in WHOLE_NAMES or name.endswith(WHOLE_SUFFIXES)):
            continue
        values = out[col]
        if not pd.api.types.is_float_dtype(values):
            continue
        finite = values.dropna()
        if len(finite) and np.isfinite(finite).all() and (finite == np.round(finite)).all():
            out[col] = values.astype("Int64")
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``frame`` as a UTF-8 (BOM) CSV with formula-like text neutralised (see the module docstring) and
    batch numbers and years as whole numbers (:func:`whole_numbers`)."""
    path = Path(path)
    data = whole_numbers(safe_frame(frame.reset_index() if index else frame))
    data.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _cell_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and not math.isfinite(float(v)):
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    headers: Mapping[str, Mapping[str, str]] | None = None,
    formats: Mapping[str, Mapping[str, str]] | None = None,
    widths: Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """Write one sheet per table; text cells are strings, never formulas.

    Parameters
    ----------
    sheets : mapping of sheet name to DataFrame
    headers : mapping of sheet name to {column: heading}, optional
        Headings shown in the first row (default: the column names).
    formats : mapping of sheet name to {column: Excel number format}, optional
        E.g. ``"0.0%"`` for shares, ``"#,##0"`` for CNY.
    widths : mapping of sheet name to {column: width in characters}, optional
        Default: fitted to the longest value (a CJK character counts two).

    The header row is bold, frozen and has filter buttons.
    """

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        head = (headers or {}).get(name, {})
        fmt = (formats or {}).get(name, {})
        wid = (widths or {}).get(name, {})
        for j, col in enumerate(frame.columns, start=1):
            _text_cell(ws.cell(row=1, column=j), str(head.get(col, col))).font = Font(bold=True)
        for j, col in enumerate(frame.columns, start=1):
            for i, v in enumerate(frame[col].tolist(), start=2):
                val = _cell_value(v)
                cell = ws.cell(row=i, column=j)
                if isinstance(val, str):
                    _text_cell(cell, val)
                else:
                    cell.value = val
                    if col in fmt and val is not None and not isinstance(val, bool):
                        cell.number_format = fmt[col]
            width = wid.get(col) or _fit_width([str(head.get(col, col)), *(str(x) for x in frame[col].tolist()[:500])])
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = "A2"
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame), 1) + 1}"
    wb.save(path)
    return path


#: Characters XML 1.0 cannot hold (C0 controls but tab and line breaks, surrogates, U+FFFE, U+FFFF): in a cell they
#: make the workbook not well-formed (openpyxl refuses C0 controls, writes U+FFFE/U+FFFF as they are).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_cell(cell: Any, text: str) -> Any:
    """Set ``cell`` to ``text`` as a string (never a formula); a formula-like text also gets Excel's quote prefix.
    Characters XML cannot hold become U+FFFD (validation refuses them in inputs; this guards text from elsewhere,
    e.g. an old ledger's note)."""
    text = _XML_ILLEGAL.sub("\ufffd", text)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True
    return cell


def _fit_width(values: list[str]) -> float:
    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    return float(min(max((width(v) for v in values), default=8) + 2, 60))
