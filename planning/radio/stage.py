"""The coverage stage: 4G/5G coverage of every village (handheld UE) and school (fixed-wireless CPE)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gis.inputs import Inputs
from gis.project import Project
from gis.schema import SCHEMAS
from planning.radio.coverage import coverage

#: Point layers of the coverage stage and their receiver (handheld UE in villages, CPE at schools).
COVERAGE_RECEIVERS = {"villages": "handheld", "schools": "cpe"}


def coverage_frame(layer: str, points: gpd.GeoDataFrame, cov: pd.DataFrame) -> gpd.GeoDataFrame:
    """One layer's coverage rows: ``layer``, ``point_id``, ``name``, the coverage columns, the points' geometry."""
    idc = SCHEMAS[layer].id_column
    head = pd.DataFrame(
        {"layer": layer, "point_id": points[idc].to_numpy(), "name": points["name"].to_numpy()}, index=points.index
    )
    return gpd.GeoDataFrame(pd.concat([head, cov], axis=1), geometry=points.geometry.values, crs=points.crs)


def coverage_stage(project: Project, inputs: Inputs) -> gpd.GeoDataFrame:
    """Coverage of villages (handheld UE) and schools (fixed-wireless CPE) as one point layer.

    Columns: ``layer`` (villages/schools), ``point_id``, ``name``, then the per-tech coverage columns of
    :func:`planning.radio.coverage.coverage`; geometry in the project's metric CRS.
    """
    parts = []
    for layer, receiver in COVERAGE_RECEIVERS.items():
        frame = inputs.layers[layer]
        cov = coverage(frame, inputs.layers["sites"], radio=project.radio, dem=inputs.dem, receiver=receiver)
        parts.append(coverage_frame(layer, frame, cov))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=inputs.layers.crs)
