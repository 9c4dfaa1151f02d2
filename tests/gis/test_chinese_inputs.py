"""Chinese inputs as a planner's office saves them: headings, values, booleans, dates, GBK CSV and XLSX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.dates import parse_date
from gis.errors import LayerError
from gis.layers import load_layer, load_layers
from gis.project import LayerSource, ProjectError, load_project
from gis.schema import (
    COLUMN_ALIASES,
    SCHEMAS,
    header_key,
    operator_code,
    school_kind_of_name,
)
from gis.validation import rename_aliases, validate_frame

DEMO = Path(__file__).resolve().parents[2] / "planning" / "demo"

#: The headings a Chinese office list has, and the column each means.
HEADINGS = {
    "schools": {
        "学校编号": "school_id",
        "学校名称": "name",
        "类型": "kind",
        "学校类型": "kind",
        "学生数": "students",
        "在校生数": "students",
        "出口带宽（Mbps）": "bandwidth_mbps",
        "接入方式": "access",
        "县（市、区）": "county",
    },
    "villages": {
        "村编码": "admin_code",
        "行政村名称": "name",
        "人口": "population",
        "户籍人口": "population",
        "是否贫困村": "is_poor",
        "户数": "households",
        "村编号": "village_id",
        "是否通光纤": "fibre_connected",
        "是否4G覆盖": "covered_4g",
    },
    "sites": {"基站编号": "site_id", "制式": "tech", "挂高": "height_m", "运营商": "operator", "方位角": "azimuth_deg"},
    "admin": {"adcode": "area_id", "名称": "name", "行政区划代码": "area_id"},
    "roads": {"道路等级": "class", "路面类型": "surface"},
    "fibre": {"光缆编号": "route_id"},
    "fibre_nodes": {"机房编号": "node_id"},
    "candidates": {"候选编号": "candidate_id", "造价（元）": "cost_cny"},
}

SCHOOL_KINDS = {
    "小学": "primary",
    "中心小学": "primary",
    "中心校": "primary",
    "中心学校": "primary",
    "完小": "primary",
    "完全小学": "primary",
    "村小": "primary",
    "民族学校": "primary",
    "特殊教育学校": "primary",
    "中学": "secondary",
    "初中": "secondary",
    "初级中学": "secondary",
    "高中": "secondary",
    "九年一贯制": "secondary",
    "九年一贯制学校": "secondary",
    "完全中学": "secondary",
    "职业技术学校": "secondary",
    "教学点": "teaching_point",
}


@pytest.mark.parametrize(("layer", "heading", "column"), [(k, h, c) for k, m in HEADINGS.items() for h, c in m.items()])
def test_each_common_heading_is_an_alias_of_its_column(layer: str, heading: str, column: str) -> None:
    aliases = {header_key(a) for a in COLUMN_ALIASES[layer][column]}
    assert header_key(heading) in aliases


def test_every_alias_names_a_schema_column_and_no_heading_means_two_columns() -> None:
    for layer, columns in COLUMN_ALIASES.items():
        names = {c.name for c in SCHEMAS[layer].columns}
        assert set(columns) <= names, layer
        keys = [header_key(a) for aliases in columns.values() for a in aliases]
        assert len(keys) == len(set(keys)), layer
        assert not set(keys) & names, layer  # an alias is never another column's own name


@pytest.mark.parametrize(("word", "kind"), SCHOOL_KINDS.items())
def test_school_kind_words(word: str, kind: str) -> None:
    frame, problems = validate_frame(
        _school_frame({"school_id": ["S1"], "name": ["甲"], "kind": [word], "students": [1]}), "schools"
    )
    assert problems == []
    assert frame["kind"].tolist() == [kind]
    assert school_kind_of_name(f"昭觉县某某{word}") == kind


def test_operator_codes() -> None:
    assert [operator_code(n) for n in ("中国移动", "中国联通", "中国电信", "中国广电", "China Mobile", "CMCC")] == [
        "CMCC",
        "CUCC",
        "CTCC",
        "CBN",
        "CMCC",
        "CMCC",
    ]
    assert operator_code("某铁塔公司") == "某铁塔公司"


@pytest.mark.parametrize(
    "text",
    [
        "2026/12/5",
        "2026年12月5日",
        "2026-12-05",
        "2026.12.05",
        "20261205",
        "46361",
        "2026/12/5 0:00",
        "２０２６年１２月５日",
    ],
)
def test_dates_as_chinese_excel_writes_them(text: str) -> None:
    assert parse_date(text) == dt.date(2026, 12, 5)


@pytest.mark.parametrize("text", ["", "2026/2/30", "12/5/2026", "123", "99999", "明天"])
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


def _school_frame(columns: dict[str, list]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=shapely.points(np.full(n, 126.7), np.full(n, 41.8)), crs=4326)


def test_chinese_values_validate_to_the_schema_values() -> None:
    raw = _school_frame(
        {
            "学校编号": ["S1", "S2", "S3", "S4"],
            "学校名称": ["甲中心校", "乙村小", "丙九年一贯制学校", "丁教学点"],
            "类型": ["中心校", "村小", "九年一贯制", "教学点"],
            "学生数": ["1,210", "３５", "480", "12"],
            "接入方式": ["光纤", "4G", "卫星", "无"],
        }
    )
    frame, problems = rename_aliases(raw, "schools")
    assert problems == []
    frame, problems = validate_frame(frame, "schools")
    assert problems == []
    assert frame["kind"].tolist() == ["primary", "primary", "secondary", "teaching_point"]
    assert frame["access"].tolist() == ["fibre", "4g", "satellite", "none"]
    assert frame["students"].tolist() == [1210, 35, 480, 12]


def test_booleans_and_operators_in_chinese() -> None:
    raw = gpd.GeoDataFrame(
        {
            "基站编号": ["T1", "T2", "T3"],
            "制式": ["LTE", "5G", "4G"],
            "band_mhz": [900.0, 2600.0, 1800.0],
            "挂高": [35, 30, 40],
            "运营商": ["中国移动", "中国广电", "中国联通"],
        },
        geometry=shapely.points([126.7] * 3, [41.8] * 3),
        crs=4326,
    )
    frame, _ = rename_aliases(raw, "sites")
    frame, problems = validate_frame(frame, "sites")
    assert problems == []
    assert frame["tech"].tolist() == ["4g", "5g", "4g"]
    assert frame["operator"].tolist() == ["CMCC", "CBN", "CUCC"]
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "name": ["甲村", "乙村"], "population": [10, 20], "是否贫困村": ["是", "否"]},
        geometry=shapely.points([126.7] * 2, [41.8] * 2),
        crs=4326,
    )
    frame, _ = rename_aliases(villages, "villages")
    frame, problems = validate_frame(frame, "villages")
    assert problems == []
    assert frame["is_poor"].tolist() == [True, False]


def test_two_headings_meaning_one_column_are_refused_naming_both() -> None:
    raw = _school_frame({"学校编号": ["S1"], "学校名称": ["甲小学"], "类型": ["小学"], "学生数": [1], "在校生数": [2]})
    _, problems = rename_aliases(raw, "schools", file="s.csv")
    assert len(problems) == 1
    assert "学生数" in problems[0].message
    assert "在校生数" in problems[0].message
    assert problems[0].column == "students"


def test_explicit_column_map_and_a_missing_heading(tmp_path: Path) -> None:
    raw = _school_frame({"代码": ["S1"], "单位": ["甲小学"], "学段": ["小学"], "学生数": [1]})
    frame, problems = rename_aliases(raw, "schools", columns={"school_id": "代码", "name": "单位"})
    assert problems == []
    assert {"school_id", "name", "kind", "students"} <= set(frame.columns)
    _, problems = rename_aliases(raw, "schools", columns={"school_id": "学校代码号"})
    assert problems
    assert "学校代码号" in problems[0].message
    assert "headings" in problems[0].message


def test_columns_entry_in_project_toml_is_checked(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    base = '[layers]\nadmin = "a.csv"\nvillages = "a.csv"\nsites = "a.csv"\n'
    (tmp_path / "p.toml").write_text(base + 'schools = { path = "a.csv", columns = { school_no = "学校编号" } }\n')
    with pytest.raises(ProjectError, match="school_no"):
        load_project(tmp_path / "p.toml")
    (tmp_path / "p.toml").write_text(
        base + 'schools = { path = "a.csv", columns = { school_id = "编号", name = "编号" } }\n'
    )
    with pytest.raises(ProjectError, match="each once"):
        load_project(tmp_path / "p.toml")
    (tmp_path / "p.toml").write_text(
        base
        + '[optimise]\noperator = "中国移动"\n[layers.schools]\npath = "a.csv"\ncolumns = { school_id = "学校编号" }\n'
    )
    project = load_project(tmp_path / "p.toml")
    assert project.layers["schools"].columns == (("school_id", "学校编号"),)
    assert project.optimise.operator == "CMCC"


def test_a_gbk_csv_with_chinese_headings_and_lonlat(tmp_path: Path) -> None:
    text = "学校编号,学校名称,类型,学生数,经度,纬度,更新日期\nS1,甲中心校,中心校,120,126.7,41.8,2026/12/5\n"
    (tmp_path / "s.csv").write_bytes(text.encode("gbk"))
    frame, problems = load_layer(LayerSource(path=tmp_path / "s.csv", crs="EPSG:4326"), "schools")
    assert problems == []
    assert frame.loc[0, "kind"] == "primary"
    assert frame.loc[0, "students"] == 120
    assert parse_date(frame.loc[0, "更新日期"]) == dt.date(2026, 12, 5)


# --- the demo as a Chinese office would save it ----------------------------------------------------------------

_VILLAGE_HEADS = {
    "village_id": "村编号",
    "name": "行政村名称",
    "population": "人口",
    "county": "县（市、区）",
    "admin_code": "村编码",
    "households": "户数",
    "is_poor": "是否贫困村",
}
_SCHOOL_HEADS = {"school_id": "学校代码", "name": "学校名称", "kind": "学校类型", "students": "在校生数"}
_SCHOOL_HEADS |= {"bandwidth_mbps": "出口带宽(Mbps)", "access": "接入方式", "county": "所属县"}
_KIND_ZH = {"primary": "小学", "secondary": "初级中学", "teaching_point": "教学点"}
_ACCESS_ZH = {"fibre": "光纤", "4g": "4G", "5g": "5G", "satellite": "卫星", "none": "无"}


def chinese_demo(dst: Path) -> Path:
    """The demo with its villages as a GBK CSV and its schools as an XLSX, headings and values in Chinese, a date
    column as Excel writes it; returns the project file."""
    villages = gpd.read_file(DEMO / "layers.gpkg", layer="villages")
    v = pd.DataFrame({_VILLAGE_HEADS[c]: villages[c] for c in _VILLAGE_HEADS})
    v["是否贫困村"] = np.where(villages["is_poor"].astype(bool), "是", "否")
    v["经度"] = villages.geometry.x.map(repr)
    v["纬度"] = villages.geometry.y.map(repr)
    v["填报日期"] = "2026/12/5"
    (dst / "行政村.csv").write_bytes(v.to_csv(index=False).encode("gbk"))
    schools = pd.read_csv(DEMO / "schools.csv", dtype=str, keep_default_na=False)
    s = pd.DataFrame({_SCHOOL_HEADS[c]: schools[c] for c in _SCHOOL_HEADS})
    s["学校类型"] = schools["kind"].map(_KIND_ZH)
    s["接入方式"] = schools["access"].map(_ACCESS_ZH)
    s["学校代码"] = schools["school_id"]
    s["经度"] = schools["lon"].astype(float)
    s["纬度"] = schools["lat"].astype(float)
    s["在校生数"] = schools["students"].astype(int)
    s["出口带宽(Mbps)"] = schools["bandwidth_mbps"].astype(float)
    s["统计日期"] = dt.datetime(2026, 12, 5)
    s.to_excel(dst / "学校名单.xlsx", sheet_name="学校", index=False)
    toml = (DEMO / "project.toml").read_text(encoding="utf-8")
    toml = toml.replace(
        'villages = { path = "layers.gpkg", layer = "villages" }',
        'villages = { path = "行政村.csv", crs = "EPSG:4326" }',
    )
    toml = toml.replace(
        'schools = { path = "schools.csv", crs = "EPSG:4490", lon = "lon", lat = "lat" }',
        'schools = { path = "学校名单.xlsx", crs = "EPSG:4490", columns = { school_id = "学校代码" } }',
    )
    toml = toml.replace('operator = "CMCC"', 'operator = "中国移动"')
    for name in ("layers.gpkg", "dem.tif"):
        (dst / name).symlink_to(DEMO / name)
    (dst / "project.toml").write_text(toml, encoding="utf-8")
    return dst / "project.toml"


def test_the_demo_in_chinese_validates_to_the_same_layers(tmp_path: Path) -> None:
    english = load_layers(load_project(DEMO / "project.toml"))
    chinese = load_layers(load_project(chinese_demo(tmp_path)))
    for name in ("villages", "schools"):
        cols = [c.name for c in SCHEMAS[name].columns if c.name in english[name].columns] + ["geometry"]
        pd.testing.assert_frame_equal(
            chinese[name][cols].reset_index(drop=True), english[name][cols].reset_index(drop=True), check_dtype=False
        )
    assert english.crs == chinese.crs


def test_a_mapped_heading_missing_from_the_file_is_an_error(tmp_path: Path) -> None:
    path = chinese_demo(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('school_id = "学校代码"', 'school_id = "学校编码"'))
    with pytest.raises(LayerError, match="学校编码"):
        load_layers(load_project(path))


def test_admin_layers_from_public_boundary_files(tmp_path: Path) -> None:
    """An AMap/DataV-style boundary (`adcode`, `name`) reads as is; a GADM-style one (`ID_2`, `NAME_2`) through its
    `columns` entry (review 2026-12: both needed hand edits)."""
    box = shapely.box(126.9, 41.4, 127.1, 41.6)
    gpd.GeoDataFrame({"adcode": [220681], "name": ["临江市"]}, geometry=[box], crs=4326).to_file(
        tmp_path / "amap.geojson"
    )
    frame, problems = load_layer(LayerSource(path=tmp_path / "amap.geojson"), "admin")
    assert problems == []
    assert frame["area_id"].tolist() == ["220681"]
    gpd.GeoDataFrame({"ID_2": [7], "NAME_2": ["Clervaux"]}, geometry=[box], crs=4326).to_file(tmp_path / "gadm.geojson")
    _, problems = load_layer(LayerSource(path=tmp_path / "gadm.geojson"), "admin")
    assert [p.column for p in problems if p.severity == "error"] == ["area_id", "name"]
    source = LayerSource(path=tmp_path / "gadm.geojson", columns=(("area_id", "ID_2"), ("name", "NAME_2")))
    frame, problems = load_layer(source, "admin")
    assert problems == []
    assert (frame["area_id"].tolist(), frame["name"].tolist()) == (["7"], ["Clervaux"])
