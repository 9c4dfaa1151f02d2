import networkx as nx
import numpy as np
import pytest
import shapely

from gis.synthetic import synthesize
from gis.validation import validate_frame


@pytest.fixture(scope="module")
def region():
    return synthesize(villages=300, seed=7)


def test_same_seed_same_region(region):
    again = synthesize(villages=300, seed=7)
    for name, frame in region.layers().items():
        other = again.layers()[name]
        assert frame.drop(columns="geometry").equals(other.drop(columns="geometry")), name
        assert shapely.equals_exact(np.asarray(frame.geometry.values), np.asarray(other.geometry.values)).all()
    np.testing.assert_array_equal(region.dem.height_m, again.dem.height_m)
    different = synthesize(villages=300, seed=8)
    assert not np.array_equal(region.dem.height_m, different.dem.height_m)


def test_every_layer_is_valid(region):
    for name, frame in region.layers().items():
        _, problems = validate_frame(frame, name)
        assert problems == [], (name, problems[:3])


def test_county_magnitudes(region):
    area_km2 = region.admin.area.sum() / 1e6
    assert area_km2 == pytest.approx(3000.0, rel=1e-6)  # 10 km² per village
    assert len(region.villages) == 300
    assert 50 <= len(region.schools) <= 150
    kinds = region.schools["kind"].value_counts()
    assert kinds["teaching_point"] > 0
    assert kinds["primary"] > kinds["secondary"] > 0
    poor = region.villages["is_poor"].mean()
    assert 0.08 <= poor <= 0.30
    assert 150 <= region.villages["population"].median() <= 3000
    z = region.dem.height_m
    assert np.nanmax(z) - np.nanmin(z) > 600.0  # hilly
    assert set(region.sites["tech"]) == {"4g", "5g"}


def test_points_lie_in_the_region_and_on_the_dem(region):
    area = shapely.union_all(np.asarray(region.admin.geometry.values))
    for name in ("villages", "schools", "sites"):
        geoms = np.asarray(region.layers()[name].geometry.values)
        assert (shapely.distance(geoms, area) < 500.0).all(), name
    minx, miny, maxx, maxy = region.dem.bounds
    x, y = region.villages.geometry.x, region.villages.geometry.y
    assert ((x > minx) & (x < maxx) & (y > miny) & (y < maxy)).all()


def test_road_network_is_connected_and_reaches_every_village(region):
    g = nx.Graph()
    for line in region.roads.geometry:
        a, b = line.coords[0], line.coords[-1]
        g.add_edge(a, b)
    assert nx.number_connected_components(g) == 1
    nodes = set(g.nodes)
    assert all((p.x, p.y) in nodes for p in region.villages.geometry)


def test_remote_villages_are_poorer_and_less_fibred(region):
    v = region.villages
    fib = shapely.union_all(np.asarray(region.fibre.geometry.values))
    d = shapely.distance(np.asarray(v.geometry.values), fib)
    poor = v["is_poor"].to_numpy(dtype=bool)
    assert np.median(d[poor]) > np.median(d[~poor])
    assert 0.3 < (d < 1000.0).mean() < 0.98  # many but not all villages are near fibre: there are gaps


def test_province_scale_counties():
    r = synthesize(villages=1500, seed=3)
    assert len(r.admin) == 5  # ~300 villages per county
    assert r.villages["county"].nunique() == 5
    assert r.villages["admin_code"].str.len().eq(12).all()
    assert r.villages["admin_code"].is_unique


def test_too_few_villages():
    with pytest.raises(ValueError, match="`villages` = 3"):
        synthesize(villages=3)
