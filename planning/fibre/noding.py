"""Build a noded line network from road and fibre lines, repairing what real data gets wrong.

Vectorised (shapely 2, NumPy, a KD-tree); the public face is :func:`planning.fibre.build_network`.

Every line becomes a sequence of *stations*: its vertices, plus the points where another line crosses it and
the points where a dangling end of another line is joined to it. Stations closer than the snap tolerance are
merged into one node (union of the pairs a KD-tree finds; the node sits at the first station of the group).
A station is a node when it is a line end, a crossing or join point, or a vertex shared with another line;
the pieces of a line between consecutive nodes are the edges. Each repair is recorded, row by row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gis.schema import unit_key

logger = logging.getLogger(__name__)

REPAIR_COLUMNS = ["layer", "row", "row_id", "action", "detail"]


@dataclass(frozen=True)
class Lines:
    """Input lines, one part each: geometry, kind (``road``/``fibre``), layer name, 1-based row, row id."""

    geometry: np.ndarray
    kind: np.ndarray
    layer: np.ndarray
    row: np.ndarray
    row_id: np.ndarray


@dataclass(frozen=True)
class Noded:
    """Nodes (x, y) and edges (u < v, geometry, length, kind, source ids) of the noded network."""

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geometry: np.ndarray
    length_m: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    repairs: pd.DataFrame


def _repair(rows: list[dict], lines: Lines, idx: np.ndarray, action: str, details: list[str] | np.ndarray) -> None:
    for i, d in zip(idx.tolist(), list(details), strict=True):
        rows.append(
            {
                "layer": str(lines.layer[i]),
                "row": int(lines.row[i]),
                "row_id": str(lines.row_id[i]),
                "action": action,
                "detail": str(d),
            }
        )


def explode(
    geometry: np.ndarray, kind: np.ndarray, layer: np.ndarray, row: np.ndarray, row_id: np.ndarray, repairs: list[dict]
) -> Lines:
    """One part per line; multi-part rows are split (recorded) and zero-length parts removed (recorded)."""
    parts, index = shapely.get_parts(geometry, return_index=True)
    counts = np.bincount(index, minlength=len(geometry))
    base = Lines(geometry, kind, layer, row, row_id)
    multi = np.flatnonzero(counts > 1)
    _repair(repairs, base, multi, "split_multipart", [f"{counts[i]} parts made separate lines" for i in multi])
    lines = Lines(parts, kind[index], layer[index], row[index], row_id[index])
    length = shapely.length(parts)
    zero = length <= 0.0
    _repair(
        repairs,
        lines,
        np.flatnonzero(zero),
        "removed_zero_length",
        ["line of zero length (all vertices identical)"] * int(zero.sum()),
    )
    keep = ~zero
    return Lines(*(np.asarray(a)[keep] for a in (lines.geometry, lines.kind, lines.layer, lines.row, lines.row_id)))


@dataclass
class _Stations:
    """Points along the lines where the graph may get a node: (line, position along it, xy, forced to be a node)."""

    line: list[np.ndarray]
    pos: list[np.ndarray]
    xy: list[np.ndarray]
    forced: list[np.ndarray]

    def add(self, line: np.ndarray, pos: np.ndarray, xy: np.ndarray) -> None:
        self.line.append(line)
        self.pos.append(pos)
        self.xy.append(xy)
        self.forced.append(np.ones(len(line), dtype=bool))

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(line, xy, forced) of every station, by line and position along it."""
        line_of, pos = np.concatenate(self.line), np.concatenate(self.pos)
        xy, forced = np.vstack(self.xy), np.concatenate(self.forced)
        order = np.lexsort((pos, line_of))
        return line_of[order], xy[order], forced[order]


def node_lines(lines: Lines, *, snap_tolerance_m: float, repairs: list[dict]) -> Noded:
    """Node, snap and split ``lines`` into a simple graph (see the module docstring)."""
    geom = lines.geometry
    coords, owner = shapely.get_coordinates(geom, return_index=True)
    st, first, last = _vertex_stations(coords, owner)
    tree = shapely.STRtree(geom)
    _add_crossings(st, geom, tree)
    _join_dangling_ends(
        st, lines, coords, owner, first | last, tree, snap_tolerance_m=snap_tolerance_m, repairs=repairs
    )
    line_of, xy, forced = st.sorted()
    xy, cluster = _snap(lines, line_of, xy, snap_tolerance_m=snap_tolerance_m, repairs=repairs)
    line_of, xy, cluster, is_node = _node_stations(line_of, xy, cluster, forced)
    u_arr, v_arr, geoms, src_line = _simple_pieces(
        lines, line_of, xy, cluster, is_node, snap_tolerance_m=snap_tolerance_m, repairs=repairs
    )
    node_xy, lo, hi = _renumber(xy, cluster, u_arr, v_arr)
    length = shapely.length(geoms)
    kind = lines.kind[src_line]
    source = unit_key(lines.layer[src_line], lines.row_id[src_line])
    lo, hi, geoms, length, kind, source, src_line = _merge_duplicates(
        lines, lo, hi, geoms, length, kind, source, src_line, repairs=repairs
    )
    _report_lost(lines, src_line, snap_tolerance_m=snap_tolerance_m, repairs=repairs)
    return Noded(
        xy=node_xy,
        u=lo,
        v=hi,
        geometry=geoms,
        length_m=length,
        kind=kind,
        source=source,
        repairs=pd.DataFrame(repairs, columns=REPAIR_COLUMNS),
    )


def _vertex_stations(coords: np.ndarray, owner: np.ndarray) -> tuple[_Stations, np.ndarray, np.ndarray]:
    """Every vertex as a station (line ends forced), with the first/last-vertex masks."""
    seg = np.hypot(*np.diff(coords, axis=0).T)
    same = owner[1:] == owner[:-1]
    along = np.zeros(len(coords))
    along[1:] = np.cumsum(np.where(same, seg, 0.0))
    first = np.r_[True, ~same]
    along -= np.maximum.accumulate(np.where(first, along, 0.0))
    last = np.r_[~same, True]
    return _Stations([owner], [along], [coords], [first | last]), first, last


def _add_crossings(st: _Stations, geom: np.ndarray, tree: shapely.STRtree) -> None:
    """A forced station on both lines at each crossing of two lines that share no vertex there."""
    a, b = tree.query(geom, predicate="crosses")
    pair = a < b
    a, b = a[pair], b[pair]
    if not len(a):
        return
    pts, pidx = shapely.get_coordinates(shapely.intersection(geom[a], geom[b]), return_index=True)
    for side in (a, b):
        li = side[pidx]
        st.add(li, shapely.line_locate_point(geom[li], shapely.points(pts)), pts)
    logger.info("noded %d crossings", len(pts))


def _join_dangling_ends(
    st: _Stations,
    lines: Lines,
    coords: np.ndarray,
    owner: np.ndarray,
    is_end: np.ndarray,
    tree: shapely.STRtree,
    *,
    snap_tolerance_m: float,
    repairs: list[dict],
) -> None:
    """An end with no station of another line within the tolerance but a line nearby is moved onto that line
    (``coords`` changed in place), where a station is added."""
    geom = lines.geometry
    ends = np.flatnonzero(is_end)
    near = cKDTree(coords).query_ball_point(coords[ends], r=snap_tolerance_m)
    lonely = np.array([all(owner[j] == owner[e] for j in js) for e, js in zip(ends, near, strict=True)], dtype=bool)
    cand = ends[lonely]
    if not len(cand):
        return
    pts = shapely.points(coords[cand])
    qi, qj = tree.query(pts, predicate="dwithin", distance=snap_tolerance_m)
    other = owner[cand[qi]] != qj
    qi, qj = qi[other], qj[other]
    if not len(qi):
        return
    d = shapely.distance(pts[qi], geom[qj])
    order = np.lexsort((d, qi))
    qi, qj, d = qi[order], qj[order], d[order]
    firsts = np.r_[True, qi[1:] != qi[:-1]]
    qi, qj, d = qi[firsts], qj[firsts], d[firsts]
    pos = shapely.line_locate_point(geom[qj], pts[qi])
    proj = shapely.get_coordinates(shapely.line_interpolate_point(geom[qj], pos))
    coords[cand[qi]] = proj  # move the dangling end onto the line
    st.add(qj, pos, proj)
    _repair(
        repairs,
        lines,
        owner[cand[qi]],
        "joined_dangling_end",
        [
            f"end moved {x:.2f} m onto {lines.layer[j]} row {lines.row[j]} ({lines.row_id[j]})"
            for x, j in zip(d, qj, strict=True)
        ],
    )


def _snap(
    lines: Lines, line_of: np.ndarray, xy: np.ndarray, *, snap_tolerance_m: float, repairs: list[dict]
) -> tuple[np.ndarray, np.ndarray]:
    """Stations within the tolerance form one node: (each station moved to its cluster's first, cluster)."""
    n_st = len(xy)
    pairs = cKDTree(xy).query_pairs(r=snap_tolerance_m, output_type="ndarray")
    g = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_st, n_st))
    _, cluster = csgraph.connected_components(g, directed=False)
    rep = np.full(cluster.max() + 1, -1, dtype=np.int64)
    rep[cluster[::-1]] = np.arange(n_st)[::-1]  # first station of each cluster
    moved = np.hypot(*(xy - xy[rep[cluster]]).T)
    snapped = moved > 1e-9
    if snapped.any():
        frame = pd.DataFrame({"line": line_of[snapped], "d": moved[snapped]}).groupby("line")["d"].agg(["count", "max"])
        _repair(
            repairs,
            lines,
            frame.index.to_numpy(),
            "snapped",
            [f"{int(c)} vertices moved by up to {m:.2f} m" for c, m in zip(frame["count"], frame["max"], strict=True)],
        )
    return xy[rep[cluster]], cluster


def _node_stations(
    line_of: np.ndarray, xy: np.ndarray, cluster: np.ndarray, forced: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes are forced stations and stations whose cluster other lines (or the same line again) also reach;
    consecutive duplicate stations of one line (same cluster twice in a row) are dropped."""
    lines_per_cluster = pd.Series(line_of).groupby(cluster).nunique().to_numpy()
    hits_per_cluster = np.bincount(cluster)
    shared = (lines_per_cluster[cluster] > 1) | (hits_per_cluster[cluster] > 1)
    is_node = forced | shared
    dup = np.r_[False, (line_of[1:] == line_of[:-1]) & (cluster[1:] == cluster[:-1])]
    is_node_keep = is_node.copy()
    is_node_keep[np.flatnonzero(dup) - 1] |= is_node[dup]
    keep = ~dup
    return line_of[keep], xy[keep], cluster[keep], is_node_keep[keep]


def _simple_pieces(
    lines: Lines,
    line_of: np.ndarray,
    xy: np.ndarray,
    cluster: np.ndarray,
    is_node: np.ndarray,
    *,
    snap_tolerance_m: float,
    repairs: list[dict],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces between nodes that fit a simple graph: self-loops (rings) and parallel pieces of different shape
    between the same two nodes are split at interior stations (rings at a third and two thirds, parallels in the
    middle); loops left after that are removed and reported."""
    for _ in range(3):
        u_arr, v_arr, geoms, src_line, pa, pb = _pieces(line_of, xy, cluster, is_node)
        lo0, hi0 = np.minimum(u_arr, v_arr), np.maximum(u_arr, v_arr)
        ln = shapely.length(geoms)
        frame = pd.DataFrame({"lo": lo0, "hi": hi0, "len": ln}).sort_values(["lo", "hi", "len"], kind="stable")
        parallel = np.zeros(len(u_arr), dtype=bool)
        grp_first_len = frame.groupby(["lo", "hi"])["len"].transform("first").to_numpy()
        parallel[frame.index.to_numpy()] = frame.duplicated(["lo", "hi"]).to_numpy() & (
            frame["len"].to_numpy() - grp_first_len > snap_tolerance_m
        )
        loop = u_arr == v_arr
        span = pb - pa
        mark_at = np.concatenate(
            [
                (pa + span // 3)[loop & (span >= 3)],
                (pa + 2 * span // 3)[loop & (span >= 3)],
                (pa + span // 2)[parallel & (span >= 2)],
            ]
        )
        mark_at = mark_at[~is_node[mark_at]]
        if not len(mark_at):
            break
        is_node[mark_at] = True
    loop = u_arr == v_arr
    if loop.any():
        _repair(
            repairs,
            lines,
            src_line[loop],
            "removed_self_loop",
            ["edge starts and ends at the same node after snapping"] * int(loop.sum()),
        )
        keep = ~loop
        u_arr, v_arr, geoms, src_line = u_arr[keep], v_arr[keep], geoms[keep], src_line[keep]
    return u_arr, v_arr, geoms, src_line


def _renumber(
    xy: np.ndarray, cluster: np.ndarray, u_arr: np.ndarray, v_arr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes numbered 0..n-1 (the clusters that are nodes): their xy and each edge's (lo, hi) ends."""
    used, inv = np.unique(np.concatenate([u_arr, v_arr]), return_inverse=True)
    first_station = np.full(cluster.max() + 1, -1, dtype=np.int64)
    first_station[cluster[::-1]] = np.arange(len(cluster))[::-1]
    node_xy = np.array(xy[first_station[used]], dtype=float).reshape(len(used), 2)
    u_new, v_new = inv[: len(u_arr)], inv[len(u_arr) :]
    return node_xy, np.minimum(u_new, v_new), np.maximum(u_new, v_new)


def _merge_duplicates(
    lines: Lines,
    lo: np.ndarray,
    hi: np.ndarray,
    geoms: np.ndarray,
    length: np.ndarray,
    kind: np.ndarray,
    source: np.ndarray,
    src_line: np.ndarray,
    *,
    repairs: list[dict],
) -> tuple[np.ndarray, ...]:
    """Duplicate and parallel edges between the same two nodes: keep one (fibre first, then the shortest), its
    ``source`` naming the merged ones."""
    frame = pd.DataFrame({"lo": lo, "hi": hi, "fib": kind != "fibre", "len": length})
    frame = frame.sort_values(["lo", "hi", "fib", "len"], kind="stable")
    is_dup = frame.duplicated(["lo", "hi"], keep="first").to_numpy()
    if not is_dup.any():
        return lo, hi, geoms, length, kind, source, src_line
    order = frame.index.to_numpy()
    kept_of = pd.Series(np.where(is_dup, -1, order)).replace(-1, np.nan).ffill().to_numpy().astype(np.int64)
    dup_idx, kept_of_dup = order[is_dup], kept_of[is_dup]
    _repair(
        repairs,
        lines,
        src_line[dup_idx],
        "merged_duplicate",
        [
            f"same end nodes as {source[k]}; kept that one"
            + (" (existing fibre along this road)" if kind[k] != kind[d] else "")
            for d, k in zip(dup_idx, kept_of_dup, strict=True)
        ],
    )
    source = source.copy()
    for k, extra in pd.Series(source[dup_idx]).groupby(kept_of_dup).agg(";".join).items():
        source[k] = f"{source[k]};{extra}"
    keep_mask = np.zeros(len(lo), dtype=bool)
    keep_mask[order[~is_dup]] = True
    return tuple(x[keep_mask] for x in (lo, hi, geoms, length, kind, source, src_line))


def _report_lost(lines: Lines, src_line: np.ndarray, *, snap_tolerance_m: float, repairs: list[dict]) -> None:
    """A line that left no edge and no other repair was shorter than the tolerance: say so."""
    lost = np.setdiff1d(np.arange(len(lines.geometry)), src_line)
    reported = {(r["layer"], r["row"]) for r in repairs if r["action"] in ("removed_self_loop", "merged_duplicate")}
    lost = np.array(
        [i for i in lost.tolist() if (str(lines.layer[i]), int(lines.row[i])) not in reported], dtype=np.int64
    )
    if len(lost):
        _repair(
            repairs,
            lines,
            lost,
            "removed_shorter_than_tolerance",
            [f"whole line within the {snap_tolerance_m} m snap tolerance of one node"] * len(lost),
        )


def _pieces(
    line_of: np.ndarray, xy: np.ndarray, cluster: np.ndarray, is_node: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges between consecutive node stations of each line: end clusters, geometries, source lines, and
    the first and last station of each piece."""
    start_of_line = np.r_[True, line_of[1:] != line_of[:-1]]
    end_of_line = np.r_[line_of[1:] != line_of[:-1], True]
    node_pos = np.flatnonzero(is_node | start_of_line | end_of_line)
    a, b = node_pos[:-1], node_pos[1:]
    same_line = line_of[a] == line_of[b]
    a, b = a[same_line], b[same_line]
    # coordinates of each piece: stations a..b inclusive
    counts = b - a + 1
    idx = np.repeat(a, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    piece = np.repeat(np.arange(len(a)), counts)
    geoms = shapely.linestrings(xy[idx], indices=piece)
    return cluster[a], cluster[b], geoms, line_of[a], a, b
