"""Shared pieces of the importers: the project's region, clipping, the import report, whole-or-nothing writes.

Every importer clips its output to the project's admin areas grown by a buffer (metres, in the project's
metric CRS), writes it in that metric CRS (so a project declaring ``coordinates = "gcj02"`` does not shift
WGS84 sources such as OSM, OpenCelliD or SRTM a second time) and says in an :class:`ImportReport` what it kept,
what it dropped and why, and which columns it filled from a stated rule.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from gis.errors import LayerError
from gis.layers import load_layer, project_metric_crs
from gis.project import Project
from gis.terrain import Dem, write_dem

logger = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Region:
    """The project's admin areas in its metric CRS.

    Attributes
    ----------
    area : shapely.Geometry
        Union of the admin areas (metric CRS).
    crs : pyproj.CRS
        The project's metric CRS.
    file : str
        The admin layer's file (named in messages).
    """

    area: shapely.Geometry
    crs: CRS
    file: str = ""
    _buffers: dict[float, shapely.Geometry] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def buffered(self, buffer_m: float) -> shapely.Geometry:
        """The admin areas grown by ``buffer_m`` metres (metric CRS), computed once per distance (a country's
        outline of 1,860 islands takes ~40 s to buffer) and prepared for fast predicates."""
        if not np.isfinite(buffer_m) or buffer_m < 0:
            msg = f"`buffer_m` = {buffer_m!r}; expected a distance >= 0 m"
            raise ValueError(msg)
        key = float(buffer_m)
        if key not in self._buffers:
            grown = shapely.buffer(self.area, key) if key > 0 else self.area
            shapely.prepare(grown)
            self._buffers[key] = grown
        return self._buffers[key]

    def lonlat(self, buffer_m: float) -> shapely.Geometry:
        """The buffered area in WGS84 longitude/latitude (edges densified to ~1 km before transforming)."""
        return to_crs_geometry(self.buffered(buffer_m), self.crs, WGS84)


def affine_apply(t: Affine, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Apply an affine transform to coordinates (arrays or scalars): pixel (col, row) to x, y or, with ``~t``,
    back."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


def to_crs_geometry(geom: shapely.Geometry, src: CRS, dst: CRS, *, step_m: float = 1000.0) -> shapely.Geometry:
    """One geometry transformed between CRSs, edges densified first (``step_m`` in the source's units)."""
    if src.equals(dst):
        return geom
    tr = Transformer.from_crs(src, dst, always_xy=True)
    dense = shapely.segmentize(geom, step_m)
    return shapely.transform(dense, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def region_from_admin(admin: gpd.GeoDataFrame, crs: CRS, *, file: str = "") -> Region:
    """A :class:`Region` from a validated admin layer (any CRS) and the project's metric CRS."""
    geoms = np.asarray(admin.to_crs(crs).geometry.values)
    return Region(area=shapely.union_all(geoms), crs=crs, file=file)


def load_region(project: Project) -> Region:
    """Read and validate the project's admin layer; the region in the project's metric CRS.

    Raises
    ------
    LayerError
        The admin layer is missing, unreadable or invalid (every problem listed).
    """
    source = project.layers.get("admin")
    if source is None:
        msg = f"{project.path}: [layers] has no `admin`; expected the admin boundary the import is clipped to"
        raise LayerError(msg)
    admin, problems = load_layer(source, "admin", coordinates=project.coordinates)
    if any(p.severity == "error" for p in problems):
        raise LayerError(problems)
    crs = project_metric_crs(project, admin)
    return region_from_admin(admin, crs, file=str(source.path))


@dataclass
class ImportReport:
    """What an importer kept, dropped and filled, for the planner to read (and for tests to check).

    Attributes
    ----------
    source : str
        The input file(s).
    read : int
        Records read from the source (cells, OSM objects, tiles, pixels: see ``unit``).
    unit : str
        What ``read`` counts.
    kept : dict of str to int
        Rows written per output layer.
    dropped : Counter
        Reason to number of records left out for it.
    filled : Counter
        ``"column: rule"`` to number of rows whose value came from that stated rule rather than the source.
    notes : list of str
        Other facts (totals, defaults used, warnings).
    """

    source: str
    unit: str = "records"
    read: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    dropped: Counter = field(default_factory=Counter)
    filled: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, n: int = 1) -> None:
        """Count ``n`` records left out for ``reason`` (zero counts are not recorded)."""
        if n:
            self.dropped[reason] += int(n)

    def fill(self, column: str, rule: str, n: int) -> None:
        """Count ``n`` rows whose ``column`` was filled by ``rule``, and log it."""
        if n:
            self.filled[f"{column}: {rule}"] += int(n)
            logger.info("%s: %d row(s) of `%s` filled by rule: %s", self.source, n, column, rule)

    def lines(self) -> list[str]:
        """The report as plain text lines."""
        out = [f"read {self.read} {self.unit} from {self.source}"]
        out += [f"kept {n} {layer}" for layer, n in self.kept.items()]
        out += [f"dropped {n}: {why}" for why, n in sorted(self.dropped.items(), key=lambda kv: -kv[1])]
        out += [f"filled {n} {what}" for what, n in sorted(self.filled.items(), key=lambda kv: -kv[1])]
        out += [f"note: {t}" for t in self.notes]
        return out


def beyond(buffer_m: float) -> str:
    """How a record outside the region + buffer is described in a report."""
    return "outside the admin areas" if buffer_m == 0 else f"farther than {buffer_m:g} m from the admin areas"


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that replaces ``path`` only when the block succeeds."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    if tmp.exists():
        tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_gpkg_atomic(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write layers into a new GeoPackage that appears whole or not at all (then replaces ``path``)."""
    with _atomic(Path(path)) as tmp:
        for name, frame in layers.items():
            out = frame.copy()
            for c in out.columns:
                if str(out[c].dtype) == "boolean" and not out[c].isna().any():
                    out[c] = out[c].astype(bool)  # a GeoPackage boolean field, not the text "True"
                elif str(out[c].dtype) in ("boolean", "Int64"):
                    out[c] = out[c].astype(object)
            pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG")


def write_dem_atomic(dem: Dem, path: Path) -> None:
    """Write a DEM GeoTIFF (tiled, deflate; :func:`gis.terrain.write_dem`) that appears whole or not at all."""
    with _atomic(Path(path)) as tmp:
        write_dem(dem, tmp)
