"""Fibre reach: the cheapest extension from existing fibre to every point of the network.

One multi-source Dijkstra from all nodes on fibre lines and all fibre nodes gives ``fibre_distance_m``,
``fibre_cost_cny`` and whether the point is already within the drop distance (``connected``). Points whose
network component has no fibre get an infinite distance and ``reach = "no_fibre_in_component"``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from planning.fibre.graph import RoadNetwork

logger = logging.getLogger(__name__)


def fibre_reach(network: RoadNetwork, *, drop_m: float = 300.0) -> pd.DataFrame:
    """Cheapest extension from existing fibre to every joined point.

    Parameters
    ----------
    network : RoadNetwork
        With points joined by :func:`connect_points`.
    drop_m : float
        Points within this many metres of fibre (along the network, drop included) count as connected.

    Returns
    -------
    DataFrame
        Index ``layer:id``; columns ``layer``, ``id``, ``node``, ``drop_m``, ``fibre_distance_m`` (length to
        build, m; inf when the point's component has no fibre), ``fibre_cost_cny``, ``connected`` (bool),
        ``reach`` in {connected, extension, no_fibre_in_component}, ``component``.
    """
    pn = network.point_node.copy()
    sources = network.fibre_sources()
    w = network.weights()
    if len(sources):
        dist = csgraph.dijkstra(w, directed=False, indices=sources, min_only=True)
    else:
        dist = np.full(network.n_nodes, np.inf)
    _, label = csgraph.connected_components(w, directed=False)
    node = pn["node"].to_numpy(dtype=np.int64)
    d = np.where(np.isfinite(dist[node]), np.round(dist[node], 6), np.inf)
    pn["fibre_distance_m"] = d
    pn["fibre_cost_cny"] = d * network.cny_per_m
    pn["connected"] = d <= drop_m
    pn["reach"] = np.where(
        ~np.isfinite(d), "no_fibre_in_component", np.where(pn["connected"], "connected", "extension")
    )
    pn["component"] = label[node]
    n_inf = int((~np.isfinite(d)).sum())
    if n_inf:
        logger.warning("%d point(s) lie in network components without fibre: reach is infinite", n_inf)
    return pn
