"""The former import path of :mod:`planning.plan.cover`, kept so that scripts and notebooks written against it
still run; new code imports :mod:`planning.plan.cover` (README, "Architecture")."""

from planning.plan.cover import (
    CoverResult,
    Method,
    Status,
    solve_cover,
)
from planning.plan.phasing import Phase, phase

__all__ = [
    "CoverResult",
    "Method",
    "Phase",
    "Status",
    "phase",
    "solve_cover",
]
