"""Shared-trench routes: one Steiner tree from existing fibre to the points to connect.

:func:`plan_routes` roots the tree at all existing fibre (a virtual root joined to every fibre node), spanning the
points to connect, so each metre is built and paid once; written as a line layer of route segments with their
length, cost and the points each serves. :func:`steiner_tree` is the general ``networkx`` entry point. The
heuristic (:mod:`planning.fibre.steiner`) is measured on SteinLib in the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from planning.fibre.graph import EPS_M, RoadNetwork
from planning.fibre.reach import fibre_reach
from planning.fibre.steiner import solve as solve_steiner

logger = logging.getLogger(__name__)


def steiner_tree(
    graph: nx.Graph, terminals: Iterable[Hashable], *, weight: str = "length_m", time_limit_s: float | None = None
) -> nx.Graph:
    """A low-cost tree of ``graph`` spanning ``terminals`` (Steiner tree heuristic).

    Best of the shortest-path heuristic from up to 8 terminals and Mehlhorn's heuristic, each followed by MST
    clean-up and key-path exchange (planning.fibre.steiner; quality on SteinLib in tests/planning/test_fibre.py).

    Parameters
    ----------
    graph : networkx.Graph
        Undirected; edge weights ``weight`` >= 0 (missing: 1; zero is treated as 1e-6).
    terminals : iterable of nodes
    weight : str
        Edge attribute to minimise.
    time_limit_s : float, optional
        Bound on the improvement phase (the tree stays valid).

    Returns
    -------
    networkx.Graph
        The tree as a subgraph copy (node and edge attributes kept); a single terminal gives one node.

    Raises
    ------
    ValueError
        A terminal not in the graph, a negative weight, or terminals in different components.
    """
    terms = list(dict.fromkeys(terminals))
    missing = [t for t in terms if t not in graph]
    if missing:
        msg = f"`terminals` {missing[:10]} are not nodes of the graph"
        raise ValueError(msg)
    if len(terms) <= 1:
        return graph.subgraph(terms).copy()
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    m = graph.number_of_edges()
    r = np.empty(m, dtype=np.int64)
    c = np.empty(m, dtype=np.int64)
    w = np.empty(m)
    for k, (a, b, d) in enumerate(graph.edges(data=weight, default=1.0)):
        r[k], c[k], w[k] = index[a], index[b], d
    if (w < 0).any():
        msg = f"`{weight}` has negative values; expected weights >= 0"
        raise ValueError(msg)
    w = np.maximum(w, EPS_M)
    loops = r != c
    r, c, w = r[loops], c[loops], w[loops]
    n = len(nodes)
    mat = sparse.coo_matrix((np.r_[w, w], (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()
    t_idx = np.array([index[t] for t in terms])
    _, label = csgraph.connected_components(mat, directed=False)
    if len(np.unique(label[t_idx])) > 1:
        main = np.bincount(label[t_idx]).argmax()
        apart = [terms[i] for i in np.flatnonzero(label[t_idx] != main)[:10]]
        msg = f"`terminals` {apart} are not connected to the others; expected one connected component"
        raise ValueError(msg)
    edges = solve_steiner(mat, t_idx, time_limit_s=time_limit_s)
    return graph.edge_subgraph([(nodes[a], nodes[b]) for a, b in edges]).copy()


@dataclass(frozen=True)
class RoutePlan:
    """A shared-trench plan: route segments, the points served, totals."""

    routes: gpd.GeoDataFrame
    served: pd.DataFrame
    total_length_m: float
    total_cost_cny: float
    separate_cost_cny: float
    tree_nodes: np.ndarray

    def allocated_cost_cny(self) -> pd.Series:
        """Each point's share of the plan: every segment's cost split equally among the points it serves."""
        share: dict[str, float] = dict.fromkeys(self.served.index, 0.0)
        for cost, serves, n in zip(
            self.routes["cost_cny"], self.routes["serves"], self.routes["n_served"], strict=True
        ):
            if n:
                for p in str(serves).split(";"):
                    share[p] = share.get(p, 0.0) + float(cost) / n
        return pd.Series(share, dtype=float)


def plan_routes(
    network: RoadNetwork, points: Iterable[str], *, reach: pd.DataFrame | None = None, time_limit_s: float | None = 60.0
) -> RoutePlan:
    """Shared-trench fibre routes from existing fibre to ``points`` (a Steiner tree rooted at all fibre).

    Parameters
    ----------
    network : RoadNetwork
        With the points joined (:func:`connect_points`).
    points : iterable of str
        ``layer:id`` labels of the points to connect (index of ``network.point_node``).
    reach : DataFrame, optional
        :func:`fibre_reach` of the network (computed when not given), for the cost of connecting each point
        on its own.
    time_limit_s : float, optional
        Bound on the improvement phase of the heuristic.

    Returns
    -------
    RoutePlan
        ``routes``: one line per segment to build (a maximal chain of edges between junctions, terminals and
        fibre), with ``length_m``, ``cost_cny``, ``kind`` (``road``/``drop``), ``roads`` (source ids),
        ``serves`` (``;``-joined point labels downstream) and ``n_served``; ``served``: the points in the plan.

    Raises
    ------
    ValueError
        A point not joined to the network, or one whose component has no fibre (see ``reach``).
    """
    labels = list(dict.fromkeys(points))
    pn = network.point_node
    unknown = [p for p in labels if p not in pn.index]
    if unknown:
        msg = f"`points` {unknown[:10]} are not joined to the network; expected labels from connect_points"
        raise ValueError(msg)
    reach = fibre_reach(network) if reach is None else reach
    inf = [p for p in labels if not np.isfinite(reach.loc[p, "fibre_distance_m"])]
    if inf:
        msg = f"`points` {inf[:10]} lie in network components without fibre; expected reachable points"
        raise ValueError(msg)
    sources = network.fibre_sources()
    n = network.n_nodes
    root = n
    w = network.weights()
    w = sparse.bmat(
        [
            [w, sparse.coo_matrix((np.full(len(sources), EPS_M), (sources, np.zeros(len(sources)))), shape=(n, 1))],
            [sparse.coo_matrix((np.full(len(sources), EPS_M), (np.zeros(len(sources)), sources)), shape=(1, n)), None],
        ],
        format="csr",
    )
    t_nodes = np.unique(pn.loc[labels, "node"].to_numpy(dtype=np.int64))
    terms = np.r_[root, t_nodes]
    edges = solve_steiner(w, terms, time_limit_s=time_limit_s) if len(t_nodes) else set()
    # edge index of each tree edge that is built (not a root link, not existing fibre)
    edge_of = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(network.u, network.v, strict=True))}
    tree_edges = [edge_of[e] for e in edges if e[1] != root and e[0] != root]
    built = np.array([k for k in tree_edges if network.kind[k] != "fibre"], dtype=np.int64)
    routes = _segments(network, built, labels)
    cost = float(network.cost_cny[built].sum()) if len(built) else 0.0
    length = float(network.length_m[built].sum()) if len(built) else 0.0
    separate = float(reach.loc[labels, "fibre_cost_cny"].sum())
    served = reach.loc[labels].copy()
    logger.info(
        "shared-trench plan: %d points, %.1f km, %.0f CNY (%.0f CNY built separately)",
        len(labels),
        length / 1000,
        cost,
        separate,
    )
    nodes = np.unique(np.r_[network.u[built], network.v[built]]) if len(built) else np.zeros(0, np.int64)
    return RoutePlan(
        routes=routes,
        served=served,
        total_length_m=length,
        total_cost_cny=cost,
        separate_cost_cny=separate,
        tree_nodes=nodes,
    )


def _rooted_forest(
    network: RoadNetwork, adj: dict[int, list[int]], sources: set[int], label_of_node: dict[int, list[str]]
) -> tuple[list[int], dict[int, int], dict[int, list[str]]]:
    """The built edges form a forest hanging off existing fibre: each tree rooted at its fibre node(s). Returns the
    nodes in depth-first order, each node's edge to its parent, and the point labels downstream of each node."""
    parent_edge: dict[int, int] = {}
    order: list[int] = []
    seen: set[int] = set()
    for r in (x for x in adj if x in sources):
        if r in seen:
            continue
        stack = [r]
        seen.add(r)
        while stack:
            x = stack.pop()
            order.append(x)
            for k in adj[x]:
                y = int(network.v[k] if network.u[k] == x else network.u[k])
                if y not in seen:
                    seen.add(y)
                    parent_edge[y] = k
                    stack.append(y)
    downstream: dict[int, list[str]] = {}
    for x in reversed(order):
        mine = list(label_of_node.get(x, []))
        for k in adj[x]:
            y = int(network.v[k] if network.u[k] == x else network.u[k])
            if parent_edge.get(y) == k:
                mine += downstream.get(y, [])
        downstream[x] = mine
    return order, parent_edge, downstream


def _segments(network: RoadNetwork, built: np.ndarray, labels: list[str]) -> gpd.GeoDataFrame:
    """Merge built edges into segments between key nodes; list the points each segment serves downstream."""
    cols = ["segment_id", "length_m", "cost_cny", "kind", "roads", "n_served", "serves"]
    if not len(built):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=network.crs)
    pn = network.point_node
    edge_cost = network.cost_cny
    label_of_node: dict[int, list[str]] = {}
    for lab in labels:
        label_of_node.setdefault(int(pn.loc[lab, "node"]), []).append(lab)
    sources = set(network.fibre_sources().tolist())
    adj: dict[int, list[int]] = {}
    for k in built.tolist():
        for a, _b in ((network.u[k], network.v[k]), (network.v[k], network.u[k])):
            adj.setdefault(int(a), []).append(k)
    order, parent_edge, downstream = _rooted_forest(network, adj, sources, label_of_node)
    # key nodes: roots, junctions, terminals; a segment runs from a key node up to the next key node
    degree = {x: len(ks) for x, ks in adj.items()}
    is_key = {x for x in adj if x in sources or degree[x] != 2 or x in label_of_node}
    rows = []
    for x in order:
        if x not in is_key or x not in parent_edge:
            continue
        serves = downstream[x]
        chain = []
        y = x
        while True:
            k = parent_edge[y]
            chain.append(k)
            y = int(network.v[k] if network.u[k] == y else network.u[k])
            if y in is_key:
                break
        chain_arr = np.array(chain)
        merged = shapely.line_merge(shapely.multilinestrings(list(network.geometry[chain_arr])))
        kinds = set(network.kind[chain_arr].tolist())
        srcs = sorted(
            {
                s
                for k in chain
                for s in str(network.source[k]).split(";")
                if not s.startswith(("villages:", "schools:", "candidates:"))
            }
        )
        rows.append(
            {
                "length_m": float(network.length_m[chain_arr].sum()),
                "cost_cny": float(edge_cost[chain_arr].sum()),
                "kind": "drop" if kinds == {"drop"} else "road",
                "roads": ";".join(srcs),
                "n_served": len(serves),
                "serves": ";".join(sorted(serves)),
                "geometry": merged,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.crs)
    out.insert(0, "segment_id", [f"FR{i + 1:05d}" for i in range(len(out))])
    return out[[*cols, "geometry"]]


def extension_cost_from(network: RoadNetwork, tree_nodes: np.ndarray, points: Iterable[str]) -> pd.Series:
    """Cost (CNY) of reaching each point from existing fibre or from any node of a planned tree."""
    labels = list(points)
    sources = np.unique(np.r_[network.fibre_sources(), np.asarray(tree_nodes, dtype=np.int64)])
    dist = csgraph.dijkstra(network.weights(), directed=False, indices=sources, min_only=True)
    nodes = network.point_node.loc[labels, "node"].to_numpy(dtype=np.int64)
    return pd.Series(dist[nodes] * network.cny_per_m, index=labels)
