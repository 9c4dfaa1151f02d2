"""Numba Dijkstra on CSR arrays: many sources, a distance limit, and a stop at the first target reached.

``csgraph.dijkstra`` validates and copies the whole graph and allocates O(n) arrays on every call, which
dominates when a heuristic asks thousands of small questions ("which node of the other part is nearest?").
This kernel keeps ``dist``/``pred`` arrays between calls and resets only the nodes it touched, so a call costs
what it explores. Weights must be positive.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import sparse


@njit(cache=True)
def _push(hk: np.ndarray, hv: np.ndarray, size: int, key: float, val: int) -> int:
    i = size
    hk[i] = key
    hv[i] = val
    while i > 0:
        p = (i - 1) // 2
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return size + 1


@njit(cache=True)
def _pop(hk: np.ndarray, hv: np.ndarray, size: int) -> int:
    size -= 1
    hk[0] = hk[size]
    hv[0] = hv[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        c = left
        if left + 1 < size and hk[left + 1] < hk[left]:
            c = left + 1
        if hk[i] <= hk[c]:
            break
        hk[c], hk[i] = hk[i], hk[c]
        hv[c], hv[i] = hv[i], hv[c]
        i = c
    return size


@njit(cache=True)
def _run(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    sources: np.ndarray,
    rank: np.ndarray,
    lo: int,
    hi: int,
    inside: bool,
    limit: float,
    dist: np.ndarray,
    pred: np.ndarray,
    done: np.ndarray,
    touched: np.ndarray,
) -> tuple[int, int]:
    heap_cap = len(indices) + len(sources) + 1
    hk = np.empty(heap_cap)
    hv = np.empty(heap_cap, dtype=np.int64)
    size = 0
    nt = 0
    for s in sources:
        if dist[s] != 0.0:
            if not np.isfinite(dist[s]):
                touched[nt] = s
                nt += 1
            dist[s] = 0.0
            pred[s] = -1
            size = _push(hk, hv, size, 0.0, s)
    while size > 0:
        d = hk[0]
        u = hv[0]
        size = _pop(hk, hv, size)
        if done[u] or d > dist[u]:
            continue
        done[u] = True
        r = rank[u]
        if r >= 0 and (lo <= r < hi) == inside:
            return u, nt
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + data[k]
            if nd < dist[v] and nd <= limit:
                if not np.isfinite(dist[v]):
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                pred[v] = u
                size = _push(hk, hv, size, nd, v)
    return -1, nt


class Searcher:
    """Repeated bounded searches on one symmetric graph.

    Parameters
    ----------
    w : scipy.sparse matrix
        Symmetric weight matrix, weights > 0.
    """

    def __init__(self, w: sparse.spmatrix) -> None:
        w = sparse.csr_matrix(w)
        self.indptr = w.indptr.astype(np.int64)
        self.indices = w.indices.astype(np.int64)
        self.data = w.data.astype(np.float64)
        n = w.shape[0]
        self.dist = np.full(n, np.inf)
        self.pred = np.full(n, -1, dtype=np.int64)
        self.done = np.zeros(n, dtype=bool)
        self.touched = np.empty(n, dtype=np.int64)

    def nearest(
        self, sources: np.ndarray, is_target: np.ndarray, *, limit: float = np.inf
    ) -> tuple[int, float, list[tuple[int, int]]]:
        """Nearest target to any source within ``limit``: (node or -1, distance, path edges as (u<v) pairs)."""
        rank = np.where(is_target, 0, -1).astype(np.int64)
        return self.nearest_ranked(sources, rank, 0, 1, inside=True, limit=limit)

    def nearest_ranked(
        self, sources: np.ndarray, rank: np.ndarray, lo: int, hi: int, *, inside: bool, limit: float = np.inf
    ) -> tuple[int, float, list[tuple[int, int]]]:
        """As :meth:`nearest`, the targets given by ranks: the nodes with ``rank >= 0`` whose rank lies in
        ``[lo, hi)`` (``inside``) or outside it; a set of nodes contiguous in an order costs nothing to pass."""
        hit, nt = _run(
            self.indptr,
            self.indices,
            self.data,
            np.asarray(sources, dtype=np.int64),
            rank,
            int(lo),
            int(hi),
            bool(inside),
            float(limit),
            self.dist,
            self.pred,
            self.done,
            self.touched,
        )
        path: list[tuple[int, int]] = []
        d = np.inf
        if hit >= 0:
            d = float(self.dist[hit])
            cur = hit
            while self.pred[cur] >= 0 and self.dist[cur] > 0.0:
                p = int(self.pred[cur])
                path.append((min(p, cur), max(p, cur)))
                cur = p
        t = self.touched[:nt]
        self.dist[t] = np.inf
        self.pred[t] = -1
        self.done[t] = False
        return int(hit), d, path
