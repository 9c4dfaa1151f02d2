"""Removed: ``planning.coverage`` was the former import path of :mod:`planning.radio.coverage`; it is kept only
to say where each of its names lives now. Importing it raises an ImportError that lists them (README,
"Architecture")."""

_MOVED = {
    "TECHS": "planning.radio.coverage",
    "Calibration": "planning.radio.calibration",
    "LinkBudget": "planning.radio.linkbudget",
    "Receiver": "planning.radio.coverage",
    "SiteTable": "planning.radio.coverage",
    "antenna_gain_db": "planning.radio.coverage",
    "calibrate": "planning.radio.calibration",
    "coverage": "planning.radio.coverage",
    "coverage_raster": "planning.radio.raster",
    "is_tdd": "planning.radio.coverage",
    "max_range_m": "planning.radio.coverage",
    "pair_loss_db": "planning.radio.coverage",
    "pair_rsrp_dbm": "planning.radio.coverage",
    "resource_blocks": "planning.radio.coverage",
    "site_ranges_m": "planning.radio.coverage",
    "site_table": "planning.radio.coverage",
    "subcarrier_spacing_khz": "planning.radio.coverage",
    "throughput_mbps": "planning.radio.coverage",
    "write_raster": "planning.radio.raster",
}
_NEW = "\n".join(f"  {name}: from {module} import {name}" for name, module in _MOVED.items())
msg = f"planning.coverage was removed; import its names from their modules instead:\n{_NEW}"
raise ImportError(msg, name=__name__)
