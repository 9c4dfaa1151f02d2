"""Steiner tree heuristics on sparse graphs (scipy.sparse.csgraph): shortest-path heuristic, Mehlhorn, clean-up.

Used by :func:`planning.fibre.steiner_tree`. Graph-free core on a symmetric CSR weight matrix (strictly positive
weights; the caller replaces zero lengths by a tiny epsilon, as csgraph treats explicit zeros as no edge) and
terminal indices; trees are returned as sets of (u, v) index pairs with u < v.

* Shortest-path heuristic (Takahashi & Matsuyama 1980), repeated from several roots: grow a tree from one
  terminal, each time joining the terminal nearest to the tree by its shortest path. Distances to the tree are
  kept between steps: only the nodes a step adds are new Dijkstra sources, searched no further than the
  farthest terminal still waiting.
* Mehlhorn (1988): Voronoi regions of the terminals from one multi-source Dijkstra, MST of the terminal
  distance graph, expanded to paths: one Dijkstra in all, for many terminals.
* Clean-up, after either: MST of the subgraph induced by the tree's nodes, then repeated removal of non-terminal
  leaves; and key-path exchange (Duin & Voss 1997): remove each key path (a maximal path whose inner nodes are
  non-terminals of degree 2) and reconnect the two parts by the shortest path between them when that is cheaper.
  The two parts are read off a depth-first order of the rooted tree, so each key path costs one Dijkstra
  bounded by the length of the path it would replace.
"""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from planning.fibre.dijkstra import Searcher

logger = logging.getLogger(__name__)

Edges = set[tuple[int, int]]


def _path_edges(pred: np.ndarray, target: int) -> list[tuple[int, int]]:
    out = []
    cur = int(target)
    while pred[cur] >= 0:
        p = int(pred[cur])
        out.append((min(p, cur), max(p, cur)))
        cur = p
    return out


def _edge_array(edges: Edges) -> np.ndarray:
    if not edges:
        return np.empty((0, 2), dtype=np.int64)
    return np.array(sorted(edges), dtype=np.int64)


def edge_weights(w: sparse.csr_matrix, edges: Edges) -> np.ndarray:
    """Weights of ``edges`` (vectorised lookup), in the order of ``sorted(edges)``."""
    arr = _edge_array(edges)
    if not len(arr):
        return np.empty(0)
    return np.asarray(w[arr[:, 0], arr[:, 1]]).ravel()


def tree_cost(w: sparse.csr_matrix, edges: Edges) -> float:
    """Total weight of ``edges``."""
    return float(edge_weights(w, edges).sum())


def sph(w: sparse.csr_matrix, terminals: np.ndarray, root: int, *, searcher: Searcher | None = None) -> Edges:
    """Shortest-path heuristic from ``root`` (a terminal index)."""
    searcher = searcher or Searcher(w)
    waiting = np.zeros(w.shape[0], dtype=bool)
    waiting[np.asarray(terminals, dtype=np.int64)] = True
    waiting[root] = False
    tree_nodes = [int(root)]
    edges: Edges = set()
    while waiting.any():
        hit, _, path = searcher.nearest(np.array(tree_nodes), waiting)
        if hit < 0:
            msg = f"terminal {int(np.flatnonzero(waiting)[0])} is not connected to the tree"
            raise ValueError(msg)
        edges.update(path)
        for u, v in path:
            for x in (u, v):
                if waiting[x] or x not in tree_nodes:
                    waiting[x] = False
        tree_nodes = sorted({x for e in edges for x in e} | {int(root)})
    return edges


def mehlhorn(w: sparse.csr_matrix, terminals: np.ndarray) -> Edges:
    """Mehlhorn's 2-approximation (one multi-source Dijkstra)."""
    terms = np.asarray(terminals, dtype=np.int64)
    dist, pred, src = csgraph.dijkstra(w, directed=False, indices=terms, return_predecessors=True, min_only=True)
    if not np.isfinite(dist[terms]).all():
        msg = "terminals are not all connected"
        raise ValueError(msg)
    coo = sparse.triu(w, k=1).tocoo()
    u, v, c = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    su, sv = src[u], src[v]
    cross = (su != sv) & (su >= 0) & (sv >= 0)
    u, v, c, su, sv = u[cross], v[cross], c[cross], su[cross], sv[cross]
    length = dist[u] + c + dist[v]
    a, b = np.minimum(su, sv), np.maximum(su, sv)
    order = np.lexsort((length, b, a))  # cheapest bridge per pair of regions first
    a, b, length, u, v = a[order], b[order], length[order], u[order], v[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    a, b, length, u, v = a[first], b[first], length[first], u[first], v[first]
    pos = np.full(w.shape[0], -1, dtype=np.int64)
    pos[terms] = np.arange(len(terms))
    ia, ib = pos[a], pos[b]
    g = sparse.coo_matrix((length + 1e-12, (ia, ib)), shape=(len(terms), len(terms))).tocsr()
    mst = csgraph.minimum_spanning_tree(g).tocoo()
    chosen = set(zip(mst.row.tolist(), mst.col.tolist(), strict=True))
    edges: Edges = set()
    for k in np.flatnonzero(
        [(x, y) in chosen or (y, x) in chosen for x, y in zip(ia.tolist(), ib.tolist(), strict=True)]
    ):
        edges.add((min(int(u[k]), int(v[k])), max(int(u[k]), int(v[k]))))
        edges.update(_path_edges(pred, int(u[k])))
        edges.update(_path_edges(pred, int(v[k])))
    return edges


def mst_prune(w: sparse.csr_matrix, edges: Edges, terminals: np.ndarray) -> Edges:
    """MST of the subgraph induced by the tree's nodes, then repeated removal of non-terminal leaves."""
    if not edges:
        return edges
    nodes = np.array(sorted({n for e in edges for n in e}))
    sub = w[nodes][:, nodes]
    mst = csgraph.minimum_spanning_tree(sub).tocoo()
    r, c = nodes[mst.row], nodes[mst.col]
    out = set(zip(np.minimum(r, c).tolist(), np.maximum(r, c).tolist(), strict=True))
    return prune_leaves(out, terminals)


def prune_leaves(edges: Edges, terminals: np.ndarray) -> Edges:
    """Drop non-terminal leaves until none is left."""
    terms = {int(t) for t in terminals}
    adj: dict[int, set[int]] = {}
    for u, v in edges:
        adj.setdefault(u, set()).add(v)
        adj.setdefault(v, set()).add(u)
    stack = [n for n, nb in adj.items() if len(nb) == 1 and n not in terms]
    while stack:
        n = stack.pop()
        if n not in adj or len(adj[n]) != 1 or n in terms:
            continue
        (m,) = adj.pop(n)
        adj[m].discard(n)
        if len(adj[m]) == 1 and m not in terms:
            stack.append(m)
        elif not adj[m]:
            adj.pop(m)
    return {(min(u, v), max(u, v)) for u, nb in adj.items() for v in nb}


class _Rooted:
    """A tree rooted at a terminal: parent, depth-first preorder, subtree sizes (subtrees are contiguous in the
    preorder) and the weighted depth of every node (so a path up the tree costs a difference of depths)."""

    def __init__(self, w: sparse.csr_matrix, edges: Edges, root: int) -> None:
        n = w.shape[0]
        arr = _edge_array(edges)
        wt = np.asarray(w[arr[:, 0], arr[:, 1]]).ravel()
        t = sparse.coo_matrix((wt, (arr[:, 0], arr[:, 1])), shape=(n, n)).tocsr()
        t = t + t.T
        self.order, parent = csgraph.depth_first_order(t, root, directed=False, return_predecessors=True)
        self.parent = parent
        self.pos = np.full(n, -1, dtype=np.int64)
        self.pos[self.order] = np.arange(len(self.order))
        self.degree = np.bincount(arr.ravel(), minlength=n)
        kids = self.order[1:]
        self.depth = np.zeros(n)
        up = np.asarray(t[kids, parent[kids]]).ravel()
        size = np.zeros(n, dtype=np.int64)
        size[self.order] = 1
        depth = self.depth
        for x, p, c in zip(kids.tolist(), parent[kids].tolist(), up.tolist(), strict=True):
            depth[x] = depth[p] + c
        for x, p in zip(kids[::-1].tolist(), parent[kids[::-1]].tolist(), strict=True):
            size[p] += size[x]
        self.size = size

    def subtree(self, x: int) -> np.ndarray:
        p = self.pos[x]
        nodes: np.ndarray = self.order[p : p + self.size[x]]
        return nodes

    def outside(self, x: int) -> np.ndarray:
        p = self.pos[x]
        return np.concatenate([self.order[:p], self.order[p + self.size[x] :]])


def key_path_exchange(
    w: sparse.csr_matrix,
    edges: Edges,
    terminals: np.ndarray,
    *,
    rounds: int = 4,
    time_limit_s: float | None = None,
    searcher: Searcher | None = None,
) -> Edges:
    """Replace key paths by cheaper reconnections while any improves the tree.

    The input must be a tree whose leaves are terminals. At most ``rounds`` passes over the key paths; stops
    early when ``time_limit_s`` has passed (the tree is always valid and never more expensive than the input).
    Removing a key path and adding the shortest path between the two parts only raises the degree of the
    nodes it joins, so no leaf appears and no pruning is needed.
    """
    if not edges:
        return edges
    n = w.shape[0]
    terms = np.asarray(terminals, dtype=np.int64)
    is_term = np.zeros(n, dtype=bool)
    is_term[terms] = True
    root = int(terms[0])
    searcher = searcher or Searcher(w)
    start = time.perf_counter()
    for _ in range(rounds):
        improved = False
        tried = np.zeros(n, dtype=bool)
        while True:
            tree = _Rooted(w, edges, root)
            kids = tree.order[1:]
            key = np.zeros(n, dtype=bool)
            key[tree.order] = is_term[tree.order] | (tree.degree[tree.order] != 2)
            found = False
            for c in kids[key[kids] & ~tried[kids]].tolist():
                if time_limit_s is not None and time.perf_counter() - start > time_limit_s:
                    logger.info("key-path exchange stopped after %.1f s", time_limit_s)
                    return edges
                tried[c] = True
                path = [c]
                while not key[tree.parent[path[-1]]]:
                    path.append(int(tree.parent[path[-1]]))
                top_child = path[-1]
                path.append(int(tree.parent[top_child]))
                old = float(tree.depth[c] - tree.depth[path[-1]])
                # the two parts: the subtree of c, and all outside the subtree of top_child (ranges of the
                # preorder, passed as such); search from the smaller
                lo, hi = int(tree.pos[c]), int(tree.pos[c] + tree.size[c])
                top_lo, top_hi = int(tree.pos[top_child]), int(tree.pos[top_child] + tree.size[top_child])
                if hi - lo <= len(tree.order) - (top_hi - top_lo):
                    hit, d, new_path = searcher.nearest_ranked(
                        tree.order[lo:hi], tree.pos, top_lo, top_hi, inside=False, limit=old
                    )
                else:
                    hit, d, new_path = searcher.nearest_ranked(
                        tree.outside(top_child), tree.pos, lo, hi, inside=True, limit=old
                    )
                if hit >= 0 and d < old * (1 - 1e-12) - 1e-9:
                    p_edges = {(min(a, b), max(a, b)) for a, b in itertools.pairwise(path)}
                    edges = (edges - p_edges) | set(new_path)
                    improved = found = True
                    break
            if not found:
                break
        if not improved:
            break
    return edges


def solve(
    w: sparse.csr_matrix,
    terminals: np.ndarray,
    *,
    roots: int = 8,
    sph_max_terminals: int = 300,
    time_limit_s: float | None = None,
) -> Edges:
    """Best tree of SPH from up to ``roots`` terminals (and Mehlhorn), each cleaned up.

    SPH runs only for up to ``sph_max_terminals`` terminals; past that, Mehlhorn's tree alone is improved.
    ``time_limit_s`` bounds the key-path exchange of each tree.
    """
    terms = np.unique(np.asarray(terminals, dtype=np.int64))
    if len(terms) <= 1:
        return set()
    searcher = Searcher(w)
    candidates = [mehlhorn(w, terms)]
    if len(terms) <= sph_max_terminals:
        pick = terms if len(terms) <= roots else terms[np.linspace(0, len(terms) - 1, roots).astype(int)]
        candidates += [sph(w, terms, int(r), searcher=searcher) for r in pick]
    best: Edges = set()
    best_cost = np.inf
    for start in candidates:
        improved = key_path_exchange(w, mst_prune(w, start, terms), terms, time_limit_s=time_limit_s, searcher=searcher)
        improved = mst_prune(w, improved, terms)
        c = tree_cost(w, improved)
        if c < best_cost - 1e-9:
            best, best_cost = improved, c
    return best
