"""Layers as planners have them: a CSV saved by Excel or WPS on Chinese Windows (GBK / GB18030, CRLF) and village
lists in .xlsx workbooks with lon/lat columns validate like a UTF-8 CSV; formulas are never evaluated; what is
refused is named with its row and column."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from gis.errors import LayerError
from gis.layers import load_layer, load_layers
from gis.project import LayerSource, load_project
from gis.readers import cell_text, read_csv_text, read_xlsx_text
from tests.conftest import PROJECT_TOML, tiny_layers

COLUMNS = ["village_id", "name", "population", "county", "admin_code", "households", "is_poor", "lon", "lat"]


def _villages_table() -> pd.DataFrame:
    """The tiny villages as a planner's table: WGS84 lon/lat columns, names in Chinese."""
    v = tiny_layers()["villages"].to_crs(4326)
    table = pd.DataFrame(v.drop(columns="geometry"))
    table["lon"], table["lat"] = v.geometry.x.round(7), v.geometry.y.round(7)
    return table[COLUMNS]


def _check_villages(frame, problems) -> None:
    assert problems == []
    assert frame["village_id"].tolist() == ["V1", "V2", "V3", "V4", "V5"]
    assert frame["name"].tolist() == tiny_layers()["villages"]["name"].tolist()
    assert frame["population"].tolist() == [1200, 800, 450, 2300, 150]
    assert frame["is_poor"].tolist() == [False, True, False, False, True]
    assert frame["admin_code"].tolist()[0] == "220681100201"
    ref = tiny_layers()["villages"]
    assert np.allclose(shapely.get_x(frame.geometry.values), shapely.get_x(ref.geometry.values), atol=0.05)
    assert np.allclose(shapely.get_y(frame.geometry.values), shapely.get_y(ref.geometry.values), atol=0.05)


def test_a_gbk_csv_villages_layer_validates_and_its_encoding_is_logged(tmp_path: Path, caplog):
    path = tmp_path / "villages.csv"
    path.write_bytes(_villages_table().to_csv(index=False).encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8
    with caplog.at_level(logging.INFO, logger="gis.readers"):
        frame, problems = load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages", metric_crs="EPSG:32652")
    _check_villages(frame, problems)
    assert "villages.csv: read as gb18030, 5 rows" in caplog.text


def test_a_csv_saved_by_excel_in_china_validates(tmp_path: Path):
    """GB18030 with CRLF line ends, as Excel's "CSV (逗号分隔)" writes on Chinese Windows, and a village name
    (𠮷, U+20BB7) that only GB18030 (not GBK) can hold."""
    table = _villages_table()
    table.loc[2, "name"] = "𠮷村"
    with pytest.raises(UnicodeEncodeError):
        "𠮷村".encode("gbk")
    text = table.to_csv(index=False, lineterminator="\r\n")
    path = tmp_path / "村庄.csv"
    path.write_bytes(text.encode("gb18030"))
    assert b"\r\n" in path.read_bytes()
    frame, problems = load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages", metric_crs="EPSG:32652")
    assert problems == []
    assert frame["name"].tolist()[2] == "𠮷村"
    assert frame["population"].tolist() == [1200, 800, 450, 2300, 150]
    assert not any("\r" in str(v) for v in frame.drop(columns="geometry").to_numpy().ravel())


def _write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _rows(table: pd.DataFrame) -> list[list]:
    """Header and rows with numbers as numbers and booleans as booleans, as a planner's workbook holds them."""
    rows = [list(table.columns)]
    for rec in table.itertuples(index=False):
        rows.append([int(v) if isinstance(v, np.integer) else v for v in rec])
    rows[1][4] = 220681100201  # a 12-digit code typed as a number
    return rows


def test_an_xlsx_villages_layer_validates_like_the_csv(tmp_path: Path):
    path = _write_xlsx(tmp_path / "villages.xlsx", {"村庄名录": _rows(_villages_table()), "Sheet2": []})
    frame, problems = load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages", metric_crs="EPSG:32652")
    _check_villages(frame, problems)  # the only sheet with data was found without `sheet`
    assert frame.crs.to_epsg() == 32652


def test_xlsx_problems_name_file_layer_row_and_column_as_for_csv(tmp_path: Path):
    table = _villages_table().astype(object)
    table.loc[1, "population"] = "八百"
    table.loc[3, "lon"] = "x"
    csv = tmp_path / "v.csv"
    table.to_csv(csv, index=False)
    xlsx = _write_xlsx(tmp_path / "v.xlsx", {"villages": _rows(table)})
    found = {}
    for path in (csv, xlsx):
        _, problems = load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages")
        found[path.suffix] = [(p.layer, p.row, p.row_id, p.column, p.message) for p in problems]
        assert {p.file for p in problems} == {str(path)}
    assert found[".xlsx"] == found[".csv"]
    assert ("villages", 2, "village_id=V2", "population") in [f[:4] for f in found[".xlsx"]]
    assert ("villages", 4, "village_id=V4", "lon") in [f[:4] for f in found[".xlsx"]]


def test_xlsx_sheet_named_or_chosen(tmp_path: Path):
    rows = _rows(_villages_table())
    path = _write_xlsx(tmp_path / "book.xlsx", {"说明": [["本表为村庄名录"]], "村庄": rows})
    with pytest.raises(LayerError, match=r"has sheets \['说明', '村庄'\] with data and none is named `villages`"):
        read_xlsx_text(path, layer="villages")
    assert len(read_xlsx_text(path, layer="villages", sheet="村庄")) == 5
    with pytest.raises(LayerError, match=r"has no sheet 'villages2'; sheets: \['说明', '村庄'\]"):
        read_xlsx_text(path, layer="villages", sheet="villages2")
    named = _write_xlsx(tmp_path / "named.xlsx", {"说明": [["x"]], "villages": rows})
    assert len(read_xlsx_text(named, layer="villages")) == 5


def test_a_formula_is_read_as_its_saved_value_and_never_evaluated(tmp_path: Path):
    rows = _rows(_villages_table())
    rows[1][2] = "=600*2"  # population of V1 as a formula
    path = _write_xlsx(tmp_path / "v.xlsx", {"villages": rows})
    # written by a program, never opened in Excel: no saved value, refused with its cell
    with pytest.raises(LayerError, match=r"formulas without a saved value \(C2\); formulas are not evaluated"):
        read_xlsx_text(path, layer="villages")
    # as Excel saves it: the formula with its value (1200) -> the value is read, the formula is not run
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>600*2</f><v />" in data
                data = data.replace(b"<f>600*2</f><v />", b"<f>600*2</f><v>1200</v>")
            dst.writestr(item, data)
    table = read_xlsx_text(saved, layer="villages")
    assert table["population"].tolist()[0] == "1200"
    assert table["population"].tolist()[1:] == ["800", "450", "2300", "150"]


def test_cell_text_is_what_a_csv_would_hold():
    assert [cell_text(v) for v in (None, 12, 1200.0, 41.8, True, False, "  x ")] == [
        "",
        "12",
        "1200",
        "41.8",
        "true",
        "false",
        "  x ",
    ]


def test_an_xls_or_broken_workbook_is_named(tmp_path: Path):
    old = tmp_path / "v.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0 not a zip")
    with pytest.raises(LayerError, match=r"Excel 97-2003 workbook \(.xls\); expected .xlsx"):
        load_layer(LayerSource(path=old, crs="EPSG:4326"), "villages")
    broken = tmp_path / "v.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(LayerError, match=r"v.xlsx \[villages\]: cannot read the workbook"):
        load_layer(LayerSource(path=broken, crs="EPSG:4326"), "villages")
    no_crs = _write_xlsx(tmp_path / "w.xlsx", {"villages": _rows(_villages_table())})
    with pytest.raises(LayerError, match="XLSX layer has no CRS"):
        load_layer(LayerSource(path=no_crs), "villages")


def test_a_project_with_an_xlsx_villages_layer_and_a_sheet_key_loads(tmp_path: Path, tiny_project: Path):
    _write_xlsx(tmp_path / "villages.xlsx", {"说明": [["x"]], "村庄": _rows(_villages_table())})
    text = tiny_project.read_text(encoding="utf-8").replace(
        'villages = "layers.gpkg"',
        'villages = { path = "villages.xlsx", sheet = "村庄", crs = "EPSG:4326", lon = "lon", lat = "lat" }',
    )
    assert text != PROJECT_TOML
    tiny_project.write_text(text, encoding="utf-8")
    project = load_project(tiny_project)
    assert project.layers["villages"].sheet == "村庄"
    layers = load_layers(project)
    assert layers["villages"]["population"].tolist() == [1200, 800, 450, 2300, 150]
    assert layers.crs.to_epsg() == 32652


def test_gbk_and_utf8_bom_read_the_same(tmp_path: Path):
    text = "village_id,name\nV1,东岭村\n"
    (tmp_path / "a.csv").write_bytes(text.encode("gb18030"))
    (tmp_path / "b.csv").write_bytes(text.encode("utf-8-sig"))
    a = read_csv_text(tmp_path / "a.csv", layer="villages")
    b = read_csv_text(tmp_path / "b.csv", layer="villages")
    assert a.equals(b)
    assert a["name"].tolist() == ["东岭村"]


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("id,name,name", r"column `name` 2 times \(columns 2, 3, spaces trimmed\)"),
        ("id, name,x,name ", r"column `name` 2 times \(columns 2, 4, spaces trimmed\)"),
    ],
)
def test_a_column_named_twice_is_refused_naming_both_positions(tmp_path: Path, header: str, match: str):
    path = tmp_path / "v.csv"
    path.write_text(f"{header}\n" + ",".join(["1"] * len(header.split(","))) + "\n", encoding="utf-8")
    with pytest.raises(LayerError, match=match) as info:
        read_csv_text(path, layer="ledger_update")
    (p,) = info.value.problems
    assert (p.layer, p.column) == ("ledger_update", "name")


def test_a_cell_over_the_field_limit_names_its_row(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("id,name\n1,a\n2,b\n3," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"field larger than field limit \(131072\) at line 4") as info:
        read_csv_text(path, layer="villages")
    assert info.value.problems[0].row == 3
