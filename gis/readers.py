"""Reading tables as planners have them: CSV in UTF-8 (with or without a BOM), GB18030/GBK (what Excel saves in
Chinese Windows), or UTF-16 (Excel's "Unicode text"), the encoding found logged; and Excel workbooks (.xlsx).

Both give a table of text cells, so validation sees a workbook exactly as it sees the same table saved as CSV.
A workbook is read with openpyxl in read-only mode, never evaluated: a formula cell is read as the value Excel
saved with it, and a formula without a saved value (a file written by a program, never opened in Excel) is
refused naming its cell.

Every failure (unreadable bytes, an unclosed quote, an empty file, a sheet that is not there) raises
:class:`~gis.errors.LayerError` naming the file and the layer, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from gis.errors import LayerError, Problem
from gis.files import not_a_regular_file

logger = logging.getLogger(__name__)

#: Encodings tried in turn when the file has no byte-order mark: UTF-8, then GB18030 (a superset of GBK and
#: GB2312, the encoding of CSVs saved by Excel or WPS on Chinese Windows).
FALLBACK_ENCODINGS = ("utf-8", "gb18030")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes, *, file: str, layer: str) -> tuple[str, str]:
    """The text of a file's bytes and the encoding it was read with (see the module docstring).

    Raises
    ------
    LayerError
        No encoding decodes the bytes: the encoding charset_normalizer guesses is named in the message.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise LayerError(
                    [Problem(layer, f"starts with a {name} byte-order mark but is not {name}: {exc}", file=file)]
                ) from exc
    for name in FALLBACK_ENCODINGS:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue

    best = from_bytes(data[:200_000]).best()
    guess = f" (it looks like {best.encoding})" if best is not None else ""
    msg = f"is neither UTF-8 nor GB18030/GBK{guess}; expected a CSV saved as UTF-8 or GBK"
    raise LayerError([Problem(layer, msg, file=file)])


def _bad_row(text: str, sep: str) -> tuple[int, int, str] | None:
    """(data row, line, reason) where Python's csv reader fails on ``text`` (an unclosed quote, a cell over its
    128 kB limit), or None when it reads it all. Data rows count from 1 after the header."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    records = 0
    try:
        for _ in reader:
            records += 1
    except csv.Error as exc:
        return records, reader.line_num, str(exc)
    return None


def duplicate_columns(header: list[str], *, file: str, layer: str) -> list[Problem]:
    """A problem per column name that appears more than once in the header (after trimming spaces), naming the
    positions: pandas would silently rename the second one (``name.1``)."""
    where: dict[str, list[int]] = {}
    for pos, name in enumerate(header, start=1):
        where.setdefault(name.strip(), []).append(pos)
    return [
        Problem(
            layer,
            f"the header has column `{name}` {len(pos)} times (columns {', '.join(map(str, pos))}, spaces trimmed); "
            "expected each column once",
            file=file,
            column=name,
        )
        for name, pos in where.items()
        if len(pos) > 1
    ]


def read_csv_text(path: str | Path, *, layer: str) -> pd.DataFrame:
    """A CSV as a table of text cells (no value converted; empty and missing cells are empty strings, never NaN).

    The delimiter is a comma, or a tab for UTF-16 files (Excel's "Unicode text"). Raises LayerError for a file
    that is missing or not a regular file (a named pipe would make the read wait forever), empty, not decodable,
    malformed (e.g. an unclosed quote or a field over 128 kB: the line is named), or whose header names a column
    twice (after trimming spaces), naming the file.
    """
    path = Path(path)
    file = str(path)
    why = not_a_regular_file(path)
    if why:
        raise LayerError([Problem(layer, f"the file {why}", file=file)])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LayerError([Problem(layer, f"cannot read the file: {exc.strerror or exc}", file=file)]) from exc
    text, encoding = decode_text(data, file=file, layer=layer)
    if not text.strip():
        raise LayerError([Problem(layer, "the file is empty; expected a header row and data rows", file=file)])
    sep = "\t" if encoding == "utf-16" else ","
    bad = _bad_row(text, sep)
    if bad is not None:  # pandas' python engine names neither the row nor the line
        row, line, reason = bad
        msg = f"is not a readable CSV: {reason} at line {line} (an unclosed quote, or a cell over 128 kB?)"
        raise LayerError([Problem(layer, msg, file=file, row=row or None)])
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    dups = duplicate_columns(header, file=file, layer=layer)
    if dups:
        raise LayerError(dups)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            sep=sep,
            engine="python",
            quoting=csv.QUOTE_MINIMAL,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise LayerError([Problem(layer, f"is not a readable CSV: {exc}", file=file)]) from exc
    except pd.errors.EmptyDataError as exc:
        raise LayerError([Problem(layer, "has no columns; expected a header row", file=file)]) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("")  # a row with fewer fields than the header: its missing cells are empty, as written
    logger.info("%s: read as %s, %d rows", path.name, encoding, len(frame))
    return frame


def cell_text(value: Any) -> str:
    """A workbook cell's value as the text a CSV export would hold: empty for an empty cell, whole numbers
    without ``.0``, other numbers in full (``repr``), booleans as ``true``/``false``, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def read_xlsx_text(path: str | Path, *, layer: str, sheet: str | None = None) -> pd.DataFrame:
    """A sheet of an .xlsx workbook as a table of text cells (see :func:`cell_text`), the first row as headings.

    The sheet is ``sheet``, else the one named like ``layer``, else the workbook's only sheet with data. Rows
    with no value at all are skipped (as blank CSV lines are). Formulas are never evaluated: a formula cell is
    read as the value saved with it.

    Raises
    ------
    LayerError
        The file is missing, not an .xlsx workbook, has no such sheet (the sheets are listed), several sheets with
        data and none named, no heading row, values under an empty heading, or formulas without a saved value
        (each cell named).
    """
    path = Path(path)
    file = str(path)
    name = _pick_sheet(path, layer=layer, sheet=sheet)
    rows = _sheet_rows(path, name, data_only=True, layer=layer)
    formulas = _unsaved_formulas(path, name, rows, layer=layer)
    if formulas:
        cells = ", ".join(formulas[:20]) + (f" and {len(formulas) - 20} more" if len(formulas) > 20 else "")
        msg = (
            f"sheet {name!r} has formulas without a saved value ({cells}); formulas are not evaluated: expected "
            "values (open and save the file in Excel or WPS, or paste the cells as values)"
        )
        raise LayerError([Problem(layer, msg, file=file)])
    rows = [r for r in rows if any(v is not None and str(v).strip() for v in r)]
    if not rows:
        raise LayerError([Problem(layer, f"sheet {name!r} is empty; expected a heading row and data rows", file=file)])
    frame = _frame_of(rows, file=file, layer=layer, sheet=name)
    logger.info("%s: read sheet %r of the workbook, %d rows", path.name, name, len(frame))
    return frame


def _open_workbook(path: Path, *, data_only: bool, layer: str) -> Any:
    try:
        return load_workbook(path, read_only=True, data_only=data_only)
    except FileNotFoundError as exc:
        raise LayerError([Problem(layer, "file does not exist", file=str(path))]) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        msg = f"cannot read the workbook: {exc}; expected an Excel workbook (.xlsx)"
        raise LayerError([Problem(layer, msg, file=str(path))]) from exc


def _pick_sheet(path: Path, *, layer: str, sheet: str | None) -> str:
    wb = _open_workbook(path, data_only=True, layer=layer)
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            if sheet not in names:
                msg = f"has no sheet {sheet!r}; sheets: {names}"
                raise LayerError([Problem(layer, msg, file=str(path))])
            return sheet
        if layer in names:
            return layer
        filled = [
            n for n in names if any(any(v is not None for v in r) for r in wb[n].iter_rows(max_row=2, values_only=True))
        ]
        if len(filled) == 1 or len(names) == 1:
            return (filled or names)[0]
        msg = f"has sheets {filled} with data and none is named `{layer}`; expected `sheet` in its [layers] entry"
        raise LayerError([Problem(layer, msg, file=str(path))])
    finally:
        wb.close()


def _sheet_rows(path: Path, sheet: str, *, data_only: bool, layer: str) -> list[tuple]:
    wb = _open_workbook(path, data_only=data_only, layer=layer)
    try:
        return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def _unsaved_formulas(path: Path, sheet: str, values: list[tuple], *, layer: str) -> list[str]:
    """Cells (``C5``) that hold a formula whose saved value is missing."""
    out = []
    for i, row in enumerate(_sheet_rows(path, sheet, data_only=False, layer=layer)):
        for j, v in enumerate(row):
            saved = values[i][j] if i < len(values) and j < len(values[i]) else None
            if isinstance(v, str) and v.startswith("=") and saved is None:
                out.append(f"{get_column_letter(j + 1)}{i + 1}")
    return out


def _frame_of(rows: list[tuple], *, file: str, layer: str, sheet: str) -> pd.DataFrame:
    """The heading row and the text of the data rows; empty trailing columns dropped."""
    width = max(len(r) for r in rows)
    grid = [[cell_text(v) for v in r] + [""] * (width - len(r)) for r in rows]
    heads = [h.strip() for h in grid[0]]
    keep, problems = [], []
    for j, h in enumerate(heads):
        has_data = any(r[j].strip() for r in grid[1:])
        if h:
            keep.append(j)
        elif has_data:
            letter = get_column_letter(j + 1)
            msg = f"sheet {sheet!r} column {letter} has values but no heading; expected a heading in row 1"
            problems.append(Problem(layer, msg, file=file))
    if problems:
        raise LayerError(problems)
    if not keep:
        raise LayerError([Problem(layer, f"sheet {sheet!r} has no heading row; expected headings in row 1", file=file)])
    dupes = sorted({heads[j] for j in keep if [heads[k] for k in keep].count(heads[j]) > 1})
    if dupes:
        raise LayerError([Problem(layer, f"sheet {sheet!r} repeats headings {dupes}; expected each once", file=file)])
    return pd.DataFrame([[r[j] for j in keep] for r in grid[1:]], columns=[heads[j] for j in keep], dtype=str)
