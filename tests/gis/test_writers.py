"""gis.writers: spreadsheets where data text is never a formula and never breaks the workbook's XML."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.dom import minidom

import openpyxl
import pandas as pd

from gis.writers import write_xlsx


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
