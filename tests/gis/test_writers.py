"""gis.writers: spreadsheets where data text is never a formula and never breaks the workbook's XML."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.dom import minidom

import numpy as np
import openpyxl
import pandas as pd

from gis.writers import write_csv, write_xlsx


def test_characters_xml_cannot_hold_never_reach_the_workbook(tmp_path: Path):
    """Validation refuses them in layers; a note of an old ledger may still hold them."""
    path = write_xlsx(
        {"ledger": pd.DataFrame({"note": ["ok\uffff\ufffe", "nul\x00esc\x1b", "=1+1"]})}, tmp_path / "r.xlsx"
    )
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                minidom.parseString(z.read(name))  # well-formed, or this raises
    ws = openpyxl.load_workbook(path)["ledger"]
    assert [c.value for c in ws["A"]] == ["note", "ok\ufffd\ufffd", "nul\ufffdesc\ufffd", "=1+1"]
    assert ws["A4"].data_type == "s"


def test_batches_and_years_written_whole(tmp_path: Path):
    frame = pd.DataFrame(
        {
            "batch": [1.0, np.nan, 12.0],
            "year": [2027.0, np.nan, 2038.0],
            "cost_cny": [1.0, 2.5, 3.0],
            "closed_in_batch": [0.5, 1.0, 2.0],  # not whole: left as it is
            "opex_cny_per_year": [24233.0, 100.0, 5.0],  # money per year, not a year
            "poor_4g_people_n": [91123.0, np.nan, 7.0],
        }
    )
    text = write_csv(frame, tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text == [
        "batch,year,cost_cny,closed_in_batch,opex_cny_per_year,poor_4g_people_n",
        "1,2027,1.0,0.5,24233.0,91123",
        ",,2.5,1.0,100.0,",
        "12,2038,3.0,2.0,5.0,7",
    ]
