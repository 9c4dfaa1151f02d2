"""Radio: path loss with terrain (:mod:`planning.radio.propagation`), the link budget's pieces
(:mod:`planning.radio.linkbudget`), 4G/5G coverage of points (:mod:`planning.radio.coverage`: best server, RSRP,
SINR, throughput), the coverage raster (:mod:`planning.radio.raster`), drive-test calibration
(:mod:`planning.radio.calibration`), candidate sites' links to demands (:mod:`planning.radio.links`), microwave
backhaul (:mod:`planning.radio.backhaul`) and cell capacity (:mod:`planning.radio.capacity`)."""

from planning.radio.backhaul import (
    Endpoints,
    Terrain,
    backhaul_hubs,
    canopy_grid,
    plan_backhaul,
    plan_backhaul_empty,
    relay_points,
)
from planning.radio.calibration import (
    EXCLUSION_REASONS,
    MIN_CALIBRATION_ROWS,
    MIN_SLOPE_SPREAD_DECADES,
    Calibration,
    CalibrationRefusedError,
    calibrate,
)
from planning.radio.coverage import TECHS, sectorised
from planning.radio.links import candidate_links, radio_links, served_pairs
from planning.radio.operators import operator_rule, same_ran
from planning.radio.raster import coverage_raster, write_raster
from planning.radio.stage import coverage_stage, points_coverage, terrain_kernels_cold

__all__ = [
    "EXCLUSION_REASONS",
    "MIN_CALIBRATION_ROWS",
    "MIN_SLOPE_SPREAD_DECADES",
    "TECHS",
    "Calibration",
    "CalibrationRefusedError",
    "Endpoints",
    "Terrain",
    "backhaul_hubs",
    "calibrate",
    "candidate_links",
    "canopy_grid",
    "coverage_raster",
    "coverage_stage",
    "operator_rule",
    "plan_backhaul",
    "plan_backhaul_empty",
    "points_coverage",
    "radio_links",
    "relay_points",
    "same_ran",
    "sectorised",
    "served_pairs",
    "terrain_kernels_cold",
    "write_raster",
]
