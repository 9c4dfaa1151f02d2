"""Benchmark: `coverplan run` end to end on `coverplan synth` regions of growing size.

    .venv/bin/python bench/pipeline.py [--sizes 1000 10000 100000] [--seed 1] [--dask]

For each size: synthesise the region (schools and sites in proportion), run the whole pipeline (coverage
with terrain, fibre reach and shared-trench plan, gaps and ledger, optimiser, report, map) in a child process,
and print seconds per stage (from the run's summary.json), the run's peak memory, and the growth exponent
of each stage between consecutive sizes (log t2/t1 / log n2/n1: 1 is linear, ~1.1 is n log n). Targets on
2 cores: 10,000 villages end to end in 90 s (goal 60 s), 20,000 in 200 s, under 4 GB. The CPU seconds (the
run's threads together) tell more than the wall time on a shared machine. Not part of the test run; results are
recorded in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import tempfile
from pathlib import Path

from _measure import BIN, run_measured, run_measured_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dask", action="store_true", help="run with --dask (coverage per county on a LocalCluster)")
    args = ap.parse_args()
    coverplan = str(BIN / "coverplan")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            out = Path(tmp) / f"r{n}"
            run_measured([coverplan, "-q", "synth", "--villages", str(n), "--seed", str(args.seed), "--out", str(out)])
            cmd = [coverplan, "-q", "run", str(out / "project.toml"), "--out", str(out / "outputs")]
            if args.dask:
                cmd.append("--dask")
            wall, peak, cpu = run_measured_cpu(cmd)
            summary = json.loads((out / "outputs" / "summary.json").read_text(encoding="utf-8"))
            prop = summary.get("proposal", {})
            runs.append(
                {
                    "n": n,
                    "schools": summary["schools"]["count"],
                    "sites": summary["sites"]["count"],
                    "seconds": summary["seconds"],
                    "wall": wall,
                    "cpu": cpu,
                    "peak": peak,
                    "gap": prop.get("gap"),
                    "status": prop.get("status"),
                }
            )
            print(f"# {n} villages: {wall:.1f} s wall, {cpu:.1f} s CPU, {peak:.0f} MiB", flush=True)
    stages = list(runs[0]["seconds"])
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        f"{' (--dask)' if args.dask else ''}\n"
    )
    print("| villages | schools | sites | " + " | ".join(stages) + " | wall s | CPU s | peak MiB | optimiser gap |")
    print("|" + "---|" * (len(stages) + 7))
    for r in runs:
        cells = " | ".join(f"{r['seconds'][s]:.1f}" for s in stages)
        gap = f"{r['gap']:.2%} ({r['status']})" if r["gap"] is not None else "-"
        print(
            f"| {r['n']:,} | {r['schools']:,} | {r['sites']:,} | {cells} | {r['wall']:.1f} | {r['cpu']:.1f} "
            f"| {r['peak']:,.0f} | {gap} |"
        )
    if len(runs) > 1:
        print("\ngrowth exponent per stage (log t2/t1 / log n2/n1; stages under 0.5 s omitted)\n")
        print("| sizes | " + " | ".join(stages) + " | wall |")
        print("|" + "---|" * (len(stages) + 2))
        for a, b in itertools.pairwise(runs):
            k = math.log(b["n"] / a["n"])
            cells = " | ".join(
                f"{math.log(b['seconds'][s] / a['seconds'][s]) / k:.2f}"
                if min(a["seconds"][s], b["seconds"][s]) >= 0.5
                else "-"
                for s in stages
            )
            print(f"| {a['n']:,} -> {b['n']:,} | {cells} | {math.log(b['wall'] / a['wall']) / k:.2f} |")


if __name__ == "__main__":
    main()
