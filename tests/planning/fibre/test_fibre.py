"""Fibre network, reach and shared-trench plans: hand-built networks, SteinLib optima, repairs and bad input."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from networkx.algorithms.approximation import steiner_tree as nx_steiner_tree
from scipy import sparse
from scipy.sparse import csgraph

from gis.errors import LayerError
from gis.settings import CostSettings, FibreSettings
from planning import fibre
from planning.fibre.dijkstra import Searcher
from planning.fibre.stage import FIBRE_PROVINCE_BUFFER_M, fibre_partition, fibre_stage
from tests.conftest import CRS_M, ROOT
from tests.reference.steinlib import read_stp

STEINLIB = ROOT / "data" / "reference" / "steinlib"
RATE = 15.0  # CNY per metre: aerial 15,000 CNY/km (DESIGN.md default)


def lines(
    coords: list[list[tuple[float, float]]], id_col: str = "road_id", crs: str | None = CRS_M, prefix: str = "R"
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {id_col: [f"{prefix}{i + 1}" for i in range(len(coords))]},
        geometry=[shapely.LineString(c) for c in coords],
        crs=crs,
    )


def points(xy: list[tuple[float, float]], layer: str = "villages") -> gpd.GeoDataFrame:
    id_col = {"villages": "village_id", "schools": "school_id", "fibre_nodes": "node_id"}[layer]
    return gpd.GeoDataFrame(
        {id_col: [f"{layer[0].upper()}{i + 1}" for i in range(len(xy))]},
        geometry=shapely.points(np.asarray(xy, dtype=float)),
        crs=CRS_M,
    )


# ---------------------------------------------------------------- network building and repairs


def test_crossing_lines_are_noded() -> None:
    net = fibre.build_network(lines([[(0, 0), (1000, 0)], [(500, -500), (500, 500)]]))
    assert net.n_nodes == 5
    assert len(net.u) == 4
    np.testing.assert_allclose(sorted(net.length_m), [500, 500, 500, 500])
    assert len(net.components) == 1


def test_shared_interior_vertex_is_a_node() -> None:
    # the second road starts at an interior vertex of the first one
    net = fibre.build_network(lines([[(0, 0), (400, 0), (1000, 0)], [(400, 0), (400, 300)]]))
    np.testing.assert_allclose(sorted(net.length_m), [300, 400, 600])


def test_gap_within_tolerance_is_snapped_and_reported() -> None:
    roads = lines([[(0, 0), (1000, 0)], [(1003, 0), (2000, 0)]])
    net = fibre.build_network(roads, settings=FibreSettings(snap_tolerance_m=5.0))
    assert len(net.components) == 1
    assert "snapped" in set(net.repairs["action"])
    wide = fibre.build_network(roads, settings=FibreSettings(snap_tolerance_m=2.0))
    assert len(wide.components) == 2  # a 3 m gap is more than 2 m: two components, nothing invented


def test_dangling_end_joined_to_line_interior() -> None:
    # a side road stops 2 m short of the main road (undershoot)
    net = fibre.build_network(lines([[(0, 0), (1000, 0)], [(600, 2), (600, 400)]]))
    assert len(net.components) == 1
    rep = net.repairs[net.repairs["action"] == "joined_dangling_end"]
    assert list(rep["row_id"]) == ["R2"]
    np.testing.assert_allclose(sorted(net.length_m), [400, 400, 600])


def test_duplicate_road_and_fibre_merge_into_fibre_edge() -> None:
    roads = lines([[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)]])
    fib = lines([[(0, 0), (1000, 0)]], id_col="route_id", prefix="F")
    net = fibre.build_network(roads, fib)
    assert len(net.u) == 2
    assert sorted(net.kind.tolist()) == ["fibre", "road"]
    merged = net.repairs[net.repairs["action"] == "merged_duplicate"]
    assert len(merged) == 1
    assert "fibre:F1" in net.source[net.kind == "fibre"][0]
    assert "roads:R1" in net.source[net.kind == "fibre"][0]


def test_multipart_zero_length_and_ring_are_repaired_and_reported() -> None:
    roads = gpd.GeoDataFrame(
        {"road_id": ["M", "Z", "O"]},
        geometry=[
            shapely.MultiLineString([[(0, 0), (100, 0)], [(100, 0), (200, 0)]]),
            shapely.LineString([(50, 50), (50, 50)]),
            shapely.LineString([(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)]),
        ],
        crs=CRS_M,
    )
    net = fibre.build_network(roads)
    actions = dict(zip(net.repairs["row_id"], net.repairs["action"], strict=False))
    assert actions["M"] == "split_multipart"
    assert actions["Z"] == "removed_zero_length"
    assert not (net.u == net.v).any()  # the ring is split, no self-loop
    assert net.length_m.sum() == pytest.approx(200 + 400)


def test_lines_without_crs_or_in_degrees_are_refused() -> None:
    with pytest.raises(LayerError, match=r"\[roads\].*no CRS"):
        fibre.build_network(lines([[(0, 0), (1, 1)]], crs=None))
    with pytest.raises(LayerError, match=r"\[fibre\].*expected a projected metric CRS"):
        fibre.build_network(
            lines([[(0, 0), (1000, 0)]]), lines([[(126.0, 43.0), (126.1, 43.0)]], id_col="route_id", crs="EPSG:4326")
        )
    with pytest.raises(LayerError, match="no road or fibre lines"):
        fibre.build_network(None, None)


def test_networkx_view_has_attributes() -> None:
    g = fibre.build_graph(lines([[(0, 0), (1000, 0)]]), costs=CostSettings(fibre_aerial_cny_per_km=20_000.0))
    ((_a, _b, d),) = g.edges(data=True)
    assert d["length_m"] == pytest.approx(1000.0)
    assert d["kind"] == "road"
    assert d["cost_cny"] == pytest.approx(20_000.0)
    assert g.graph["repairs"].empty


# ---------------------------------------------------------------- points, reach and plans


@pytest.fixture
def small_net() -> fibre.RoadNetwork:
    """Fibre along y=0 from x=0 to 1000; road on to x=3000; a branch up x=2000 to y=1000; an island road."""
    roads = lines([[(1000, 0), (3000, 0)], [(2000, 0), (2000, 1000)], [(5000, 5000), (6000, 5000)]])
    fib = lines([[(0, 0), (1000, 0)]], id_col="route_id", prefix="F")
    net = fibre.build_network(roads, fib, settings=FibreSettings(), costs=CostSettings())
    vil = points([(2500, 50), (500, 100), (5500, 5020), (2000, 900), (2030, 800)])
    return fibre.connect_points(net, {"villages": vil})


def test_connect_splits_edge_and_adds_drop(small_net: fibre.RoadNetwork) -> None:
    pn = small_net.point_node
    np.testing.assert_allclose(pn["drop_m"].to_numpy(), [50, 100, 20, 0, 30])
    # V4 lies on the branch: no drop edge, its node is a split node of the branch
    assert (small_net.kind == "drop").sum() == 4
    assert small_net.length_m[small_net.kind == "road"].sum() == pytest.approx(2000 + 1000 + 1000)


def test_reach_hand_computed(small_net: fibre.RoadNetwork) -> None:
    r = fibre.fibre_reach(small_net, drop_m=300.0)
    assert r.loc["villages:V1", "fibre_distance_m"] == pytest.approx(1500 + 50)
    assert r.loc["villages:V1", "fibre_cost_cny"] == pytest.approx(1550 * RATE)
    assert r.loc["villages:V2", "fibre_distance_m"] == pytest.approx(100)
    assert bool(r.loc["villages:V2", "connected"])
    assert r.loc["villages:V2", "reach"] == "connected"
    assert r.loc["villages:V4", "fibre_distance_m"] == pytest.approx(1000 + 900)
    assert r.loc["villages:V5", "fibre_distance_m"] == pytest.approx(1000 + 800 + 30)
    assert math.isinf(r.loc["villages:V3", "fibre_distance_m"])
    assert r.loc["villages:V3", "reach"] == "no_fibre_in_component"
    assert not bool(r.loc["villages:V3", "connected"])


def test_plan_shares_trenches(small_net: fibre.RoadNetwork) -> None:
    todo = ["villages:V1", "villages:V4", "villages:V5"]
    plan = fibre.plan_routes(small_net, todo)
    # trunk 1000 m to the branch, 500 m + 50 m drop to V1, 900 m up the branch, 30 m drop to V5
    assert plan.total_length_m == pytest.approx(1000 + 550 + 900 + 30)
    assert plan.total_cost_cny == pytest.approx((1000 + 550 + 900 + 30) * RATE)
    assert plan.separate_cost_cny == pytest.approx((1550 + 1900 + 1830) * RATE)
    assert plan.total_cost_cny <= plan.separate_cost_cny
    routes = plan.routes
    assert routes["length_m"].sum() == pytest.approx(plan.total_length_m)
    trunk = routes[routes["n_served"] == 3]
    assert len(trunk) == 1
    assert trunk["length_m"].iloc[0] == pytest.approx(1000)
    assert set(trunk["serves"].iloc[0].split(";")) == set(todo)
    assert routes.crs == small_net.crs
    with pytest.raises(ValueError, match="without fibre"):
        fibre.plan_routes(small_net, ["villages:V3"])
    with pytest.raises(ValueError, match="not joined"):
        fibre.plan_routes(small_net, ["villages:V99"])


def test_reach_grows_with_distance_along_a_road() -> None:
    fib = lines([[(0, 0), (100, 0)]], id_col="route_id", prefix="F")
    roads = lines([[(100, 0), (10_000, 0)]])
    xs = [1000.0, 3000.0, 6000.0, 9000.0]
    net = fibre.connect_points(fibre.build_network(roads, fib), {"villages": points([(x, 10.0) for x in xs])})
    d = fibre.fibre_reach(net)["fibre_distance_m"].to_numpy()
    np.testing.assert_allclose(d, np.array(xs) - 100 + 10)


# ---------------------------------------------------------------- Steiner trees


def _reference() -> dict[str, float]:
    with (STEINLIB / "steinlib_reference.csv").open(encoding="utf-8") as fh:
        return {r["instance"]: float(r["opt_sbeyer"]) for r in csv.DictReader(fh)}


def _cost(tree: nx.Graph) -> float:
    return float(tree.size(weight="weight"))


def _check_tree(g: nx.Graph, tree: nx.Graph, terminals: list) -> None:
    assert set(terminals) <= set(tree.nodes)
    assert nx.is_tree(tree)
    assert all(g.has_edge(a, b) for a, b in tree.edges)


B_SET = [f"b{i:02d}" for i in range(1, 19)]


def test_steinlib_b_mean_gap_and_never_worse_than_networkx() -> None:
    opt = _reference()
    gaps = []
    for name in B_SET:
        g, terms = read_stp(STEINLIB / f"{name}.stp")
        tree = fibre.steiner_tree(g, terms, weight="weight")
        _check_tree(g, tree, terms)
        cost = _cost(tree)
        assert cost >= opt[name] - 1e-9  # never below the proven optimum
        assert cost <= _cost(nx_steiner_tree(g, terms, weight="weight")) + 1e-9, name
        gaps.append((cost - opt[name]) / opt[name])
    assert np.mean(gaps) <= 0.02
    assert max(gaps) <= 0.05


@pytest.mark.parametrize("name", ["oddcycle3", "oddwheel3", "design432", "antiwheel5", "se03", "w13c29"])
def test_steinlib_sp_instances(name: str) -> None:
    opt = _reference()[name]
    g, terms = read_stp(STEINLIB / f"{name}.stp")
    tree = fibre.steiner_tree(g, terms, weight="weight")
    _check_tree(g, tree, terms)
    cost = _cost(tree)
    assert opt - 1e-9 <= cost <= _cost(nx_steiner_tree(g, terms, weight="weight")) + 1e-9
    if g.number_of_nodes() < 20:
        assert cost == pytest.approx(opt)  # the small SP instances are solved to optimality


def test_steiner_tree_bad_input() -> None:
    g = nx.Graph()
    g.add_edge(1, 2, length_m=5.0)
    g.add_edge(3, 4, length_m=5.0)
    with pytest.raises(ValueError, match="not connected"):
        fibre.steiner_tree(g, [1, 3])
    with pytest.raises(ValueError, match="not nodes"):
        fibre.steiner_tree(g, [1, 9])
    assert list(fibre.steiner_tree(g, [2]).nodes) == [2]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=8, max_value=40),
    st.integers(min_value=2, max_value=8),
)
def test_random_graphs_valid_and_not_worse_than_networkx(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    g = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    for a, b in g.edges:
        g[a][b]["length_m"] = float(rng.uniform(1.0, 100.0))
    terms = [int(x) for x in rng.choice(n, size=min(k, n), replace=False)]
    tree = fibre.steiner_tree(g, terms)
    assert set(terms) <= set(tree.nodes)
    assert nx.is_tree(tree)
    ours = tree.size(weight="length_m")
    theirs = nx_steiner_tree(g, terms, weight="length_m").size(weight="length_m")
    assert ours <= theirs + 1e-9


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=39),
    st.integers(min_value=1, max_value=40),
    st.booleans(),
)
def test_ranked_search_finds_the_nearest_target_of_a_range(seed: int, lo: int, width: int, inside: bool) -> None:
    # the key-path exchange passes a part of the tree as a range of ranks (or its complement); the search must
    # find the same distance as a full multi-source Dijkstra to those targets

    rng = np.random.default_rng(seed)
    g = nx.connected_watts_strogatz_graph(60, 4, 0.3, seed=seed)
    w = nx.to_scipy_sparse_array(g, weight=None, format="coo")
    w = sparse.coo_matrix((rng.uniform(1.0, 100.0, w.nnz), (w.row, w.col)), shape=w.shape)
    w = sparse.csr_matrix(w.maximum(w.T))
    rank = np.full(60, -1, dtype=np.int64)
    ranked = rng.choice(60, size=40, replace=False)
    rank[ranked] = np.arange(40)
    hi = min(lo + width, 40)
    is_target = (rank >= 0) & (((rank >= lo) & (rank < hi)) == inside)
    sources = rng.choice(np.flatnonzero(~is_target), size=3, replace=False)
    dist = csgraph.dijkstra(w, directed=False, indices=sources, min_only=True)
    expected = dist[is_target].min() if is_target.any() else np.inf
    searcher = Searcher(w)
    for _ in range(2):  # a second call on the same searcher sees clean state
        hit, d, path = searcher.nearest_ranked(sources, rank, lo, hi, inside=inside)
        if not np.isfinite(expected):
            assert hit == -1
            continue
        assert is_target[hit]
        assert d == pytest.approx(expected)
        assert sum(w[a, b] for a, b in path) == pytest.approx(d)
    assert searcher.nearest(sources, is_target)[1] == pytest.approx(expected)


def test_steinlib_reader_matches_header() -> None:
    g, terms = read_stp(Path(STEINLIB / "b01.stp"))
    assert (g.number_of_nodes(), g.number_of_edges(), len(terms)) == (50, 63, 9)


def test_bounded_search_matches_scipy_dijkstra() -> None:

    rng = np.random.default_rng(3)
    g = nx.connected_watts_strogatz_graph(300, 6, 0.2, seed=3)
    r, c = np.array(g.edges).T
    w = rng.uniform(1.0, 10.0, len(r))
    mat = sparse.coo_matrix((np.r_[w, w], (np.r_[r, c], np.r_[c, r])), shape=(300, 300)).tocsr()
    search = Searcher(mat)
    for _ in range(20):
        src = rng.choice(300, size=3, replace=False)
        target = np.zeros(300, dtype=bool)
        target[rng.choice(300, size=5, replace=False)] = True
        target[src] = False
        dist = csgraph.dijkstra(mat, indices=src, min_only=True)
        hit, d, path = search.nearest(src, target)
        assert d == pytest.approx(dist[target].min())
        assert target[hit]
        assert sum(mat[a, b] for a, b in path) == pytest.approx(d)
        hit2, _, _ = search.nearest(src, target, limit=dist[target].min() * 0.99)
        assert hit2 == -1  # nothing within a limit below the true distance


def test_fibre_per_province_equals_one_network_within_the_buffer(two_counties):
    project, inputs = two_counties
    layers = inputs.layers
    points = {k: layers[k] for k in ("villages", "schools", "candidates", "fibre_nodes") if layers.get(k) is not None}
    whole = fibre_partition(project, {"roads": layers.get("roads"), "fibre": layers.get("fibre")}, points).reach
    split = fibre_stage(project, inputs)
    assert split.network is None
    assert sorted(split.networks) == ["吉林省", "辽宁省"]
    # each province's network is smaller than the whole one
    n_whole = len(
        fibre_partition(project, {"roads": layers.get("roads"), "fibre": layers.get("fibre")}, points).network.u
    )
    assert all(len(net.u) < n_whole for net in split.networks.values())
    assert list(split.reach["layer"] + split.reach["point_id"]) == list(whole["layer"] + whole["point_id"])
    # a shortest path of length d stays within d of its point: within the buffer the province networks are exact
    near = (whole["fibre_distance_m"] <= FIBRE_PROVINCE_BUFFER_M).to_numpy()
    assert near.mean() > 0.5
    np.testing.assert_allclose(
        split.reach["fibre_distance_m"].to_numpy()[near], whole["fibre_distance_m"].to_numpy()[near], atol=1.0
    )
    assert (split.reach["reach"].to_numpy()[near] == whole["reach"].to_numpy()[near]).all()
