"""The gaps stage: the status of every village and school from its evidence, the KPIs per county and for the
region, the verification list and the rows of the ledger (台账)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.admin import points_by_area
from gis.inputs import Inputs
from gis.project import Project
from planning.fibre import FibreResult
from planning.jobs import Job, MapJobs, in_turn, merge_in_order
from planning.radio import points_coverage
from planning.status.evidence import school_status, verification_list, village_status
from planning.status.kpi import kpi_table
from planning.status.ledger import ledger_rows
from planning.status.programme import (
    apply_village_4g_rule,
    committee_points,
    fallbacks,
    nearest_site_m,
    rule_points,
    signal_clause,
    village_category,
)

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
    notes: tuple[str, ...] = ()


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


def county_status(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame | None,
    reach: pd.DataFrame | None,
    measured: pd.DataFrame | None = None,
    map_jobs: MapJobs = in_turn,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village and school status (:func:`point_status`), one job per county run by ``map_jobs``.

    Each county job (:func:`gis.admin.points_by_area`) gets its villages and schools with their coverage and reach
    rows; the admin layer and the ledger's evidence ``measured`` are shared. The status of a point depends on its
    own rows only, so the merged frames (back in the layers' order, :func:`planning.jobs.merge_in_order`) equal
    one call's.
    """
    layers = inputs.layers
    frames = {"villages": layers["villages"], "schools": layers["schools"]}
    areas = points_by_area(frames, layers["admin"]) or {"": {k: np.ones(len(f), bool) for k, f in frames.items()}}
    rows = {k: (per_layer(coverage, k, f.index), per_layer(reach, k, f.index)) for k, f in frames.items()}

    def stacked(which: int, masks: dict[str, np.ndarray]) -> pd.DataFrame | None:
        mine = [t[masks[k]] for k in frames if (t := rows[k][which]) is not None]
        full = [t for t in mine if len(t)] or mine  # empty parts left out: they would turn bool columns to object
        return pd.concat(full) if full else None

    jobs = [
        Job(
            f"status-{area}",
            point_status,
            (project, frames["villages"][masks["villages"]], frames["schools"][masks["schools"]]),
            {"coverage": stacked(0, masks), "reach": stacked(1, masks)},
        )
        for area, masks in areas.items()
    ]
    parts = map_jobs(jobs, shared={"admin": layers["admin"], "measured": measured})
    vs = merge_in_order([p[0] for p in parts], frames["villages"].index, what="status of the villages per county")
    ss = merge_in_order([p[1] for p in parts], frames["schools"].index, what="status of the schools per county")
    return vs, ss


def gaps_stage(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame | None,
    fibre: FibreResult | None,
    measured: pd.DataFrame | None = None,
    map_jobs: MapJobs = in_turn,
) -> GapsResult:
    """Status of villages and schools, the KPIs per county and for the region, the verification list, the ledger
    rows.

    The status is computed per county (:func:`county_status`, jobs run by ``map_jobs``: in turn, or as dask tasks;
    the result is the same) from the coverage and fibre stages' rows and the ledger's evidence ``measured``
    (:func:`planning.status.ledger.ledger_evidence`); the KPIs, the verification list and the ledger rows from the
    merged status.
    """
    layers = inputs.layers
    v, s = layers["villages"], layers["schools"]
    reach = fibre.reach if fibre is not None else None
    vs, ss = county_status(project, inputs, coverage=coverage, reach=reach, measured=measured, map_jobs=map_jobs)
    vs = programme_status(project, inputs, vs)
    rows = ledger_rows(vs, ss, geometry_villages=v.geometry, geometry_schools=s.geometry)
    return GapsResult(
        villages=gpd.GeoDataFrame(vs, geometry=v.geometry, crs=v.crs),
        schools=gpd.GeoDataFrame(ss, geometry=s.geometry, crs=s.crs),
        targets=kpi_table(vs, ss, targets=project.targets),
        ledger=rows,
        verification=verification_list(vs, ss),
        notes=tuple(fallbacks(project.programme, {k: layers.get(k) for k in ("facilities", "settlements")})),
    )


def rule_point_4g(project: Project, inputs: Inputs, points: gpd.GeoDataFrame) -> np.ndarray:
    """Per point of the 4G rule's signal clause (:func:`planning.status.programme.rule_points`): 4G signal by the
    project's radio model (:func:`planning.radio.points_coverage` like the villages: handheld UE, the villages'
    reference ground and the land cover at the points), as the village points get it."""
    cov = points_coverage(project, inputs, points, like="villages")
    return cov["4g_covered"].fillna(False).to_numpy(dtype=bool)


def programme_status(project: Project, inputs: Inputs, villages: pd.DataFrame) -> pd.DataFrame:
    """The village status with the programme's definitions (:mod:`planning.status.programme`): the 4G rule's
    site clause measured from the village committee (``facilities``; the village point without it) and the
    call's category (``category``). Without a programme only ``site_4g_m`` and ``category`` are added."""
    layers = inputs.layers
    v = layers["villages"]
    xy = committee_points(v, layers.get("facilities"))
    site_m = nearest_site_m(xy, layers["sites"], tech="4g")
    signal, counts = None, None
    g4 = project.programme.village_4g
    pts = rule_points(layers.get("facilities"), layers.get("settlements"), min_households=g4.settlement_households)
    if project.programme.chosen and g4.rule == "site_within_or_signal" and len(pts):
        clause = signal_clause(
            v["village_id"].to_numpy(),
            villages["has_4g"].to_numpy(dtype=bool),
            pts,
            rule_point_4g(project, inputs, pts),
        )
        signal = clause["signal_4g"].to_numpy(dtype=bool)
        poor = villages["is_poor"].to_numpy(dtype=bool) if "is_poor" in villages else np.zeros(len(v), dtype=bool)
        excluded = villages["excluded"].fillna("").astype(str).ne("").to_numpy() if "excluded" in villages else False
        counts = (poor | (project.targets.village_4g_share > 0)) & ~excluded
        villages = villages.assign(**{c: clause[c].to_numpy() for c in clause.columns if c != "signal_4g"})
    out = apply_village_4g_rule(
        villages, site_4g_m=site_m, programme=project.programme, signal=signal, counts_4g=counts
    )
    if "access_mbps" in v:
        out["access_mbps"] = v["access_mbps"].to_numpy(dtype=float)
    out["category"] = village_category(out, upgrade_below_mbps=project.programme.upgrade_below_mbps)
    return out
