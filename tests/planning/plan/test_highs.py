"""The HiGHS layer (planning.plan.highs): its banner stays off stdout."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.reference.orlib import ORLIB


def test_highs_banner_does_not_reach_stdout() -> None:
    # HiGHS prints a banner from C++ on the first Highs of a process; the CLI's stdout must stay clean

    # in a partial cover the first Highs objects are made by two threads at once (background MILP, LP): that must
    # not leave stdout on /dev/null (it did: each thread saved and restored fd 1). Eight threads released
    # together, twenty times over (the cache cleared in between): without the lock it failed in 4 runs of 4
    code = (
        "import threading, numpy as np; from scipy import sparse; from planning.plan import cover as optimise\n"
        "from planning.plan.highs import quiet_banner\nfrom tests.reference.orlib import read_orlib_scp\n"
        "for _ in range(20):\n"
        "    quiet_banner.cache_clear(); b = threading.Barrier(8)\n"
        "    ts = [threading.Thread(target=lambda: (b.wait(), quiet_banner())) for _ in range(8)]\n"
        "    [t.start() for t in ts]; [t.join() for t in ts]\n"
        "rng = np.random.default_rng(3); a = sparse.random(120, 30, density=0.08, random_state=4) > 0\n"
        "r = optimise.solve_cover(a, rng.uniform(1, 2, 30), rng.uniform(0, 1, 120), min_share=0.9)\n"
        "print('partial', r.status)\n"
        f"a, c = read_orlib_scp({str(ORLIB / 'scp41.txt')!r})\n"
        "print('scp41', optimise.solve_cover(a, c, np.ones(a.shape[0]), min_share=1.0).cost)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout == "partial optimal\nscp41 429.0\n"
