"""Fibre to villages and schools along roads: the network, reach from existing fibre, shared-trench routes.

1. :func:`build_network` / :func:`connect_points` (:mod:`planning.fibre.graph`): a routable, repaired network with
   the points joined to it;
2. :func:`fibre_reach` (:mod:`planning.fibre.reach`): what each point's extension from existing fibre costs;
3. :func:`plan_routes` / :func:`steiner_tree` (:mod:`planning.fibre.routes`): one shared-trench plan.
"""

from planning.fibre.graph import RoadNetwork, build_graph, build_network, connect_points, repairs_frame
from planning.fibre.noding import Noded
from planning.fibre.reach import fibre_reach
from planning.fibre.routes import RoutePlan, extension_cost_from, plan_routes, steiner_tree
from planning.fibre.stage import FibreResult, fibre_stage

__all__ = [
    "FibreResult",
    "Noded",
    "RoadNetwork",
    "RoutePlan",
    "build_graph",
    "build_network",
    "connect_points",
    "extension_cost_from",
    "fibre_reach",
    "fibre_stage",
    "plan_routes",
    "repairs_frame",
    "steiner_tree",
]
