"""OR-Library set-cover files (J. E. Beasley), for the tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse


def read_orlib_scp(path: str | Path) -> tuple[sparse.csr_matrix, np.ndarray]:
    """An OR-Library set-cover file: (coverage matrix rows x columns, column costs)."""
    tokens = Path(path).read_text().split()
    vals = np.array(tokens, dtype=np.int64)
    m, n = int(vals[0]), int(vals[1])
    cost = vals[2 : 2 + n].astype(float)
    pos = 2 + n
    r, c = [], []
    for i in range(m):
        k = int(vals[pos])
        cols = vals[pos + 1 : pos + 1 + k] - 1
        r.append(np.full(k, i))
        c.append(cols)
        pos += 1 + k
    rr, cc = np.concatenate(r), np.concatenate(c)
    return sparse.csr_matrix((np.ones(len(rr), dtype=bool), (rr, cc)), shape=(m, n)), cost
