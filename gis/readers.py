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
import sqlite3
import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

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

#: Most bytes all parts of a workbook may declare uncompressed together (its zip directory, checked before openpyxl
#: opens it): openpyxl holds the shared strings and coverplan the sheet's cells in memory, and 100,000 rows x 20
#: columns of sheet XML are ~100 MB; a workbook declaring more (a 4 GiB shared string) is refused unread.
MAX_XLSX_BYTES = 256 * 2**20
#: Largest compression ratio of a workbook part over 1 MiB: spreadsheet XML deflates 5-30x (a very repetitive
#: sheet ~100x); more is a zip bomb.
MAX_XLSX_RATIO = 200.0
#: Most parts a workbook may list (a workbook with 250 sheets has ~600).
MAX_XLSX_PARTS = 10_000
#: Bytes of each XML part searched for a document type declaration (one comes before the root element).
_XML_HEAD_BYTES = 65_536
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: .xls, or an encrypted .xlsx
#: What openpyxl raises on a part that is not well-formed XML or uses a feature defusedxml refuses (DTD entities).
_WORKBOOK_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError, EOFError)


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
    check_xlsx(path, layer=layer)
    name = _pick_sheet(path, layer=layer, sheet=sheet)
    rows = _saved_values(path, name, layer=layer)
    rows = [r for r in rows if any(v is not None and str(v).strip() for v in r)]
    if not rows:
        raise LayerError([Problem(layer, f"sheet {name!r} is empty; expected a heading row and data rows", file=file)])
    frame = _frame_of(rows, file=file, layer=layer, sheet=name)
    logger.info("%s: read sheet %r of the workbook, %d rows", path.name, name, len(frame))
    return frame


def xlsx_sheet_values(path: str | Path, sheet: str, *, layer: str) -> list[tuple]:
    """The cell values of one sheet's rows as the workbook saved them, after :func:`check_xlsx`.

    Formulas are never evaluated: a formula cell gives the value saved with it, and a formula without a saved
    value (a workbook written by a script, never opened in Excel or WPS) is refused, each cell named, instead of
    being read as empty. ``layer`` names the file's role in the errors (LayerError).
    """
    path = Path(path)
    check_xlsx(path, layer=layer)
    return _saved_values(path, sheet, layer=layer)


def _saved_values(path: Path, sheet: str, *, layer: str) -> list[tuple]:
    """The sheet's rows (saved values); LayerError naming the cells that hold a formula without a saved value."""
    rows = _sheet_rows(path, sheet, data_only=True, layer=layer)
    formulas = _unsaved_formulas(path, sheet, rows, layer=layer)
    if formulas:
        cells = ", ".join(formulas[:20]) + (f" and {len(formulas) - 20} more" if len(formulas) > 20 else "")
        msg = (
            f"sheet {sheet!r} has formulas without a saved value ({cells}); formulas are not evaluated: expected "
            "values (open and save the file in Excel or WPS, or paste the cells as values)"
        )
        raise LayerError([Problem(layer, msg, file=str(path))])
    return rows


def _xlsx_problem(path: Path, layer: str, message: str) -> LayerError:
    return LayerError([Problem(layer, message, file=str(path))])


def check_xlsx(path: str | Path, *, layer: str) -> None:
    """Check a workbook before openpyxl opens it: a regular file, a zip (an old .xls or an encrypted workbook
    named .xlsx gets advice), at most :data:`MAX_XLSX_PARTS` parts declaring at most :data:`MAX_XLSX_BYTES`
    uncompressed together, none over :data:`MAX_XLSX_RATIO` compressed, and no XML part declaring a DTD
    (``<!DOCTYPE``: entity expansion is a memory bomb; Excel never writes one).

    Raises
    ------
    LayerError
        Naming the file, the part and the limit.
    """
    path = Path(path)
    why = not_a_regular_file(path)
    if why:
        raise _xlsx_problem(path, layer, f"the file {why}")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] == _OLE2[:4]:
        msg = (
            "is an Excel 97-2003 workbook (.xls) or a password-protected workbook, not an .xlsx; expected .xlsx: "
            "open it in Excel or WPS and save it as Excel Workbook (.xlsx, no password) or as CSV UTF-8"
        )
        raise _xlsx_problem(path, layer, msg)
    try:
        with zipfile.ZipFile(path) as zf:
            _check_parts(zf, path, layer)
    except LayerError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
        msg = f"cannot read the workbook ({exc}); expected an Excel workbook (.xlsx) or CSV"
        raise _xlsx_problem(path, layer, msg) from exc


def _check_parts(zf: zipfile.ZipFile, path: Path, layer: str) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_XLSX_PARTS:
        raise _xlsx_problem(path, layer, f"workbook lists {len(infos):,} parts; expected at most {MAX_XLSX_PARTS:,}")
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_BYTES:
        big = max(infos, key=lambda i: i.file_size)
        msg = (
            f"workbook parts declare {total:,} bytes uncompressed (largest `{big.filename}`: {big.file_size:,}); "
            f"expected at most {MAX_XLSX_BYTES:,} (save a smaller workbook or a CSV); nothing was decompressed"
        )
        raise _xlsx_problem(path, layer, msg)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > MAX_XLSX_RATIO:
            msg = (
                f"workbook part `{info.filename}` declares {info.file_size:,} bytes compressed into "
                f"{info.compress_size:,} (ratio {ratio:,.0f}); expected at most {MAX_XLSX_RATIO:g} (a zip bomb)"
            )
            raise _xlsx_problem(path, layer, msg)
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            with zf.open(info) as part:
                text = part.read(_XML_HEAD_BYTES).replace(b"\x00", b"")  # UTF-16 XML too
            if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
                msg = (
                    f"workbook part `{info.filename}` declares a DTD (<!DOCTYPE or <!ENTITY: entity expansion is "
                    "refused); "
                    "expected a workbook saved by Excel, WPS or LibreOffice"
                )
                raise _xlsx_problem(path, layer, msg)


def _open_workbook(path: Path, *, data_only: bool, layer: str) -> Any:
    try:
        return load_workbook(path, read_only=True, data_only=data_only)
    except FileNotFoundError as exc:
        raise LayerError([Problem(layer, "file does not exist", file=str(path))]) from exc
    except _WORKBOOK_ERRORS as exc:
        raise _unreadable(path, layer, exc) from exc


def _unreadable(path: Path, layer: str, exc: BaseException) -> LayerError:
    name = type(exc).__name__
    msg = f"cannot read the workbook: {name}: {exc}; expected an Excel workbook (.xlsx) saved by Excel or WPS"
    return _xlsx_problem(path, layer, msg)


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
        try:
            filled = [
                n
                for n in names
                if any(any(v is not None for v in r) for r in wb[n].iter_rows(max_row=2, values_only=True))
            ]
        except _WORKBOOK_ERRORS as exc:
            raise _unreadable(path, layer, exc) from exc
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
    except _WORKBOOK_ERRORS as exc:
        raise _unreadable(path, layer, exc) from exc
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


def gpkg_view_problem(path: str | Path, layer_name: str, *, layer: str) -> Problem | None:
    """A problem when the GeoPackage table ``layer_name`` is an SQL view (read from ``sqlite_master`` through a
    read-only connection, before GDAL reads the layer), else None.

    A view is a query run on every read: an endless recursive one hangs the reader, and a view's rows can change
    with the tables behind it; coverplan reads layers that are tables only.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=5.0)
        try:
            found = con.execute(
                "SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view')",
                (layer_name,),
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Problem(layer, f"cannot read the GeoPackage's table list: {exc}", file=str(path))
    if any(kind == "view" for (kind,) in found):
        msg = (
            f"GeoPackage layer `{layer_name}` is an SQL view, not a table; expected a table (views are queries run "
            "on every read and are not read: save the view's features as a table, e.g. QGIS Export > Save Features "
            "As, or ogr2ogr)"
        )
        return Problem(layer, msg, file=str(path))
    return None
