"""Removed: ``planning.optimise`` was the former import path of :mod:`planning.plan.cover`; it is kept only
to say where each of its names lives now. Importing it raises an ImportError that lists them (README,
"Architecture")."""

_MOVED = {
    "CoverResult": "planning.plan.cover",
    "Method": "planning.plan.cover",
    "Status": "planning.plan.cover",
    "solve_cover": "planning.plan.cover",
    "Phase": "planning.plan.phasing",
    "phase": "planning.plan.phasing",
}
_NEW = "\n".join(f"  {name}: from {module} import {name}" for name, module in _MOVED.items())
msg = f"planning.optimise was removed; import its names from their modules instead:\n{_NEW}"
raise ImportError(msg, name=__name__)
