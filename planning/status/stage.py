"""The gaps stage: the status of every village and school, the targets per county and for the region, and the
rows of the ledger (台账)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gis.inputs import Inputs
from gis.project import Project
from planning.fibre.stage import FibreResult
from planning.status.gaps import ledger_rows, school_status, target_table, village_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GapsResult:
    """Gap stage output: village and school status (GeoDataFrames), the target table, the ledger rows."""

    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    targets: pd.DataFrame
    ledger: gpd.GeoDataFrame


def per_layer(frame: pd.DataFrame | None, layer: str, index: pd.Index) -> pd.DataFrame | None:
    """Rows of a combined villages+schools output for one layer, re-indexed like the layer (same order)."""
    if frame is None:
        return None
    part = frame[frame["layer"] == layer]
    if len(part) != len(index):
        msg = f"{layer}: {len(part)} rows in the stage output for {len(index)} in the layer"
        raise RuntimeError(msg)
    return part.set_index(index)


def point_status(
    project: Project,
    villages: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    *,
    coverage: pd.DataFrame | None,
    reach: pd.DataFrame | None,
    admin: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village and school status (:func:`~planning.status.gaps.village_status`,
    :func:`~planning.status.gaps.school_status`) from the coverage and reach rows of these points (combined frames
    with ``layer``, in the points' order)."""
    vs = village_status(
        villages,
        coverage=per_layer(coverage, "villages", villages.index),
        reach=per_layer(reach, "villages", villages.index),
        admin=admin,
    )
    ss = school_status(
        schools,
        targets=project.targets,
        coverage=per_layer(coverage, "schools", schools.index),
        reach=per_layer(reach, "schools", schools.index),
        admin=admin,
    )
    return vs, ss


def gaps_stage(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame | None,
    fibre: FibreResult | None,
    status: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> GapsResult:
    """Status of villages and schools, targets per county and for the region, and the ledger rows.

    ``status``: the village and school status when the caller computed it already (the runner does, per county
    on dask, with :func:`planning.run.distributed.distributed_status`); default :func:`point_status`.
    """
    layers = inputs.layers
    v, s = layers["villages"], layers["schools"]
    reach = fibre.reach if fibre is not None else None
    if status is None:
        status = point_status(project, v, s, coverage=coverage, reach=reach, admin=layers["admin"])
    vs, ss = status
    table = target_table(vs, ss, targets=project.targets)
    cost = None
    if reach is not None:
        cost = pd.Series(reach["fibre_cost_cny"].to_numpy(), index=(reach["layer"] + ":" + reach["point_id"]))
    rows = ledger_rows(vs, ss, geometry_villages=v.geometry, geometry_schools=s.geometry, reach_cost_cny=cost)
    return GapsResult(
        villages=gpd.GeoDataFrame(vs, geometry=v.geometry, crs=v.crs),
        schools=gpd.GeoDataFrame(ss, geometry=s.geometry, crs=s.crs),
        targets=table,
        ledger=rows,
    )
