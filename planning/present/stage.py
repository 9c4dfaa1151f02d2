"""The map stage: the planner's folium map of a run with the project's ``[map]`` settings."""

from __future__ import annotations

import folium
import numpy as np
from affine import Affine

from gis.inputs import Inputs
from gis.project import Project
from planning.plan import Proposal
from planning.present.map_raster import Raster
from planning.present.maps import build_map
from planning.status import GapsResult


def map_stage(
    project: Project,
    inputs: Inputs,
    *,
    gaps: GapsResult,
    proposal: Proposal | None,
    coverage_bands: tuple[np.ndarray, Affine] | None,
    offline: bool | None = None,
) -> folium.Map:
    """The planner's folium map of the run (:func:`planning.present.maps.build_map`) with the project's
    ``[map]`` settings.

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
        admin=layers["admin"],
        villages=v,
        schools=s,
        sites=layers["sites"],
        fibre=layers.get("fibre"),
        roads=layers.get("roads"),
        interventions=proposal.interventions if proposal is not None else None,
        routes=proposal.routes if proposal is not None else None,
        verification=gaps.verification,
        coverage=cov,
        dem=dem,
        language=project.language,
        offline=settings.offline if offline is None else offline,
        basemap=settings.basemap,
        tianditu_key=settings.tianditu_key,
        title=project.name,
        outlet_target_mbps=project.targets.school_outlet_mbps,
        rsrp_threshold_dbm=(project.radio.lte_rsrp_threshold_dbm, project.radio.nr_rsrp_threshold_dbm),
        hillshade_max_px=int(settings.hillshade_max_px),
    )
