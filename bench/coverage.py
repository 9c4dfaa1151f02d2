"""Benchmark: terrain-aware 4G/5G coverage of all villages and schools on synthetic regions.

    .venv/bin/python bench/coverage.py [--points 2000 20000 200000]

For each size a region is made with `coverplan synth` (points = villages + schools), then the coverage stage
(downlink and uplink budgets, location probability, busy-hour capacity) runs in a child process so that its peak
memory is its own. Prints seconds, peak memory and the growth exponent
between sizes, and the speed of the Longley-Rice (itmlogic) path per profile. Target: 20k points with DEM
profiles at 30 m in under 60 s on 2 cores. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from _measure import BIN, run_measured, run_measured_cpu

# this file is named like the `coverage` package that numba probes for: keep bench/ off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

VILLAGE_SHARE = 1.0 / 1.37  # synthetic regions have ~0.37 schools per village


def one(project_file: str, report: str) -> None:
    """Child process: load inputs, run coverage for villages and schools, write timings as JSON."""
    import logging

    from gis.inputs import load_inputs
    from gis.project import load_project
    from planning.radio.stage import coverage_stage

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    t0 = time.perf_counter()
    project = load_project(project_file)
    inputs = load_inputs(project)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    c0 = time.process_time()
    cov = coverage_stage(project, inputs)  # downlink, uplink, location probability, then the busy hour
    n = len(cov)
    covered = int(cov["4g_covered"].sum())
    t_cov = time.perf_counter() - t0
    cpu_cov = time.process_time() - c0
    assert inputs.dem is not None  # the benchmark regions have a DEM
    Path(report).write_text(
        json.dumps(
            {
                "points": n,
                "sites": len(inputs.layers["sites"]),
                "load_s": t_load,
                "coverage_s": t_cov,
                "coverage_cpu_s": cpu_cov,
                "covered_4g": covered / n,
                "dem_cells": list(inputs.dem.shape),
            }
        ),
        encoding="utf-8",
    )


def itm_speed(profiles: int = 200) -> float:
    """Milliseconds per profile of the itmlogic Longley-Rice path (one site to many villages, 30 m steps)."""
    import numpy as np

    from gis.synthetic import synthesize
    from gis.terrain import profiles as make_profiles
    from planning.radio.propagation import terrain_loss_db

    r = synthesize(villages=200, seed=3)
    v = r.villages.geometry
    s = r.sites.geometry
    k = min(profiles, len(v))
    pr = make_profiles(
        r.dem, np.full(k, s.x.iloc[0]), np.full(k, s.y.iloc[0]), v.x.to_numpy()[:k], v.y.to_numpy()[:k], step_m=30.0
    )
    t0 = time.perf_counter()
    terrain_loss_db(pr, np.full(k, 1800.0), 35.0, 1.5, model="itm")
    return (time.perf_counter() - t0) / k * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description="coverage benchmark")
    ap.add_argument("--points", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--one", nargs=2, metavar=("PROJECT", "REPORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pts in args.points:
            villages = max(10, round(pts * VILLAGE_SHARE))
            out = Path(tmp) / f"r{pts}"
            t_synth, _ = run_measured(
                [str(BIN / "coverplan"), "-q", "synth", "--villages", str(villages), "--seed", "1", "--out", str(out)]
            )
            report = out / "report.json"
            _, peak, _ = run_measured_cpu([sys.executable, __file__, "--one", str(out / "project.toml"), str(report)])
            data = json.loads(report.read_text(encoding="utf-8"))
            rows.append(
                (
                    data["points"],
                    data["sites"],
                    data["dem_cells"],
                    t_synth,
                    data["load_s"],
                    data["coverage_s"],
                    data["coverage_cpu_s"],
                    peak,
                    data["covered_4g"],
                )
            )
    print(
        "| points | sites | DEM cells | synth s | load s | coverage s | coverage CPU s | peak MiB | 4G covered "
        "| exponent |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    prev = None
    for r in rows:
        exp = "" if prev is None else f"{math.log(r[5] / prev[5]) / math.log(r[0] / prev[0]):.2f}"
        print(
            f"| {r[0]} | {r[1]} | {r[2][0]}x{r[2][1]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f} "
            f"| {r[7]:.0f} | {r[8]:.1%} | {exp} |"
        )
        prev = r
    print(f"\nLongley-Rice (itmlogic 1.2, pure Python): {itm_speed():.2f} ms per profile (30 m steps)")


if __name__ == "__main__":
    main()
