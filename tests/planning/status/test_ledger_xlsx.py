"""The XLSX 台账 with Chinese headers: export, import with every row checked, the round trip."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from planning.cli import cli
from planning.status.ledger import LedgerError, create_ledger, read_ledger, record_plan
from planning.status.ledger_updates import apply_updates
from planning.status.ledger_xlsx import HEADERS, export_xlsx, import_xlsx
from tests.planning.status.test_ledger_lifecycle import plan, rows, upd

D0 = dt.date(2026, 1, 10)
FORMULAS = ('=HYPERLINK("http://x")', "+86 10 1234", "-1+1", "@SUM(A1)")


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    frame = rows()
    frame.loc[0, "name"] = FORMULAS[0]
    path = create_ledger(frame, tmp_path / "ledger.gpkg", date=D0)
    record_plan(
        path,
        frame,
        plan(
            villages__V1={"remedy": "fibre", "remedy_id": "FX-1", "remedy_cost_cny": 1234.5, "batch": 1, "year": 2027},
            schools__S1={"remedy": "fibre", "remedy_id": "FX-2", "remedy_cost_cny": 800.0, "batch": 2, "year": 2028},
        ),
        date=dt.date(2026, 2, 1),
    )
    apply_updates(
        path,
        upd(
            {"id": "villages:V1", "status": "在建", "date": "2026/3/1", "note": FORMULAS[1]},
            {"id": "villages:V2", "status": "核减", "date": "2026年3月2日", "reason": "撤并", "note": FORMULAS[2]},
            {
                "id": "schools:S2",
                "status": "accepted",
                "date": "2026-03-03",
                "measured_mbps": "120",
                "note": FORMULAS[3],
            },
        ),
        today=dt.date(2026, 4, 1),
    )
    return path


def table(path: Path) -> gpd.GeoDataFrame:
    return read_ledger(path).sort_values("id").reset_index(drop=True)


def test_export_then_import_gives_the_same_ledger(ledger: Path, tmp_path: Path) -> None:
    book = export_xlsx(ledger, tmp_path / "台账.xlsx")
    back = import_xlsx(book, tmp_path / "back.gpkg")
    a, b = table(ledger), table(back)
    assert list(b.columns) == list(a.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.geom_equals(b.geometry).all()
    assert b.crs == a.crs
    got = b.set_index("id")
    assert got.at["villages:V1", "status"] == "under_construction"
    assert got.at["villages:V2", "reason"] == "merged"
    assert got.at["schools:S2", "measured_mbps"] == 120.0


def test_the_export_has_chinese_headers_and_no_formula_cell(ledger: Path, tmp_path: Path) -> None:
    book = export_xlsx(ledger, tmp_path / "台账.xlsx")
    ws = openpyxl.load_workbook(book)["台账"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["编号", "图层", "名称"]
    assert "状态" in header
    assert "横坐标X（米）" in header
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert set(FORMULAS) <= texts
    with zipfile.ZipFile(book) as z:  # no <f> element anywhere in the sheet's XML
        assert not any(
            b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets")
        )


def test_export_refuses_an_existing_file(ledger: Path, tmp_path: Path) -> None:
    target = tmp_path / "台账.xlsx"
    target.write_bytes(b"mine")
    with pytest.raises(LedgerError, match="already exists"):
        export_xlsx(ledger, target)
    assert target.read_bytes() == b"mine"


def _edited(book: Path, tmp_path: Path, edits: dict[tuple[int, str], object]) -> Path:
    wb = openpyxl.load_workbook(book)
    ws = wb["台账"]
    col = {c.value: c.column for c in ws[1]}
    for (row, header), value in edits.items():
        ws.cell(row=row, column=col[header]).value = value
    out = tmp_path / "edited.xlsx"
    wb.save(out)
    return out


def test_a_bad_import_names_every_cell_and_writes_nothing(ledger: Path, tmp_path: Path) -> None:
    book = export_xlsx(ledger, tmp_path / "台账.xlsx")
    bad = _edited(
        book,
        tmp_path,
        {
            (2, "状态"): "done-ish",
            (3, "状态日期"): "2026/13/40",
            (4, "批次"): 1.5,
            (4, "投资（元）"): -3,
            (5, "横坐标X（米）"): "far",
            (3, "编号"): "schools:S1",
        },
    )
    target = tmp_path / "new.gpkg"
    with pytest.raises(LedgerError) as err:
        import_xlsx(bad, target)
    assert not target.exists()
    assert not list(tmp_path.glob(".new.gpkg*"))
    probs = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "状态"), (3, "状态日期"), (4, "批次"), (4, "投资（元）"), (5, "横坐标X（米）")} <= probs
    first = next(p for p in err.value.problems if p.column == "状态")
    assert first.file == str(bad)
    assert first.layer == "台账"
    assert "'done-ish'" in first.message
    assert "expected one of" in first.message
    assert any("appears twice" in p.message for p in err.value.problems)


def test_a_formula_without_a_saved_value_is_refused_not_read_as_empty(ledger: Path, tmp_path: Path) -> None:
    """A script-written formula (no saved value) in a name cell: refused naming the cell, the ledger not made;
    read with data_only it would have been an empty name."""
    book = export_xlsx(ledger, tmp_path / "台账.xlsx")
    bad = _edited(book, tmp_path, {(2, "名称"): '=HYPERLINK("http://x", "{{x}}</script>")'})
    target = tmp_path / "new.gpkg"
    res = CliRunner().invoke(cli, ["ledger", "import", str(bad), str(target)])
    assert res.exit_code == 2, res.output
    assert "formulas without a saved value (C2)" in res.output
    assert str(bad) in res.output
    assert not target.exists()


def test_the_cli_exports_and_imports_and_exits_2_on_a_bad_file(ledger: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    book = tmp_path / "out.xlsx"
    res = runner.invoke(cli, ["ledger", "export", str(ledger), str(book)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["ledger", "import", str(book), str(tmp_path / "in.gpkg")])
    assert res.exit_code == 0, res.output
    assert len(read_ledger(tmp_path / "in.gpkg")) == len(read_ledger(ledger))
    bad = _edited(book, tmp_path, {(2, "状态"): "竣工了吗"})
    res = runner.invoke(cli, ["ledger", "import", str(bad), str(tmp_path / "in2.gpkg")])
    assert res.exit_code == 2
    assert "竣工了吗" in res.output
    assert "row 2" in res.output or ":2" in res.output
    assert not (tmp_path / "in2.gpkg").exists()


def test_headers_are_unique() -> None:
    assert len(set(HEADERS.values())) == len(HEADERS)
