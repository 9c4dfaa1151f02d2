"""The coverage stage: 4G/5G coverage of every village (handheld UE) and school (fixed-wireless CPE)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.inputs import Inputs
from gis.project import Project
from gis.schema import SCHEMAS
from gis.terrain import reproject_dem, sample_heights
from planning.progress import log_progress, numba_cache_cold
from planning.radio._terrain_kernel import pair_terrain
from planning.radio.coverage import LinkBudget, coverage

logger = logging.getLogger(__name__)

#: Point layers of the coverage stage and their receiver (handheld UE in villages, CPE at schools).
COVERAGE_RECEIVERS = {"villages": "handheld", "schools": "cpe"}


def coverage_frame(layer: str, points: gpd.GeoDataFrame, cov: pd.DataFrame) -> gpd.GeoDataFrame:
    """One layer's coverage rows: ``layer``, ``point_id``, ``name``, the coverage columns, the points' geometry."""
    idc = SCHEMAS[layer].id_column
    head = pd.DataFrame(
        {"layer": layer, "point_id": points[idc].to_numpy(), "name": points["name"].to_numpy()}, index=points.index
    )
    return gpd.GeoDataFrame(pd.concat([head, cov], axis=1), geometry=points.geometry.values, crs=points.crs)


def reference_ground(inputs: Inputs) -> dict[str, float | None]:
    """Per receiver layer, the 5th percentile of the points' ground (m), as :func:`coverage` takes it for all the
    points at once: a part of the points given this value gets what the whole would."""
    out: dict[str, float | None] = {}
    dem = inputs.dem
    for layer in COVERAGE_RECEIVERS:
        pts = inputs.layers[layer]
        if dem is None or not len(pts):
            out[layer] = None
            continue
        if not dem.crs.equals(pts.crs):
            dem = reproject_dem(dem, pts.crs)
        geoms = np.asarray(pts.geometry.values)
        g = sample_heights(dem, shapely.get_x(geoms), shapely.get_y(geoms))
        out[layer] = float(np.nanpercentile(g, 5)) if np.isfinite(g).any() else None
    return out


def terrain_kernels_cold() -> bool | None:
    """Whether the terrain kernel will be compiled by numba on its first call (its cache is empty); None when
    that cannot be told."""
    return numba_cache_cold(pair_terrain)


def coverage_stage(project: Project, inputs: Inputs, *, chunk_points: int | None = None) -> gpd.GeoDataFrame:
    """Coverage of villages (handheld UE) and schools (fixed-wireless CPE) as one point layer.

    Columns: ``layer`` (villages/schools), ``point_id``, ``name``, then the per-tech coverage columns of
    :func:`planning.radio.coverage.coverage`; geometry in the project's metric CRS. The points go in blocks of
    ``chunk_points`` (default the link budget's block), each with the whole layer's reference ground, so the
    result is the same as one call; each block is logged as progress (:func:`planning.progress.log_progress`).
    """
    step = max(int(chunk_points or LinkBudget().chunk_points), 1)
    refs = reference_ground(inputs)
    parts = []
    for layer, receiver in COVERAGE_RECEIVERS.items():
        frame = inputs.layers[layer]
        blocks = []
        for lo in range(0, max(len(frame), 1), step):
            part = frame.iloc[lo : lo + step]
            blocks.append(
                coverage(
                    part,
                    inputs.layers["sites"],
                    radio=project.radio,
                    dem=inputs.dem,
                    receiver=receiver,
                    reference_ground_m=refs[layer],
                )
            )
            log_progress(logger, f"coverage {layer}", min(lo + step, len(frame)), len(frame))
        parts.append(coverage_frame(layer, frame, pd.concat(blocks)))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=inputs.layers.crs)
