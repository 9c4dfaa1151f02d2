"""Importers of real data into coverplan layers (README "Bringing real data").

* :mod:`gis.importers.opencellid`: OpenCelliD cells -> ``sites`` (one per eNodeB/gNodeB);
* :mod:`gis.importers.dem`: SRTM ``.hgt`` / GeoTIFF tiles -> one void-filled DEM in the project's metric CRS;
* :mod:`gis.importers.osm`: an OpenStreetMap extract -> ``roads``, ``villages``, ``schools``, ``candidates``;
* :mod:`gis.importers.population`: a WorldPop-style raster -> ``population`` per village;
* :mod:`gis.importers.register`: a planner's village register (poor-village list) joined to the villages;
* :mod:`gis.importers.common`: the region (admin areas + buffer), the import report, whole-or-nothing writes.

Each reads its source with a function that validates every number it reads, and turns what it read into
layers with a pure function that also returns an :class:`~gis.importers.common.ImportReport`.
"""

from gis.importers.common import ImportReport, Region, load_region, write_dem_atomic, write_gpkg_atomic
from gis.importers.dem import import_dem, read_tile
from gis.importers.opencellid import cells_to_sites, read_opencellid
from gis.importers.osm import MAX_UNCOVERED_SHARE, osm_layers, read_osm
from gis.importers.population import population_per_village, read_population
from gis.importers.register import RegisterJoin, join_register, read_register

__all__ = [
    "MAX_UNCOVERED_SHARE",
    "ImportReport",
    "Region",
    "RegisterJoin",
    "cells_to_sites",
    "import_dem",
    "join_register",
    "load_region",
    "osm_layers",
    "population_per_village",
    "read_opencellid",
    "read_osm",
    "read_population",
    "read_register",
    "read_tile",
    "write_dem_atomic",
    "write_gpkg_atomic",
]
