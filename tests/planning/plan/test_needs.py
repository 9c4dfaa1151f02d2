"""Demand needs (planning.plan.needs): sums over the demand groups (hand-checked against dense sums)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from planning.plan.needs import Needs


@pytest.mark.parametrize(("n", "g", "density"), [(30, 1, 0.5), (30, 5, 0.5), (2001, 2000, 0.002)])
def test_needs_sums(n: int, g: int, density: float) -> None:
    # small member matrices are summed densely, large ones (2001 x 2000 > 4 million cells) sparsely: same sums
    rng = np.random.default_rng(n + g)
    member = sparse.random(n, g, density=density, format="csr", random_state=rng) * 5.0
    dense = member.toarray()
    need = rng.uniform(0.0, 10.0, g) * density * n
    nd = Needs.groups(member, need)
    for _ in range(5):
        served = rng.random(n) < 0.5
        rows = np.flatnonzero(rng.random(n) < 0.3)
        have = dense[served].sum(axis=0)
        np.testing.assert_allclose(nd.covered(served), have)
        np.testing.assert_allclose(nd.amount(rows), dense[rows].sum(axis=0))
        short = (have < need - 1e-9).astype(float)
        np.testing.assert_allclose(nd.value(served), np.where(served, 0.0, dense @ short))
        assert nd.met(served) == bool((have >= need - 1e-9).all())
        assert nd.met_without(have, rows) == bool((have - dense[rows].sum(axis=0) >= need - 1e-9).all())
