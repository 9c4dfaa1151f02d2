"""OSM import: layers from a small .osm (XML) and the same data as .osm.pbf (written with osmium), hostile files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from pyproj import CRS, Transformer

from gis.errors import LayerError
from gis.importers.common import Region
from gis.importers.osm import height_tag_m, osm_layers, read_osm, school_kind
from gis.validation import validate_frame
from tests.import_inputs import CRS_M, EAST, NORTH, SOUTH, WEST, write_osm


@pytest.fixture
def region() -> Region:
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    box = shapely.segmentize(shapely.box(WEST, SOUTH, EAST, NORTH), 0.01)
    area = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return Region(area=area, crs=CRS.from_user_input(CRS_M))


def _pbf_copy(xml: Path, pbf: Path) -> Path:
    """The XML extract written again as PBF with osmium's writer."""
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return pbf


def test_layers_from_osm_xml(tmp_path: Path, region: Region):
    layers, report = osm_layers(read_osm(write_osm(tmp_path)), region, buffer_m=2000.0)
    assert set(layers) == {"roads", "villages", "schools", "candidates"}
    v = layers["villages"].set_index("village_id")
    assert v.index.tolist() == ["n1", "n2", "n3"]  # n4 has no name, n5 lies 7 km north of the county
    assert v["name"].tolist() == ["东岭村", "西沟村", "南岔"]
    assert v["population"].tolist() == [1200, 0, 0]  # the tag "1,200"; placeholders where untagged
    assert v["population_source"].tolist() == ["osm_tag", "none", "none"]
    assert v["place"].tolist() == ["village", "village", "hamlet"]
    assert report.dropped["villages (place nodes): no name"] == 1
    assert report.dropped["villages (place nodes): outside the admin areas"] == 1
    s = layers["schools"].set_index("school_id")
    assert s.index.tolist() == ["n6", "n7", "w104"]  # n8 (某培训学校) says no kind
    assert s["kind"].tolist() == ["primary", "teaching_point", "secondary"]
    assert s["kind_source"].tolist() == ["name", "name", "isced_level"]
    assert s["students"].tolist() == [240, 0, 0]
    assert s["students_source"].tolist() == ["osm_capacity", "none", "none"]
    assert (
        report.dropped[
            "schools: kind unknown (no isced:level tag; the name holds no school word of gis.schema.SCHOOL_KIND_WORDS)"
        ]
        == 1
    )
    # the school area's point lies inside its polygon (127.0145..127.0165 E, 41.5155..41.517 N)
    lonlat = Transformer.from_crs(CRS_M, 4326, always_xy=True).transform(s.geometry["w104"].x, s.geometry["w104"].y)
    assert shapely.contains(
        shapely.Polygon([(127.0145, 41.5155), (127.0165, 41.5155), (127.0165, 41.517)]), shapely.Point(lonlat)
    )
    r = layers["roads"].set_index("road_id")
    assert r.index.tolist() == ["w100", "w101", "w102"]
    assert r["class"].tolist() == ["tertiary", "track", "secondary"]
    assert r.loc["w101", "surface"] == "gravel"
    assert r.loc["w100", "name"] == "岭沟路"
    assert report.dropped["ways: highway=footway is not a vehicle road"] == 1
    # w102 runs from 126.900 E to 126.985 E: cut at the county's west edge (126.97 E) plus 2 km
    cut_end = shapely.Point(shapely.get_coordinates(r.geometry["w102"])[0])
    assert shapely.distance(cut_end, region.area) == pytest.approx(2000.0, abs=0.5)
    assert r.geometry["w102"].length == pytest.approx(2000.0 + (126.985 - 126.97) * 83_500, rel=0.02)
    assert report.read == sum(report.kept.values()) + sum(report.dropped.values())  # every object counted once
    c = layers["candidates"]
    assert c["candidate_id"].tolist() == ["n9"]
    assert c["kind"].tolist() == ["new_site"]
    assert c["height_m"].tolist() == [45.0]
    for name, frame in layers.items():
        _, problems = validate_frame(frame, name)
        assert [p for p in problems if p.severity == "error"] == [], name
    # the placeholder populations are named when the layer is validated, so a plan never rests on them unseen
    _, problems = validate_frame(layers["villages"], "villages")
    (warn,) = problems
    assert (warn.severity, warn.column) == ("warning", "population")
    assert "2 row(s) (village_id=n2, village_id=n3) hold a placeholder `population`" in warn.message


def test_pbf_gives_the_same_layers(tmp_path: Path, region: Region):
    xml = write_osm(tmp_path)
    pbf = _pbf_copy(xml, tmp_path / "extract.osm.pbf")
    a, _ = osm_layers(read_osm(xml), region, buffer_m=2000.0)
    b, report = osm_layers(read_osm(pbf), region, buffer_m=2000.0)
    for name in a:
        assert a[name].drop(columns="geometry").equals(b[name].drop(columns="geometry")), name
        assert a[name].geometry.geom_equals_exact(b[name].geometry, tolerance=0.01).all(), name
    assert report.kept == {"roads": 3, "villages": 3, "schools": 3, "candidates": 1}


def test_demand_buffer_keeps_villages_near_the_border(tmp_path: Path, region: Region):
    layers, _ = osm_layers(read_osm(write_osm(tmp_path)), region, demand_buffer_m=8000.0)
    assert "n5" in layers["villages"]["village_id"].tolist()  # 界外村, 0.07 degrees (7.8 km) north


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("extract.osm.pbf", b"garbage, not a PBF", "osmium cannot read it"),
        ("extract.osm", b"<osm><node id='1'", "osmium cannot read it"),
        ("extract.geojson", b'{"type": "FeatureCollection"}', "not an OSM extract name"),
    ],
)
def test_wrong_formats_are_refused(tmp_path: Path, name: str, content: bytes, match: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LayerError, match=match):
        read_osm(path)


def test_truncated_pbf_is_refused(tmp_path: Path):
    pbf = _pbf_copy(write_osm(tmp_path), tmp_path / "full.osm.pbf")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(pbf.read_bytes()[: pbf.stat().st_size // 2])
    with pytest.raises(LayerError, match="osmium cannot read it"):
        read_osm(cut)


@pytest.mark.parametrize(
    ("tags", "kind"),
    [
        ({"name": "东岭小学"}, ("primary", "name")),
        ({"name": "临江市第二中学"}, ("secondary", "name")),
        ({"name": "花山镇九年一贯制学校"}, ("secondary", "name")),
        ({"name": "石河教学点"}, ("teaching_point", "name")),
        ({"name": "Hope Primary School"}, ("primary", "name")),
        ({"name": "东岭学校", "isced:level": "1"}, ("primary", "isced_level")),
        ({"name": "东岭小学", "isced:level": "1;2"}, ("secondary", "isced_level")),
        ({"name": "东岭幼儿园"}, (None, "")),
        ({}, (None, "")),
    ],
)
def test_school_kind_rule(tags: dict, kind: tuple):
    assert school_kind(tags) == kind


@pytest.mark.parametrize(
    ("value", "metres"),
    [("35", 35.0), ("45 m", 45.0), ("30.5m", 30.5), ("0", None), ("400", None), ("tall", None), (None, None)],
)
def test_height_tag(value, metres):
    assert height_tag_m(value) == metres


#: Schools as rural China names them (review 2026-12: 7 of 13 were dropped as "kind unknown"), and their kinds.
RURAL_SCHOOLS = {
    "解放乡中心校": "primary",
    "竹核乡中心学校": "primary",
    "四开乡完小": "primary",
    "洒拉地坡村小": "primary",
    "昭觉县民族学校": "primary",
    "凉山州职业技术学校": "secondary",
    "昭觉县特殊教育学校": "primary",
    "昭觉县九年一贯制学校": "secondary",
    "昭觉县民族中学": "secondary",
    "比尔乡初级中学": "secondary",
    "阿并洛古教学点": "teaching_point",
    "昭觉县第二小学": "primary",
}


def _rural_osm(tmp_path: Path) -> Path:
    """Schools with rural Chinese names, one named only in English, a communications tower, an isolated dwelling,
    a road cut at the extract's edge (its middle node is missing) and bounds covering only the region's west."""
    nodes = []
    for i, name in enumerate(RURAL_SCHOOLS, start=1):
        lon = WEST + 0.004 * i
        nodes.append(
            f'<node id="{i}" version="1" lat="41.500" lon="{lon:.4f}"><tag k="amenity" v="school"/>'
            f'<tag k="name" v="{name}"/></node>'
        )
    nodes += [
        '<node id="50" version="1" lat="41.505" lon="127.000"><tag k="amenity" v="school"/>'
        '<tag k="name:en" v="Sikai Primary School"/></node>',
        '<node id="51" version="1" lat="41.506" lon="127.001"><tag k="man_made" v="communications_tower"/></node>',
        '<node id="52" version="1" lat="41.507" lon="127.002"><tag k="place" v="isolated_dwelling"/>'
        '<tag k="name" v="独户"/></node>',
        '<node id="53" version="1" lat="41.508" lon="127.003"><tag k="amenity" v="restaurant"/></node>',
        '<node id="60" version="1" lat="41.480" lon="126.980"/>',
        '<node id="61" version="1" lat="41.481" lon="126.990"/>',
        '<node id="63" version="1" lat="41.483" lon="127.010"/>',
        '<node id="64" version="1" lat="41.484" lon="127.020"/>',
    ]
    way = (
        '<way id="200" version="1"><nd ref="60"/><nd ref="61"/><nd ref="62"/><nd ref="63"/><nd ref="64"/>'
        '<tag k="highway" v="motorway"/></way>'
    )
    text = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">"
        f'<bounds minlat="41.40" minlon="126.90" maxlat="41.60" maxlon="127.00"/>{"".join(nodes)}{way}</osm>'
    )
    path = tmp_path / "rural.osm"
    path.write_text(text, encoding="utf-8")
    return path


def test_rural_chinese_school_names_cut_ways_coverage_and_counts(tmp_path: Path, region: Region):
    extract = read_osm(_rural_osm(tmp_path))
    assert extract.bounds == (126.90, 41.40, 127.00, 41.60)
    layers, report = osm_layers(extract, region, buffer_m=2000.0, max_uncovered_share=0.7)
    s = layers["schools"].set_index("name")
    assert s["kind"].to_dict() == {**RURAL_SCHOOLS, "Sikai Primary School": "primary"}
    # the motorway keeps its two located parts (node 62 is not in the extract)
    road = layers["roads"].set_index("road_id").geometry["w200"]
    assert road.geom_type == "MultiLineString"
    assert len(shapely.get_parts(road)) == 2
    assert "note: 1 ways cut at the extract's edge (nodes outside it): their located parts kept" in report.lines()
    assert layers["candidates"]["candidate_id"].tolist() == ["n51"]
    assert report.dropped["nodes: place=isolated_dwelling (not a village)"] == 1
    assert report.dropped["nodes: not a place, school or mast"] == 1
    # every object read is kept or dropped, once
    assert report.read == sum(report.kept.values()) + sum(report.dropped.values())
    # the extract's box ends at 127.00 E: the region's east half and margin are uncovered, and said so
    (note,) = [n for n in report.notes if "uncovered" in n]
    assert "leaves" in note
    assert "of the admin areas + 2000 m uncovered" in note
    share = float(note.split("leaves ")[1].split("%")[0])
    assert 40.0 < share < 60.0


def test_an_extract_that_leaves_the_region_uncovered_is_refused(tmp_path: Path, region: Region):
    """The extract's box ends at 127.00 E, west of the county's middle: with the default 1 % the import is
    refused, naming the uncovered share of the admin areas (hand-computed from the boxes), its km², its box and the
    option; the share the message suggests (``--max-uncovered-share``) imports the covered part, and the note says
    both shares."""
    extract = read_osm(_rural_osm(tmp_path))
    share = (EAST - 127.0) / (EAST - WEST)  # the county is a lon/lat box: the uncovered share of its area
    with pytest.raises(LayerError) as info:
        osm_layers(extract, region, buffer_m=2000.0)
    (problem,) = info.value.problems
    assert f"leaves {share:.1%} of the admin areas uncovered" in problem.message
    assert f"lon 127.000..{EAST:.3f}, lat {SOUTH:.3f}..{NORTH:.3f}" in problem.message
    assert "expected at most 1.0%" in problem.message
    suggested = float(problem.message.split("--max-uncovered-share ")[1].split()[0])
    assert share <= suggested <= share + 0.011
    km2 = float(problem.message.split("(")[2].split(" km²")[0].replace(",", ""))
    lat = np.radians((SOUTH + NORTH) / 2)
    assert km2 == pytest.approx((EAST - 127.0) * (NORTH - SOUTH) * 111.32**2 * np.cos(lat), rel=0.02)
    _, report = osm_layers(extract, region, buffer_m=2000.0, max_uncovered_share=suggested)
    (note,) = [n for n in report.notes if "uncovered" in n]
    assert f"({share:.1%} of the admin areas themselves)" in note


def test_the_regions_buffer_is_computed_once(region: Region):
    """A country's outline takes ~40 s to buffer (review 2026-12: twice per `import osm`): one geometry per
    distance, the same object on every call."""
    a = region.buffered(10_000.0)
    assert region.buffered(10_000.0) is a
    assert region.buffered(0.0) is region.area
    assert shapely.area(a) > shapely.area(region.area)
