"""The coverage stage: 4G/5G coverage of every village (handheld UE) and school (fixed-wireless CPE), downlink and
uplink, with the busy-hour load of the cells applied (:mod:`planning.radio.capacity`)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.inputs import Inputs
from gis.project import Project, RadioSettings
from gis.schema import SCHEMAS
from gis.terrain import reproject_dem, sample_heights
from planning.progress import log_progress, numba_cache_cold
from planning.radio._terrain_kernel import pair_terrain
from planning.radio.capacity import busy_hour
from planning.radio.clutter import PointClutter, point_clutter, read_clutter, sample_classes
from planning.radio.coverage import Receiver, coverage, market_shares
from planning.radio.linkbudget import LinkBudget

logger = logging.getLogger(__name__)

#: Point layers of the coverage stage and their receiver (handheld UE in villages, CPE at schools).
COVERAGE_RECEIVERS = {"villages": "handheld", "schools": "cpe"}


def receiver_for(layer: str, radio: RadioSettings) -> Receiver:
    """The receiver of a coverage layer: handheld in villages; at schools an outdoor or indoor CPE
    (``[radio] school_cpe``)."""
    if layer == "schools" and radio.school_cpe == "indoor":
        return "indoor_cpe"
    return COVERAGE_RECEIVERS[layer]  # type: ignore[return-value]


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


def layer_clutter(radio: RadioSettings, points: gpd.GeoDataFrame) -> PointClutter | None:
    """Clutter of ``points`` from ``[radio] clutter_path`` (made absolute by :func:`gis.project.load_project`), or
    None when there is none."""
    if not radio.clutter_path or not len(points):
        return None
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    bounds = (float(x.min()) - 100.0, float(y.min()) - 100.0, float(x.max()) + 100.0, float(y.max()) + 100.0)
    grid = read_clutter(radio.clutter_path, crs=points.crs, bounds=bounds)
    return point_clutter(sample_classes(grid, x, y), radio.clutter)


def with_busy_hour(project: Project, inputs: Inputs, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The coverage rows (villages then schools, in the layers' order) with the busy hour applied
    (:func:`planning.radio.capacity.busy_hour`): ``demand_mbps``, ``{t}_cell_load`` and ``{t}_throughput_mbps`` as
    the sustained rate."""
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
    v, s = busy_hour(
        pd.DataFrame(frame[is_v]),
        pd.DataFrame(frame[~is_v]),
        population=vil["population"].fillna(0).to_numpy(dtype=float),
        students=sch["students"].fillna(0).to_numpy(dtype=float),
        share_of_site=share,
        capacity=project.radio.capacity,
        outlet_mbps=project.targets.school_outlet_mbps,
    )
    out = pd.concat([v, s]).loc[frame.index]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def coverage_stage(project: Project, inputs: Inputs, *, chunk_points: int | None = None) -> gpd.GeoDataFrame:
    """Coverage of villages (handheld UE) and schools (fixed-wireless CPE) as one point layer.

    Columns: ``layer`` (villages/schools), ``point_id``, ``name``, the per-tech coverage columns of
    :func:`planning.radio.coverage.coverage`, with the busy hour applied (:func:`with_busy_hour`); geometry in the
    project's metric CRS. The points go in blocks of ``chunk_points`` (default the link budget's block), each with
    the whole layer's reference ground and clutter, so the result is the same as one call; each block is logged as
    progress (:func:`planning.progress.log_progress`).
    """
    step = max(int(chunk_points or LinkBudget().chunk_points), 1)
    refs = reference_ground(inputs)
    parts = []
    for layer in COVERAGE_RECEIVERS:
        frame = inputs.layers[layer]
        clutter = layer_clutter(project.radio, frame)
        blocks = []
        for lo in range(0, max(len(frame), 1), step):
            part = frame.iloc[lo : lo + step]
            blocks.append(
                coverage(
                    part,
                    inputs.layers["sites"],
                    radio=project.radio,
                    dem=inputs.dem,
                    receiver=receiver_for(layer, project.radio),
                    reference_ground_m=refs[layer],
                    clutter=None if clutter is None else clutter.take(slice(lo, lo + step)),
                )
            )
            log_progress(logger, f"coverage {layer}", min(lo + step, len(frame)), len(frame))
        parts.append(coverage_frame(layer, frame, pd.concat(blocks)))
    merged = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=inputs.layers.crs)
    return with_busy_hour(project, inputs, merged)
