"""The gaps stage: the status of every village and school from its evidence, the KPIs per county and for the
region, the verification list and the rows of the ledger (台账)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gis.inputs import Inputs
from gis.project import Project
from planning.fibre.stage import FibreResult
from planning.status.evidence import school_status, verification_list, village_status
from planning.status.kpi import kpi_table
from planning.status.ledger import ledger_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GapsResult:
    """Gap stage output: village and school status (GeoDataFrames), the KPI table per county (``targets``), the
    verification list and the ledger rows."""

    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    targets: pd.DataFrame
    ledger: gpd.GeoDataFrame
    verification: pd.DataFrame


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
    measured: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village and school status (:func:`~planning.status.evidence.village_status`,
    :func:`~planning.status.evidence.school_status`) from the coverage and reach rows of these points (combined
    frames with ``layer``, in the points' order) and the ledger's evidence (``measured``)."""
    vs = village_status(
        villages,
        targets=project.targets,
        coverage=per_layer(coverage, "villages", villages.index),
        reach=per_layer(reach, "villages", villages.index),
        admin=admin,
        measured=measured,
    )
    ss = school_status(
        schools,
        targets=project.targets,
        coverage=per_layer(coverage, "schools", schools.index),
        reach=per_layer(reach, "schools", schools.index),
        admin=admin,
        measured=measured,
    )
    return vs, ss


def gaps_stage(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame | None,
    fibre: FibreResult | None,
    status: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    measured: pd.DataFrame | None = None,
) -> GapsResult:
    """Status of villages and schools, the KPIs per county and for the region, the verification list, the ledger
    rows.

    ``status``: the village and school status when the caller computed it already (the runner does, per county
    on dask, with :func:`planning.run.distributed.distributed_status`); default :func:`point_status` with the
    ledger's evidence ``measured`` (:func:`planning.status.ledger.ledger_evidence`).
    """
    layers = inputs.layers
    v, s = layers["villages"], layers["schools"]
    reach = fibre.reach if fibre is not None else None
    if status is None:
        status = point_status(project, v, s, coverage=coverage, reach=reach, admin=layers["admin"], measured=measured)
    vs, ss = status
    rows = ledger_rows(vs, ss, geometry_villages=v.geometry, geometry_schools=s.geometry)
    return GapsResult(
        villages=gpd.GeoDataFrame(vs, geometry=v.geometry, crs=v.crs),
        schools=gpd.GeoDataFrame(ss, geometry=s.geometry, crs=s.crs),
        targets=kpi_table(vs, ss, targets=project.targets),
        ledger=rows,
        verification=verification_list(vs, ss),
    )
