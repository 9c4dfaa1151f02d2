"""OR-Library set-cover files (J. E. Beasley), for the tests and benchmarks."""

from __future__ import annotations

import csv
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


#: The OR-Library set-cover instances and their published optima (data/reference/orlib_scp).
ORLIB = Path(__file__).resolve().parents[2] / "data" / "reference" / "orlib_scp"


def orlib_optima() -> dict[str, float]:
    """Published optimum (or best known) cost of each instance in :data:`ORLIB`."""
    with (ORLIB / "scp_orlib_reference.csv").open(encoding="utf-8") as fh:
        return {r["instance"]: float(r["published_opt_or_best"]) for r in csv.DictReader(fh)}
