"""The coverage stage: 4G/5G coverage of every village (handheld UE) and school (fixed-wireless CPE), downlink and
uplink, with the busy-hour load of the cells applied (:mod:`planning.radio.capacity`).

Coverage with terrain is the stage whose cost grows with the region (a profile per point and site in range), so
it is split by county (:func:`county_partitions`): each county is one job with its villages and schools and every
site within that site's own maximum range of the area's points (a site near the border serves both sides, and a
point near the border sees the sites across it). All jobs use the reference ground and the clutter of the whole
region, so a county computes exactly what one call computes for the same points; the rows are merged back in the
layers' order (:func:`planning.jobs.merge_in_order`). The jobs run in turn, or as dask tasks with ``coverplan run
--dask`` (:func:`planning.run.distributed.dask_map`); the result is the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import points_by_area
from gis.inputs import Inputs
from gis.project import Project
from gis.schema import SCHEMAS
from gis.settings import Model, RadioSettings
from gis.terrain import Dem, reproject_dem, sample_heights
from planning.jobs import Job, MapJobs, in_turn, merge_in_order
from planning.progress import log_progress, numba_cache_cold
from planning.radio._terrain_kernel import pair_terrain
from planning.radio.capacity import busy_hour
from planning.radio.clutter import PointClutter, point_clutter, read_clutter, sample_classes
from planning.radio.coverage import Receiver, coverage, market_shares, site_ranges_m, site_table
from planning.radio.linkbudget import LinkBudget
from planning.radio.p1812 import _lb_db as p1812_loss_kernel  # with the pair kernel's, whether P.1812 compiles
from planning.radio.p1812 import _pairs_kernel as p1812_pair_kernel

logger = logging.getLogger(__name__)

#: Point layers of the coverage stage and their receiver (handheld UE in villages, CPE at schools).
COVERAGE_RECEIVERS: dict[str, Receiver] = {"villages": "handheld", "schools": "cpe"}


def receiver_for(layer: str, radio: RadioSettings) -> Receiver:
    """The receiver of a coverage layer: handheld in villages; at schools an outdoor or indoor CPE
    (``[radio] school_cpe``)."""
    if layer == "schools" and radio.school_cpe == "indoor":
        return "indoor_cpe"
    return COVERAGE_RECEIVERS[layer]


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


def terrain_kernels_cold(model: Model = "p1812") -> bool | None:
    """Whether the terrain kernels of ``model`` will be compiled by numba on their first call (their cache is
    empty): P.1812's loss chain and pair kernel for ``"p1812"``, the terrain kernel for the others; None when
    that cannot be told."""
    return numba_cache_cold(*((p1812_loss_kernel, p1812_pair_kernel) if model == "p1812" else (pair_terrain,)))


def layer_clutter(radio: RadioSettings, points: gpd.GeoDataFrame) -> PointClutter | None:
    """Clutter of ``points`` from ``[radio] clutter_path`` (made absolute by :func:`gis.project.load_project`), or
    None when there is none."""
    if not radio.clutter_path or not len(points):
        return None
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    pad = 100.0 if radio.model != "p1812" else 30_000.0  # P.1812 profiles cross the land cover up to the sites
    bounds = (float(x.min()) - pad, float(y.min()) - pad, float(x.max()) + pad, float(y.max()) + pad)
    grid = read_clutter(radio.clutter_path, crs=points.crs, bounds=bounds)
    return point_clutter(sample_classes(grid, x, y), radio.clutter, grid=grid if radio.model == "p1812" else None)


def with_busy_hour(project: Project, inputs: Inputs, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The coverage rows (villages then schools, in the layers' order) with the busy hour applied
    (:func:`planning.radio.capacity.busy_hour`): ``demand_mbps``, ``{t}_cell_load`` and ``{t}_throughput_mbps`` as
    the sustained rate (per sector-carrier: each site's ``carriers``); schools also ``ul_demand_mbps``,
    ``{t}_ul_throughput_mbps`` and ``{t}_ul_meets``."""
    layers = inputs.layers
    vil, sch = layers["villages"], layers["schools"]
    is_v = (frame["layer"] == "villages").to_numpy()
    if is_v.sum() != len(vil) or (~is_v).sum() != len(sch):
        msg = f"coverage rows: {is_v.sum()} villages and {(~is_v).sum()} schools; expected {len(vil)} and {len(sch)}"
        raise ValueError(msg)
    sites = layers["sites"]
    ops = sites["operator"].astype(object).to_numpy() if "operator" in sites else np.full(len(sites), None, object)
    share = pd.Series(market_shares(ops, project.radio), index=sites["site_id"].astype(object).to_numpy())
    share = share[~share.index.duplicated()]
    st = site_table(sites, project.radio)
    carriers = pd.Series(st.carriers, index=sites["site_id"].astype(object).to_numpy())
    carriers = carriers[~carriers.index.duplicated()]
    v, s = busy_hour(
        pd.DataFrame(frame[is_v]),
        pd.DataFrame(frame[~is_v]),
        population=vil["population"].fillna(0).to_numpy(dtype=float),
        students=sch["students"].fillna(0).to_numpy(dtype=float),
        share_of_site=share,
        capacity=project.radio.capacity,
        outlet_mbps=project.targets.school_outlet_mbps,
        carriers_of_site=carriers,
    )
    out = pd.concat([v, s]).loc[frame.index]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


@dataclass(frozen=True)
class Partition:
    """One county's points (``villages``, ``schools``) and the sites that can reach them."""

    area_id: str
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame


def county_partitions(project: Project, inputs: Inputs, *, refs: dict[str, float | None]) -> list[Partition]:
    """The points split by admin area (:func:`gis.admin.points_by_area`), each area with the sites within their
    own range (:func:`planning.radio.coverage.site_ranges_m`) of the bounding box of its points.

    A site near a border serves both sides and is in both partitions; a site no point of the area can see is in
    none of them. ``refs``: the reference ground of the whole region (:func:`reference_ground`).
    """
    layers = inputs.layers
    sites = layers["sites"]
    sxy = shapely.get_coordinates(np.asarray(sites.geometry.values))
    ranges = np.zeros(len(sites))
    for layer, receiver in COVERAGE_RECEIVERS.items():
        pts = layers[layer]
        if len(pts) and len(sites):
            r = site_ranges_m(
                pts, sites, radio=project.radio, dem=inputs.dem, receiver=receiver, reference_ground_m=refs[layer]
            )
            ranges = np.maximum(ranges, r)
    parts = []
    areas = points_by_area({layer: layers[layer] for layer in COVERAGE_RECEIVERS}, layers["admin"])
    for area, masks in areas.items():
        v, s = layers["villages"][masks["villages"]], layers["schools"][masks["schools"]]
        xy = np.vstack([shapely.get_coordinates(np.asarray(f.geometry.values)) for f in (v, s) if len(f)])
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        dx = np.maximum(np.maximum(x0 - sxy[:, 0], sxy[:, 0] - x1), 0.0)
        dy = np.maximum(np.maximum(y0 - sxy[:, 1], sxy[:, 1] - y1), 0.0)
        parts.append(Partition(area_id=area, villages=v, schools=s, sites=sites[np.hypot(dx, dy) <= ranges]))
    return parts


def county_coverage(
    part: Partition,
    *,
    radio: RadioSettings,
    refs: dict[str, float | None],
    clutter: dict[str, PointClutter | None],
    chunk_points: int,
    done: dict[str, int],
    totals: dict[str, int],
    dem: Dem | None,
) -> dict[str, gpd.GeoDataFrame]:
    """Coverage rows of one county's points (a job of :func:`coverage_stage`), per layer that has points there.

    ``clutter``: per layer, the clutter of the partition's points (taken from the whole layer's); the points go
    in blocks of ``chunk_points``, logged as the progress of the whole layer (``done`` of its ``totals`` points
    before this county).
    """
    out = {}
    for layer in COVERAGE_RECEIVERS:
        pts: gpd.GeoDataFrame = getattr(part, layer)
        cl = clutter[layer]
        blocks = []
        for lo in range(0, len(pts), chunk_points):
            hi = min(lo + chunk_points, len(pts))
            blocks.append(
                coverage(
                    pts.iloc[lo:hi],
                    part.sites,
                    radio=radio,
                    dem=dem,
                    receiver=receiver_for(layer, radio),
                    reference_ground_m=refs[layer],
                    clutter=None if cl is None else cl.take(slice(lo, hi)),
                )
            )
            log_progress(logger, f"coverage {layer}", done[layer] + hi, totals[layer])
        if blocks:
            out[layer] = coverage_frame(layer, pts, pd.concat(blocks))
    return out


def coverage_stage(
    project: Project, inputs: Inputs, *, map_jobs: MapJobs = in_turn, chunk_points: int | None = None
) -> gpd.GeoDataFrame:
    """Coverage of villages (handheld UE) and schools (fixed-wireless CPE) as one point layer.

    Columns: ``layer`` (villages/schools), ``point_id``, ``name``, the per-tech coverage columns of
    :func:`planning.radio.coverage.coverage`, with the busy hour applied (:func:`with_busy_hour`); geometry in the
    project's metric CRS; rows in the layers' order.

    The work is one job per county (:func:`county_partitions`: its points and the sites that reach them), run by
    ``map_jobs`` (:func:`planning.jobs.in_turn`, or dask tasks; the DEM is shared). Every job uses the whole
    region's reference ground and the clutter sampled for the whole layer, so the merged rows are those of one
    call. Within a job the points go in blocks of ``chunk_points`` (default the link budget's block), each logged
    as progress (:func:`planning.progress.log_progress`). The busy hour is applied to the merged rows (a cell's
    load needs every county's villages).
    """
    step = max(int(chunk_points or LinkBudget().chunk_points), 1)
    layers = inputs.layers
    refs = reference_ground(inputs)
    parts = county_partitions(project, inputs, refs=refs)
    logger.info("coverage: %d county partitions; sites per partition %s", len(parts), [len(p.sites) for p in parts])
    clutter = {layer: layer_clutter(project.radio, layers[layer]) for layer in COVERAGE_RECEIVERS}
    totals = {layer: len(layers[layer]) for layer in COVERAGE_RECEIVERS}
    done = dict.fromkeys(COVERAGE_RECEIVERS, 0)
    jobs = []
    for part in parts:
        rows = {layer: layers[layer].index.get_indexer(getattr(part, layer).index) for layer in COVERAGE_RECEIVERS}
        kwargs = {
            "radio": project.radio,
            "refs": refs,
            "clutter": {k: None if c is None else c.take(rows[k]) for k, c in clutter.items()},
            "chunk_points": step,
            "done": dict(done),
            "totals": totals,
        }
        jobs.append(Job(f"coverage-{part.area_id}", county_coverage, (part,), kwargs))
        done = {layer: done[layer] + len(rows[layer]) for layer in COVERAGE_RECEIVERS}
    results = map_jobs(jobs, shared={"dem": inputs.dem})
    frames = []
    for layer in COVERAGE_RECEIVERS:
        mine = [r[layer] for r in results if layer in r]
        what = f"coverage of the {layer} per county"
        frames.append(
            merge_in_order(mine, layers[layer].index, what=what) if mine else _no_points(project, layer, inputs)
        )
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=layers.crs)
    return with_busy_hour(project, inputs, merged)


def points_coverage(
    project: Project, inputs: Inputs, points: gpd.GeoDataFrame, *, like: str = "villages"
) -> pd.DataFrame:
    """Coverage of other points as the stage computes it for the layer ``like``: its receiver, the region's
    reference ground of that layer and the land cover at the points (:func:`planning.radio.coverage.coverage`; no
    busy hour). The programme's 4G rule assesses its settlements and facilities with it
    (:mod:`planning.status.programme`)."""
    radio = project.radio
    return coverage(
        points,
        inputs.layers["sites"],
        radio=radio,
        dem=inputs.dem,
        receiver=receiver_for(like, radio),
        reference_ground_m=reference_ground(inputs)[like],
        clutter=layer_clutter(radio, points),
    )


def _no_points(project: Project, layer: str, inputs: Inputs) -> gpd.GeoDataFrame:
    """The coverage rows of a layer without points: none, with the columns."""
    pts = inputs.layers[layer]
    sites, radio = inputs.layers["sites"], project.radio
    cov = coverage(pts, sites, radio=radio, dem=inputs.dem, receiver=receiver_for(layer, radio))
    return coverage_frame(layer, pts, cov)
