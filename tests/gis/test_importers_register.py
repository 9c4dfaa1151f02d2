"""`gis.importers.register`: a poor-village register joined to villages by code, else by name within its scope."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.errors import LayerError
from gis.importers.register import join_register, read_register
from gis.validation import validate_frame


def villages() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "village_id": ["V1", "V2", "V3", "V4", "V5"],
            "name": ["东岭村", "西沟村", "南岔村", "南岔村", "北山村"],
            "population": [1200, 800, 450, 300, 2300],
            "county": ["临江市"] * 5,
            "admin_code": ["220681100201", "220681100202", "220681100203", "220681101203", "220681101204"],
        },
        geometry=shapely.points([126.0 + 0.01 * i for i in range(5)], [41.8] * 5),
        crs=4326,
    )
    return validate_frame(frame, "villages")[0]


def test_a_list_of_poor_villages_matched_by_code_then_name(tmp_path: Path) -> None:
    text = (
        "序号,乡镇,行政村名称,村编码\n"
        "1,大湖乡,东岭村委会,220681100201\n"  # by code
        "2,大湖乡,西沟村,\n"  # by name, whole layer
        "3,,南岔村,220681101\n"  # by name within township code 220681101: V4, not V3
        "4,,南岔村,\n"  # two villages named 南岔村: ambiguous
        "5,,石河村,\n"  # unmatched
        "6,,东岭村,\n"  # V1 again: ambiguous
    )
    (tmp_path / "贫困村.csv").write_bytes(text.encode("gbk"))
    register = read_register(tmp_path / "贫困村.csv")
    joined = join_register(villages(), register, file="贫困村.csv")
    assert joined.outcomes["outcome"].tolist() == [
        "matched by code",
        "matched by name",
        "matched by name",
        "ambiguous",
        "unmatched",
        "ambiguous",
    ]
    assert joined.outcomes["village_id"].tolist() == ["V1", "V2", "V4", "V3;V4", "", "V1"]
    # a list without 是否贫困村: its matched villages are the poor ones, every other village is not
    assert joined.villages["is_poor"].tolist() == [True, True, False, True, False]
    assert joined.villages["序号"].tolist() == ["1", "2", None, "3", None]
    lines = joined.report.lines()
    assert "note: 1 row(s) matched by code" in lines
    assert "note: 2 row(s) matched by name" in lines
    assert "note: 2 row(s) ambiguous" in lines
    assert "note: 1 row(s) unmatched" in lines


def test_an_attribute_list_with_is_poor_and_population_from_a_workbook(tmp_path: Path) -> None:
    pd.DataFrame(
        {"村代码": ["220681100202", "220681101204"], "是否贫困村": ["是", "否"], "户籍人口": [812, 2290]}
    ).to_excel(tmp_path / "名单.xlsx", sheet_name="名单", index=False)
    joined = join_register(villages(), read_register(tmp_path / "名单.xlsx"), file="名单.xlsx")
    assert joined.outcomes["outcome"].tolist() == ["matched by code"] * 2
    assert joined.villages["is_poor"].tolist() == [False, True, False, False, False]
    assert joined.villages["population"].tolist() == [1200, 812, 450, 300, 2290]
    assert "filled 3 is_poor: false: not on the register" in joined.report.lines()


def test_a_bad_value_and_a_register_without_keys_are_refused(tmp_path: Path) -> None:
    bad = pd.DataFrame({"村编码": ["220681100201"], "是否贫困村": ["也许"]})
    with pytest.raises(LayerError, match="也许"):
        join_register(villages(), bad, file="r.csv")
    with pytest.raises(LayerError, match="no village code or name column"):
        join_register(villages(), pd.DataFrame({"备注": ["x"]}), file="r.csv")
    with pytest.raises(LayerError, match=r"expected a register as \.xlsx or \.csv"):
        read_register(tmp_path / "r.txt")


def test_a_bad_value_names_the_register_row_and_the_village() -> None:
    """A value refused after the join is told as the register's: its file, row (data row, as in the outcome
    table) and heading, and the village (id and name) the row was joined to, not the village's row."""
    bad = pd.DataFrame({"村编码": ["220681100201", "220681100203"], "是否贫困村": ["是", "也许"], "人口": ["5", "-3"]})
    with pytest.raises(LayerError) as info:
        join_register(villages(), bad, file="名单.csv")
    shown = sorted(str(p) for p in info.value.problems)
    assert shown == [
        "名单.csv [register] row 2 (village V3 南岔村) column `人口 (population)`: '-3' is negative; expected an "
        "integer >= 0 and <= 200000 people",
        "名单.csv [register] row 2 (village V3 南岔村) column `是否贫困村 (is_poor)`: '也许' is not true/false (also "
        "1/0, yes/no, 是/否)",
    ]


def test_name_column_named_explicitly() -> None:
    reg = pd.DataFrame({"单位": ["北山村民委员会"], "县": ["临江市"]})
    joined = join_register(villages(), reg, file="r.csv", columns={"name": "单位"})
    assert joined.outcomes["village_id"].tolist() == ["V5"]
