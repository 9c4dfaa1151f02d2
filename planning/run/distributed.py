"""Coverage partitioned by county on dask.distributed (``coverplan run --dask [SCHEDULER_ADDRESS]``).

Coverage with terrain is the stage whose cost grows with the region (a profile per point and site in range);
it is the one that is spread. Each admin area (county) is one task: its villages and schools, and every site
within that site's own maximum range of the area's points (the buffer: a site near the border serves both
sides, and a point near the border sees the sites across it). All tasks use the Hata reference ground of the
whole region, so a partition computes exactly what the single-process run computes for the same points:
results are merged back in the layers' order and are identical (tested on a LocalCluster with two workers).

The DEM is scattered to the workers once. Without a scheduler address a :class:`distributed.LocalCluster`
with one single-threaded worker process per core is started and closed after the run.

The same client then runs the optimiser one province per task (:func:`planning.plan.proposal.propose`, a region
with several provinces; see :mod:`planning.plan.national`), and the national summary is assembled from them.
The status of villages and schools (gaps) is also computed per county task (:func:`distributed_status`). Fibre
is partitioned by province, not county (the shared-trench plan spans a province's counties): in a region of
several provinces, :func:`planning.fibre.stage.fibre_stage` builds each province's network (its lines and those
within 20 km), reach and plan as one task per province on the same client.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import assign_areas
from gis.errors import CoverplanError
from gis.inputs import Inputs
from gis.project import Project
from planning.jobs import Job, MapJobs
from planning.radio.coverage import coverage, site_ranges_m
from planning.radio.stage import (
    COVERAGE_RECEIVERS,
    coverage_frame,
    layer_clutter,
    receiver_for,
    reference_ground,
    with_busy_hour,
)
from planning.status.stage import per_layer, point_status

logger = logging.getLogger(__name__)

#: A scheduler address ``--dask`` accepts: a protocol, a host (name, IPv4 or [IPv6]) and a port.
_ADDRESS = re.compile(r"(tcp|tls|ucx|ws|wss)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}")
#: How long ``--dask ADDRESS`` waits for the scheduler to answer (s).
CONNECT_TIMEOUT_S = 10.0


class SchedulerError(CoverplanError):
    """A dask scheduler address that is malformed or does not answer."""


@dataclass(frozen=True)
class Partition:
    """One county's points (``villages``, ``schools``) and the sites that can reach them."""

    area_id: str
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame


def county_partitions(project: Project, inputs: Inputs, *, refs: dict[str, float | None]) -> list[Partition]:
    """Split the points by admin area; give each area the sites within their range of its points."""
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
    area_of = {layer: assign_areas(layers[layer], layers["admin"]) for layer in COVERAGE_RECEIVERS}
    parts = []
    for area in layers["admin"]["area_id"].astype(str):
        v = layers["villages"][area_of["villages"].to_numpy() == area]
        s = layers["schools"][area_of["schools"].to_numpy() == area]
        if not len(v) and not len(s):
            continue
        xy = np.vstack([shapely.get_coordinates(np.asarray(f.geometry.values)) for f in (v, s) if len(f)])
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        dx = np.maximum(np.maximum(x0 - sxy[:, 0], sxy[:, 0] - x1), 0.0) if len(sites) else np.zeros(0)
        dy = np.maximum(np.maximum(y0 - sxy[:, 1], sxy[:, 1] - y1), 0.0) if len(sites) else np.zeros(0)
        near = np.hypot(dx, dy) <= ranges
        parts.append(Partition(area_id=area, villages=v, schools=s, sites=sites[near]))
    return parts


def _partition_coverage(part: Partition, radio: Any, dem: Any, refs: dict[str, float | None]) -> pd.DataFrame:
    frames = []
    for layer in COVERAGE_RECEIVERS:
        pts = getattr(part, layer)
        if not len(pts):
            continue
        receiver, clutter = receiver_for(layer, radio), layer_clutter(radio, pts)
        cov = coverage(
            pts, part.sites, radio=radio, dem=dem, receiver=receiver, reference_ground_m=refs[layer], clutter=clutter
        )
        frames.append(coverage_frame(layer, pts, cov))
    return pd.concat(frames)


@contextlib.contextmanager
def dask_client(address: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A dask.distributed client: of the scheduler at ``address``, else of a LocalCluster closed on exit.

    The LocalCluster has ``n_workers`` single-threaded worker processes (default: the CPU count).

    Raises
    ------
    SchedulerError
        ``address`` is not a scheduler address (``tcp://host:port``), or no scheduler answers there within
        :data:`CONNECT_TIMEOUT_S`.
    """
    if address and not _ADDRESS.fullmatch(address):
        msg = f"`--dask` = {address!r} is not a scheduler address; expected e.g. tcp://host:8786 (or no address)"
        raise SchedulerError(msg)
    from distributed import Client, LocalCluster  # noqa: PLC0415 (only --dask runs pay for importing it)

    cluster = None
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            msg = (
                f"cannot reach the dask scheduler at {address} ({exc}); expected a running scheduler there, or "
                "--dask without an address for a local cluster"
            )
            raise SchedulerError(msg) from exc
    else:
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def dask_map(client: Any) -> MapJobs:
    """A :class:`planning.jobs.MapJobs` that runs each job as a task on ``client`` (shared arguments scattered to
    every worker once); results in the jobs' order."""

    def run(jobs: Sequence[Job], *, shared: Mapping[str, Any] | None = None) -> list[Any]:
        sent = {k: client.scatter(v, broadcast=True) if v is not None else None for k, v in (shared or {}).items()}
        futures = [client.submit(job.fn, *job.args, **job.kwargs, **sent, key=job.key, pure=False) for job in jobs]
        return client.gather(futures)

    return run


def distributed_coverage(
    project: Project, inputs: Inputs, *, client: Any = None, address: str | None = None, n_workers: int | None = None
) -> gpd.GeoDataFrame:
    """The coverage stage's output (as :func:`planning.radio.stage.coverage_stage`), computed per county on dask.

    Parameters
    ----------
    project, inputs : the project and its loaded layers
    client : distributed.Client, optional
        Run on this client; else one from :func:`dask_client` (``address``, ``n_workers``) for this call.
    address : str, optional
        A dask.distributed scheduler (``tcp://host:8786``); default a LocalCluster on this machine.
    n_workers : int, optional
        Worker processes of the LocalCluster (default: the CPU count).
    """
    if client is None:
        with dask_client(address, n_workers=n_workers) as own:
            return distributed_coverage(project, inputs, client=own)
    refs = reference_ground(inputs)
    parts = county_partitions(project, inputs, refs=refs)
    logger.info("dask: %d county partitions; sites per partition %s", len(parts), [len(p.sites) for p in parts])
    dem = client.scatter(inputs.dem, broadcast=True) if inputs.dem is not None else None
    futures = [
        client.submit(_partition_coverage, p, project.radio, dem, refs, key=f"coverage-{p.area_id}", pure=False)
        for p in parts
    ]
    results = client.gather(futures)
    merged = pd.concat(results)
    out = []
    for layer in COVERAGE_RECEIVERS:
        part = merged[merged["layer"] == layer]
        frame = inputs.layers[layer]
        if len(part) != len(frame) or part.index.duplicated().any():
            msg = f"dask coverage: {len(part)} rows for the {len(frame)} {layer}; every point must be in one partition"
            raise RuntimeError(msg)
        out.append(part.reindex(frame.index))
    merged_all = gpd.GeoDataFrame(pd.concat(out, ignore_index=True), geometry="geometry", crs=inputs.layers.crs)
    return with_busy_hour(project, inputs, merged_all)  # cells' busy-hour load needs every partition's villages


def distributed_status(
    project: Project,
    inputs: Inputs,
    *,
    coverage: pd.DataFrame | None,
    reach: pd.DataFrame | None,
    client: Any,
    measured: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village and school status per county on dask (as :func:`planning.status.stage.point_status` for the region;
    ``measured``: the ledger's evidence, sent to every task).

    Each county task gets its villages and schools with their coverage and reach rows; the status of a point
    depends on its own rows only, so the merged frames (back in the layers' order) equal the single-process ones.
    """
    layers = inputs.layers
    admin = layers["admin"]
    frames = {"villages": layers["villages"], "schools": layers["schools"]}
    area_of = {k: assign_areas(f, admin).to_numpy() for k, f in frames.items()}

    def rows(table: pd.DataFrame | None, layer: str, mask: np.ndarray) -> pd.DataFrame | None:
        part = per_layer(table, layer, frames[layer].index)
        return None if part is None else part[mask]

    admin_f = client.scatter(admin, broadcast=True)
    measured_f = client.scatter(measured, broadcast=True) if measured is not None else None
    futures = []
    for area in admin["area_id"].astype(str):
        masks = {k: area_of[k] == area for k in frames}
        if not any(m.any() for m in masks.values()):
            continue
        cov = [x for k in frames if (x := rows(coverage, k, masks[k])) is not None]
        rch = [x for k in frames if (x := rows(reach, k, masks[k])) is not None]
        futures.append(
            client.submit(
                point_status,
                project,
                frames["villages"][masks["villages"]],
                frames["schools"][masks["schools"]],
                coverage=pd.concat(cov) if cov else None,
                reach=pd.concat(rch) if rch else None,
                admin=admin_f,
                measured=measured_f,
                key=f"status-{area}",
                pure=False,
            )
        )
    parts = client.gather(futures)
    vs = pd.concat([p[0] for p in parts]).reindex(frames["villages"].index)
    ss = pd.concat([p[1] for p in parts]).reindex(frames["schools"].index)
    return vs, ss
