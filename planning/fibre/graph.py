"""The road and fibre network: noding, repairs, components and points joined to it.

:func:`build_network` makes a routable network from road and existing fibre lines, noded at every line end,
shared vertex and crossing, with snapping and repairs recorded row by row (``network.repairs``) and its connected
components listed (``network.components``). :meth:`RoadNetwork.to_networkx` (and :func:`build_graph`) give the
same network as a ``networkx.Graph`` with edge attributes ``length_m``, ``kind`` (``road``/``fibre``/``drop``),
``cost_cny`` and ``geometry``. :func:`connect_points` joins each village, school or candidate site at its nearest
edge (split there) by a straight drop.

All lengths are metres in the network's projected CRS; costs are CNY at ``FibreSettings.cny_per_m``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph
from shapely import ops

from gis.crs import is_metric
from gis.errors import LayerError, Problem
from gis.schema import SCHEMAS, unit_key
from gis.settings import CostSettings, FibreSettings
from planning.fibre.noding import REPAIR_COLUMNS, Noded, explode, node_lines

logger = logging.getLogger(__name__)


EdgeKind = Literal["road", "fibre", "drop"]
Reach = Literal["connected", "extension", "no_fibre_in_component"]
EPS_M = 1e-6  # weight of an existing-fibre edge or a root link: csgraph drops explicit zeros
_ID_COLUMNS = {name: schema.id_column for name, schema in SCHEMAS.items()}


@dataclass(frozen=True)
class RoadNetwork:
    """A noded road and fibre network as arrays (node ``i`` at ``xy[i]``; edge ``k`` joins ``u[k] < v[k]``).

    The nodes and edges are a :class:`planning.fibre.noding.Noded` (``noded``); its arrays read as attributes of
    the network (``network.xy`` is ``network.noded.xy``).

    Attributes
    ----------
    noded : Noded
        Nodes and edges; read through the network: ``xy`` (n, 2) node coordinates in metres; ``u``, ``v`` (m,)
        the end nodes of each edge; ``geometry`` (LineString) and ``length_m`` of each edge; ``kind`` ``road``,
        ``fibre`` (existing fibre, nothing to build) or ``drop`` (straight link of a point); ``source``
        ``layer:row_id`` of the line(s) an edge comes from (``;``-joined when duplicates were merged);
        ``repairs``, one row per repair: layer, row, row_id, action, detail.
    cny_per_m : float
        Cost of one metre of new fibre.
    crs : pyproj.CRS
    point_node : DataFrame
        Points joined by :func:`connect_points`: layer, id, node, drop_m (index: ``layer:id``).
    """

    noded: Noded
    cny_per_m: float
    crs: CRS
    point_node: pd.DataFrame

    xy = property(lambda self: self.noded.xy, doc="Node coordinates (n, 2), metres (``noded.xy``).")
    u = property(lambda self: self.noded.u, doc="Lower end node of each edge (``noded.u``).")
    v = property(lambda self: self.noded.v, doc="Higher end node of each edge (``noded.v``).")
    geometry = property(lambda self: self.noded.geometry, doc="Edge lines (``noded.geometry``).")
    length_m = property(lambda self: self.noded.length_m, doc="Edge lengths, metres (``noded.length_m``).")
    kind = property(lambda self: self.noded.kind, doc="Edge kinds: road, fibre or drop (``noded.kind``).")
    source = property(lambda self: self.noded.source, doc="``layer:row_id`` of each edge's lines (``noded.source``).")
    repairs = property(lambda self: self.noded.repairs, doc="One row per repair (``noded.repairs``).")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.xy)

    @property
    def cost_cny(self) -> np.ndarray:
        """Cost of building each edge (0 for existing fibre)."""
        return np.where(self.kind == "fibre", 0.0, self.length_m * self.cny_per_m)

    def weights(self) -> sparse.csr_matrix:
        """Symmetric CSR matrix of the length to build per edge (existing fibre: a tiny epsilon)."""
        w = np.where(self.kind == "fibre", EPS_M, np.maximum(self.length_m, EPS_M))
        n = self.n_nodes
        return sparse.coo_matrix((np.r_[w, w], (np.r_[self.u, self.v], np.r_[self.v, self.u])), shape=(n, n)).tocsr()

    def fibre_sources(self) -> np.ndarray:
        """Nodes on existing fibre: ends of fibre edges and joined fibre nodes."""
        fib = self.kind == "fibre"
        nodes = [self.u[fib], self.v[fib]]
        pn = self.point_node
        if len(pn):
            nodes.append(pn.loc[pn["layer"] == "fibre_nodes", "node"].to_numpy(dtype=np.int64))
        return np.unique(np.concatenate(nodes)).astype(np.int64)

    @property
    def components(self) -> pd.DataFrame:
        """Connected components: nodes, edges, km of road, km of fibre, and whether any fibre is in it."""
        n = self.n_nodes
        g = sparse.coo_matrix((np.ones(len(self.u)), (self.u, self.v)), shape=(n, n))
        _, label = csgraph.connected_components(g, directed=False)
        comp = label[self.u]
        frame = pd.DataFrame({"component": comp, "length_km": self.length_m / 1000.0, "kind": self.kind})
        out = pd.DataFrame({"nodes": np.bincount(label)})
        out["edges"] = np.bincount(comp, minlength=len(out))
        for k in ("road", "fibre"):
            out[f"{k}_km"] = (
                frame[frame["kind"] == k].groupby("component")["length_km"].sum().reindex(out.index, fill_value=0.0)
            )
        src = np.zeros(n, dtype=bool)
        src[self.fibre_sources()] = True
        out["has_fibre"] = np.bincount(label, weights=src, minlength=len(out)) > 0
        out.index.name = "component"
        return out.sort_values("nodes", ascending=False)

    def to_networkx(self) -> nx.Graph:
        """The network as a ``networkx.Graph``: nodes ``0..n-1`` with ``x``, ``y`` (and ``point`` for joined
        points); edges with ``length_m``, ``kind``, ``cost_cny``, ``source`` and ``geometry``."""
        g = nx.Graph(crs=self.crs, cny_per_m=self.cny_per_m)
        g.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(self.xy.tolist()))
        for key, row in self.point_node.iterrows():
            g.nodes[int(row["node"])]["point"] = key
        cost = self.cost_cny
        g.add_edges_from(
            (
                int(a),
                int(b),
                {"length_m": float(ln), "kind": str(k), "cost_cny": float(c), "source": str(s), "geometry": geom},
            )
            for a, b, ln, k, c, s, geom in zip(
                self.u, self.v, self.length_m, self.kind, cost, self.source, self.geometry, strict=True
            )
        )
        return g


def _check_lines(frame: gpd.GeoDataFrame | None, layer: str) -> list[Problem]:
    if frame is None:
        return []
    if frame.crs is None:
        return [Problem(layer, "has no CRS; expected lines in a projected metric CRS", column="geometry")]
    if not is_metric(frame.crs):
        return [
            Problem(
                layer,
                f"is in {frame.crs.to_string()} (degrees or non-metric); expected a projected "
                "metric CRS (reproject first, e.g. with gis.layers.load_layers)",
                column="geometry",
            )
        ]
    geoms = np.asarray(frame.geometry.values)
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(types, [1, 5]) | shapely.is_empty(geoms))
    id_col = "road_id" if layer == "roads" else "route_id"
    return [
        Problem(
            layer,
            f"geometry is {shapely.get_type_id(geoms[i]) if geoms[i] is not None else 'missing'}"
            "; expected a non-empty LineString or MultiLineString",
            row=int(i) + 1,
            row_id=str(frame[id_col].iloc[i]) if id_col in frame else None,
            column="geometry",
        )
        for i in bad[:50]
    ]


def build_network(
    roads: gpd.GeoDataFrame | None,
    fibre: gpd.GeoDataFrame | None = None,
    *,
    settings: FibreSettings | None = None,
    costs: CostSettings | None = None,
) -> RoadNetwork:
    """Routable network of roads and existing fibre, noded, snapped and repaired.

    Parameters
    ----------
    roads : GeoDataFrame or None
        Road lines (``road_id``), projected metric CRS.
    fibre : GeoDataFrame or None
        Existing fibre lines (``route_id``), same CRS.
    settings : FibreSettings, optional
        Snap tolerance (m) and the share of buried build (cost per metre).
    costs : CostSettings, optional
        Aerial and buried CNY per km.

    Returns
    -------
    RoadNetwork
        With ``repairs`` listing every snapped, split, joined, merged or removed line by layer, row and id.

    Raises
    ------
    LayerError
        No lines at all, a layer without CRS or in degrees, the two layers in different CRSs, or a geometry
        that is not a line.
    """
    settings = settings or FibreSettings()
    costs = costs or CostSettings()
    problems = _check_lines(roads, "roads") + _check_lines(fibre, "fibre")
    frames = {k: f for k, f in (("roads", roads), ("fibre", fibre)) if f is not None and len(f)}
    if not problems and not frames:
        problems.append(Problem("roads", "no road or fibre lines; expected at least one line to build a network"))
    crss = {f.crs for f in frames.values()}
    if not problems and len(crss) > 1 and roads is not None and fibre is not None:  # two CRSs: both layers given
        problems.append(Problem("fibre", f"CRS {fibre.crs} differs from the roads' {roads.crs}; expected one CRS"))
    if problems:
        raise LayerError(problems)
    parts = []
    for layer, frame in frames.items():
        id_col = "road_id" if layer == "roads" else "route_id"
        ids = frame[id_col].astype(str).to_numpy() if id_col in frame else np.arange(1, len(frame) + 1).astype(str)
        parts.append(
            (
                np.asarray(frame.geometry.values),
                np.full(len(frame), "road" if layer == "roads" else "fibre"),
                np.full(len(frame), layer),
                np.arange(1, len(frame) + 1),
                ids,
            )
        )
    geometry, kind, layers, row, row_id = (np.concatenate([p[i] for p in parts]) for i in range(5))
    repairs: list[dict] = []
    lines = explode(geometry, kind, layers, row, row_id, repairs)
    noded = node_lines(lines, snap_tolerance_m=settings.snap_tolerance_m, repairs=repairs)
    net = RoadNetwork(
        noded=replace(noded, kind=noded.kind.astype(object)),
        cny_per_m=settings.cny_per_m(costs),
        crs=CRS.from_user_input(next(iter(crss))),
        point_node=pd.DataFrame(columns=["layer", "id", "node", "drop_m"]),
    )
    logger.info("network: %d nodes, %d edges, %d repairs", net.n_nodes, len(net.u), len(net.repairs))
    return net


def build_graph(
    roads: gpd.GeoDataFrame | None,
    fibre: gpd.GeoDataFrame | None = None,
    *,
    settings: FibreSettings | None = None,
    costs: CostSettings | None = None,
) -> nx.Graph:
    """:func:`build_network` as a ``networkx.Graph`` (repairs in ``graph.graph["repairs"]``)."""
    net = build_network(roads, fibre, settings=settings, costs=costs)
    g = net.to_networkx()
    g.graph["repairs"] = net.repairs
    return g


def connect_points(network: RoadNetwork, layers: Mapping[str, gpd.GeoDataFrame]) -> RoadNetwork:
    """Join points to the network at their nearest edge (split there) by a straight drop.

    Parameters
    ----------
    network : RoadNetwork
    layers : mapping of layer name to GeoDataFrame
        Point layers (``villages``, ``schools``, ``candidates``, ``fibre_nodes`` ...) with their id column,
        in the network's CRS.

    Returns
    -------
    RoadNetwork
        A new network; ``point_node`` lists each point's node and drop length (m). Points on an edge or a node
        get no drop edge; several points projecting onto one spot share the split node.
    """
    pts, p_layer, p_id = _joinable_points(network, layers)
    if pts is None:
        return network
    buildable = network.kind != "drop"
    edge_ids = np.flatnonzero(buildable)
    pi, ei = shapely.STRtree(network.geometry[edge_ids]).query_nearest(pts, all_matches=False)
    edge = np.empty(len(pts), dtype=np.int64)
    edge[pi] = edge_ids[ei]
    geom = network.geometry[edge]
    pos = shapely.line_locate_point(geom, pts)
    proj = shapely.line_interpolate_point(geom, pos)
    drop = shapely.distance(pts, proj)
    start_node, end_node = _oriented_ends(network, edge)
    tol = 1e-6
    at_start, at_end = pos <= tol, pos >= network.length_m[edge] - tol
    inner = ~at_start & ~at_end
    attach = np.where(at_start, start_node, end_node).astype(np.int64)
    # split nodes: one per (edge, position)
    frame = pd.DataFrame({"edge": edge[inner], "pos": np.round(pos[inner], 6)})
    key = frame.drop_duplicates().sort_values(["edge", "pos"]).reset_index(drop=True)
    key["node"] = network.n_nodes + np.arange(len(key))
    attach[inner] = frame.merge(key, on=["edge", "pos"], how="left")["node"].to_numpy()
    split_xy = shapely.get_coordinates(
        shapely.line_interpolate_point(network.geometry[key["edge"].to_numpy()], key["pos"].to_numpy())
    )
    split_edges, pieces = _split_pieces(network, key)
    # point nodes and drops
    has_drop = drop > tol
    point_node = attach.copy()
    drop_nodes = network.n_nodes + len(key) + np.arange(int(has_drop.sum()))
    point_node[has_drop] = drop_nodes
    drop_geom = shapely.linestrings(
        np.stack([shapely.get_coordinates(pts[has_drop]), shapely.get_coordinates(proj[has_drop])], axis=1)
    )
    keep = np.ones(len(network.u), dtype=bool)
    keep[split_edges] = False
    u = np.concatenate([network.u[keep], pieces["u"], drop_nodes]).astype(np.int64)
    v = np.concatenate([network.v[keep], pieces["v"], attach[has_drop]]).astype(np.int64)
    geometry = np.concatenate([network.geometry[keep], np.array(pieces["geom"], dtype=object), drop_geom])
    kind = np.concatenate(
        [network.kind[keep], np.array(pieces["kind"], dtype=object), np.full(int(has_drop.sum()), "drop", dtype=object)]
    )
    p_label = unit_key(p_layer, p_id)
    source = np.concatenate([network.source[keep], np.array(pieces["source"], dtype=object), p_label[has_drop]])
    xy = np.vstack([network.xy, split_xy, shapely.get_coordinates(pts[has_drop])])
    pn = pd.DataFrame(
        {"layer": p_layer, "id": p_id, "node": point_node, "drop_m": drop}, index=pd.Index(p_label, name="point")
    )
    pn = pd.concat([network.point_node, pn]) if len(network.point_node) else pn
    noded = Noded(
        xy=xy,
        u=np.minimum(u, v),
        v=np.maximum(u, v),
        geometry=geometry,
        length_m=shapely.length(geometry),
        kind=kind,
        source=source,
        repairs=network.repairs,
    )
    return replace(network, noded=noded, point_node=pn)


def _joinable_points(
    network: RoadNetwork, layers: Mapping[str, gpd.GeoDataFrame]
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(points, layer, id) of every point to join; LayerError for another CRS, a missing id column or a non-point."""
    problems = []
    pts_all, layer_all, id_all = [], [], []
    for layer, frame in layers.items():
        if frame is None or not len(frame):
            continue
        if frame.crs is None or CRS.from_user_input(frame.crs) != network.crs:
            problems.append(
                Problem(
                    layer,
                    f"CRS {frame.crs} differs from the network's {network.crs.to_string()}; "
                    "expected the same projected CRS",
                    column="geometry",
                )
            )
            continue
        id_col = _ID_COLUMNS.get(layer)
        if id_col not in frame:
            problems.append(Problem(layer, f"has no `{id_col}` column; expected the layer's id", column=id_col))
            continue
        geoms = np.asarray(frame.geometry.values)
        bad = np.flatnonzero(shapely.get_type_id(geoms) != 0)
        problems += [
            Problem(
                layer, "expected a Point geometry", row=int(i) + 1, row_id=str(frame[id_col].iloc[i]), column="geometry"
            )
            for i in bad[:50]
        ]
        pts_all.append(geoms)
        layer_all.append(np.full(len(frame), layer, dtype=object))
        id_all.append(frame[id_col].astype(str).to_numpy(dtype=object))
    if problems:
        raise LayerError(problems)
    if not pts_all:
        return None, np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    return np.concatenate(pts_all), np.concatenate(layer_all), np.concatenate(id_all)


def _split_pieces(network: RoadNetwork, key: pd.DataFrame) -> tuple[np.ndarray, dict[str, list]]:
    """The edges split at the new nodes in ``key`` (``edge``, ``pos``, ``node``) and the pieces replacing them."""
    pieces: dict[str, list] = {"u": [], "v": [], "geom": [], "kind": [], "source": []}
    split_edges = key["edge"].unique()
    s_nodes, t_nodes = _oriented_ends(network, split_edges)
    for e, s_node, t_node, (_, grp) in zip(
        split_edges.tolist(), s_nodes.tolist(), t_nodes.tolist(), key.groupby("edge", sort=True), strict=True
    ):
        g_line = network.geometry[e]
        cuts = np.r_[0.0, grp["pos"].to_numpy(), network.length_m[e]]
        nodes = np.r_[s_node, grp["node"].to_numpy(), t_node]
        for k in range(len(cuts) - 1):
            pieces["u"].append(nodes[k])
            pieces["v"].append(nodes[k + 1])
            pieces["geom"].append(ops.substring(g_line, cuts[k], cuts[k + 1]))
            pieces["kind"].append(network.kind[e])
            pieces["source"].append(network.source[e])
    return split_edges, pieces


def _oriented_ends(network: RoadNetwork, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node at the start and at the end of each edge's geometry."""
    start_xy = shapely.get_coordinates(shapely.get_point(network.geometry[edge], 0))
    u, v = network.u[edge], network.v[edge]
    at_u = np.hypot(*(start_xy - network.xy[u]).T) <= np.hypot(*(start_xy - network.xy[v]).T)
    return np.where(at_u, u, v), np.where(at_u, v, u)


def repairs_frame(network: RoadNetwork) -> pd.DataFrame:
    """The repair records with a stable column order (for CSV output)."""
    return network.repairs.reindex(columns=REPAIR_COLUMNS)
