"""Shared helper for the bench scripts: run a command in a child process, time it, read its peak memory."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def run_measured(args: list[str]) -> tuple[float, float]:
    """Run ``args``; return (wall seconds, peak resident memory of the child in MiB). Raises on failure.

    Each command runs in its own ``python -c`` wrapper so that ru_maxrss is that command's alone.
    """
    seconds, peak_mib, _ = run_measured_cpu(args)
    return seconds, peak_mib


def run_measured_cpu(args: list[str]) -> tuple[float, float, float]:
    """:func:`run_measured` with the child's CPU seconds (user + system, all its threads) as a third value: on a
    shared machine the CPU time tells more than the wall time."""
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_utime + u.ru_stime, u.ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
    )
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        msg = f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
        raise RuntimeError(msg)
    cpu, peak_kib = res.stderr.strip().splitlines()[-1].split()
    return seconds, int(peak_kib) / 1024.0, float(cpu)
