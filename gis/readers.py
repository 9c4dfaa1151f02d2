"""Reading tables as planners have them: CSV in UTF-8 (with or without a BOM), GB18030/GBK (what Excel saves in
Chinese Windows), or UTF-16 (Excel's "Unicode text"); the encoding found is logged.

Every failure (unreadable bytes, an unclosed quote, an empty file) raises :class:`~gis.errors.LayerError`
naming the file and the layer, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from pathlib import Path

import pandas as pd
from charset_normalizer import from_bytes

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
