"""Dates as Chinese spreadsheets write them.

A date cell reaches coverplan as text (:mod:`gis.readers`): ISO ``2026-12-05`` (a workbook's date cell, or a CSV
from a program), ``2026/12/5`` (Excel's short date on Chinese Windows, saved as CSV), ``2026年12月5日`` (the long
date), ``2026.12.5`` or ``20261205`` (typed), or an Excel serial day number (``46361``: a date cell whose number
format was lost, e.g. pasted as values into a General column). Any time of day after the date is ignored.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

__all__ = ["EXCEL_EPOCH", "parse_date"]

#: Day 0 of Excel's 1900 date system as serial numbers count it (1899-12-30: Excel counts the non-existent
#: 1900-02-29, so serials from 61 on are days since this date; Microsoft, "Date systems in Excel").
EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Serial numbers read as Excel dates: 1 Jan 1970 (25569) to 31 Dec 2099 (73050); others are not dates.
_SERIAL_RANGE = (25_569, 73_050)
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def parse_date(text: object) -> dt.date | None:
    """The date a cell holds (see the module docstring), or None when it holds none a spreadsheet writes.

    Examples
    --------
    >>> parse_date("2026年12月5日"), parse_date("2026/12/5"), parse_date("46361")
    (datetime.date(2026, 12, 5), datetime.date(2026, 12, 5), datetime.date(2026, 12, 5))
    """
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    s = unicodedata.normalize("NFKC", str(text)).strip()
    m = _YMD.fullmatch(s) or _COMPACT.fullmatch(s)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if _SERIAL.fullmatch(s):
        days = int(float(s))
        if _SERIAL_RANGE[0] <= days <= _SERIAL_RANGE[1]:
            return EXCEL_EPOCH + dt.timedelta(days=days)
    return None
