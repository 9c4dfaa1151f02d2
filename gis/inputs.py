"""All inputs of a project at once: the validated layers and the terrain, or every problem with them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gis.errors import LayerError, Problem, raise_if_errors
from gis.layers import Layers, load_layers
from gis.project import Project
from gis.schema import SCHEMAS
from gis.terrain import Dem, check_dem_file, coverage_problems, open_dem, point_heights, reproject_dem

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

    The DEM is read over the layers' extent only (a window of a larger file) and, when it is not in the project's
    metric CRS (a geographic SRTM tile, say), reprojected to it (bilinear, at its own cell size), so that every
    stage measures terrain in metres. Point layers get a ``ground_m`` column (terrain height in metres above sea
    level) when the project has a DEM. The DEM must cover the whole region (union of admin areas) and every
    point layer.

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
    if project.terrain is None:
        raise_if_errors(problems)
        assert layers is not None  # errors were raised above
        return Inputs(layers=layers, dem=None)
    if progress:
        progress("terrain")
    try:
        if layers is None:
            check_dem_file(project.terrain)  # the header only: the area to read is not known
        else:
            dem = _read_dem(project.terrain, layers)
    except LayerError as exc:
        problems.extend(exc.problems)
    raise_if_errors(problems)
    assert layers is not None  # errors were raised above

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


def _read_dem(path: Path, layers: Layers) -> Dem:
    """The DEM over every layer's extent (2 km more), in the layers' metric CRS."""
    bounds = np.array([f.total_bounds for f in layers.frames.values() if len(f)])
    extent = (
        bounds[:, 0].min() - 2000.0,
        bounds[:, 1].min() - 2000.0,
        bounds[:, 2].max() + 2000.0,
        bounds[:, 3].max() + 2000.0,
    )
    dem = open_dem(path, bounds=extent, crs=layers.crs)
    if not dem.crs.equals(layers.crs):
        logger.info("DEM %s is in %s: reprojected to the project's %s", path.name, dem.crs.name, layers.crs.name)
        dem = reproject_dem(dem, layers.crs)
    return dem
