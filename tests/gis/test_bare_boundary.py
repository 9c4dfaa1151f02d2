"""A boundary file with geometry only (cnmaps' GeoJSON: one MultiPolygon, no properties) as the admin layer: its
`area_id` and `name` given in the project's [layers] entry (`values`) or on synth's command line; without them a
refusal that says exactly how to give them."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gis.layers import load_layer, load_layers
from gis.project import LayerSource, ProjectError, load_project
from planning.cli import cli
from tests.conftest import DEMO

ADMIN = 'admin = { path = "layers.gpkg", layer = "admin" }'


def _demo_outline() -> shapely.MultiPolygon:
    admin = gpd.read_file(DEMO / "layers.gpkg", layer="admin").to_crs(4326)
    union = shapely.union_all(admin.geometry.values)
    return union if union.geom_type == "MultiPolygon" else shapely.MultiPolygon([union])


def _bare(path: Path, *, feature_collection: bool = True, features: int = 1) -> Path:
    """The demo's outline as cnmaps writes it: a FeatureCollection of one feature with empty properties, or the
    bare geometry object."""
    geom = shapely.geometry.mapping(_demo_outline())
    if feature_collection:
        doc = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": geom} for _ in range(features)],
        }
    else:
        doc = geom
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("feature_collection", [True, False])
def test_a_bare_boundary_is_refused_with_how_to_name_it(tmp_path: Path, feature_collection: bool):
    path = _bare(tmp_path / "linjiang.geojson", feature_collection=feature_collection)
    frame, problems = load_layer(LayerSource(path=path), "admin")
    (problem,) = problems
    assert problem.severity == "error"
    assert "the file has geometry only (1 feature(s), no properties" in problem.message
    assert "expected the columns `area_id`, `name`" in problem.message
    assert f'admin = {{ path = "{path}", values = {{ area_id = "220681", name = "临江市" }} }}' in problem.message
    frame, problems = load_layer(LayerSource(path=path, values=(("area_id", "220681"), ("name", "临江市"))), "admin")
    assert problems == []
    assert frame[["area_id", "name"]].to_dict("records") == [{"area_id": "220681", "name": "临江市"}]
    assert shapely.equals_exact(frame.geometry.iloc[0], _demo_outline(), tolerance=1e-9)


def test_values_never_overwrite_a_column_nor_give_several_features_one_id(tmp_path: Path):
    two = _bare(tmp_path / "two.geojson", features=2)
    _, problems = load_layer(LayerSource(path=two, values=(("area_id", "220681"), ("name", "临江市"))), "admin")
    assert [p.column for p in problems] == ["area_id"]
    assert "would give all 2 features one area_id" in problems[0].message
    demo = LayerSource(path=DEMO / "layers.gpkg", layer="admin", values=(("name", "别名"),))
    _, problems = load_layer(demo, "admin")
    assert [p.message for p in problems] == [
        "`values.name` = '别名', but the file has a column `name`; expected one of them"
    ]


def test_the_demo_with_a_cnmaps_boundary_validates_to_the_same_region(tmp_path: Path):
    _bare(tmp_path / "临江市.geojson")
    toml = (DEMO / "project.toml").read_text(encoding="utf-8")
    assert ADMIN in toml
    for name in ("layers.gpkg", "dem.tif", "schools.csv"):
        (tmp_path / name).symlink_to(DEMO / name)
    project = tmp_path / "project.toml"
    project.write_text(
        toml.replace(ADMIN, 'admin = { path = "临江市.geojson", values = { area_id = 220681, name = "临江市" } }'),
        encoding="utf-8",
    )
    layers = load_layers(load_project(project))
    demo = load_layers(load_project(DEMO / "project.toml"))
    assert layers["admin"][["area_id", "name"]].to_dict("records") == [{"area_id": "220681", "name": "临江市"}]
    assert layers.region.area == pytest.approx(demo.region.area, rel=1e-9)
    project.write_text(toml.replace(ADMIN, 'admin = { path = "临江市.geojson", values = { code = "1" } }'))
    with pytest.raises(ProjectError, match="code"):
        load_project(project)


def test_synth_takes_the_code_and_name_of_a_bare_boundary_on_the_command_line(tmp_path: Path):
    path = _bare(tmp_path / "linjiang.geojson")
    run = CliRunner()
    res = run.invoke(cli, ["synth", "--villages", "20", "--out", str(tmp_path / "a"), "--boundary", str(path)])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "pass them with --boundary-area-id (6 digits, GB/T 2260) and --boundary-name" in text
    assert not (tmp_path / "a").exists()
    args = ["--boundary", str(path), "--boundary-area-id", "220681", "--boundary-name", "临江市"]
    res = run.invoke(cli, ["synth", "--villages", "20", "--out", str(tmp_path / "b"), *args])
    assert res.exit_code == 0, res.output
    admin = gpd.read_file(tmp_path / "b" / "layers.gpkg", layer="admin")
    assert admin[["area_id", "name"]].to_dict("records") == [{"area_id": "220681", "name": "临江市"}]
