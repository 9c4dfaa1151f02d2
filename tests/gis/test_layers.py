from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.crs import wgs84_to_gcj02
from gis.errors import LayerError
from gis.layers import load_layer, load_layers, read_layer, write_layers
from gis.project import LayerSource, load_project
from tests.conftest import tiny_layers


def _villages_wgs84():
    return tiny_layers()["villages"].to_crs(4326)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet", ".csv"])
def test_every_format_reads_the_same_layer(tmp_path: Path, suffix: str):
    v = _villages_wgs84()
    path = tmp_path / f"villages{suffix}"
    crs = None
    if suffix == ".csv":
        table = pd.DataFrame(v.drop(columns="geometry"))
        table["lon"], table["lat"] = v.geometry.x, v.geometry.y
        table.to_csv(path, index=False)
        crs = "EPSG:4326"
    elif suffix == ".parquet":
        v.to_parquet(path)
    else:
        pyogrio.write_dataframe(v, path)
    frame, problems = load_layer(LayerSource(path=path, crs=crs), "villages", metric_crs="EPSG:32652")
    assert problems == []
    assert frame.crs.to_epsg() == 32652
    assert frame["village_id"].tolist() == ["V1", "V2", "V3", "V4", "V5"]
    assert frame["population"].tolist() == [1200, 800, 450, 2300, 150]
    assert frame["is_poor"].tolist() == [False, True, False, False, True]
    ref = tiny_layers()["villages"]
    assert np.allclose(shapely.get_x(frame.geometry.values), shapely.get_x(ref.geometry.values), atol=1e-3)
    assert np.allclose(shapely.get_y(frame.geometry.values), shapely.get_y(ref.geometry.values), atol=1e-3)


def test_csv_without_crs_is_refused(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("village_id,name,population,lon,lat\nV1,a,10,127.1,41.8\n", encoding="utf-8")
    with pytest.raises(LayerError, match="CSV layer has no CRS"):
        read_layer(LayerSource(path=path), "villages")


def test_csv_bad_coordinate_names_row(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("village_id,name,population,lon,lat\nV1,a,10,127.1,41.8\nV2,b,5,x,41.9\n", encoding="utf-8")
    _, problems = load_layer(LayerSource(path=path, crs="EPSG:4326"), "villages")
    assert [(p.row, p.row_id, p.column) for p in problems if p.column == "lon"] == [(2, "village_id=V2", "lon")]


def test_shapefile_without_prj_has_no_crs(tmp_path: Path):
    path = tmp_path / "v.shp"
    pyogrio.write_dataframe(_villages_wgs84(), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(LayerError, match=r"\[villages\] column `geometry`: layer has no CRS"):
        read_layer(LayerSource(path=path), "villages")


def test_declared_crs_supplies_a_missing_one(tmp_path: Path):
    path = tmp_path / "v.shp"
    pyogrio.write_dataframe(_villages_wgs84(), path)
    path.with_suffix(".prj").unlink()
    frame, problems = read_layer(LayerSource(path=path, crs="EPSG:4490"), "villages")
    assert problems == []
    assert frame.crs.to_epsg() == 4490


def test_gcj02_layers_are_converted_to_wgs84(tmp_path: Path):
    v = _villages_wgs84()
    glon, glat = wgs84_to_gcj02(v.geometry.x.to_numpy(), v.geometry.y.to_numpy())
    g = v.set_geometry(shapely.points(glon, glat), crs=4326)
    path = tmp_path / "v.gpkg"
    pyogrio.write_dataframe(g, path)
    as_is, _ = load_layer(LayerSource(path=path), "villages", coordinates="wgs84")
    fixed, _ = load_layer(LayerSource(path=path), "villages", coordinates="gcj02")
    assert np.allclose(fixed.geometry.x, v.geometry.x, atol=1e-8)
    assert np.allclose(fixed.geometry.y, v.geometry.y, atol=1e-8)
    assert not np.allclose(as_is.geometry.x, v.geometry.x, atol=1e-4)


def test_multi_layer_file_needs_a_layer_name(tmp_path: Path):
    path = tmp_path / "x.gpkg"
    pyogrio.write_dataframe(_villages_wgs84(), path, layer="a")
    pyogrio.write_dataframe(_villages_wgs84(), path, layer="b")
    with pytest.raises(LayerError, match=r"file has layers \['a', 'b'\] and none is named `villages`"):
        read_layer(LayerSource(path=path), "villages")


def test_missing_file(tmp_path: Path):
    with pytest.raises(LayerError, match="file does not exist"):
        read_layer(LayerSource(path=tmp_path / "nope.gpkg"), "villages")


def test_load_layers_collects_problems_of_all_layers(tiny_project: Path):

    layers = tiny_layers()
    layers["villages"].loc[0, "population"] = -1
    layers["sites"].loc[1, "tech"] = "3g"
    write_layers(layers, tiny_project.parent / "layers.gpkg")
    with pytest.raises(LayerError) as info:
        load_layers(load_project(tiny_project))
    got = {(p.layer, p.column) for p in info.value.problems}
    assert got == {("villages", "population"), ("sites", "tech")}


def test_load_layers_keeps_order_and_uses_metric_crs(tiny_project: Path):
    layers = load_layers(load_project(tiny_project))
    assert layers.crs.to_epsg() == 32652  # UTM zone of the admin centroid
    assert layers["villages"]["village_id"].tolist() == ["V1", "V2", "V3", "V4", "V5"]
    assert layers.get("candidates") is None
    assert _without_sector_split(layers.warnings) == []
    with pytest.raises(KeyError, match="candidates"):
        layers["candidates"]


def test_a_csv_in_degrees_declared_in_metres_gets_one_hint(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("village_id,name,population,lon,lat\nV1,a,10,127.1,41.8\nV2,b,5,127.2,41.9\n", encoding="utf-8")
    with pytest.raises(LayerError) as info:
        read_layer(LayerSource(path=path, crs="EPSG:32652"), "villages")
    (p,) = info.value.problems
    assert p.column == "geometry"
    assert "look like longitude/latitude degrees; declare crs = 'EPSG:4326'" in p.message


def _with_project_lines(project: Path, text: str) -> Path:
    body = project.read_text(encoding="utf-8")
    section = text.partition("\n")[0]
    if section in body:
        body = body.replace(section + "\n", text + "\n")
    else:
        body += "\n" + text + "\n"
    project.write_text(body, encoding="utf-8")
    return project


@pytest.mark.parametrize(
    ("crs", "match"),
    [
        ("EPSG:3857", r"`metric_crs` = 'EPSG:3857': its scale error over the admin areas is 3[45]\.\d%; expected at "),
        ("EPSG:32601", r"`metric_crs` = 'EPSG:32601': its scale error over the admin areas is \d+\.\d%"),
    ],
)
def test_a_metric_crs_that_distorts_distances_over_the_region_is_refused(tiny_project: Path, crs: str, match: str):
    _with_project_lines(tiny_project, f'[project]\nmetric_crs = "{crs}"')
    with pytest.raises(LayerError, match=match) as info:
        load_layers(load_project(tiny_project))
    (p,) = info.value.problems
    assert (p.layer, p.column, p.file) == ("project", "metric_crs", str(tiny_project))
    assert "e.g. EPSG:32652, the UTM zone coverplan picks" in p.message


def test_a_fitting_metric_crs_is_used(tiny_project: Path):
    _with_project_lines(tiny_project, '[project]\nmetric_crs = "EPSG:4586"')  # CGCS2000 / 3-degree GK CM 126E
    layers = load_layers(load_project(tiny_project))
    assert layers.crs.to_epsg() == 4586
    assert _without_sector_split(layers.warnings) == []


def test_an_operator_without_sites_is_a_validation_warning(tiny_project: Path):
    _with_project_lines(tiny_project, '[optimise]\noperator = "CUCC"')
    layers = load_layers(load_project(tiny_project))
    (w,) = _without_sector_split(layers.warnings)
    assert (w.layer, w.column, w.severity) == ("sites", "operator", "warning")
    assert "no site is of `[optimise] operator` = 'CUCC' (operators: ['CMCC', 'CTCC'])" in w.message


def _without_sector_split(warnings):
    """The warnings other than the one counting the site rows taken as three sectors (the tiny sites have no
    azimuth)."""
    return [w for w in warnings if w.column != "azimuth_deg"]


def test_sites_without_azimuth_are_counted_as_split_into_three_sectors(tiny_project: Path):
    (w,) = [w for w in load_layers(load_project(tiny_project)).warnings if w.column == "azimuth_deg"]
    assert (w.layer, w.severity) == ("sites", "warning")
    assert w.message.startswith("2 of 2 site row(s) have no azimuth_deg: each is taken as three sectors at 0/120/240")
    _with_project_lines(tiny_project, '[radio]\nmissing_azimuth = "omni"')
    assert load_layers(load_project(tiny_project)).warnings == ()


def test_a_site_on_a_band_its_operator_does_not_hold_is_warned_by_row(tiny_project: Path):
    layers = tiny_layers()
    layers["sites"] = layers["sites"].assign(band_mhz=[900.0, 700.0], operator=["CTCC", "CTCC"], azimuth_deg=0.0)
    write_layers(layers, tiny_project.parent / "layers.gpkg")
    warned = load_layers(load_project(tiny_project)).warnings
    assert [(w.row_id, w.column, w.severity) for w in warned] == [
        ("site_id=T1", "band_mhz", "warning"),
        ("site_id=T2", "band_mhz", "warning"),
    ]
    assert warned[0].message.startswith("4g on 900 MHz: operator 'CTCC' does not hold that band")
    assert "(4g bands 1800, 850, 2100 MHz)" in warned[0].message
    assert "(5g bands 3500, 2100 MHz)" in warned[1].message


def test_a_settlement_or_facility_of_an_unknown_village_is_an_error_naming_the_row(tiny_project: Path):
    v = tiny_layers()["villages"]
    pts = v.geometry.values[:2]
    extra = {
        "settlements": gpd.GeoDataFrame(
            {"settlement_id": ["S1", "S2"], "village_id": ["V1", "V9"], "households": [25, 30]}, geometry=pts, crs=v.crs
        ),
        "facilities": gpd.GeoDataFrame(
            {"facility_id": ["F1", "F2"], "village_id": ["V2", "X"], "kind": ["clinic", "village_committee"]},
            geometry=pts,
            crs=v.crs,
        ),
    }
    write_layers(extra, tiny_project.parent / "extra.gpkg")
    _with_project_lines(tiny_project, '[layers]\nsettlements = "extra.gpkg"\nfacilities = "extra.gpkg"')
    with pytest.raises(LayerError) as info:
        load_layers(load_project(tiny_project))
    errors = [p for p in info.value.problems if p.severity == "error"]
    got = sorted((p.layer, p.row, p.row_id, p.column) for p in errors)
    assert got == [
        ("facilities", 2, "facility_id=F2", "village_id"),
        ("settlements", 2, "settlement_id=S2", "village_id"),
    ]
    s2 = next(p for p in info.value.problems if p.layer == "settlements")
    assert s2.file is not None
    assert s2.file.endswith("extra.gpkg")
    assert "`village_id` = 'V9' names no village of the villages layer" in s2.message
