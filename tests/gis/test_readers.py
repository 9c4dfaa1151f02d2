"""gis.readers: CSV tables as planners have them, and what is refused with the row and column named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.errors import LayerError
from gis.readers import read_csv_text


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
