"""Benchmark: `coverplan synth` and `coverplan validate` on synthetic regions of growing size.

    .venv/bin/python bench/synth.py [--sizes 2000 20000 100000]

Prints a table of seconds and peak memory per size (target: 20,000 villages written in under a minute on
2 cores). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _measure import BIN, run_measured


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    coverplan = str(BIN / "coverplan")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            out = Path(tmp) / f"r{n}"
            t_synth, m_synth = run_measured(
                [coverplan, "-q", "synth", "--villages", str(n), "--seed", str(args.seed), "--out", str(out)]
            )
            t_val, m_val = run_measured([coverplan, "-q", "validate", str(out / "project.toml")])
            t_run, m_run = run_measured(
                [coverplan, "-q", "run", str(out / "project.toml"), "--out", str(out / "outputs")]
            )
            summary = json.loads((out / "outputs" / "summary.json").read_text(encoding="utf-8"))
            size_mb = sum(f.stat().st_size for f in out.iterdir() if f.is_file()) / 2**20
            rows.append(
                (
                    n,
                    summary["schools"]["count"],
                    summary["sites"]["count"],
                    summary["roads"]["segments"],
                    t_synth,
                    m_synth,
                    t_val,
                    m_val,
                    t_run,
                    m_run,
                    size_mb,
                )
            )
    head = (
        "villages",
        "schools",
        "sites",
        "roads",
        "synth s",
        "synth MiB",
        "validate s",
        "validate MiB",
        "run s",
        "run MiB",
        "files MiB",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1f} | {r[5]:.0f} | {r[6]:.1f} | {r[7]:.0f} | "
            f"{r[8]:.1f} | {r[9]:.0f} | {r[10]:.1f} |"
        )


if __name__ == "__main__":
    main()
