"""All inputs of a project at once: the validated layers and the terrain, or every problem with them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gis._schema import SCHEMAS
from gis.errors import LayerError, Problem, raise_if_errors
from gis.layers import Layers, load_layers
from gis.project import Project
from gis.terrain import Dem, coverage_problems, open_dem, point_heights

logger = logging.getLogger(__name__)

#: Point layers that get a ground height column from the DEM.
GROUND_LAYERS = ("villages", "schools", "sites", "fibre_nodes", "candidates")


@dataclass(frozen=True)
class Inputs:
    """Validated layers (metric CRS) and the DEM (None when the project has no terrain)."""

    layers: Layers
    dem: Dem | None

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Non-fatal problems found while loading."""
        return self.layers.warnings


def load_inputs(project: Project, *, progress: Callable[[str], None] | None = None) -> Inputs:
    """Load and check everything a run needs.

    Point layers get a ``ground_m`` column (terrain height in metres above sea level) when the project has
    a DEM. The DEM must cover the whole region (union of admin areas) and every point layer.

    Raises
    ------
    LayerError
        Carrying every problem of every layer and of the terrain.
    """
    problems: list[Problem] = []
    try:
        layers = load_layers(project, progress=progress)
    except LayerError as exc:
        problems.extend(exc.problems)
        layers = None
    dem = None
    if project.terrain is not None:
        if progress:
            progress("terrain")
        try:
            dem = open_dem(project.terrain)
        except LayerError as exc:
            problems.extend(exc.problems)
    raise_if_errors(problems)
    assert layers is not None  # errors were raised above
    if dem is None:
        return Inputs(layers=layers, dem=None)

    problems.extend(coverage_problems(dem, layers.region, crs=layers.crs, what="the region (admin areas)"))
    frames = dict(layers.frames)
    for name in GROUND_LAYERS:
        frame = frames.get(name)
        if frame is None:
            continue
        z, probs = point_heights(
            dem, frame, name, SCHEMAS[name].id_column, crs=layers.crs, file=layers.sources.get(name)
        )
        problems.extend(probs)
        frames[name] = frame.assign(ground_m=np.round(z, 2))
    raise_if_errors(problems)
    layers = Layers(crs=layers.crs, frames=frames, sources=layers.sources, warnings=layers.warnings)
    return Inputs(layers=layers, dem=dem)
