"""Requirements on what a cover serves: for each group g, the served demands' ``member[i, g]`` add up to at least
``need[g]``.

One group with the demands' weights is the classic partial cover (serve a share of the weight); one group per
(county, KPI) with 0/1 members holds every county to every KPI target (``ceil(target x n) - have`` more of its
villages or schools served); in budget mode the same rows are floors that a later stage of the lexicographic
optimisation keeps. Geometry-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

#: Largest demand x group count held densely for the row sums of LP rounding's pruning (32 MB of float64).
_DENSE_MAX = 4_000_000

#: Slack on a need (``covered >= need - EPS``): shares of real weights are not exact in floating point.
EPS = 1e-9


@dataclass(frozen=True)
class Needs:
    """``member`` (demand x group, CSR, >= 0) and ``need`` (per group)."""

    member: sparse.csr_matrix
    need: np.ndarray

    @classmethod
    def none(cls, n_demands: int) -> Needs:
        """No requirement."""
        return cls(sparse.csr_matrix((n_demands, 0)), np.zeros(0))

    @classmethod
    def share(cls, weight: np.ndarray, need_weight: float) -> Needs:
        """One group: the served weight must reach ``need_weight``."""
        w = np.asarray(weight, dtype=float)
        return cls(sparse.csr_matrix(w[:, None]), np.array([float(need_weight)]))

    @classmethod
    def groups(cls, member: sparse.spmatrix, need: np.ndarray) -> Needs:
        m = sparse.csr_matrix(member, dtype=np.float64)
        need = np.asarray(need, dtype=float)
        if m.shape[1] != len(need):
            msg = f"`need` has {len(need)} values for {m.shape[1]} groups; expected one per group (column)"
            raise ValueError(msg)
        if (m.data < 0).any() or not np.isfinite(m.data).all() or not np.isfinite(need).all():
            msg = "`member` and `need` must be finite and `member` >= 0"
            raise ValueError(msg)
        return cls(m, need)

    @property
    def n_groups(self) -> int:
        return len(self.need)

    def covered(self, served: np.ndarray) -> np.ndarray:
        """Per group: the served amount (``served``: bool per demand)."""
        if self.n_groups == 1 and self._dense is not None:  # a share of the weight: a plain masked sum
            return np.array([self._dense[np.asarray(served, dtype=bool), 0].sum()])
        return np.asarray(self.member.T @ np.asarray(served, dtype=np.float64)).ravel()

    def met(self, served: np.ndarray) -> bool:
        return bool((self.covered(served) >= self.need - EPS).all())

    def met_without(self, covered_amount: np.ndarray, lost_rows: np.ndarray) -> bool:
        """Whether every group stays met when ``lost_rows`` are no longer served (``covered_amount``: per group)."""
        if not self.n_groups:
            return True
        return bool((covered_amount - self.amount(lost_rows) >= self.need - EPS).all())

    def amount(self, rows: np.ndarray) -> np.ndarray:
        """Per group: what the demands ``rows`` (indices) add up to."""
        dense = self._dense
        if dense is not None:
            amount: np.ndarray = dense[rows].sum(axis=0)
            return amount
        return np.asarray(self.member[rows].sum(axis=0)).ravel()

    @cached_property
    def _dense(self) -> np.ndarray | None:
        # LP rounding's prune asks for a few rows' sums hundreds of thousands of times: a row slice of a sparse
        # matrix costs far more than a dense one (bench/RESULTS.md, "Design choices measured")
        n = self.member.shape[0] * self.member.shape[1]
        dense: np.ndarray | None = self.member.toarray() if n <= _DENSE_MAX else None
        return dense

    def value(self, served: np.ndarray) -> np.ndarray:
        """Per demand: how much it adds to the groups still short (0 for served demands)."""
        if not self.n_groups:
            return np.zeros(self.member.shape[0])
        short = (self.covered(served) < self.need - EPS).astype(np.float64)
        if self.n_groups == 1 and self._dense is not None:
            val = self._dense[:, 0] * short[0]
        else:
            val = np.asarray(self.member @ short).ravel()
        return np.where(served, 0.0, val)

    def rows(self, idx: np.ndarray) -> Needs:
        """The requirement seen by a subset of the demands (the needs unchanged)."""
        return Needs(self.member[idx], self.need)

    def remaining(self, covered_amount: np.ndarray) -> np.ndarray:
        """Per group: what is still needed beyond ``covered_amount`` (>= 0)."""
        left: np.ndarray = np.maximum(self.need - covered_amount, 0.0)
        return left

    def merged(self, group_of_row: np.ndarray, n_merged: int) -> Needs:
        """Rows merged (``group_of_row[i]``: the merged row of row i): members add up."""
        s = sparse.csr_matrix(
            (np.ones(len(group_of_row)), (group_of_row, np.arange(len(group_of_row)))),
            shape=(n_merged, len(group_of_row)),
        )
        return Needs(sparse.csr_matrix(s @ self.member), self.need)
