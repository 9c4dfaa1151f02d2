"""The coverplan pipeline: compose the stages on one project and write the outputs folder.

Stages (each a pure function elsewhere; this module only composes them and writes files):

1. ``inputs``: read, validate and project all layers; terrain heights (:func:`gis.inputs.load_inputs`).
2. ``coverage``: 4G/5G best server, RSRP, SINR, throughput of villages (handheld) and schools (fixed-wireless
   CPE) with terrain (:func:`planning.coverage.coverage`), and a best-RSRP raster of the region.
3. ``fibre``: road/fibre network with its repairs, fibre reach of every village, school and candidate, and the
   shared-trench plan (Steiner tree from existing fibre) for the villages and schools not yet connected
   (:mod:`planning.fibre`); ``fibre.gpkg`` (layers ``reach`` and ``routes``), ``fibre_repairs.csv``,
   ``fibre_components.csv``.
4. ``gaps``: status of every village and school against the targets, the per-county target table and the
   ledger (台账) of what is still unconnected (:mod:`planning.gaps`, :mod:`planning.ledger`);
   ``gaps.gpkg`` (layers ``villages``, ``schools``), ``county_targets.csv``, ``ledger.gpkg``.
5. ``optimise``: candidate interventions, the optimiser's choice with shared fibre, and yearly batches
   (:mod:`planning.proposal`); ``proposal.gpkg`` (layers ``interventions``, ``demands``, ``fibre_routes``),
   ``proposal.csv``, ``batches.csv``, ``county_targets_after.csv``.
6. ``report``: the proposal report (:mod:`planning.report`) with the cost vs coverage curve
   (:func:`planning.proposal.cost_curve`); ``report.html``, ``report.xlsx``, ``report_<table>.csv``, charts.
7. ``map``: the planner's folium map (:func:`gis.maps.build_map`); ``map.html``.
8. ``summary``: counts and totals of the region, written as ``summary.json`` and ``summary.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.inputs import Inputs, load_inputs
from gis.layers import write_layers
from gis.maps import Raster, build_map, save_map
from gis.outdir import check_output_dir, staged_output
from gis.project import Project
from gis.writers import write_csv
from planning.coverage import TECHS, coverage, coverage_raster, write_raster
from planning.fibre import RoadNetwork, RoutePlan, build_network, connect_points, fibre_reach, plan_routes
from planning.gaps import REGION, ledger_rows, school_status, target_table, village_status
from planning.ledger import create_ledger
from planning.national import point_provinces, province_of_areas
from planning.proposal import Proposal, cost_curve, propose
from planning.report import report_tables, write_report

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FibreResult:
    """Fibre stage output: reach per point (GeoDataFrame), the shared-trench plan, repairs and components.

    ``network`` is the joined network of a one-province region; a region of several provinces has one per
    province in ``networks`` (``network`` None, the plan's ``tree_nodes`` empty)."""

    reach: gpd.GeoDataFrame
    plan: RoutePlan
    repairs: pd.DataFrame
    components: pd.DataFrame
    network: RoadNetwork | None
    networks: dict[str, RoadNetwork] | None = None

    def network_of(self, province: str) -> RoadNetwork | None:
        """The network a province's optimiser uses: its own in a several-province region, else the one."""
        if self.networks is None:
            return self.network
        return self.networks.get(province)


@dataclass
class RunResult:
    """What a run produced: the inputs, coverage, summary, the files written and the seconds per stage."""

    inputs: Inputs
    summary: dict[str, Any]
    coverage: gpd.GeoDataFrame | None = None
    fibre: FibreResult | None = None
    gaps: GapsResult | None = None
    proposal: Proposal | None = None
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def input_paths(project: Project) -> list[Path]:
    """Every file and folder a run reads: the project file and its folder, each layer file, the DEM.

    An output folder must not be nor contain any of them (:func:`gis.outdir.check_output_dir`).
    """
    paths = [project.path, project.root, *(src.path for src in project.layers.values())]
    if project.terrain is not None:
        paths.append(project.terrain)
    return [Path(p) for p in paths]


def _length_km(frame) -> float:
    return float(np.sum(shapely.length(np.asarray(frame.geometry.values)))) / 1000.0


def summarise(project: Project, inputs: Inputs) -> dict[str, Any]:
    """Counts and totals of a project's inputs (areas in km², lengths in km, heights in m)."""
    layers = inputs.layers
    v = layers["villages"]
    s = layers["schools"]
    sites = layers["sites"]
    out: dict[str, Any] = {
        "project": project.name,
        "project_file": str(project.path),
        "metric_crs": layers.crs.to_string(),
        "region_area_km2": round(shapely.area(layers.region) / 1e6, 1),
        "admin_areas": len(layers["admin"]),
        "villages": {
            "count": len(v),
            "population": int(v["population"].sum()),
            "registered_poor": int(v["is_poor"].fillna(False).sum()) if "is_poor" in v else None,
        },
        "schools": {
            "count": len(s),
            "by_kind": {str(k): int(n) for k, n in s["kind"].value_counts().sort_index().items()},
            "students": int(s["students"].sum()),
        },
        "sites": {
            "count": len(sites),
            "by_tech_band": {
                f"{t} {b:g} MHz": int(n) for (t, b), n in sites.groupby(["tech", "band_mhz"]).size().items()
            },
        },
        "warnings": len(inputs.warnings),
    }
    if "access" in s:
        out["schools"]["by_access"] = {str(k): int(n) for k, n in s["access"].value_counts().sort_index().items()}
    for name in ("roads", "fibre"):
        frame = layers.get(name)
        if frame is not None:
            out[name] = {"segments": len(frame), "length_km": round(_length_km(frame), 1)}
    if layers.get("fibre_nodes") is not None:
        out["fibre_nodes"] = {"count": len(layers["fibre_nodes"])}
    if layers.get("candidates") is not None:
        out["candidates"] = {"count": len(layers["candidates"])}
    if inputs.dem is not None:
        ground = v["ground_m"].to_numpy()
        out["terrain"] = {
            "file": str(inputs.dem.path),
            "cells": list(inputs.dem.shape),
            "cell_size": round(abs(inputs.dem.transform.a), 3),
            "village_ground_m": {
                "min": round(float(np.min(ground)), 1),
                "max": round(float(np.max(ground)), 1),
            },
        }
    return out


#: Point layers of the coverage stage and their receiver (handheld UE in villages, CPE at schools).
COVERAGE_RECEIVERS = {"villages": "handheld", "schools": "cpe"}


def coverage_frame(layer: str, points: gpd.GeoDataFrame, cov: pd.DataFrame) -> gpd.GeoDataFrame:
    """One layer's coverage rows: ``layer``, ``point_id``, ``name``, the coverage columns, the points' geometry."""
    idc = "village_id" if layer == "villages" else "school_id"
    head = pd.DataFrame(
        {"layer": layer, "point_id": points[idc].to_numpy(), "name": points["name"].to_numpy()}, index=points.index
    )
    return gpd.GeoDataFrame(pd.concat([head, cov], axis=1), geometry=points.geometry.values, crs=points.crs)


def coverage_stage(project: Project, inputs: Inputs) -> gpd.GeoDataFrame:
    """Coverage of villages (handheld UE) and schools (fixed-wireless CPE) as one point layer.

    Columns: ``layer`` (villages/schools), ``point_id``, ``name``, then the per-tech coverage columns of
    :func:`planning.coverage.coverage`; geometry in the project's metric CRS.
    """
    parts = []
    for layer, receiver in COVERAGE_RECEIVERS.items():
        frame = inputs.layers[layer]
        cov = coverage(frame, inputs.layers["sites"], radio=project.radio, dem=inputs.dem, receiver=receiver)
        parts.append(coverage_frame(layer, frame, cov))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=inputs.layers.crs)


_NAME_ID = {"villages": "village_id", "schools": "school_id", "candidates": "candidate_id"}


def fibre_stage(project: Project, inputs: Inputs, *, client: Any = None) -> FibreResult | None:
    """Fibre reach of villages, schools and candidates, and the shared-trench plan for the unconnected ones.

    Returns None when the project has neither roads nor fibre lines. The ``reach`` layer has one row per point
    (``layer``, ``point_id``, ``name``, ``drop_m``, ``fibre_distance_m``, ``fibre_cost_cny``, ``connected``,
    ``reach``, ``component``, ``in_plan``) at the point's location.

    A region of several provinces (:func:`planning.national.province_of_areas`) gets one network per province:
    the road and fibre lines meeting the province's areas or within ``FIBRE_PROVINCE_BUFFER_M`` of them (whole
    lines), its own points, its reach and shared-trench plan (as dask tasks on ``client``); the results are
    merged (``reach`` and ``components`` then carry ``province``; ``networks`` holds each province's network).
    """
    layers = inputs.layers
    if layers.get("roads") is None and layers.get("fibre") is None:
        logger.warning("no roads or fibre layer: fibre stage skipped")
        return None
    point_layers = ("villages", "schools", "candidates", "fibre_nodes")
    points = {k: layers[k] for k in point_layers if layers.get(k) is not None}
    lines = {k: layers.get(k) for k in ("roads", "fibre")}
    admin = layers["admin"]
    provinces = province_of_areas(admin)
    if provinces.nunique() <= 1:
        return _fibre_partition(project, lines, points)
    jobs = []
    for name in sorted(provinces.unique()):
        area = shapely.buffer(shapely.union_all(np.asarray(admin.geometry.values)[(provinces == name).to_numpy()]),
                              FIBRE_PROVINCE_BUFFER_M)
        mine_lines = {k: (f[shapely.intersects(np.asarray(f.geometry.values), area)] if f is not None else None)
                      for k, f in lines.items()}
        mine_points = {k: f[(point_provinces(f, admin) == name).to_numpy()] for k, f in points.items()}
        if any(len(f) for f in mine_points.values()):
            jobs.append((name, mine_lines, mine_points))
    if client is not None:
        futures = [client.submit(_fibre_partition, project, ln, pt, key=f"fibre-{name}", pure=False)
                   for name, ln, pt in jobs]
        parts = dict(zip([j[0] for j in jobs], client.gather(futures), strict=True))
    else:
        parts = {name: _fibre_partition(project, ln, pt) for name, ln, pt in jobs}
    return _merge_fibre(parts, points)


#: A province's fibre network takes the road and fibre lines within this distance of its areas.
FIBRE_PROVINCE_BUFFER_M = 20_000.0


def _fibre_partition(project: Project, lines: dict[str, gpd.GeoDataFrame | None],
                     points: dict[str, gpd.GeoDataFrame]) -> FibreResult:
    """Network, reach and shared-trench plan of one region (a province, or the whole project)."""
    net = build_network(lines.get("roads"), lines.get("fibre"), settings=project.fibre, costs=project.costs)
    net = connect_points(net, {k: f for k, f in points.items() if len(f)})
    reach = fibre_reach(net, drop_m=project.fibre.drop_m)
    reach = reach[reach["layer"] != "fibre_nodes"]
    todo = reach.index[(reach["reach"] == "extension") & reach["layer"].isin(["villages", "schools"])]
    plan = plan_routes(net, todo, reach=reach)
    parts = []
    for layer, id_col in _NAME_ID.items():
        frame = points.get(layer)
        if frame is None or not len(frame):
            continue
        labels = layer + ":" + frame[id_col].astype(str)
        part = reach.loc[labels.to_numpy()].drop(columns=["node", "id"])
        part.insert(1, "point_id", frame[id_col].astype(str).to_numpy())
        part.insert(2, "name", frame["name"].to_numpy() if "name" in frame else "")
        parts.append(gpd.GeoDataFrame(part.reset_index(drop=True), geometry=frame.geometry.values, crs=frame.crs))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=net.crs)
    out["in_plan"] = (out["layer"] + ":" + out["point_id"]).isin(set(todo))
    return FibreResult(reach=out, plan=plan, repairs=net.repairs, components=net.components, network=net)


def _merge_fibre(parts: dict[str, FibreResult], points: dict[str, gpd.GeoDataFrame]) -> FibreResult:
    """Per-province fibre results as one: reach in the layers' order, plans, repairs and components stacked."""
    reach = pd.concat([r.reach.assign(province=name) for name, r in parts.items()], ignore_index=True)
    order = []
    for layer, id_col in _NAME_ID.items():
        frame = points.get(layer)
        if frame is not None:
            order.append(layer + ":" + frame[id_col].astype(str))
    order = pd.concat(order, ignore_index=True) if order else pd.Series([], dtype=str)
    key = reach["layer"] + ":" + reach["point_id"]
    if len(key) != len(order) or key.duplicated().any():
        msg = f"fibre per province: {len(key)} reach rows for {len(order)} points; expected each point once"
        raise RuntimeError(msg)
    reach = gpd.GeoDataFrame(reach.set_index(key.to_numpy()).loc[order.to_numpy()].reset_index(drop=True),
                             geometry="geometry", crs=next(iter(parts.values())).reach.crs)
    routes = pd.concat([r.plan.routes.assign(province=name) for name, r in parts.items()], ignore_index=True)
    sid = routes["segment_id"].astype(str)
    dup = sid.duplicated(keep=False).to_numpy()
    routes.loc[dup, "segment_id"] = routes.loc[dup, "province"] + ":" + sid[dup]
    plans = [r.plan for r in parts.values()]
    plan = RoutePlan(routes=gpd.GeoDataFrame(routes, geometry="geometry", crs=reach.crs),
                     served=pd.concat([pl.served for pl in plans]),
                     total_length_m=float(sum(pl.total_length_m for pl in plans)),
                     total_cost_cny=float(sum(pl.total_cost_cny for pl in plans)),
                     separate_cost_cny=float(sum(pl.separate_cost_cny for pl in plans)),
                     tree_nodes=np.zeros(0, dtype=np.int64))
    repairs = pd.concat([r.repairs.assign(province=name) for name, r in parts.items()], ignore_index=True)
    components = pd.concat([r.components.assign(province=name).reset_index() for name, r in parts.items()],
                           ignore_index=True).set_index(["province", "component"])
    return FibreResult(reach=reach, plan=plan, repairs=repairs, components=components, network=None,
                       networks={name: r.network for name, r in parts.items()})


@dataclass(frozen=True)
class GapsResult:
    """Gap stage output: village and school status (GeoDataFrames), the target table, the ledger rows."""

    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    targets: pd.DataFrame
    ledger: gpd.GeoDataFrame


def _per_layer(frame: pd.DataFrame | None, layer: str, index: pd.Index) -> pd.DataFrame | None:
    """Rows of a combined villages+schools output for one layer, re-indexed like the layer (same order)."""
    if frame is None:
        return None
    part = frame[frame["layer"] == layer]
    if len(part) != len(index):
        msg = f"{layer}: {len(part)} rows in the stage output for {len(index)} in the layer"
        raise RuntimeError(msg)
    return part.set_index(index)


def point_status(project: Project, villages: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, *,
                 coverage: pd.DataFrame | None, reach: pd.DataFrame | None, admin: gpd.GeoDataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village and school status (:func:`planning.gaps.village_status`, :func:`~planning.gaps.school_status`)
    from the coverage and reach rows of these points (combined frames with ``layer``, in the points' order)."""
    vs = village_status(villages, coverage=_per_layer(coverage, "villages", villages.index),
                        reach=_per_layer(reach, "villages", villages.index), admin=admin)
    ss = school_status(schools, targets=project.targets, coverage=_per_layer(coverage, "schools", schools.index),
                       reach=_per_layer(reach, "schools", schools.index), admin=admin)
    return vs, ss


def gaps_stage(project: Project, inputs: Inputs, *, coverage: pd.DataFrame | None,
               fibre: FibreResult | None, client: Any = None) -> GapsResult:
    """Status of villages and schools, targets per county and for the region, and the ledger rows.

    ``client``: compute the status per county on dask.distributed (:func:`planning.distributed.distributed_status`;
    the result is the same).
    """
    layers = inputs.layers
    v, s = layers["villages"], layers["schools"]
    reach = fibre.reach if fibre is not None else None
    if client is not None:
        from planning.distributed import distributed_status

        vs, ss = distributed_status(project, inputs, coverage=coverage, reach=reach, client=client)
    else:
        vs, ss = point_status(project, v, s, coverage=coverage, reach=reach, admin=layers["admin"])
    table = target_table(vs, ss, targets=project.targets)
    cost = None
    if reach is not None:
        cost = pd.Series(reach["fibre_cost_cny"].to_numpy(), index=(reach["layer"] + ":" + reach["point_id"]))
    rows = ledger_rows(vs, ss, geometry_villages=v.geometry, geometry_schools=s.geometry, reach_cost_cny=cost)
    return GapsResult(villages=gpd.GeoDataFrame(vs, geometry=v.geometry, crs=v.crs),
                      schools=gpd.GeoDataFrame(ss, geometry=s.geometry, crs=s.crs), targets=table, ledger=rows)


def summarise_gaps(result: GapsResult) -> dict[str, Any]:
    """The region row of the target table, and the ledger size by what is lacking."""
    region = result.targets[result.targets["county"] == REGION].iloc[0]
    keys = ["poor_villages", "poor_with_broadband", "poor_broadband_share", "poor_broadband_shortfall", "poor_4g_share",
            "schools", "schools_connected", "schools_connected_share", "schools_connected_shortfall",
            "schools_outlet_ok", "schools_outlet_share", "schools_outlet_shortfall", "meets_all"]
    out: dict[str, Any] = {}
    for k in keys:
        val = region[k]
        out[k] = bool(val) if isinstance(val, bool | np.bool_) else (
            round(float(val), 4) if isinstance(val, float) else int(val))
    out["counties_meeting_all"] = int(result.targets.loc[result.targets["county"] != REGION, "meets_all"].sum())
    out["counties"] = int((result.targets["county"] != REGION).sum())
    out["ledger_rows"] = len(result.ledger)
    out["ledger_by_lacks"] = {str(k): int(n) for k, n in result.ledger["lacks"].value_counts().sort_index().items()}
    return out


def write_proposal(prop: Proposal, out: Path) -> list[Path]:
    """Write the proposal files into ``out``; returns their paths."""
    inter = prop.interventions.copy()
    write_layers({"interventions": inter, "demands": prop.demands, "fibre_routes": prop.routes},
                 out / "proposal.gpkg")
    table = pd.DataFrame(inter.drop(columns="geometry"))
    xy = inter.geometry.to_crs(4326)
    table["lon"], table["lat"] = xy.x.round(6), xy.y.round(6)
    write_csv(table, out / "proposal.csv")
    write_csv(prop.batches, out / "batches.csv")
    write_csv(prop.targets_after, out / "county_targets_after.csv")
    names = ["proposal.gpkg", "proposal.csv", "batches.csv", "county_targets_after.csv"]
    if prop.provinces is not None:
        write_csv(prop.provinces, out / "provinces.csv")
        names.append("provinces.csv")
    return [out / n for n in names]


def map_stage(project: Project, inputs: Inputs, *, gaps: GapsResult, proposal: Proposal | None,
              coverage_bands: tuple[np.ndarray, Any] | None, offline: bool | None = None) -> folium.Map:
    """The planner's folium map of the run (:func:`gis.maps.build_map`) with the project's ``[map]`` settings.

    ``offline`` overrides ``[map] offline``.
    """
    layers = inputs.layers
    v = gaps.villages.copy()
    v["population"] = layers["villages"]["population"].to_numpy()
    s = gaps.schools.copy()
    s["students"] = layers["schools"]["students"].to_numpy()
    dem = Raster(inputs.dem.height_m, inputs.dem.transform, inputs.dem.crs) if inputs.dem is not None else None
    cov = Raster(coverage_bands[0], coverage_bands[1], layers.crs) if coverage_bands is not None else None
    settings = project.map
    return build_map(
        admin=layers["admin"], villages=v, schools=s, sites=layers["sites"], fibre=layers.get("fibre"),
        interventions=proposal.interventions if proposal is not None else None,
        routes=proposal.routes if proposal is not None else None, coverage=cov, dem=dem,
        language=project.language, offline=settings.offline if offline is None else offline,
        basemap=settings.basemap, tianditu_key=settings.tianditu_key, title=project.name,
        outlet_target_mbps=project.targets.school_outlet_mbps,
        rsrp_threshold_dbm=(project.radio.lte_rsrp_threshold_dbm, project.radio.nr_rsrp_threshold_dbm),
        hillshade_max_px=int(settings.hillshade_max_px))


def summarise_fibre(result: FibreResult) -> dict[str, Any]:
    """Reach counts per layer, distances (m), the shared-trench plan against connecting points one by one."""
    out: dict[str, Any] = {}
    r = result.reach
    for layer, part in r.groupby("layer"):
        finite = part["fibre_distance_m"][np.isfinite(part["fibre_distance_m"])]
        out[str(layer)] = {
            **{str(k): int(v) for k, v in part["reach"].value_counts().sort_index().items()},
            "median_distance_m": round(float(finite.median()), 1) if len(finite) else None,
        }
    plan = result.plan
    out["plan"] = {
        "points": len(plan.served),
        "segments": len(plan.routes),
        "length_km": round(plan.total_length_m / 1000.0, 2),
        "cost_cny": round(plan.total_cost_cny),
        "separate_cost_cny": round(plan.separate_cost_cny),
        "saving_share": round(1.0 - plan.total_cost_cny / plan.separate_cost_cny, 4) if plan.separate_cost_cny else 0,
    }
    out["repairs"] = {str(k): int(v) for k, v in result.repairs["action"].value_counts().sort_index().items()}
    out["components"] = len(result.components)
    out["components_without_fibre"] = int((~result.components["has_fibre"]).sum())
    return out


def summarise_coverage(cov: gpd.GeoDataFrame, project: Project) -> dict[str, Any]:
    """Shares of villages and schools covered per tech, and schools with a wireless outlet >= the target."""
    out: dict[str, Any] = {"model": project.radio.model, "environment": project.radio.environment}
    for layer in ("villages", "schools"):
        part = cov[cov["layer"] == layer]
        entry = {f"{t}_covered_share": round(float(part[f"{t}_covered"].mean()), 4) for t in TECHS}
        entry["off_dem"] = int((part["terrain"] == "off_dem").sum())
        if layer == "schools":
            best = part[[f"{t}_throughput_mbps" for t in TECHS]].max(axis=1)
            entry["wireless_outlet_target_share"] = round(float((best >= project.targets.school_outlet_mbps).mean()), 4)
        out[layer] = entry
    return out


def _summary_md(summary: dict[str, Any], seconds: dict[str, float]) -> str:
    lines = [f"# coverplan run: {summary['project']}", "", "| item | value |", "|---|---|"]

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, val in obj.items():
                walk(f"{prefix}.{k}" if prefix else k, val)
        else:
            lines.append(f"| {prefix} | {obj} |")

    walk("", summary)
    lines += ["", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in seconds.items()]
    return "\n".join(lines) + "\n"


def run_pipeline(
    project: Project,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    ledger_date: dt.date | None = None,
    budget_cny: float | None = None,
    target_share: float | None = None,
    offline: bool | None = None,
    dask: str | bool | None = None,
) -> RunResult:
    """Run every stage on ``project`` and write the outputs into ``out_dir``.

    Files written: ``layers.gpkg`` (validated layers in the metric CRS, point layers with ``ground_m``),
    ``coverage.gpkg``, ``coverage.tif``, ``fibre.gpkg``, ``fibre_repairs.csv``, ``fibre_components.csv``,
    ``gaps.gpkg``, ``county_targets.csv``, ``ledger.gpkg`` (its rows dated ``ledger_date``, default today),
    ``proposal.gpkg``, ``proposal.csv``, ``batches.csv``, ``county_targets_after.csv``, ``provinces.csv`` (the
    national summary, when the region holds several provinces), ``report.html``,
    ``report.xlsx``, ``report_<table>.csv``, ``chart_*.png``, ``map.html``, ``summary.json`` and ``summary.md``.
    ``budget_cny``/``target_share`` override the project's ``[optimise]`` settings, ``offline`` its
    ``[map] offline``. ``dask``: compute coverage per county and the optimiser per province on
    dask.distributed (True: a LocalCluster; a string: that scheduler's address), see :mod:`planning.distributed`;
    the outputs are the same.

    The run is written into a temporary folder beside ``out_dir`` and renamed into place only when every stage
    has finished (:func:`gis.outdir.staged_output`): an error or Ctrl-C leaves ``out_dir`` as it was.

    Raises
    ------
    LayerError
        Bad input (every problem listed); nothing is written then.
    gis.outdir.OutputExistsError
        ``out_dir`` is not empty and ``overwrite`` is false.
    gis.outdir.OutputRefusedError
        ``out_dir`` is or contains an input, the project folder, the current or home folder or ``/``, or holds
        files coverplan did not write there.
    gis.outdir.OutputBusyError
        Another coverplan process is writing ``out_dir``.
    """
    out = Path(out_dir)
    protected = input_paths(project)
    check_output_dir(out, overwrite=overwrite, protected=protected)  # fail before the work, not after it
    options = {"progress": progress, "ledger_date": ledger_date, "budget_cny": budget_cny,
               "target_share": target_share, "offline": offline}
    with staged_output(out, overwrite=overwrite, protected=protected) as tmp:
        if not dask:
            result = _run(project, tmp, client=None, **options)
        else:
            from planning.distributed import dask_client

            with dask_client(dask if isinstance(dask, str) else None) as client:
                result = _run(project, tmp, client=client, **options)
    final = Path(os.path.abspath(out))
    result.files = [final / f.relative_to(tmp) for f in result.files]
    return result


def _run(project: Project, out: Path, *, progress: Progress | None, ledger_date: dt.date | None,
         budget_cny: float | None, target_share: float | None, offline: bool | None, client: Any) -> RunResult:
    """The stages of :func:`run_pipeline` (``client``: dask.distributed for coverage and the provinces)."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    inputs = load_inputs(project, progress=progress)
    seconds["inputs"] = time.perf_counter() - t0

    files: list[Path] = []
    t0 = time.perf_counter()
    if progress:
        progress("write layers")
    write_layers(inputs.layers.frames, out / "layers.gpkg")
    files.append(out / "layers.gpkg")
    seconds["write_layers"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("coverage")
    if client is not None:
        from planning.distributed import distributed_coverage

        cov = distributed_coverage(project, inputs, client=client)
    else:
        cov = coverage_stage(project, inputs)
    write_layers({"coverage": cov}, out / "coverage.gpkg")
    files.append(out / "coverage.gpkg")
    seconds["coverage"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if progress:
        progress("coverage raster")
    bands, transform = coverage_raster(
        inputs.layers["sites"], inputs.layers.region, crs=inputs.layers.crs, radio=project.radio, dem=inputs.dem
    )
    write_raster(out / "coverage.tif", bands, transform, inputs.layers.crs)
    files.append(out / "coverage.tif")
    seconds["coverage_raster"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("fibre")
    fib = fibre_stage(project, inputs, client=client)
    if fib is not None:
        fib_reach = fib.reach.copy()
        fib_reach["fibre_distance_m"] = fib_reach["fibre_distance_m"].replace(np.inf, np.nan)  # GPKG has no inf
        fib_reach["fibre_cost_cny"] = fib_reach["fibre_cost_cny"].replace(np.inf, np.nan)
        write_layers({"reach": fib_reach, "routes": fib.plan.routes}, out / "fibre.gpkg")
        write_csv(fib.repairs, out / "fibre_repairs.csv")
        write_csv(fib.components, out / "fibre_components.csv", index=True)
        files += [out / "fibre.gpkg", out / "fibre_repairs.csv", out / "fibre_components.csv"]
    seconds["fibre"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("gaps and ledger")
    gaps = gaps_stage(project, inputs, coverage=cov, fibre=fib, client=client)
    write_layers({"villages": gaps.villages, "schools": gaps.schools}, out / "gaps.gpkg")
    write_csv(gaps.targets, out / "county_targets.csv")
    create_ledger(gaps.ledger, out / "ledger.gpkg", date=ledger_date or dt.date.today(), source="coverplan run")
    files += [out / "gaps.gpkg", out / "county_targets.csv", out / "ledger.gpkg"]
    seconds["gaps"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("optimise")
    prop = propose(project, inputs, coverage=cov, fibre=fib, gaps=gaps, budget_cny=budget_cny,
                   target_share=target_share, client=client)
    files += write_proposal(prop, out)
    seconds["optimise"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("report")
    curve = cost_curve(project, gaps, prop)
    tables = report_tables(project, gaps, prop, curve=curve)
    files += write_report(project, tables, prop, out, date=ledger_date)
    seconds["report"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("map")
    fmap = map_stage(project, inputs, gaps=gaps, proposal=prop, coverage_bands=(bands, transform), offline=offline)
    files.append(save_map(fmap, out / "map.html"))
    seconds["map"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = summarise(project, inputs)
    summary["coverage"] = summarise_coverage(cov, project)
    summary["gaps"] = summarise_gaps(gaps)
    summary["proposal"] = prop.totals
    if prop.provinces is not None:
        summary["provinces"] = json.loads(prop.provinces.to_json(orient="records", force_ascii=False))
    summary["fibre"] = summarise_fibre(fib) if fib is not None else {"skipped": "no roads or fibre layer"}
    seconds["summary"] = time.perf_counter() - t0
    summary["warnings_list"] = [str(w) for w in inputs.warnings[:200]]
    (out / "summary.json").write_text(
        json.dumps({**summary, "seconds": seconds}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (out / "summary.md").write_text(
        _summary_md({k: v for k, v in summary.items() if k != "warnings_list"}, seconds), encoding="utf-8"
    )
    files += [out / "summary.json", out / "summary.md"]
    logger.info("wrote %s", ", ".join(f.name for f in files))
    return RunResult(inputs=inputs, summary=summary, coverage=cov, fibre=fib, gaps=gaps, proposal=prop, files=files,
                     seconds=seconds)
