"""The fibre stage: reach of every village, school and candidate, and the shared-trench plan for the unconnected
villages and schools; one network per province in a region of several provinces."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import point_provinces, province_of_areas
from gis.inputs import Inputs
from gis.project import Project
from gis.schema import SCHEMAS
from planning.fibre.graph import RoadNetwork, build_network, connect_points
from planning.fibre.reach import fibre_reach
from planning.fibre.routes import RoutePlan, plan_routes
from planning.jobs import Job, MapJobs, in_turn, merge_in_order

logger = logging.getLogger(__name__)

#: Point layers whose reach the stage reports, in this order.
_POINT_LAYERS = ("villages", "schools", "candidates")


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


def fibre_stage(project: Project, inputs: Inputs, *, map_jobs: MapJobs = in_turn) -> FibreResult | None:
    """Fibre reach of villages, schools and candidates, and the shared-trench plan for the unconnected ones.

    Returns None when the project has neither roads nor fibre lines. The ``reach`` layer has one row per point
    (``layer``, ``point_id``, ``name``, ``drop_m``, ``fibre_distance_m``, ``fibre_cost_cny``, ``connected``,
    ``reach``, ``component``, ``in_plan``) at the point's location.

    A region of several provinces (:func:`gis.admin.province_of_areas`) gets one network per province:
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
        return fibre_partition(project, lines, points)
    jobs = []
    for name in sorted(provinces.unique()):
        area = shapely.buffer(
            shapely.union_all(np.asarray(admin.geometry.values)[(provinces == name).to_numpy()]),
            FIBRE_PROVINCE_BUFFER_M,
        )
        mine_lines = {
            k: (f[shapely.intersects(np.asarray(f.geometry.values), area)] if f is not None else None)
            for k, f in lines.items()
        }
        mine_points = {k: f[(point_provinces(f, admin) == name).to_numpy()] for k, f in points.items()}
        if any(len(f) for f in mine_points.values()):
            jobs.append((name, mine_lines, mine_points))
    results = map_jobs([Job(f"fibre-{name}", fibre_partition, (project, ln, pt)) for name, ln, pt in jobs])
    return _merge_fibre(dict(zip([j[0] for j in jobs], results, strict=True)), points)


#: A province's fibre network takes the road and fibre lines within this distance of its areas.
FIBRE_PROVINCE_BUFFER_M = 20_000.0


def fibre_partition(
    project: Project, lines: dict[str, gpd.GeoDataFrame | None], points: dict[str, gpd.GeoDataFrame]
) -> FibreResult:
    """Network, reach and shared-trench plan of one region (a province, or the whole project)."""
    net = build_network(lines.get("roads"), lines.get("fibre"), settings=project.fibre, costs=project.costs)
    net = connect_points(net, {k: f for k, f in points.items() if len(f)})
    reach = fibre_reach(net, drop_m=project.fibre.drop_m)
    reach = reach[reach["layer"] != "fibre_nodes"]
    todo = reach.index[(reach["reach"] == "extension") & reach["layer"].isin(["villages", "schools"])]
    plan = plan_routes(net, todo, reach=reach)
    parts = []
    for layer in _POINT_LAYERS:
        id_col = SCHEMAS[layer].id_column
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
    order = []
    for layer in _POINT_LAYERS:
        id_col = SCHEMAS[layer].id_column
        frame = points.get(layer)
        if frame is not None:
            order.append(layer + ":" + frame[id_col].astype(str))
    order = pd.concat(order, ignore_index=True) if order else pd.Series([], dtype=str)
    keyed = [
        r.reach.assign(province=name).set_axis((r.reach["layer"] + ":" + r.reach["point_id"]).to_numpy())
        for name, r in parts.items()
    ]
    reach = gpd.GeoDataFrame(
        merge_in_order(keyed, order.to_numpy(), what="fibre reach per province").reset_index(drop=True),
        geometry="geometry",
        crs=next(iter(parts.values())).reach.crs,
    )
    routes = pd.concat([r.plan.routes.assign(province=name) for name, r in parts.items()], ignore_index=True)
    sid = routes["segment_id"].astype(str)
    dup = sid.duplicated(keep=False).to_numpy()
    routes.loc[dup, "segment_id"] = routes.loc[dup, "province"] + ":" + sid[dup]
    plans = [r.plan for r in parts.values()]
    plan = RoutePlan(
        routes=gpd.GeoDataFrame(routes, geometry="geometry", crs=reach.crs),
        served=pd.concat([pl.served for pl in plans]),
        total_length_m=float(sum(pl.total_length_m for pl in plans)),
        total_cost_cny=float(sum(pl.total_cost_cny for pl in plans)),
        separate_cost_cny=float(sum(pl.separate_cost_cny for pl in plans)),
        tree_nodes=np.zeros(0, dtype=np.int64),
    )
    repairs = pd.concat([r.repairs.assign(province=name) for name, r in parts.items()], ignore_index=True)
    components = pd.concat(
        [r.components.assign(province=name).reset_index() for name, r in parts.items()], ignore_index=True
    ).set_index(["province", "component"])
    return FibreResult(
        reach=reach,
        plan=plan,
        repairs=repairs,
        components=components,
        network=None,
        networks={name: r.network for name, r in parts.items() if r.network is not None},  # each province has one
    )
