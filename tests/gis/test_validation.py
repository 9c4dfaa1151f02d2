import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.schema import SCHEMAS
from gis.validation import check_lonlat, validate_frame
from tests.conftest import tiny_layers


def problems_of(frame, layer):
    _, probs = validate_frame(frame, layer, file="x.gpkg")
    return probs


def test_clean_layers_have_no_problems():
    for name, frame in tiny_layers().items():
        cleaned, probs = validate_frame(frame, name, file="x.gpkg")
        assert probs == [], name
        assert cleaned.index.equals(frame.index)


def test_types_are_coerced_and_input_untouched():
    v = tiny_layers()["villages"]
    v["population"] = ["1200", "800", "450", "2300", "150"]
    v["is_poor"] = ["是", "否", "yes", "0", "TRUE"]
    cleaned, probs = validate_frame(v, "villages")
    assert probs == []
    assert cleaned["population"].dtype == np.int64
    assert cleaned["population"].tolist() == [1200, 800, 450, 2300, 150]
    assert cleaned["is_poor"].tolist() == [True, False, True, False, True]
    assert v["population"].tolist()[0] == "1200"  # the input frame is not modified


def test_negative_population_names_row_id_and_column():
    v = tiny_layers()["villages"]
    v.loc[2, "population"] = -5
    (p,) = problems_of(v, "villages")
    assert (p.layer, p.row, p.row_id, p.column) == ("villages", 3, "village_id=V3", "population")
    assert "negative" in p.message
    assert "an integer >= 0" in p.message
    assert str(p) == (
        "x.gpkg [villages] row 3 (village_id=V3) column `population`: -5 is negative; expected an integer >= 0 and "
        "<= 200000 people"
    )


@pytest.mark.parametrize(
    ("layer", "column", "value", "expected"),
    [
        ("villages", "population", 5_000_000, "5000000 is out of range; expected an integer >= 0 and <= 200000 people"),
        ("villages", "households", 1e9, "is out of range; expected an integer >= 0 and <= 200000"),
        ("schools", "students", 250_000, "250000 is out of range; expected an integer >= 0 and <= 60000"),
        ("schools", "bandwidth_mbps", 1e12, "is out of range; expected a number >= 0 and <= 100000 Mbps"),
        ("sites", "eirp_dbm", 3.0, "3.0 is out of range; expected a number >= 10 and <= 90 dBm"),
    ],
)
def test_physically_absurd_numbers_are_refused_with_the_range(layer, column, value, expected):
    frame = tiny_layers()[layer].copy()
    frame[column] = (frame[column] if column in frame else pd.Series(60.0, index=frame.index)).astype(object)
    frame.loc[frame.index[0], column] = value
    (p,) = problems_of(frame, layer)
    assert (p.row, p.column) == (1, column)
    assert expected in p.message


@pytest.mark.parametrize("name", ["东岭\x00村", "a\tb", "line\nbreak", "esc\x1b[31m", "del\x7f"])
def test_control_characters_in_names_are_refused(name):
    v = tiny_layers()["villages"]
    v.loc[1, "name"] = name
    (p,) = problems_of(v, "villages")
    assert (p.row, p.row_id, p.column) == (2, "village_id=V2", "name")
    assert "control character" in p.message


def test_rtl_marks_emoji_and_template_syntax_are_ordinary_names():
    v = tiny_layers()["villages"]
    v.loc[0, "name"] = "{{ 7*7 }} {% if 1 %}\u202e村\u200f😀 \\ \" ' </script> =1+1"
    assert problems_of(v, "villages") == []


def test_nul_in_an_extra_text_column_is_refused():
    v = tiny_layers()["villages"].assign(note=["a", "b\x00c", "d", "e", "f"])
    (p,) = problems_of(v, "villages")
    assert (p.row, p.column) == (2, "note")


def test_fractional_population_is_an_error():
    v = tiny_layers()["villages"]
    v["population"] = v["population"].astype(float)
    v.loc[0, "population"] = 12.5
    (p,) = problems_of(v, "villages")
    assert p.column == "population"
    assert "whole number" in p.message


def test_negative_bandwidth():
    s = tiny_layers()["schools"]
    s.loc[1, "bandwidth_mbps"] = -10.0
    (p,) = problems_of(s, "schools")
    assert (p.row_id, p.column) == ("school_id=S2", "bandwidth_mbps")
    assert "negative" in p.message


def test_unknown_technology_and_kind():
    sites = tiny_layers()["sites"]
    sites["tech"] = ["4G", "6g"]
    probs = problems_of(sites, "sites")
    assert len(probs) == 1  # '4G' is normalised to '4g'
    assert probs[0].row_id == "site_id=T2"
    assert "'6g' is not an allowed value; expected one of '4g', '5g'" in probs[0].message
    s = tiny_layers()["schools"]
    s.loc[0, "kind"] = "university"
    (p,) = problems_of(s, "schools")
    assert "'primary', 'secondary', 'teaching_point'" in p.message


def test_duplicate_ids_point_at_first_occurrence():
    v = tiny_layers()["villages"]
    v.loc[3, "village_id"] = "V1"
    (p,) = problems_of(v, "villages")
    assert (p.row, p.column) == (4, "village_id")
    assert "duplicate id 'V1' (first at row 1)" in p.message


def test_missing_required_column_and_empty_required_value():
    v = tiny_layers()["villages"].drop(columns="population")
    v.loc[1, "name"] = "  "
    probs = problems_of(v, "villages")
    assert {(p.column, p.row) for p in probs} == {("population", None), ("name", 2)}


def test_province_column_must_be_complete_when_given():
    a = tiny_layers()["admin"]
    assert problems_of(a, "admin") == []  # no column: one province
    a["province"] = ["吉林省"] * len(a)
    assert problems_of(a, "admin") == []
    a.loc[a.index[-1], "province"] = " "
    (p,) = problems_of(a, "admin")
    assert (p.layer, p.file, p.row, p.row_id, p.column) == (
        "admin",
        "x.gpkg",
        len(a),
        f"area_id={a['area_id'].iloc[-1]}",
        "province",
    )
    assert "in every row when the column is given" in p.message


def test_empty_layer():
    v = tiny_layers()["villages"].iloc[:0]
    (p,) = problems_of(v, "villages")
    assert "layer is empty" in p.message


def test_non_point_and_invalid_geometry():
    v = tiny_layers()["villages"]
    v.loc[1, "geometry"] = shapely.LineString([(0, 0), (1, 1)])
    v.loc[2, "geometry"] = None
    probs = problems_of(v, "villages")
    assert [(p.row, p.column) for p in probs] == [(2, "geometry"), (3, "geometry")]
    assert "geometry is a LineString; expected a Point" in probs[0].message
    assert "has no geometry" in probs[1].message
    a = tiny_layers()["admin"]
    a.loc[0, "geometry"] = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # bow-tie
    (p,) = problems_of(a, "admin")
    assert "geometry is invalid (Self-intersection" in p.message


def test_admin_code_must_have_12_digits():
    v = tiny_layers()["villages"]
    v.loc[0, "admin_code"] = "2206811"
    (p,) = problems_of(v, "villages")
    assert p.column == "admin_code"
    assert "12-digit" in p.message


def test_lonlat_swapped_and_out_of_range():
    f = gpd.GeoDataFrame(
        {"village_id": ["A", "B", "C"]},
        geometry=shapely.points([127.1, 41.8, 400.0], [41.8, 127.1, 10.0]),
        crs=4326,
    )
    probs = check_lonlat(f, SCHEMAS["villages"], file="v.csv")
    assert [p.row for p in probs] == [2, 3]
    assert "look swapped" in probs[0].message
    assert "out of range" in probs[1].message
    assert probs[0].row_id == "village_id=B"


@pytest.mark.parametrize("value", ["abc", float("nan"), np.inf])
def test_non_numeric_band(value):
    sites = tiny_layers()["sites"]
    sites["band_mhz"] = sites["band_mhz"].astype(object)
    sites.loc[0, "band_mhz"] = value
    probs = problems_of(sites, "sites")
    assert [p.column for p in probs] == ["band_mhz"]


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("石河\uffff村", "noncharacter or unassigned character(s) U+FFFF"),
        ("\ufffe", "noncharacter or unassigned character(s) U+FFFE"),
        ("a\udcffb", "surrogate character(s) U+DCFF"),
        ("a\U000e0080", "noncharacter or unassigned character(s) U+E0080"),
    ],
)
def test_noncharacters_surrogates_and_unassigned_code_points_are_refused(name, what):
    v = tiny_layers()["villages"]
    v["name"] = v["name"].astype(object)  # an arrow string column cannot even hold a surrogate
    v.loc[2, "name"] = name
    (p,) = problems_of(v, "villages")
    assert (p.row, p.row_id, p.column) == (3, "village_id=V3", "name")
    assert what in p.message
    v = tiny_layers()["villages"].assign(note=pd.Series(["a", "b", "c", "d", name], dtype=object))  # extra column
    (p,) = problems_of(v, "villages")
    assert (p.row, p.column) == (5, "note")


def test_private_use_characters_are_ordinary_text():
    v = tiny_layers()["villages"]
    v.loc[0, "name"] = "\ue000村"  # a private-use character: legal in XML, shown by local fonts
    assert problems_of(v, "villages") == []


def test_an_empty_is_poor_cell_is_refused_when_the_column_is_given():
    v = tiny_layers()["villages"]
    v["is_poor"] = pd.Series([True, None, False, "", True], dtype=object)
    problems = problems_of(v, "villages")
    assert [(p.row, p.row_id, p.column) for p in problems] == [
        (2, "village_id=V2", "is_poor"),
        (4, "village_id=V4", "is_poor"),
    ]
    assert "is empty; expected true/false (also 1/0, yes/no, 是/否) in every row when the column is given" in (
        problems[0].message
    )
    assert problems_of(tiny_layers()["villages"].drop(columns="is_poor"), "villages") == []


def test_an_empty_school_access_is_unknown_not_an_error():
    s = tiny_layers()["schools"]
    s["access"] = pd.Series(["fibre", None, ""], dtype=object)
    cleaned, problems = validate_frame(s, "schools")
    assert problems == []
    assert cleaned["access"].tolist() == ["fibre", None, None]


@pytest.mark.parametrize(
    ("layer", "column", "value"),
    [
        ("schools", "students", "99999999999999999999999"),
        ("villages", "population", 2**63 - 1),
        ("villages", "households", -(2**63)),
    ],
)
def test_integers_beyond_int64_are_range_errors(layer, column, value):
    frame = tiny_layers()[layer]
    if isinstance(value, str):
        frame[column] = frame[column].astype(object)
    frame.loc[frame.index[1], column] = value
    (p,) = problems_of(frame, layer)
    assert (p.row, p.column) == (2, column)
    assert re.search(r"(out of range|is negative); expected an integer >= 0", p.message)
